package commands

import (
	"fmt"
	"strings"
	"testing"

	"wdbg/engine/ksynth"
)

// `!vm 1`'s per-pool rows on the Windows 7 machines, against what the writer put in
// (Manifest.Pool.PagedPools): one `PagedPool N Usage:` row per descriptor 0..ExpNumberOfPagedPools
// whose pages are TotalPages + TotalBigPages, just before `PagedPool Usage:` (WINDBG-SPEC §3.7
// row order), whose value is their total. With the kernel PDB the POOL_DESCRIPTOR offsets come
// from its types; without it from the built-in Windows 7 SP1 table.
func TestVMPagedPools(t *testing.T) {
	for _, mc := range []ksynth.Machine{ksynth.X64Win7_7601, ksynth.X86PAEWin7_7601, ksynth.X86Win7_7601} {
		t.Run(mc.String(), func(t *testing.T) {
			spec := ksynth.Spec{Machine: mc, Storage: ksynth.RunList, Pool: ksynth.LeakScenario(mc)}
			d, err := ksynth.Build(spec)
			if err != nil {
				t.Fatal(err)
			}
			pp := d.Manifest().Pool.PagedPools
			if pp == nil || len(pp.Pools) != int(pp.Count)+1 || pp.Count < 1 {
				t.Fatalf("the writer made no set of paged pools: %+v", pp)
			}
			// The pools' total is the paged pool usage the scenario reports (its MmPagedPoolCommit).
			if commit := d.Manifest().Pool.VM.Values["PagedPoolCommit"]; pp.TotalPages != commit {
				t.Fatalf("pools total %d, MmPagedPoolCommit %d", pp.TotalPages, commit)
			}
			target, syms := openBuilt(t, d)
			for _, withPDB := range []bool{true, false} {
				opts := SessionOptions{}
				wantSource := "built-in Windows 7 SP1 offsets"
				if withPDB {
					opts.SymbolPath = syms
					wantSource = "offsets from the PDB's types"
				}
				checkVMPagedPools(t, NewSessionWith(target, opts), pp, wantSource)
			}
		})
	}
}

func checkVMPagedPools(t *testing.T, s *Session, pp *ksynth.PagedPoolFacts, wantSource string) {
	t.Helper()
	r, text := runPoolCmd(t, s, "!vm 1")
	res := r.(*vmResult)
	at := -1
	for i, row := range res.Rows {
		if row.Label == "PagedPool Usage:" {
			at = i
		}
	}
	n := len(pp.Pools)
	if at < n {
		t.Fatalf("%s: no PagedPool Usage row after %d pool rows:\n%s", wantSource, n, text)
	}
	var lines []string
	for i, f := range pp.Pools {
		row := res.Rows[at-n+i]
		label := fmt.Sprintf("PagedPool %d Usage:", f.Index)
		if row.Label != label || row.Pages != f.TotalPages+f.TotalBigPages || row.Pages != f.Usage || row.KB != 4*f.Usage {
			t.Errorf("%s: row %+v, manifest pool %+v", wantSource, row, f)
		}
		if !strings.Contains(row.Source, wantSource) {
			t.Errorf("%s: pool %d source %q", wantSource, f.Index, row.Source)
		}
		lines = append(lines, fmt.Sprintf("%s%*d (%11d Kb)\n", label, 33-len(label), f.Usage, 4*f.Usage))
	}
	if u := res.Rows[at]; u.Pages != pp.TotalPages || !strings.Contains(u.Source, "TotalPages+TotalBigPages") {
		t.Errorf("%s: PagedPool Usage %+v, pools total %d", wantSource, u, pp.TotalPages)
	}
	// The text: the rows in index order, the page count ending at column 33, just before the
	// PagedPool Usage row.
	block := strings.Join(lines, "") + fmt.Sprintf("PagedPool Usage:%17d (%11d Kb)\n", pp.TotalPages, 4*pp.TotalPages)
	if !strings.Contains(text, block) {
		t.Errorf("%s: !vm lacks\n%s\nin\n%s", wantSource, block, text)
	}
	if before := res.Rows[at-n-1].Label; before != "NonPagedPool Max:" {
		t.Errorf("%s: the pool rows follow %q, want NonPagedPool Max:", wantSource, before)
	}
}

// Windows 10 has no such rows (its paged pool is not described by these facts), and says
// nothing about them.
func TestVMPagedPoolsNoneOn19041(t *testing.T) {
	s, m := openPoolSynth(t, ksynth.X64Win10_19041)
	if m.Pool.PagedPools != nil {
		t.Fatalf("the writer put paged pool descriptors in a 19041 dump")
	}
	r, text := runPoolCmd(t, s, "!vm 1")
	res := r.(*vmResult)
	if strings.Contains(text, "PagedPool 0") || strings.Contains(text, "paged pools") {
		t.Errorf("19041 !vm:\n%s", text)
	}
	for _, row := range res.Rows {
		if row.Label == "PagedPool Usage:" && row.Source != "KDBG.MmPagedPoolCommit" {
			t.Errorf("19041 PagedPool Usage source %q", row.Source)
		}
	}
}
