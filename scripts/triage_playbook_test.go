package scripts

import (
	"context"
	"strings"
	"testing"

	"wdbg/commands"
	"wdbg/internal/corpus"
)

// triageTable runs the bundled triage.lua and returns the table it returns: the contract of a
// `wdbg triage` playbook (bucket, summary, verdict, ...).
func triageTable(t *testing.T, h *Host) (map[string]any, string) {
	t.Helper()
	run, err := h.RunFile(context.Background(), "triage.lua", nil)
	if err != nil {
		t.Fatalf("triage.lua: %v", err)
	}
	if len(run.Values) != 1 {
		t.Fatalf("triage.lua returned %d values, want one table: %#v", len(run.Values), run.Values)
	}
	m, ok := run.Values[0].(map[string]any)
	if !ok {
		t.Fatalf("triage.lua returned %T, want a table with string keys", run.Values[0])
	}
	for _, key := range []string{"bucket", "summary", "verdict", "what", "kind", "arch"} {
		if _, ok := m[key].(string); !ok {
			t.Errorf("triage.lua's table lacks the string field %q: %#v", key, m)
		}
	}
	return m, run.Output
}

func TestTriagePlaybookReturn(t *testing.T) {
	m, out := triageTable(t, sampleHost(t, Options{}))
	// engine/synth's sample faults reading address 0x18 in ContosoLW9K.dll at SampleCrashIP:
	// a NULL pointer read of an access violation (c0000005).
	if b := m["bucket"].(string); !strings.HasPrefix(b, "NULL_POINTER_READ_c0000005_") {
		t.Errorf("sample bucket = %q, want NULL_POINTER_READ_c0000005_...", b)
	}
	if s := m["summary"].(string); !strings.HasPrefix(s, "exception 0xc0000005 at 00007ffd`8a41a2c1 in ") {
		t.Errorf("sample summary = %q", s)
	}
	if m["module"] != "ContosoLW9K.dll" || m["process"] != "spoolsv.exe" {
		t.Errorf("sample module/process = %v/%v, want ContosoLW9K.dll/spoolsv.exe", m["module"], m["process"])
	}
	// The table and the printed report agree: the verdict line is the table's verdict.
	if !strings.Contains(out, "\nVERDICT: "+m["verdict"].(string)+"\n") {
		t.Errorf("the printed VERDICT line differs from the returned verdict %q:\n%s", m["verdict"], out)
	}

	// The kernel triage dump with its PDBs: rizin's backtrace (rizin_test_db_formats_dmp.txt,
	// frame 8) puts the faulting address fffff804`8b58334c at pdb.amdppm.WriteIoMemRawEx+112, and
	// the bug check's first parameter is c0000005 (CATALOG.md), an access violation: AV_ bucket.
	dir := corpus.Dir(t)
	k := openHost(t, corpus.Path(t, "rizin-testbins/dmp/triage_x64.dmp"), Options{},
		commands.SessionOptions{SymbolPath: dir + "/test-pdb-repository"})
	m, _ = triageTable(t, k)
	if m["bucket"] != "AV_amdppm!WriteIoMemRawEx" {
		t.Errorf("kernel bucket = %v, want AV_amdppm!WriteIoMemRawEx", m["bucket"])
	}
	if s := m["summary"].(string); !strings.HasPrefix(s, "bug check 0x1000007e (ffffffff`c0000005, fffff804`8b58334c") {
		t.Errorf("kernel summary = %q", s)
	}

	// A dump without an exception (CATALOG.md: "no Exception stream"): no bucket, and the
	// summary says why.
	u := openHost(t, corpus.Path(t, "breakpad/tiny-exe-with-cet-xsave.dmp"), Options{}, commands.SessionOptions{})
	m, _ = triageTable(t, u)
	if m["bucket"] != "" || m["summary"] != "no exception or bug check recorded" {
		t.Errorf("no-exception dump: bucket %q summary %q", m["bucket"], m["summary"])
	}
	if _, ok := m["analyze_error"].(string); !ok {
		t.Errorf("no-exception dump: analyze_error missing: %#v", m)
	}
}
