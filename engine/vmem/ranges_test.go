package vmem

import (
	"strings"
	"testing"
)

// TestMappingsX64 lists the kernel half of the hand-built hierarchy of buildX64: the runs are
// read off the entries written there (FORMATS.md §3.1 sizes: 4 KB PTE, 2 MB PDE.PS, 1 GB
// PDPTE.PS; §3.2: transition entries are in RAM), not from the code under test.
func TestMappingsX64(t *testing.T) {
	f := newFakePhys()
	pml4, _, _ := buildX64(f)
	tr := NewX64(f, pml4, false)
	var got []Mapping
	err := tr.Mappings(0xFFFF800000000000, 0, func(m Mapping) bool { got = append(got, m); return true })
	want := []Mapping{
		{vaX64(0x1F0, 1, 2, 3, 0), 0x1000, 0x1000},
		{vaX64(0x1F0, 1, 2, 6, 0), 0x1000, 0x1000},   // transition PTE
		{vaX64(0x1F0, 1, 2, 12, 0), 0x1000, 0x1000},  // transition PTE
		{vaX64(0x1F0, 1, 4, 0, 0), 1 << 21, 1 << 21}, // 2 MB page
		{vaX64(0x1F0, 1, 7, 0, 0), 0x1000, 0x1000},   // under a page table in transition
		{vaX64(0x1F0, 5, 0, 0, 0), 1 << 30, 1 << 30}, // 1 GB page
	}
	// The self-map PXE (0x1ED) and the PDE pointing back at the PDPT are not followed; the PDE
	// whose table is not in the dump is counted.
	if !equalMappings(got, want) {
		t.Errorf("Mappings = %x\nwant %x", got, want)
	}
	if err == nil || !strings.Contains(err.Error(), "1 page tables") {
		t.Errorf("err = %v, want 1 missing table", err)
	}
}

func TestMappingsClipMergeStop(t *testing.T) {
	f := newFakePhys()
	pml4, _, _ := buildX64(f)
	tr := NewX64(f, pml4, false)
	// Start inside the 2 MB page and end inside the 1 GB page.
	start := vaX64(0x1F0, 1, 4, 0x10, 0)
	end := vaX64(0x1F0, 5, 0, 3, 0)
	var got []Mapping
	tr.Mappings(start, end, func(m Mapping) bool { got = append(got, m); return true })
	want := []Mapping{
		{start, 1<<21 - 0x10000, 1 << 21},
		{vaX64(0x1F0, 1, 7, 0, 0), 0x1000, 0x1000},
		{vaX64(0x1F0, 5, 0, 0, 0), 0x3000, 1 << 30},
	}
	if !equalMappings(got, want) {
		t.Errorf("clipped = %x\nwant %x", got, want)
	}
	n := 0
	tr.Mappings(0xFFFF800000000000, 0, func(Mapping) bool { n++; return false })
	if n != 1 {
		t.Errorf("fn returning false: called %d times, want 1", n)
	}
	// Contiguous 4 KB pages merge into one run.
	f2 := newFakePhys()
	f2.put64(0x1000+0x1F0*8, 0x2000|eP)
	f2.put64(0x2000, 0x3000|eP)
	f2.put64(0x3000, 0x4000|eP)
	for i := uint64(0); i < 5; i++ {
		f2.put64(0x4000+(10+i)*8, (0x10+i)<<12|eP)
	}
	got = nil
	NewX64(f2, 0x1000, false).Mappings(0xFFFF800000000000, 0, func(m Mapping) bool { got = append(got, m); return true })
	if want := []Mapping{{vaX64(0x1F0, 0, 0, 10, 0), 0x5000, 0x1000}}; !equalMappings(got, want) {
		t.Errorf("merged = %x, want %x", got, want)
	}
}

func TestMappingsPAE(t *testing.T) {
	f := newFakePhys()
	const pdpt, pd, pt = 0x3000, 0x4000, 0x6000
	f.put64(pdpt+2*8, pd|eP)
	f.put64(pd+0*8, pt|eP)
	f.put64(pd+1*8, 0x40000000|eP|ePS) // 2 MB
	f.put64(pt+1*8, 0x7000|eP)
	tr := NewX86(f, pdpt, true)
	var got []Mapping
	if err := tr.Mappings(0x80000000, 1<<32, func(m Mapping) bool { got = append(got, m); return true }); err != nil {
		t.Fatal(err)
	}
	want := []Mapping{{0x80001000, 0x1000, 0x1000}, {0x80200000, 1 << 21, 1 << 21}}
	if !equalMappings(got, want) {
		t.Errorf("PAE = %x, want %x", got, want)
	}
	if err := tr.Mappings(0x1000, 1<<33, func(Mapping) bool { return true }); err == nil {
		t.Errorf("range past 4 GB accepted")
	}
}

func equalMappings(a, b []Mapping) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
