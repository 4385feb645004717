package ksynth

import "fmt"

// Pool content for the pool commands of issue 5 (!vm, !poolused, !poolfind, !pool), from
// FORMATS.md §6: the pool tag tracker table (§6.3), the big-page table (§6.2), pool pages with
// POOL_HEADERs (§6.1 classic chains before 19H1, §6.4 segment-heap style after), and the
// memory-manager counters !vm prints (§6.5). Everything written is recorded in Manifest.Pool.

// PoolSpec says what pool to put in the dump (Spec.Pool; nil builds no pool).
type PoolSpec struct {
	// Trackers are the rows of the pool tag tracker table (nt!PoolTrackTable), or of its
	// overflow table nt!PoolTrackTableExpansion when Expansion is set.
	Trackers []PoolTracker
	// TrackTableSize is nt!PoolTrackTableSize (a power of two); 0 chooses one with room.
	TrackTableSize int
	// Blocks are small allocations laid out in pool pages, in order, paged and nonpaged apart.
	Blocks []PoolBlock
	// BigPages are allocations of a page or more, listed in nt!PoolBigPageTable.
	BigPages []PoolBigPage
	// BigPageTableSize is nt!PoolBigPageTableSize (a power of two); 0 chooses one with room.
	BigPageTableSize int
	// MissingPages are pool pages the dump cannot show, placed after the block pages.
	MissingPages []PoolMissingPage
	// VM are the memory-manager counters of !vm.
	VM PoolVM
	// Fill adds pages of generated blocks (for benchmarks: gigabytes of pool that are never
	// held in memory; their content is produced when the dump is written or read).
	Fill PoolFill
	// FillerTag is the tag of the free blocks that close a page on classic pool (default "Frag").
	FillerTag string
	// Owners put tags into driver images, as the drivers that allocate with them hold them.
	Owners []PoolOwner
	// SessionTrackers are the rows of session 1's tracker table (nt!ExpSessionPoolTrackTable),
	// or of its _MM_SESSION_SPACE.PoolTrackTableExpansion when Expansion is set; written on
	// x64 19041 only (pool_session.go).
	SessionTrackers []PoolTracker
	// SessionTrackTableSize is nt!ExpSessionPoolTrackTableSize; 0 chooses one with room.
	SessionTrackTableSize int
}

// PoolOwner puts Tag's four bytes into the .data of the loaded module Module ("synthdrv"),
// Count times, where !pooltag should find them.
type PoolOwner struct {
	Module string
	Tag    string
	Count  int
}

// PoolTracker is one row of the tracker table. Bytes are the bytes in use.
type PoolTracker struct {
	Tag                                          string
	NonPagedAllocs, NonPagedFrees, NonPagedBytes uint64
	PagedAllocs, PagedFrees, PagedBytes          uint64
	// Expansion puts the row in nt!PoolTrackTableExpansion instead of the main table.
	Expansion bool
}

// PoolBlock is one small allocation.
type PoolBlock struct {
	Tag string
	// Size is the block's size including its POOL_HEADER, rounded up to the pool granularity
	// (8 bytes on x86, 16 on x64); at most a page minus the room the page layout needs.
	Size  uint32
	Paged bool
	Free  bool
	// Quota charges the allocation to the last process of the process list.
	Quota bool
}

// PoolBigPage is one big-page allocation.
type PoolBigPage struct {
	Tag   string
	Bytes uint64
	Paged bool
	// Free marks the table entry free (Va bit 0 set); its pages are not mapped.
	Free bool
}

// PoolMissingPage is a pool page the dump cannot show.
type PoolMissingPage struct {
	Paged bool
	// NotStored maps the page to a frame the dump does not hold (in the RAM hole, so that no
	// storage form lists it); otherwise the PTE is a pagefile PTE (the page was paged out).
	NotStored bool
}

// PoolVM are the !vm counters, in pages unless named Bytes (FORMATS.md §6.5).
type PoolVM struct {
	AvailablePages, ResidentAvailablePages                uint64
	TotalCommittedPages, TotalCommitLimit, PeakCommitment uint64
	TotalCommitLimitMaximum                               uint64
	SharedCommit, DriverCommit, ProcessCommit             uint64
	PagedPoolCommit, ExtendedCommit                       uint64
	SizeOfPagedPoolInBytes, MaximumNonPagedPoolInBytes    uint64
	AllocatedNonPagedPool                                 uint64
	ZeroedPages, FreePages, StandbyPages                  uint64
	ModifiedPages, ModifiedNoWritePages, BadPages         uint64
	NumberOfPagingFiles, TotalPagesForPagingFile          uint64
}

// PoolFill is generated pool: Bytes (a multiple of 4 KiB) of pages filled with blocks whose
// tags rotate through Tags (default FilA, FilB, FilC, Leak).
type PoolFill struct {
	Bytes uint64
	Paged bool
	Tags  []string
}

// poolLayout is what differs by architecture and build (FORMATS.md §6).
type poolLayout struct {
	is64  bool
	build uint32
	ptr   uint64
	// §6.3 POOL_TRACKER_TABLE: entry size, Key @0, and the six counters in the order
	// NonPagedAllocs, NonPagedFrees, NonPagedBytes, PagedAllocs, PagedFrees, PagedBytes.
	trackSize uint64
	track     [6]field
	// §6.2 POOL_TRACKER_BIG_PAGES.
	bigSize                    uint64
	bigVA, bigKey, bigType     field
	bigBytes                   field
	bigBitfield                bool // Win10+: @type = Pattern:8, PoolType:12, SlushSize:12
	headerSize, gran           uint64
	segmentHeap                bool // §6.4: 19H1 and later
	chunkHeader                uint64
	kdbgRanges                 bool // 7601: KDBG MmNonPagedPoolStart/End, MmPagedPoolStart/End
	partition                  *partitionLayout
	nonPagedStart, pagedStart  uint64 // where the writer puts the pool pages
	nonPagedBigType, pagedType uint32 // big-page PoolType of nonpaged and paged allocations
}

// field is an offset and a width in bytes.
type field struct {
	off  uint64
	size int
}

// partitionLayout is _MI_PARTITION (FORMATS.md §6.5).
type partitionLayout struct {
	pageLists, commit, vp uint64
	totalCommitted        uint64 // Vp.TotalCommittedPages
	modified, modifiedNW  uint64 // Vp.ModifiedPageListHead, Vp.ModifiedNoWritePageListHead
	commitLimit           uint64
	pagesForPagingFile    uint64
	sharedCommit          uint64 // 0: not in this build
}

func poolLayoutOf(is64 bool, build uint32) (poolLayout, error) {
	l := poolLayout{is64: is64, build: build, ptr: 4, headerSize: 8, gran: 8}
	if is64 {
		l.ptr, l.headerSize, l.gran = 8, 16, 16
	}
	// §6.3 tracker layouts.
	switch {
	case is64 && build >= 7601 && build <= 15063:
		l.trackSize = 0x28
		l.track = [6]field{{4, 4}, {8, 4}, {0x10, 8}, {0x18, 4}, {0x1C, 4}, {0x20, 8}}
	case is64 && build >= 16299:
		l.trackSize = 0x38
		l.track = [6]field{{0x10, 8}, {0x18, 8}, {0x8, 8}, {0x28, 8}, {0x30, 8}, {0x20, 8}}
	case !is64 && build >= 7601 && build <= 14393:
		l.trackSize = 0x1C
		l.track = [6]field{{4, 4}, {8, 4}, {0xC, 4}, {0x10, 4}, {0x14, 4}, {0x18, 4}}
	case !is64 && build >= 17763:
		l.trackSize = 0x30
		l.track = [6]field{{8, 8}, {0x10, 8}, {4, 4}, {0x20, 8}, {0x28, 8}, {0x18, 4}}
	default:
		return l, fmt.Errorf("ksynth: no pool tracker layout for build %d (64-bit %v)", build, is64)
	}
	// §6.2 big-page entries.
	if is64 {
		l.bigSize, l.bigVA, l.bigKey, l.bigType, l.bigBytes = 0x18, field{0, 8}, field{8, 4}, field{0xC, 4}, field{0x10, 8}
	} else {
		l.bigSize, l.bigVA, l.bigKey, l.bigType, l.bigBytes = 0x10, field{0, 4}, field{4, 4}, field{8, 4}, field{0xC, 4}
	}
	l.bigBitfield = build >= 10240
	l.pagedType = 1 // PagedPool
	if build >= 10240 {
		l.nonPagedBigType = 0x200 // NonPagedPoolNx, the default nonpaged type of Windows 8 and later
	}
	l.segmentHeap = build >= 18362
	if l.segmentHeap {
		l.chunkHeader = 16
	}
	l.kdbgRanges = build < 10240
	// §6.5 _MI_PARTITION offsets by build.
	switch build {
	case 10240:
		l.partition = &partitionLayout{pageLists: 0x5C0, commit: 0x1280, vp: 0x14C0, totalCommitted: 0x108,
			modified: 0x140, modifiedNW: 0x180, commitLimit: 0x1A8, pagesForPagingFile: 0x1B0}
	case 17763, 18362, 19041:
		l.partition = &partitionLayout{pageLists: 0x840, commit: 0x1900, vp: 0x1BC0, totalCommitted: 0x228,
			modified: 0x240, modifiedNW: 0x280, commitLimit: 0x2A8, pagesForPagingFile: 0x2B0, sharedCommit: 0x2C8}
		if build == 18362 {
			l.partition.commit, l.partition.vp = 0x1C00, 0x1EC0
		}
		if build == 19041 {
			l.partition.pageLists, l.partition.commit, l.partition.vp = 0x880, 0x1840, 0x1B00
		}
	}
	if l.partition != nil && !is64 {
		l.partition = nil // the §6.5 offsets are x64's
	}
	// Pool page addresses, away from the regions of profile.go: Windows 7 x64 style
	// (0xFFFFFA80..., 0xFFFFF8A0...), x86 below the driver area, Windows 10 style otherwise.
	switch {
	case is64 && build < 10240:
		l.nonPagedStart, l.pagedStart = 0xFFFFFA8041000000, 0xFFFFF8A041000000
	case is64:
		l.nonPagedStart, l.pagedStart = 0xFFFF968000000000, 0xFFFFD88000000000
	default:
		l.nonPagedStart, l.pagedStart = 0x86000000, 0x98000000
	}
	return l, nil
}

// put writes v with the field's width at va+f.off.
func (b *builder) putField(va uint64, f field, v uint64) {
	switch f.size {
	case 4:
		b.u32(va+f.off, uint32(v))
	case 8:
		b.u64(va+f.off, v)
	default:
		panic("ksynth: internal: field width")
	}
}

// tagValue is a tag's u32 as the kernel stores it: the 4 ASCII bytes little-endian (§6.1),
// shorter tags padded with spaces.
func tagValue(tag string) (uint32, error) {
	if len(tag) == 0 || len(tag) > 4 {
		return 0, fmt.Errorf("ksynth: pool tag %q is not 1 to 4 bytes", tag)
	}
	t := []byte(tag + "   ")[:4]
	return uint32(t[0]) | uint32(t[1])<<8 | uint32(t[2])<<16 | uint32(t[3])<<24, nil
}

// trackerBucket is the §6.3 tag hash: r = 40543 × tag (64-bit product), bucket =
// ((u32)r XOR (r >> 32)) & mask.
func trackerBucket(tag uint32, mask uint64) uint64 {
	r := 40543 * uint64(tag)
	return (uint64(uint32(r)) ^ r>>32) & mask
}

// bigPageBucket is the §6.2 hash: page = Va >> 12; h = (page>>24) ^ (page>>16) ^ (page>>8) ^
// page; bucket = h & (size − 1).
func bigPageBucket(va, mask uint64) uint64 {
	page := va >> 12
	return (page>>24 ^ page>>16 ^ page>>8 ^ page) & mask
}

// powerOfTwo is the smallest power of two ≥ max(n, floor).
func powerOfTwo(n, floor int) int {
	p := floor
	for p < n {
		p *= 2
	}
	return p
}
