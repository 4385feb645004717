package commands

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/ksynth"
)

// The pool commands against engine/ksynth's Leak scenario (issue 5): every number printed must
// be what the writer put in, as its manifest records it (Manifest.Pool).

func openPoolSynth(t *testing.T, machine ksynth.Machine) (*Session, *ksynth.Manifest) {
	t.Helper()
	return openPoolDump(t, ksynth.Spec{Machine: machine, Storage: ksynth.RunList, Pool: ksynth.LeakScenario(machine)})
}

// openPoolDump builds spec's dump (pool or not), writes it with its kernel PDB and opens it
// with the PDB on the symbol path.
func openPoolDump(t *testing.T, spec ksynth.Spec) (*Session, *ksynth.Manifest) {
	t.Helper()
	d, err := ksynth.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	target, syms := openBuilt(t, d)
	return NewSessionWith(target, SessionOptions{SymbolPath: syms}), d.Manifest()
}

// openBuilt writes a built dump and its kernel PDB to a temporary folder and opens the dump;
// syms is the symbol path that finds the PDB. The target is closed when the test ends.
func openBuilt(t *testing.T, d *ksynth.Dump) (target *engine.Target, syms string) {
	t.Helper()
	path, syms, err := d.WriteWithSymbols(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	target, err = engine.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { target.Close() })
	return target, syms
}

func runPoolCmd(t *testing.T, s *Session, line string) (Result, string) {
	t.Helper()
	c, args, ok := Lookup(line)
	if !ok {
		t.Fatalf("%s: not a command", line)
	}
	r, err := c.Run(context.Background(), s, args)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	var b strings.Builder
	r.WriteText(&b)
	return r, b.String()
}

func TestPoolSynthLeak(t *testing.T) {
	for _, mc := range ksynth.Machines {
		t.Run(mc.String(), func(t *testing.T) {
			s, m := openPoolSynth(t, mc)
			pf := m.Pool
			checkPoolUsedSynth(t, s, pf)
			checkPoolFindSynth(t, s, m)
			checkPoolPageSynth(t, s, m)
			checkVMSynth(t, s, pf)
		})
	}
}

func checkPoolUsedSynth(t *testing.T, s *Session, pf *ksynth.PoolFacts) {
	r, text := runPoolCmd(t, s, "!poolused 1")
	res := r.(*poolUsedResult)
	want := trackerTotals(pf.Trackers)
	if len(res.Rows) != len(want) {
		t.Errorf("!poolused 1: %d rows, manifest has %d tags\n%s", len(res.Rows), len(want), text)
	}
	for _, row := range res.Rows {
		w := want[row.Tag]
		if row.NonPaged != w.NonPaged || row.Paged != w.Paged {
			t.Errorf("tag %q: %+v %+v, manifest %+v %+v", row.Tag, row.NonPaged, row.Paged, w.NonPaged, w.Paged)
		}
	}
	// The numbers: Leak, 56242 paged allocations, 115633552 bytes, first when sorting
	// by paged bytes; the row layout of WINDBG-SPEC §3.8.
	_, text = runPoolCmd(t, s, "!poolused 4 Le*")
	wantLine := fmt.Sprintf(" Leak%10d%13d%11d%13d\tUNKNOWN pooltag 'Leak', please update pooltag.txt\n", 0, 0, 56242, 115633552)
	if !strings.Contains(text, " Sorting by Paged Pool Consumed\n") || !strings.Contains(text, wantLine) {
		t.Errorf("!poolused 4 Le*:\n%q\nwant line %q", text, wantLine)
	}
}

func checkPoolFindSynth(t *testing.T, s *Session, m *ksynth.Manifest) {
	pf := m.Pool
	r, text := runPoolCmd(t, s, "!poolfind Leak")
	res := r.(*poolFindResult)
	var want []string
	for _, b := range pf.BigPages {
		if b.Tag == "Leak" && !b.Free {
			want = append(want, fmt.Sprintf("big %x %#x", b.VA, b.Bytes))
		}
	}
	missing := map[uint64]bool{}
	for _, mp := range pf.Missing {
		missing[mp.VA] = true
	}
	for _, b := range pf.Blocks {
		if b.Tag == "Leak" && !missing[b.Header&^0xFFF] {
			want = append(want, fmt.Sprintf("%x %#x free=%v", b.Header, b.Size, b.Free))
		}
	}
	// The x64 writer also maps physical memory from 0 with one 1 GiB page (Manifest.PTE.GigPage):
	// the scan must not report the pool pages again through that alias.
	alias := func(va uint64) bool {
		g := m.PTE.GigPage
		return g != nil && va >= g.VA&^(g.PageSize-1) && va-g.VA&^(g.PageSize-1) < g.PageSize
	}
	var got []string
	for _, h := range res.Hits {
		if alias(h.addr) {
			t.Errorf("hit %x is inside the 1 GiB alias of physical memory", h.addr)
			continue
		}
		if h.Big {
			got = append(got, fmt.Sprintf("big %x %#x", h.addr, h.Size))
		} else {
			got = append(got, fmt.Sprintf("%x %#x free=%v", h.addr, h.Size, h.Free))
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("!poolfind Leak:\n%s\nwant\n%s\n--- output\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), text)
	}
}

func checkPoolPageSynth(t *testing.T, s *Session, m *ksynth.Manifest) {
	pf := m.Pool
	missing := map[uint64]bool{}
	for _, mp := range pf.Missing {
		missing[mp.VA] = true
	}
	for _, b := range pf.Blocks {
		if b.Tag != "Proc" || b.Free || missing[b.Header&^0xFFF] {
			continue
		}
		r, text := runPoolCmd(t, s, fmt.Sprintf("!pool %x", b.Header+8))
		res := r.(*poolPageResult)
		var found bool
		for _, bl := range res.Blocks {
			if bl.Containing {
				found = bl.addr == b.Header && bl.Size == b.Size && bl.Tag == "Proc" && bl.PreviousSize == b.PreviousSize
			}
		}
		region := "Nonpaged pool"
		if !found || res.Region != region {
			t.Errorf("!pool %x: block not found as the manifest has it (%+v), region %q\n%s", b.Header+8, b, res.Region, text)
		}
		break
	}
	for _, bp := range pf.BigPages {
		if bp.Free {
			continue
		}
		r, text := runPoolCmd(t, s, fmt.Sprintf("!pool %x", bp.VA+0x10))
		res := r.(*poolPageResult)
		if res.Large == nil || res.Large.addr != bp.VA || res.Large.Size != bp.Bytes || res.Large.Tag != bp.Tag {
			t.Errorf("!pool in big page %+v:\n%s", bp, text)
		}
		break
	}
}

func checkVMSynth(t *testing.T, s *Session, pf *ksynth.PoolFacts) {
	r, text := runPoolCmd(t, s, "!vm 1")
	res := r.(*vmResult)
	v := pf.VM.Values
	want := map[string]uint64{
		"Available Pages:":         v["AvailablePages"],
		"ResAvail Pages:":          v["ResidentAvailablePages"],
		"Modified Pages:":          v["ModifiedPageListHead"],
		"Modified No Write Pages:": v["ModifiedNoWritePageListHead"],
		"PagedPool Usage:":         v["PagedPoolCommit"],
		"PagedPool Maximum:":       v["SizeOfPagedPoolInBytes"] / 4096,
		"Shared Commit:":           v["SharedCommit"],
		"Committed pages:":         v["TotalCommittedPages"],
		"Commit limit:":            v["TotalCommitLimit"],
		"Physical Memory:":         pf.VM.PhysicalPages,
	}
	got := map[string]uint64{}
	for _, row := range res.Rows {
		got[row.Label] = row.Pages
		if row.KB != row.Pages*4 {
			t.Errorf("%s: %d pages, %d Kb", row.Label, row.Pages, row.KB)
		}
	}
	for label, w := range want {
		if g, ok := got[label]; !ok || g != w {
			t.Errorf("!vm %s = %d (present %v), manifest %d", label, g, ok, w)
		}
	}
	// Paged pool at its maximum: the classic warning (WINDBG-SPEC §3.7).
	if !strings.Contains(text, "\n********** Excessive Paged Pool Usage *****\n") {
		t.Errorf("!vm: no excessive paged pool banner\n%s", text)
	}
	// Row layout: the page count ends at column 33, Kb in 11 columns.
	line := fmt.Sprintf("Commit limit:%20d (%11d Kb)\n", v["TotalCommitLimit"], v["TotalCommitLimit"]*4)
	if !strings.Contains(text, line) {
		t.Errorf("!vm: no line %q in\n%s", line, text)
	}
	// The rows wdbg cannot read are named, not silently left out.
	if !strings.Contains(text, "(not shown: page files, Locked IO Pages, Free System PTEs") || !slices.Contains(res.Notes, vmNotShown) {
		t.Errorf("!vm: the missing rows are not named\n%s", text)
	}
}

// !pool ADDR 1 follows each block line with the first 0x40 bytes after its POOL_HEADER (two
// pointers, FORMATS.md §6.1) as dc shows them; with flag 2 only the block holding ADDR.
func TestPoolFlagDumpsContents(t *testing.T) {
	for _, mc := range []ksynth.Machine{ksynth.X64Win7_7601, ksynth.X86PAEWin7_7601} {
		t.Run(mc.String(), func(t *testing.T) {
			s, m := openPoolSynth(t, mc)
			var blk *ksynth.BlockFact
			for i, b := range m.Pool.Blocks {
				if !b.Free && b.Size >= 0x60 {
					blk = &m.Pool.Blocks[i]
					break
				}
			}
			if blk == nil {
				t.Fatal("no allocated block of 0x60 bytes or more in the manifest")
			}
			hdr := uint64(2 * m.PointerSize)
			_, out := runPoolCmd(t, s, fmt.Sprintf("!pool %x 3", blk.Header+hdr))
			dc := run(t, s, fmt.Sprintf("dc %x L10", blk.Header+hdr))
			if !strings.Contains(out, "*"+FormatPtr(blk.Header, m.PointerSize)+" size: ") || !strings.Contains(out, dc) {
				t.Errorf("!pool %x 3 lacks the block line or its contents\n%s\nwant the lines of dc:\n%s", blk.Header+hdr, out, dc)
			}
			if n := strings.Count(out, "previous size: "); n != 1 {
				t.Errorf("!pool %x 3 shows %d blocks, flag 2 asks for one:\n%s", blk.Header+hdr, n, out)
			}
			_, plain := runPoolCmd(t, s, fmt.Sprintf("!pool %x 2", blk.Header+hdr))
			if strings.Contains(plain, dc) {
				t.Errorf("!pool without flag 1 dumps contents:\n%s", plain)
			}
		})
	}
}
