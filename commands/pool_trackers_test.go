package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"wdbg/engine/ksynth"
)

// !poolused's two extra tracker sources on ksynth's x64 19041 Leak dump: the per-processor
// tables (nt!ExPoolTagTables) and the session table (!poolused 8). The expected numbers are the
// manifest's (what the writer put in); the writer splits every tag between the global table
// and the processors' tables, so only the sum reaches the totals.

// trackerTotals sums manifest rows per tag.
func trackerTotals(facts []ksynth.TrackerFact) map[string]poolUsedRow {
	out := map[string]poolUsedRow{}
	for _, tf := range facts {
		w := out[tf.Tag]
		w.Tag = tf.Tag
		w.NonPaged.Allocs += tf.NonPagedAllocs
		w.NonPaged.Frees += tf.NonPagedFrees
		w.NonPaged.Bytes += tf.NonPagedBytes
		w.Paged.Allocs += tf.PagedAllocs
		w.Paged.Frees += tf.PagedFrees
		w.Paged.Bytes += tf.PagedBytes
		out[tf.Tag] = w
	}
	return out
}

func checkPoolUsedRows(t *testing.T, line string, res *poolUsedResult, want map[string]poolUsedRow, text string) {
	t.Helper()
	if len(res.Rows) != len(want) {
		t.Errorf("%s: %d rows, manifest has %d tags\n%s", line, len(res.Rows), len(want), text)
	}
	for _, row := range res.Rows {
		w, ok := want[row.Tag]
		if !ok || row.NonPaged != w.NonPaged || row.Paged != w.Paged {
			t.Errorf("%s: tag %q = %+v %+v, manifest %+v %+v", line, row.Tag, row.NonPaged, row.Paged, w.NonPaged, w.Paged)
		}
	}
}

func runPoolCmdErr(s *Session, line string) error {
	c, args, ok := Lookup(line)
	if !ok {
		return fmt.Errorf("%s: not a command", line)
	}
	_, err := c.Run(context.Background(), s, args)
	return err
}

// processAddr is the EPROCESS of the manifest's process with that image name.
func processAddr(t *testing.T, m *ksynth.Manifest, name string) uint64 {
	t.Helper()
	for _, p := range m.Processes {
		if p.ImageFileName == name {
			return p.Address
		}
	}
	t.Fatalf("no process %s in the manifest", name)
	return 0
}

func TestPoolUsedPerProcessorTables(t *testing.T) {
	s, m := openPoolSynth(t, ksynth.X64Win10_19041)
	pf := m.Pool
	if len(pf.ProcessorTables) < 2 {
		t.Fatalf("the writer made %d per-processor tables, want 2 or more", len(pf.ProcessorTables))
	}
	want := trackerTotals(pf.Trackers)
	var global []ksynth.TrackerFact
	for _, tf := range pf.Trackers {
		if !tf.PerProcessor {
			global = append(global, tf)
		}
	}
	// The test can only pass by summing: the global rows alone miss the totals.
	if g := trackerTotals(global)["Leak"]; g.Paged == want["Leak"].Paged {
		t.Fatalf("the global table alone holds Leak's totals %+v", g.Paged)
	}
	r, text := runPoolCmd(t, s, "!poolused 1")
	res := r.(*poolUsedResult)
	checkPoolUsedRows(t, "!poolused 1", res, want, text)
	if res.PerProcessorTables != len(pf.ProcessorTables) {
		t.Errorf("per_processor_tables = %d, the writer made %d", res.PerProcessorTables, len(pf.ProcessorTables))
	}
	if strings.Contains(text, "per-processor") {
		t.Errorf("a note about per-processor tables although they were read:\n%s", text)
	}
	// The numbers, from three tables.
	if l := want["Leak"].Paged; l.Allocs != 56242 || l.Bytes != 115633552 {
		t.Errorf("manifest Leak %+v", l)
	}
	js, err := json.Marshal(res)
	if err != nil || !strings.Contains(string(js), fmt.Sprintf(`"per_processor_tables":%d`, len(pf.ProcessorTables))) {
		t.Errorf("JSON %s (%v)", js, err)
	}
}

// A kernel PDB without the nt!ExPoolTagTables public: the global table's counts, and a note.
func TestPoolUsedWithoutTagTablesSymbol(t *testing.T) {
	mc := ksynth.X64Win10_19041
	d, err := ksynth.Build(ksynth.Spec{Machine: mc, Storage: ksynth.RunList, Pool: ksynth.LeakScenario(mc)})
	if err != nil {
		t.Fatal(err)
	}
	m := d.Manifest()
	delete(m.Globals, "ExPoolTagTables") // WriteSymbols emits a public per global
	target, syms := openBuilt(t, d)
	s := NewSessionWith(target, SessionOptions{SymbolPath: syms})
	var global []ksynth.TrackerFact
	for _, tf := range m.Pool.Trackers {
		if !tf.PerProcessor {
			global = append(global, tf)
		}
	}
	r, text := runPoolCmd(t, s, "!poolused 1")
	res := r.(*poolUsedResult)
	checkPoolUsedRows(t, "!poolused 1 (no ExPoolTagTables)", res, trackerTotals(global), text)
	note := "per-processor tracker tables (nt!ExPoolTagTables) were not read: the kernel's symbols are missing"
	if res.PerProcessorTables != 0 || !strings.Contains(text, "("+note) || !strings.Contains(strings.Join(res.Notes, "\n"), note) {
		t.Errorf("no note %q:\n%s", note, text)
	}
}

func TestPoolUsedSession(t *testing.T) {
	s, m := openPoolSynth(t, ksynth.X64Win10_19041)
	sf := m.Pool.Session
	if sf == nil {
		t.Fatal("the writer made no session table")
	}
	want := trackerTotals(sf.Trackers)
	// The crash thread runs in System, which has no session.
	if err := runPoolCmdErr(s, "!poolused 8"); err == nil || !strings.Contains(err.Error(), "(System): it belongs to no session") {
		t.Errorf("!poolused 8 in System: %v", err)
	}
	for _, name := range sf.ProcessNames {
		addr := processAddr(t, m, name)
		runPoolCmd(t, s, fmt.Sprintf(".process %x", addr))
		r, text := runPoolCmd(t, s, "!poolused 9") // verbose session pool
		res := r.(*poolUsedResult)
		checkPoolUsedRows(t, "!poolused 9 in "+name, res, want, text)
		ss := res.Session
		if ss == nil || ss.SessionID == nil || *ss.SessionID != sf.SessionID || ss.SessionSpace != FormatPtr(sf.SessionSpace, 8) ||
			ss.Table != FormatPtr(sf.Table, 8) || ss.TableSize != sf.TableSize || ss.Expansion != FormatPtr(sf.Expansion, 8) ||
			ss.ExpansionSize != sf.ExpansionSize || ss.Process != FormatPtr(addr, 8) || ss.ProcessName != name {
			t.Errorf("%s: session %+v, manifest %+v", name, ss, sf)
		}
		title := fmt.Sprintf(" Session pool of session %d (MM_SESSION_SPACE %s), as process %s (%s) sees it\n Sorting by Tag\n",
			sf.SessionID, FormatPtr(sf.SessionSpace, 8), FormatPtr(addr, 8), name)
		if !strings.HasPrefix(text, title) {
			t.Errorf("%s: text starts\n%q\nwant\n%q", name, text[:min(len(text), 200)], title)
		}
		// Flag 8 combines with the sort bits: 0xC sorts the session rows by paged bytes.
		r, _ = runPoolCmd(t, s, "!poolused c")
		res = r.(*poolUsedResult)
		if res.Sort != "paged" || res.Session == nil || len(res.Rows) == 0 || res.Rows[0].Tag != "Gh05" {
			t.Errorf("!poolused c: sort %q, rows %+v", res.Sort, res.Rows)
		}
	}
	// Processes outside session 1: a clear message, not a panic.
	for _, name := range []string{"System", "spoolsv.exe"} {
		runPoolCmd(t, s, fmt.Sprintf(".process %x", processAddr(t, m, name)))
		if err := runPoolCmdErr(s, "!poolused 8"); err == nil || !strings.Contains(err.Error(), "it belongs to no session") {
			t.Errorf("!poolused 8 in %s: %v", name, err)
		}
	}
	// Without the kernel's symbols: the variables it needs are named.
	target, _ := openBuilt(t, mustBuild(t))
	bare := NewSessionWith(target, SessionOptions{})
	if err := runPoolCmdErr(bare, "!poolused 8"); err == nil || !strings.Contains(err.Error(), "not available in this dump") ||
		!strings.Contains(err.Error(), "nt!ExpSessionPoolTrackTable") {
		t.Errorf("!poolused 8 without symbols: %v", err)
	}
}

func mustBuild(t *testing.T) *ksynth.Dump {
	t.Helper()
	mc := ksynth.X64Win10_19041
	d, err := ksynth.Build(ksynth.Spec{Machine: mc, Storage: ksynth.RunList, Pool: ksynth.LeakScenario(mc)})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
