package pool

import (
	"encoding/binary"
	"strings"
	"testing"

	"wdbg/engine/kdbg"
)

// pagedPoolSpace lays out, by hand, what a Windows 7 kernel holds (vm_pagedpools.go's facts):
// nt!ExpNumberOfPagedPools = count, nt!ExpPagedPoolDescriptor[0..count] pointing at
// descriptors whose TotalPages and TotalBigPages are at tpOff and bpOff (Windows 7 SP1 x64:
// 0xC0 and 0x48, ntdiff/headers Win7_SP1 x64 _POOL_DESCRIPTOR). KDBG holds the variables'
// addresses (FORMATS.md §2, 0x68 and 0x70).
type pagedPoolSpace struct {
	s     *space
	d     *kdbg.Data
	descs []uint64
}

const (
	ppCount = kBase + 0x100
	ppArray = kBase + 0x108
	ppDescs = 0xFFFFFA8000300000
)

func newPagedPoolSpace(t *testing.T, count uint32, pages, big []uint32, tpOff, bpOff uint64) *pagedPoolSpace {
	t.Helper()
	s := newSpaceX64()
	s.mapPage(kBase)
	s.put32(ppCount, count)
	d := &kdbg.Data{PointerSize: 8, ExpNumberOfPagedPools: ppCount, ExpPagedPoolDescriptor: ppArray}
	p := &pagedPoolSpace{s: s, d: d}
	for i := range pages {
		desc := ppDescs + uint64(i)*0x2000 // 0x1140-byte descriptors, one per two pages
		s.mapPage(desc)
		s.mapPage(desc + 0x1000)
		s.put64(ppArray+uint64(i)*8, desc)
		s.put32(desc+tpOff, pages[i])
		s.put32(desc+bpOff, big[i])
		p.descs = append(p.descs, desc)
	}
	return p
}

func TestPagedPoolsBuiltinOffsets(t *testing.T) {
	pages := []uint32{9000, 5000, 4100, 3000, 2600}
	big := []uint32{2918, 2447, 1857, 1468, 378}
	p := newPagedPoolSpace(t, 4, pages, big, 0xC0, 0x48)
	v := ReadVM(p.s.kernel(7601, nil, p.d))
	if len(v.Notes) != 0 {
		t.Fatalf("notes: %q", v.Notes)
	}
	if len(v.PagedPools) != 5 {
		t.Fatalf("%d pools, want 5 (ExpNumberOfPagedPools 4 → descriptors 0..4)", len(v.PagedPools))
	}
	var sum uint64
	for i, pp := range v.PagedPools {
		want := uint64(pages[i]) + uint64(big[i])
		sum += want
		if pp.Index != i || pp.Descriptor != p.descs[i] || pp.TotalPages != uint64(pages[i]) ||
			pp.TotalBigPages != uint64(big[i]) || !pp.Usage.Known || pp.Usage.Value != want {
			t.Errorf("pool %d: %+v, want %d+%d at %#x", i, pp, pages[i], big[i], p.descs[i])
		}
		if !strings.Contains(pp.Usage.Source, "KDBG.ExpPagedPoolDescriptor[") || !strings.Contains(pp.Usage.Source, "built-in") {
			t.Errorf("pool %d source %q", i, pp.Usage.Source)
		}
	}
	if !v.PagedPoolUsage.Known || v.PagedPoolUsage.Value != sum || v.PagedPoolUsage.Value != 32768 {
		t.Errorf("PagedPoolUsage %+v, want the total %d", v.PagedPoolUsage, sum)
	}
}

// TestPagedPoolsPDBOffsets puts the counts where no built-in table would look: only the PDB's
// offsets find them.
func TestPagedPoolsPDBOffsets(t *testing.T) {
	p := newPagedPoolSpace(t, 1, []uint32{700, 400}, []uint32{29, 32}, 0x30, 0x38)
	k := p.s.kernel(9200, nil, p.d) // Windows 8: no built-in offsets
	v := ReadVM(k)
	if len(v.PagedPools) != 0 || len(v.Notes) != 1 || !strings.Contains(v.Notes[0], "no POOL_DESCRIPTOR offsets") {
		t.Fatalf("without types: pools %+v notes %q", v.PagedPools, v.Notes)
	}
	k.Field = func(st, f string) (uint64, bool) {
		if st != "_POOL_DESCRIPTOR" {
			return 0, false
		}
		return map[string]uint64{"TotalPages": 0x30, "TotalBigPages": 0x38}[f], f == "TotalPages" || f == "TotalBigPages"
	}
	v = ReadVM(k)
	if len(v.PagedPools) != 2 || v.PagedPools[0].Usage.Value != 729 || v.PagedPools[1].Usage.Value != 432 {
		t.Fatalf("pools %+v notes %q", v.PagedPools, v.Notes)
	}
	if !strings.Contains(v.PagedPools[1].Usage.Source, "PDB") || v.PagedPoolUsage.Value != 1161 {
		t.Errorf("source %q usage %+v", v.PagedPools[1].Usage.Source, v.PagedPoolUsage)
	}
}

func TestPagedPoolsAbsurdCount(t *testing.T) {
	p := newPagedPoolSpace(t, 0x7FFFFFFF, []uint32{1}, []uint32{1}, 0xC0, 0x48)
	p.d.MmPagedPoolCommit = kBase + 0x200
	p.s.put64(kBase+0x200, 5555)
	v := ReadVM(p.s.kernel(7601, nil, p.d))
	if len(v.PagedPools) != 0 || len(v.Notes) != 1 || !strings.Contains(v.Notes[0], "not a plausible count") {
		t.Fatalf("pools %+v notes %q", v.PagedPools, v.Notes)
	}
	// The usage falls back to MmPagedPoolCommit.
	if v.PagedPoolUsage.Value != 5555 || v.PagedPoolUsage.Source != "KDBG.MmPagedPoolCommit" {
		t.Errorf("usage %+v", v.PagedPoolUsage)
	}
}

func TestPagedPoolsUnreadableDescriptor(t *testing.T) {
	p := newPagedPoolSpace(t, 2, []uint32{10, 20, 30}, []uint32{1, 2, 3}, 0xC0, 0x48)
	p.s.put64(ppArray+8, 0xFFFFFA8000900000) // descriptor 1 points at a page not in the dump
	p.s.put64(ppArray+16, 0x1234)            // descriptor 2 is no kernel address
	v := ReadVM(p.s.kernel(7601, nil, p.d))
	if len(v.PagedPools) != 1 || v.PagedPools[0].Usage.Value != 11 {
		t.Fatalf("pools %+v", v.PagedPools)
	}
	if len(v.Notes) != 2 || !strings.Contains(v.Notes[0], "descriptor 1") || !strings.Contains(v.Notes[1], "not a kernel address") {
		t.Errorf("notes %q", v.Notes)
	}
	if v.PagedPoolUsage.Known {
		t.Errorf("an incomplete set of pools must not give the total: %+v", v.PagedPoolUsage)
	}
	// A negative LONG is a corrupt descriptor.
	p = newPagedPoolSpace(t, 1, []uint32{10, 0xFFFFFFF0}, []uint32{1, 2}, 0xC0, 0x48)
	v = ReadVM(p.s.kernel(7601, nil, p.d))
	if len(v.PagedPools) != 1 || len(v.Notes) != 1 || !strings.Contains(v.Notes[0], "negative") {
		t.Errorf("pools %+v notes %q", v.PagedPools, v.Notes)
	}
}

// TestPagedPoolsNotOnWindows10: build 10240 and later are left alone, without a note, even
// when KDBG names the variables.
func TestPagedPoolsNotOnWindows10(t *testing.T) {
	p := newPagedPoolSpace(t, 4, []uint32{1, 2, 3, 4, 5}, []uint32{0, 0, 0, 0, 0}, 0xC0, 0x48)
	v := ReadVM(p.s.kernel(19041, nil, p.d))
	if len(v.PagedPools) != 0 || len(v.Notes) != 0 {
		t.Errorf("19041: pools %+v notes %q", v.PagedPools, v.Notes)
	}
	// Nor does a kernel without KDBG or symbols get a note.
	v = ReadVM(p.s.kernel(7601, nil, nil))
	if len(v.PagedPools) != 0 || len(v.Notes) != 0 {
		t.Errorf("no KDBG: pools %+v notes %q", v.PagedPools, v.Notes)
	}
}

// FuzzReadPagedPools feeds arbitrary memory as the count, the descriptor array and the
// descriptors: no panic, no hang, never more pools than the bound allows.
func FuzzReadPagedPools(f *testing.F) {
	seed := make([]byte, 0x2000)
	seed[0] = 2 // ExpNumberOfPagedPools; the array @8 points back into the input
	for i := range 3 {
		binary.LittleEndian.PutUint64(seed[8+8*i:], 0xFFFFF80000000100+uint64(i)*0x200)
	}
	f.Add(seed, true)
	f.Add(seed[:0x20], false)
	f.Fuzz(func(t *testing.T, b []byte, x64 bool) {
		base, ptr := uint64(0xFFFFF80000000000), 8
		if !x64 {
			base, ptr = 0x82000000, 4
		}
		syms := map[string]uint64{"ExpNumberOfPagedPools": base, "ExpPagedPoolDescriptor": base + 8}
		k := &Kernel{Mem: flatMem{base: base, b: b}, PointerSize: ptr, Build: 7601,
			Symbol: func(n string) (uint64, bool) { a, ok := syms[n]; return a, ok }}
		v := &VM{}
		readPagedPools(k, v)
		if len(v.PagedPools) > maxPagedPools+1 {
			t.Fatalf("%d pools", len(v.PagedPools))
		}
	})
}
