package pool

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"wdbg/engine/kdbg"
)

// Win7 x64 layout: nonpaged pool at npBase, paged pool at ppBase; the KDBG fields hold the
// addresses of the variables holding the bounds (FORMATS.md §2), here at kBase+0x100...
const (
	npBase = 0xFFFFFA8000000000
	ppBase = 0xFFFFF8A000000000
	bigVA  = 0xFFFFFA8000200000
)

func classicKernel(t *testing.T) (*space, *Kernel) {
	s := newSpaceX64()
	s.mapPage(kBase)
	s.put64(kBase+0x100, npBase)
	s.put64(kBase+0x108, npBase+0x10000000)
	s.put64(kBase+0x110, ppBase)
	s.put64(kBase+0x118, ppBase+0x10000000)
	d := &kdbg.Data{PointerSize: 8, MmNonPagedPoolStart: kBase + 0x100, MmNonPagedPoolEnd: kBase + 0x108,
		MmPagedPoolStart: kBase + 0x110, MmPagedPoolEnd: kBase + 0x118}

	// Nonpaged page 0: the §3.8 sample chain.
	copy(s.mapPage(npBase)[:], classicPage())
	// Nonpaged page 1: Leak allocated (0x100), Leak free (0x50), then "Leak" as data at an
	// aligned +4 inside the next block, unaligned data, and the rest one free block.
	p := s.mapPage(npBase + 0x1000)
	copy(p[0x000:], headerX64(0, 0x10, 1, "Leak"))
	copy(p[0x100:], headerX64(0x10, 0x05, 0, "Leak"))
	copy(p[0x150:], headerX64(0x05, 0xEB, 1, "Data"))
	copy(p[0x164:], "Leak")                        // +4 of offset 0x160: a header with BlockSize 0
	copy(p[0x171:], "Leak")                        // not aligned
	copy(p[0x184:], "Leak")                        // +4 of 0x180: BlockSize 0
	copy(p[0x1A0:], headerX64(0, 0xFF, 1, "Leak")) // 0xFF0 bytes from 0x1A0 pass the page end: rejected (§6.1)
	// A mapped nonpaged page the dump lacks, then one more page with a Leak block.
	s.mapTo(npBase+0x2000, 0x7FFF0000)
	copy(s.mapPage(npBase + 0x3000)[:], headerX64(0, 0x20, 1, "Leak"))
	// Paged page: Leak paged (stored type 2), and a Leak outside both pools (never scanned).
	copy(s.mapPage(ppBase)[:], headerX64(0, 0x80, 2, "Leak"))
	copy(s.mapPage(0xFFFFF90000000000)[:], headerX64(0, 0x80, 2, "Leak"))

	// Big-page table: x64 Win7 entries (§6.2) — Leak nonpaged, Leak paged, Leak freed, Proc.
	const bt = kBase + 0x800
	entry := func(i int, va uint64, tag string, typ uint32, n uint64) {
		b := make([]byte, 0x18)
		binary.LittleEndian.PutUint64(b, va)
		binary.LittleEndian.PutUint32(b[8:], uint32(TagOf(tag)))
		binary.LittleEndian.PutUint32(b[0xC:], typ)
		binary.LittleEndian.PutUint64(b[0x10:], n)
		s.write(bt+uint64(i)*0x18, b)
	}
	entry(0, bigVA, "Leak", 0, 0x3000)
	entry(1, ppBase+0x100000, "Leak", 1, 0x2000)
	entry(2, bigVA+0x10001, "Leak", 0, 0x1000)
	entry(3, bigVA+0x20000, "Proc", 0, 0x1000)
	s.put64(kBase+0x200, bt)
	s.put64(kBase+0x208, 8)
	syms := map[string]uint64{"PoolBigPageTable": kBase + 0x200, "PoolBigPageTableSize": kBase + 0x208}
	return s, s.kernel(7601, syms, d)
}

func hitList(hits []Hit) string {
	var b strings.Builder
	for _, h := range hits {
		fmt.Fprintf(&b, "%x %s %#x prev %#x type %d free %v big %v\n", h.Addr, h.Tag, h.Size, h.PreviousSize, h.PoolType, h.Free, h.Big)
	}
	return b.String()
}

func TestScanClassic(t *testing.T) {
	_, k := classicKernel(t)
	// Big-page hits first, sorted by address (the freed entry is left out), then the
	// nonpaged and paged regions in address order.
	want := "" +
		"fffff8a000100000 Leak 0x2000 prev 0x0 type 1 free false big true\n" +
		"fffffa8000200000 Leak 0x3000 prev 0x0 type 0 free false big true\n" +
		"fffffa8000001000 Leak 0x100 prev 0x0 type 0 free false big false\n" +
		"fffffa8000001100 Leak 0x50 prev 0x100 type 0 free true big false\n" +
		"fffffa8000003000 Leak 0x200 prev 0x0 type 0 free false big false\n" +
		"fffff8a000000000 Leak 0x800 prev 0x0 type 1 free false big false\n"
	for _, pat := range []string{"Leak", "Le?k", "L*", "*eak"} {
		res, err := Scan(context.Background(), k, ScanOptions{Pattern: ParsePattern(pat)})
		if err != nil {
			t.Fatal(err)
		}
		if got := hitList(res.Hits); got != want {
			t.Errorf("%s: hits\n%swant\n%s", pat, got, want)
		}
		if res.Missing != 0x1000 || res.Scanned != 4*0x1000 || len(res.Regions) != 2 {
			t.Errorf("%s: scanned %#x missing %#x regions %+v", pat, res.Scanned, res.Missing, res.Regions)
		}
	}
	res, _ := Scan(context.Background(), k, ScanOptions{Pattern: ParsePattern("Leak"), Pools: Paged})
	if got := hitList(res.Hits); got != "fffff8a000100000 Leak 0x2000 prev 0x0 type 1 free false big true\nfffff8a000000000 Leak 0x800 prev 0x0 type 1 free false big false\n" {
		t.Errorf("paged only:\n%s", got)
	}
}

func TestScanCancel(t *testing.T) {
	_, k := classicKernel(t)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	res, err := Scan(ctx, k, ScanOptions{Pattern: ParsePattern("Leak"), Progress: func(p Progress) {
		calls++
		if p.Total != 5*0x1000 || p.Done > p.Total {
			t.Errorf("progress %+v", p)
		}
		cancel()
	}})
	if err != nil || !res.Stopped || calls != 1 {
		t.Fatalf("stopped %v calls %d err %v", res.Stopped, calls, err)
	}
	// Nonpaged pages 0-3 are one run (page 2 mapped but missing); the first read stops at
	// page 2, the scan goes on at page 3 — where the cancellation is seen: the big-page hits
	// and the two of page 1 are kept.
	if res.StoppedAt != npBase+0x3000 || len(res.Hits) != 4 {
		t.Errorf("stopped at %#x with %d hits", res.StoppedAt, len(res.Hits))
	}
}

func TestScanSegmentHeap(t *testing.T) {
	s := newSpaceX64()
	const a, img, pte = 0xFFFFB00000000000, 0xFFFFF80000000000, 0xFFFFF30000000000
	p := s.mapPage(a)
	copy(p[0x30:], headerX64(0, 0x10, 2, "Leak"))  // paged, PreviousSize 0 (§6.4)
	copy(p[0x500:], headerX64(7, 0x10, 1, "Leak")) // nonpaged; PreviousSize is not checked
	copy(p[0x804:], "Leak")                        // BlockSize 0: rejected
	copy(s.mapPage(img)[0x40:], headerX64(0, 0x10, 1, "Leak"))
	copy(s.mapPage(pte)[0x40:], headerX64(0, 0x10, 1, "Leak"))
	k := s.kernel(19041, nil, &kdbg.Data{PointerSize: 8, PteBase: pte})
	k.Images = []Range{{img, img + 0x10000}}
	res, err := Scan(context.Background(), k, ScanOptions{Pattern: ParsePattern("Leak")})
	if err != nil {
		t.Fatal(err)
	}
	want := "ffffb00000000030 Leak 0x100 prev 0x0 type 1 free false big false\n" +
		"ffffb00000000500 Leak 0x100 prev 0x70 type 0 free false big false\n"
	if got := hitList(res.Hits); got != want {
		t.Errorf("hits\n%swant\n%s", got, want)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "large pool allocation table") {
		t.Errorf("no symbols: the big-page table should be noted as unavailable: %q", res.Notes)
	}
	res, _ = Scan(context.Background(), k, ScanOptions{Pattern: ParsePattern("Le*"), Pools: NonPaged})
	if got := hitList(res.Hits); got != want[len(want)/2:] {
		t.Errorf("nonpaged only:\n%s", got)
	}
}

func TestScanX86PAE(t *testing.T) {
	s := newSpacePAE()
	const np = 0x84000000
	s.mapPage(0x82000000)
	s.put32(0x82000000, np)
	s.put32(0x82000004, np+0x100000)
	pg := s.mapPage(np)
	copy(pg[0:], headerX86(0, 0x18, 1, "SeSd"))        // 0xC0 bytes, NonPaged (stored 1)
	copy(pg[0xC0:], headerX86(0x18, 0x1E8, 0, "SeSd")) // free, to the page end
	d := &kdbg.Data{PointerSize: 4, MmNonPagedPoolStart: 0x82000000, MmNonPagedPoolEnd: 0x82000004}
	k := s.kernel(7601, nil, d)
	res, err := Scan(context.Background(), k, ScanOptions{Pattern: ParsePattern("SeSd"), Pools: NonPaged})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 2 || res.Hits[0].Addr != np || res.Hits[0].Size != 0xC0 || res.Hits[1].Addr != np+0xC0 || !res.Hits[1].Free || res.Hits[1].Size != 0xF40 {
		t.Errorf("x86 hits\n%s", hitList(res.Hits))
	}
}
