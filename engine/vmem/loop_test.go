package vmem

import "testing"

// A page table whose entries point back at itself (the Windows self-map, or a corrupt loop)
// must end after the mode's fixed number of levels, never spin: every level of this walk reads
// the same table, and the last level's entry is then taken as the page frame.
func TestPageTableLoopEnds(t *testing.T) {
	f := newFakePhys()
	const table = 0x7000
	for i := uint64(0); i < 512; i++ {
		f.put64(table+i*8, table|0x63) // present, writable, accessed, dirty: points at itself
	}
	tr := NewX64(f, table, false)
	w, err := tr.Walk(0xFFFFF6FB7DBEDF80) // self-map address: index 0x1ED at every level
	if err != nil {
		t.Fatalf("walk of a self-referencing table: %v", err)
	}
	if len(w.Steps) != 4 {
		t.Fatalf("%d steps, want exactly the 4 levels of x64", len(w.Steps))
	}
	if w.PA != table+0xF80 {
		t.Errorf("PA = %#x, want the table itself + offset (%#x)", w.PA, table+0xF80)
	}

	// PAE: a PDPT whose entries point at a page directory that points at itself.
	g := newFakePhys()
	const pdpt, pd = 0x1000, 0x2000
	for i := uint64(0); i < 4; i++ {
		g.put64(pdpt+i*8, pd|1)
	}
	for i := uint64(0); i < 512; i++ {
		g.put64(pd+i*8, pd|0x63)
	}
	w, err = NewX86(g, pdpt, true).Walk(0xC0600000)
	if err != nil || len(w.Steps) != 3 || w.PA != pd {
		t.Errorf("PAE loop: steps %d PA %#x err %v; want 3 steps ending at the directory itself", len(w.Steps), w.PA, err)
	}
}
