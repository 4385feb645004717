package pool

import "fmt"

// Counter is one memory-manager number in pages (or a count), with where it was read.
type Counter struct {
	Value  uint64
	Known  bool
	Source string // "KDBG.MmAvailablePages", "nt!MiSystemPartition.Vp.AvailablePages", ...
}

// VM is what `!vm` shows, in pages unless noted (FORMATS.md §6.5).
type VM struct {
	PhysicalPages          Counter
	AvailablePages         Counter
	ResidentAvailablePages Counter
	ModifiedPages          Counter
	ModifiedNoWritePages   Counter
	ZeroedPages            Counter
	FreePages              Counter
	StandbyPages           Counter
	BadPages               Counter
	NonPagedPoolUsage      Counter // MmAllocatedNonPagedPool
	NonPagedPoolMax        Counter // MmMaximumNonPagedPoolInBytes / page size
	PagedPoolUsage         Counter // the paged pools' total, else MmPagedPoolCommit (see ReadVM)
	PagedPoolMax           Counter // MmSizeOfPagedPoolInBytes / page size
	PagedPoolCommit        Counter
	SharedCommit           Counter
	DriverCommit           Counter
	ProcessCommit          Counter
	CommittedPages         Counter
	CommitLimit            Counter
	CommitLimitMaximum     Counter
	PeakCommitment         Counter
	PagesForPagingFile     Counter
	NumberOfPagingFiles    Counter // a count, not pages
	// PagedPools are the paged pools of builds that have several (vm_pagedpools.go), by index.
	PagedPools []PagedPool
	Notes      []string
}

// partitionLayout holds the _MI_PARTITION offsets of one build (FORMATS.md §6.5, x64).
type partitionLayout struct {
	pageLists, commit, vp                                  uint64
	totalCommitted, modified, modifiedNoWrite, commitLimit uint64
	pagesForPagingFile, sharedCommit                       uint64 // sharedCommit 0 = none
}

var partitionLayouts = map[uint32]partitionLayout{
	10240: {0x5C0, 0x1280, 0x14C0, 0x108, 0x140, 0x180, 0x1A8, 0x1B0, 0},
	17763: {0x840, 0x1900, 0x1BC0, 0x228, 0x240, 0x280, 0x2A8, 0x2B0, 0x2C8},
	18362: {0x840, 0x1C00, 0x1EC0, 0x228, 0x240, 0x280, 0x2A8, 0x2B0, 0x2C8},
	19041: {0x880, 0x1840, 0x1B00, 0x228, 0x240, 0x280, 0x2A8, 0x2B0, 0x2C8},
}

// ReadVM reads the counters through the KDBG's Mm* fields (addresses of the variables, §2,
// §6.5) on any build, then, on the x64 builds §6.5 tabulates, from nt!MiSystemPartition when
// the symbols locate it (those values win). What neither gives stays unknown.
//
// PagedPoolUsage is the total of the paged pool descriptors (TotalPages + TotalBigPages of each,
// vm_pagedpools.go) on the builds whose descriptors are known and read; elsewhere it is
// MmPagedPoolCommit, the commit charged to paged pool, the nearest figure the facts give.
func ReadVM(k *Kernel) *VM {
	v := &VM{}
	const page = pageSize
	if d := k.Debugger; d != nil {
		ptr := func(c *Counter, name string, addr uint64, div uint64) {
			if addr == 0 {
				return
			}
			x, err := k.readPtr(addr)
			if err != nil {
				v.Notes = append(v.Notes, fmt.Sprintf("KDBG.%s (%#x): %v", name, addr, err))
				return
			}
			*c = Counter{Value: x / div, Known: true, Source: "KDBG." + name}
		}
		ptr(&v.PhysicalPages, "MmNumberOfPhysicalPages", d.MmNumberOfPhysicalPages, 1)
		ptr(&v.AvailablePages, "MmAvailablePages", d.MmAvailablePages, 1)
		ptr(&v.ResidentAvailablePages, "MmResidentAvailablePages", d.MmResidentAvailablePages, 1)
		ptr(&v.CommittedPages, "MmTotalCommittedPages", d.MmTotalCommittedPages, 1)
		ptr(&v.CommitLimit, "MmTotalCommitLimit", d.MmTotalCommitLimit, 1)
		ptr(&v.PeakCommitment, "MmPeakCommitment", d.MmPeakCommitment, 1)
		ptr(&v.CommitLimitMaximum, "MmTotalCommitLimitMaximum", d.MmTotalCommitLimitMaximum, 1)
		ptr(&v.SharedCommit, "MmSharedCommit", d.MmSharedCommit, 1)
		ptr(&v.DriverCommit, "MmDriverCommit", d.MmDriverCommit, 1)
		ptr(&v.ProcessCommit, "MmProcessCommit", d.MmProcessCommit, 1)
		ptr(&v.PagedPoolCommit, "MmPagedPoolCommit", d.MmPagedPoolCommit, 1)
		ptr(&v.PagedPoolUsage, "MmPagedPoolCommit", d.MmPagedPoolCommit, 1)
		ptr(&v.PagedPoolMax, "MmSizeOfPagedPoolInBytes", d.MmSizeOfPagedPoolInBytes, page)
		ptr(&v.NonPagedPoolMax, "MmMaximumNonPagedPoolInBytes", d.MmMaximumNonPagedPoolInBytes, page)
		ptr(&v.NonPagedPoolUsage, "MmAllocatedNonPagedPool", d.MmAllocatedNonPagedPool, 1)
		// MMPFNLIST heads: Total is the first field (§6.5).
		ptr(&v.ZeroedPages, "MmZeroedPageListHead", d.MmZeroedPageListHead, 1)
		ptr(&v.FreePages, "MmFreePageListHead", d.MmFreePageListHead, 1)
		ptr(&v.StandbyPages, "MmStandbyPageListHead", d.MmStandbyPageListHead, 1)
		ptr(&v.ModifiedPages, "MmModifiedPageListHead", d.MmModifiedPageListHead, 1)
		ptr(&v.ModifiedNoWritePages, "MmModifiedNoWritePageListHead", d.MmModifiedNoWritePageListHead, 1)
		if d.MmNumberOfPagingFiles != 0 {
			if x, err := k.readU32(d.MmNumberOfPagingFiles); err == nil {
				v.NumberOfPagingFiles = Counter{Value: uint64(x), Known: true, Source: "KDBG.MmNumberOfPagingFiles"}
			}
		}
	}
	readPagedPools(k, v)
	l, ok := partitionLayouts[k.Build]
	if !ok || k.ptrSize() != 8 {
		return v
	}
	base, ok := k.symbol("MiSystemPartition")
	if !ok {
		return v
	}
	read := func(c *Counter, name string, addr uint64) {
		x, err := k.readU64(addr)
		if err != nil {
			v.Notes = append(v.Notes, fmt.Sprintf("nt!MiSystemPartition.%s (%#x): %v", name, addr, err))
			return
		}
		*c = Counter{Value: x, Known: true, Source: "nt!MiSystemPartition." + name}
	}
	vp := base + l.vp
	read(&v.PhysicalPages, "Vp.NumberOfPhysicalPages", vp+0x10)
	read(&v.AvailablePages, "Vp.AvailablePages", vp+0xC0)
	read(&v.ResidentAvailablePages, "Vp.ResidentAvailablePages", vp+0x100)
	read(&v.CommittedPages, "Vp.TotalCommittedPages", vp+l.totalCommitted)
	read(&v.ModifiedPages, "Vp.ModifiedPageListHead.Total", vp+l.modified)
	read(&v.ModifiedNoWritePages, "Vp.ModifiedNoWritePageListHead.Total", vp+l.modifiedNoWrite)
	read(&v.CommitLimit, "Vp.TotalCommitLimit", vp+l.commitLimit)
	read(&v.PagesForPagingFile, "Vp.TotalPagesForPagingFile", vp+l.pagesForPagingFile)
	if l.sharedCommit != 0 {
		read(&v.SharedCommit, "Vp.SharedCommit", vp+l.sharedCommit)
	}
	read(&v.PeakCommitment, "Commit.PeakCommitment", base+l.commit)
	pl := base + l.pageLists
	read(&v.ZeroedPages, "PageLists.ZeroedPageListHead.Total", pl+0x40)
	read(&v.FreePages, "PageLists.FreePageListHead.Total", pl+0x80)
	read(&v.StandbyPages, "PageLists.StandbyPageListHead.Total", pl+0xC0)
	read(&v.BadPages, "PageLists.BadPageListHead.Total", pl+0x780)
	return v
}
