package scripts

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"wdbg/commands"
	"wdbg/engine/ksynth"
)

// Synthetic kernel dumps with pool (engine/ksynth's Leak scenario, issue 5): the manifest the
// writer returns is the oracle for every number the pool functions and leak.lua report.

type poolDump struct {
	path, syms string
	manifest   *ksynth.Manifest
	err        error
}

var (
	poolDumpsMu sync.Mutex
	poolDumps   = map[ksynth.Machine]*poolDump{}
	poolDumpDir string
)

// buildPoolDump writes (once per test binary) a bitmap kernel dump of machine m with the Leak
// scenario and its kernel PDB, which the pool commands need for nt!PoolTrackTable and friends.
func buildPoolDump(t testing.TB, m ksynth.Machine) *poolDump {
	t.Helper()
	poolDumpsMu.Lock()
	defer poolDumpsMu.Unlock()
	if d, ok := poolDumps[m]; ok {
		if d.err != nil {
			t.Fatal(d.err)
		}
		return d
	}
	if poolDumpDir == "" {
		dir, err := os.MkdirTemp("", "wdbg-scripts-pool-")
		if err != nil {
			t.Fatal(err)
		}
		poolDumpDir = dir
	}
	pd := &poolDump{}
	poolDumps[m] = pd
	dump, err := ksynth.Build(ksynth.Spec{Machine: m, Storage: ksynth.Bitmap, Pool: ksynth.LeakScenario(m)})
	if err != nil {
		pd.err = err
		t.Fatal(err)
	}
	dir := filepath.Join(poolDumpDir, m.String())
	pd.path = filepath.Join(dir, "MEMORY.DMP")
	pd.syms = filepath.Join(dir, "sym")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		pd.err = err
		t.Fatal(err)
	}
	if err := dump.WriteFile(pd.path); err != nil {
		pd.err = err
		t.Fatal(err)
	}
	if _, err := dump.WriteSymbols(pd.syms); err != nil {
		pd.err = err
		t.Fatal(err)
	}
	pd.manifest = dump.Manifest()
	return pd
}

// poolHost is a host on machine m's Leak dump, with its symbols.
func poolHost(t testing.TB, m ksynth.Machine, opts Options) (*Host, *ksynth.Manifest) {
	t.Helper()
	d := buildPoolDump(t, m)
	return openHost(t, d.path, opts, commands.SessionOptions{SymbolPath: d.syms}), d.manifest
}

// TestMain removes the synthetic dumps shared by the tests of the package.
func TestMain(m *testing.M) {
	code := m.Run()
	if poolDumpDir != "" {
		os.RemoveAll(poolDumpDir)
	}
	os.Exit(code)
}

// tagTotals are a tag's tracker counters summed over the manifest's rows (a tag may have rows
// in the main table and the expansion table).
type tagTotals struct {
	tag                                                 string
	npAllocs, npFrees, npBytes, pAllocs, pFrees, pBytes uint64
}

func manifestTags(m *ksynth.Manifest) map[string]*tagTotals {
	out := map[string]*tagTotals{}
	for _, tf := range m.Pool.Trackers {
		w := out[tf.Tag]
		if w == nil {
			w = &tagTotals{tag: tf.Tag}
			out[tf.Tag] = w
		}
		w.npAllocs += tf.NonPagedAllocs
		w.npFrees += tf.NonPagedFrees
		w.npBytes += tf.NonPagedBytes
		w.pAllocs += tf.PagedAllocs
		w.pFrees += tf.PagedFrees
		w.pBytes += tf.PagedBytes
	}
	return out
}

// rankedTags are the manifest's tags with bytes in the pool (paged or not), most bytes first,
// ties by tag: the order leak.lua's lists must have.
func rankedTags(m *ksynth.Manifest, paged bool) []*tagTotals {
	var out []*tagTotals
	for _, w := range manifestTags(m) {
		if b := bytesOf(w, paged); b > 0 {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if bi, bj := bytesOf(out[i], paged), bytesOf(out[j], paged); bi != bj {
			return bi > bj
		}
		return out[i].tag < out[j].tag
	})
	return out
}

func bytesOf(w *tagTotals, paged bool) uint64 {
	if paged {
		return w.pBytes
	}
	return w.npBytes
}

// leakHits are the manifest's used Leak blocks and big pages the dump shows, as "address size"
// lines: the hits !poolfind Leak must report (blocks on pages missing from the dump cannot be).
func leakHits(m *ksynth.Manifest, tag string) []string {
	pf := m.Pool
	missing := map[uint64]bool{}
	for _, mp := range pf.Missing {
		missing[mp.VA] = true
	}
	var want []string
	for _, b := range pf.BigPages {
		if b.Tag == tag && !b.Free {
			want = append(want, fmt.Sprintf("0x%x 0x%x big", b.VA, b.Bytes))
		}
	}
	for _, b := range pf.Blocks {
		if b.Tag == tag && !missing[b.Header&^0xFFF] {
			want = append(want, fmt.Sprintf("0x%x 0x%x", b.Header, b.Size))
		}
	}
	sort.Strings(want)
	return want
}

// gigAlias says whether va lies in the x64 writer's 1 GiB identity-style page of physical
// memory (Manifest.PTE.GigPage): pool pages seen again through it are the same blocks.
func gigAlias(m *ksynth.Manifest, va uint64) bool {
	g := m.PTE.GigPage
	if g == nil {
		return false
	}
	base := g.VA &^ (g.PageSize - 1)
	return va >= base && va-base < g.PageSize
}

// TestAPIPool checks dbg.pool.used, dbg.pool.find and dbg.vm on the four machines' Leak dumps
// against the ksynth manifest.
func TestAPIPool(t *testing.T) {
	for _, mc := range ksynth.Machines {
		t.Run(mc.String(), func(t *testing.T) {
			h, m := poolHost(t, mc, Options{})
			tags := manifestTags(m)

			// pool.used: one row per tag with the writer's counters (verbose keeps rows with
			// nothing outstanding, so every tag is there).
			got := runLua(t, h, `local r = dbg.pool.used(1)
				local out = {}
				for _, row in ipairs(r.rows) do
					out[#out + 1] = string.format("%s %d %d %d %d %d %d", row.tag, row.nonpaged.allocs,
						row.nonpaged.frees, row.nonpaged.bytes, row.paged.allocs, row.paged.frees, row.paged.bytes)
				end
				table.sort(out)
				return table.concat(out, "\n")`)
			var want []string
			for _, w := range tags {
				want = append(want, fmt.Sprintf("%s %d %d %d %d %d %d", w.tag, w.npAllocs, w.npFrees, w.npBytes,
					w.pAllocs, w.pFrees, w.pBytes))
			}
			sort.Strings(want)
			if got != strings.Join(want, "\n") {
				t.Errorf("dbg.pool.used(1):\n%s\nmanifest:\n%s", got, strings.Join(want, "\n"))
			}
			// The numbers, through the filter and the sort argument.
			leak := tags["Leak"]
			if leak == nil || leak.pAllocs != 56242 || leak.pBytes != 115633552 {
				t.Fatalf("the Leak scenario changed: %+v", leak)
			}
			expect(t, h, `local r = dbg.pool.used("4 Le*") return #r.rows, r.sort, r.rows[1].tag, r.rows[1].paged.allocs, r.rows[1].paged.bytes`,
				fmt.Sprintf("1\npaged\nLeak\n%d\n%d", leak.pAllocs, leak.pBytes))
			top := rankedTags(m, true)[0]
			expect(t, h, `return dbg.pool.used(4).rows[1].tag`, top.tag)
			topNP := rankedTags(m, false)[0]
			expect(t, h, `return dbg.pool.used(2).rows[1].tag`, topNP.tag)
			// The text comes with the table.
			expect(t, h, `local _, text = dbg.pool.used("4 Leak") return text:find("115633552", 1, true) ~= nil`, "true")

			// pool.find: every Leak block and big page the dump holds, addresses as addr values.
			got = runLua(t, h, `local r = dbg.pool.find("Leak")
				local out = {}
				for _, hit in ipairs(r.hits) do
					assert(getmetatable(hit.address) ~= nil, "address is not an addr")
					out[#out + 1] = hit.address:hex() .. string.format(" 0x%x", hit.size) .. (hit.big and " big" or "")
				end
				return table.concat(out, "\n")`)
			var hits []string
			for _, line := range strings.Split(got, "\n") {
				var va uint64
				fmt.Sscanf(line, "0x%x", &va)
				if line != "" && !gigAlias(m, va) {
					hits = append(hits, line)
				}
			}
			sort.Strings(hits)
			if w := leakHits(m, "Leak"); strings.Join(hits, "\n") != strings.Join(w, "\n") {
				t.Errorf("dbg.pool.find('Leak'):\n%s\nmanifest:\n%s", strings.Join(hits, "\n"), strings.Join(w, "\n"))
			}
			// Leak is paged only: a nonpaged search (pool type 0) finds none of it.
			expect(t, h, `return #dbg.pool.find("Leak 0").hits`, "0")
			expect(t, h, `return dbg.pool.find("Leak").tag`, "Leak")

			// vm: the counters the writer set, in pages; the banner of the classic case.
			v := m.Pool.VM.Values
			rows := map[string]uint64{
				"Available Pages:":   v["AvailablePages"],
				"ResAvail Pages:":    v["ResidentAvailablePages"],
				"PagedPool Usage:":   v["PagedPoolCommit"],
				"PagedPool Maximum:": v["SizeOfPagedPoolInBytes"] / 4096,
				"Commit limit:":      v["TotalCommitLimit"],
				"Physical Memory:":   m.Pool.VM.PhysicalPages,
			}
			for label, pages := range rows {
				expect(t, h, fmt.Sprintf(`for _, row in ipairs(dbg.vm(1).rows) do
					if row.label == %q then return row.pages, row.kb end end`, label),
					fmt.Sprintf("%d\n%d", pages, pages*4))
			}
			if v["PagedPoolCommit"] < v["SizeOfPagedPoolInBytes"]/4096 {
				t.Fatalf("the scenario no longer has paged pool at its maximum: %d of %d pages",
					v["PagedPoolCommit"], v["SizeOfPagedPoolInBytes"]/4096)
			}
			expect(t, h, `return dbg.vm(1).banners[1]`, "********** Excessive Paged Pool Usage *****")
		})
	}
	// A user dump has no pool: the functions return nil and the reason, they do not raise.
	h := sampleHost(t, Options{})
	for _, call := range []string{"dbg.pool.used()", "dbg.pool.find('Leak')", "dbg.vm()"} {
		expect(t, h, "local r, err = "+call+" return r, err ~= nil", "nil\ntrue")
	}
}
