package pool

import (
	"testing"

	"wdbg/engine/kdbg"
)

func TestReadVMKDBG(t *testing.T) {
	s := newSpaceX64()
	s.mapPage(kBase)
	// Each KDBG Mm* field is the address of the variable (FORMATS.md §2, §6.5).
	vars := map[string]uint64{}
	d := &kdbg.Data{PointerSize: 8}
	set := func(field *uint64, name string, off, value uint64) {
		*field = kBase + off
		s.put64(kBase+off, value)
		vars[name] = value
	}
	set(&d.MmNumberOfPhysicalPages, "phys", 0x00, 2037490)
	set(&d.MmAvailablePages, "avail", 0x08, 693849)
	set(&d.MmResidentAvailablePages, "resavail", 0x10, 600000)
	set(&d.MmSizeOfPagedPoolInBytes, "ppmax", 0x18, 0x80000000)
	set(&d.MmPagedPoolCommit, "ppcommit", 0x20, 0x7F000)
	set(&d.MmMaximumNonPagedPoolInBytes, "npmax", 0x28, 0x40000000)
	set(&d.MmAllocatedNonPagedPool, "npused", 0x30, 268)
	set(&d.MmTotalCommittedPages, "commit", 0x38, 500000)
	set(&d.MmTotalCommitLimit, "limit", 0x40, 900000)
	set(&d.MmModifiedPageListHead, "modified", 0x48, 1234) // MMPFNLIST.Total @0
	d.MmNumberOfPagingFiles = kBase + 0x50
	s.put32(kBase+0x50, 2)
	d.MmSharedCommit = 0xFFFFF80000900000 // unreadable: noted, stays unknown
	v := ReadVM(s.kernel(7601, nil, d))
	checks := []struct {
		c    Counter
		want uint64
	}{
		{v.PhysicalPages, 2037490}, {v.AvailablePages, 693849}, {v.ResidentAvailablePages, 600000},
		{v.PagedPoolMax, 0x80000000 / 4096}, {v.PagedPoolUsage, 0x7F000}, {v.NonPagedPoolMax, 0x40000},
		{v.NonPagedPoolUsage, 268}, {v.CommittedPages, 500000}, {v.CommitLimit, 900000},
		{v.ModifiedPages, 1234}, {v.NumberOfPagingFiles, 2},
	}
	for i, c := range checks {
		if !c.c.Known || c.c.Value != c.want {
			t.Errorf("check %d: %+v, want %d", i, c.c, c.want)
		}
	}
	if v.SharedCommit.Known || len(v.Notes) != 1 || v.DriverCommit.Known {
		t.Errorf("shared %+v driver %+v notes %q", v.SharedCommit, v.DriverCommit, v.Notes)
	}
}

func TestReadVMPartition19041(t *testing.T) {
	s := newSpaceX64()
	const part = 0xFFFFF80000200000
	for i := uint64(0); i < 3; i++ {
		s.mapPage(part + i*0x1000)
	}
	// FORMATS.md §6.5, 19041 column: Vp @0x1B00, PageLists @0x880, Commit @0x1840.
	s.put64(part+0x1B00+0x10, 4194304)  // Vp.NumberOfPhysicalPages
	s.put64(part+0x1B00+0xC0, 3000000)  // Vp.AvailablePages
	s.put64(part+0x1B00+0x100, 2900000) // Vp.ResidentAvailablePages
	s.put64(part+0x1B00+0x228, 1500000) // Vp.TotalCommittedPages
	s.put64(part+0x1B00+0x240, 4321)    // Vp.ModifiedPageListHead.Total
	s.put64(part+0x1B00+0x280, 12)      // Vp.ModifiedNoWritePageListHead.Total
	s.put64(part+0x1B00+0x2A8, 5000000) // Vp.TotalCommitLimit
	s.put64(part+0x1B00+0x2C8, 77777)   // Vp.SharedCommit
	s.put64(part+0x1840, 1600000)       // Commit.PeakCommitment
	s.put64(part+0x880+0x80, 99)        // PageLists.FreePageListHead.Total
	v := ReadVM(s.kernel(19041, map[string]uint64{"MiSystemPartition": part}, nil))
	checks := []struct {
		c    Counter
		want uint64
	}{
		{v.PhysicalPages, 4194304}, {v.AvailablePages, 3000000}, {v.ResidentAvailablePages, 2900000},
		{v.CommittedPages, 1500000}, {v.ModifiedPages, 4321}, {v.ModifiedNoWritePages, 12},
		{v.CommitLimit, 5000000}, {v.SharedCommit, 77777}, {v.PeakCommitment, 1600000}, {v.FreePages, 99},
	}
	for i, c := range checks {
		if !c.c.Known || c.c.Value != c.want {
			t.Errorf("check %d: %+v, want %d", i, c.c, c.want)
		}
	}
	if v.NonPagedPoolUsage.Known {
		t.Errorf("no KDBG: nonpaged usage should be unknown")
	}
}
