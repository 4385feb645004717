package ksynth

// The !vm counters (FORMATS.md §6.5). Every build gets the nt variables KDBG points at
// (MmAvailablePages 0x1A8, ...); builds with an _MI_PARTITION offset table also get
// nt!MiSystemPartition, and there the KDBG pointers of the counters the partition holds point
// into it (whether Windows 10's do is a §6.5 gap; either way a reader finds the same numbers).

// vmCounter is one counter: its PoolVM value, its nt variable and KDBG field, and where it
// lives in _MI_PARTITION (part: "vp", "commit", "pagelists"; partOff relative to that part).
type vmCounter struct {
	name    string // PoolVM field and nt variable name without "Mm"
	value   uint64
	kdbg    uint64 // KDBG offset, 0: none
	list    bool   // an MMPFNLIST whose Total (@0) is the value
	small   bool   // a ULONG
	part    string
	partOff uint64
}

func (w *poolWriter) vm() error {
	b, l, v := w.b, &w.l, w.spec.VM
	pt := l.partition
	vpShared := uint64(0)
	if pt != nil {
		vpShared = pt.sharedCommit
	}
	counters := []vmCounter{
		{name: "AvailablePages", value: v.AvailablePages, kdbg: 0x1A8, part: "vp", partOff: 0xC0},
		{name: "ResidentAvailablePages", value: v.ResidentAvailablePages, kdbg: 0x1B0, part: "vp", partOff: 0x100},
		{name: "TotalCommittedPages", value: v.TotalCommittedPages, kdbg: 0x150, part: "vp", partOff: partOr(pt, func(p *partitionLayout) uint64 { return p.totalCommitted })},
		{name: "TotalCommitLimit", value: v.TotalCommitLimit, kdbg: 0x148, part: "vp", partOff: partOr(pt, func(p *partitionLayout) uint64 { return p.commitLimit })},
		{name: "PeakCommitment", value: v.PeakCommitment, kdbg: 0x258, part: "commit", partOff: 0},
		{name: "TotalCommitLimitMaximum", value: v.TotalCommitLimitMaximum, kdbg: 0x260},
		{name: "SharedCommit", value: v.SharedCommit, kdbg: 0x158, part: "vp", partOff: vpShared},
		{name: "DriverCommit", value: v.DriverCommit, kdbg: 0x160},
		{name: "ProcessCommit", value: v.ProcessCommit, kdbg: 0x168},
		{name: "PagedPoolCommit", value: v.PagedPoolCommit, kdbg: 0x170},
		{name: "ExtendedCommit", value: v.ExtendedCommit, kdbg: 0x178},
		{name: "SizeOfPagedPoolInBytes", value: v.SizeOfPagedPoolInBytes, kdbg: 0x140},
		{name: "MaximumNonPagedPoolInBytes", value: v.MaximumNonPagedPoolInBytes, kdbg: 0x100},
		{name: "AllocatedNonPagedPool", value: v.AllocatedNonPagedPool, kdbg: 0x250},
		{name: "ZeroedPageListHead", value: v.ZeroedPages, kdbg: 0x180, list: true, part: "pagelists", partOff: 0x40},
		{name: "FreePageListHead", value: v.FreePages, kdbg: 0x188, list: true, part: "pagelists", partOff: 0x80},
		{name: "StandbyPageListHead", value: v.StandbyPages, kdbg: 0x190, list: true, part: "pagelists", partOff: 0xC0},
		{name: "ModifiedPageListHead", value: v.ModifiedPages, kdbg: 0x198, list: true, part: "vp", partOff: partOr(pt, func(p *partitionLayout) uint64 { return p.modified })},
		{name: "ModifiedNoWritePageListHead", value: v.ModifiedNoWritePages, kdbg: 0x1A0, list: true, part: "vp", partOff: partOr(pt, func(p *partitionLayout) uint64 { return p.modifiedNW })},
		{name: "BadPageListHead", value: v.BadPages, list: true, part: "pagelists", partOff: 0x780},
		{name: "NumberOfPagingFiles", value: v.NumberOfPagingFiles, kdbg: 0xE0, small: true},
		{name: "TotalPagesForPagingFile", value: v.TotalPagesForPagingFile, part: "vp", partOff: partOr(pt, func(p *partitionLayout) uint64 { return p.pagesForPagingFile })},
	}
	facts := &w.f.VM
	facts.Values = map[string]uint64{}
	physVar := b.globals["MmNumberOfPhysicalPages"]
	physPA, _ := b.pa(physVar)
	facts.PhysicalPages = b.mem.u64(physPA)
	if !l.is64 {
		facts.PhysicalPages &= 0xFFFFFFFF
	}
	var partition uint64
	if pt != nil {
		partition = w.global("MiSystemPartition", pt.vp+0x2D0)
		// Vp.LowestPhysicalPage / HighestPhysicalPage / NumberOfPhysicalPages (@0/@8/@0x10).
		for i, name := range []string{"MmLowestPhysicalPage", "MmHighestPhysicalPage", "MmNumberOfPhysicalPages"} {
			pa, _ := b.pa(b.globals[name])
			val := b.mem.u64(pa)
			va := partition + pt.vp + uint64(8*i)
			b.u64(va, val)
			facts.Variables = append(facts.Variables, VMVariable{Name: "MiSystemPartition.Vp." + name[2:], Address: va, Value: val, Size: 8})
		}
	}
	listSize := 5 * l.ptr // MMPFNLIST: Total, ListName, Flink, Blink, Lock
	for _, c := range counters {
		facts.Values[c.name] = c.value
		size := int(l.ptr)
		if c.small {
			size = 4
		}
		var va uint64
		name := "Mm" + c.name
		if partition != 0 && c.part != "" && c.partOff != 0 || partition != 0 && c.part == "commit" {
			base := map[string]uint64{"vp": pt.vp, "commit": pt.commit, "pagelists": pt.pageLists}[c.part]
			va = partition + base + c.partOff
			name = map[string]string{"vp": "MiSystemPartition.Vp.", "commit": "MiSystemPartition.Commit.",
				"pagelists": "MiSystemPartition.PageLists."}[c.part] + c.name
			size = 8
		} else {
			if c.kdbg == 0 && !c.list {
				continue // a partition-only counter on a build without the partition
			}
			if c.kdbg == 0 && partition == 0 && c.name == "BadPageListHead" {
				continue
			}
			vsize := uint64(size)
			if c.list {
				vsize = listSize
			}
			va = w.global(name, vsize)
		}
		if size == 4 {
			b.u32(va, uint32(c.value))
		} else {
			b.ptr(va, c.value)
		}
		vv := VMVariable{Name: name, Address: va, Value: c.value, Size: size}
		if c.kdbg != 0 {
			vv.KDBGField = w.kdbgField("Mm"+c.name, c.kdbg, va)
		}
		facts.Variables = append(facts.Variables, vv)
	}
	return w.pagedPools() // Windows 7's several paged pools (pool_pagedpools.go)
}

func partOr(p *partitionLayout, f func(*partitionLayout) uint64) uint64 {
	if p == nil {
		return 0
	}
	return f(p)
}
