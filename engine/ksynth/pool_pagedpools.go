package ksynth

import pw "wdbg/engine/internal/pdbwrite"

// The paged pools of Windows 7: nt!ExpNumberOfPagedPools (a ULONG) and nt!ExpPagedPoolDescriptor
// (an array of 16 + 1 pointers to POOL_DESCRIPTOR), both named by KDBG (FORMATS.md §2, 0x70 and
// 0x68). ReactOS's NT-compatible pool manager (reactos/reactos ntoskrnl/mm/ARM3/expool.c,
// ExQueryPoolUsage) reads descriptors 0 through ExpNumberOfPagedPools and counts a pool's pages
// in use as TotalPages + TotalBigPages. The writer gives its Windows 7 machines
// ExpNumberOfPagedPools = 4, so descriptors 0..4 (public write-ups on Windows pool internals
// give four paged pools to a single-processor system and one per node otherwise; the count is
// the writer's choice, the reader takes whatever the variable says), and splits the
// scenario's MmPagedPoolCommit between them so that the pools' total is the `PagedPool Usage:`
// the dump already showed.
//
// POOL_DESCRIPTOR offsets (Windows 7 SP1; public PDB-derived type dumps in ntdiff/headers,
// Win7_SP1/x86/System32/ntoskrnl.exe/Standalone/_POOL_DESCRIPTOR.h and the _POOL_DESCRIPTOR
// of Win7_SP1/x64/System32/ntoskrnl.exe/Standalone/_MM_SESSION_SPACE.h): PoolType @0,
// RunningAllocs @0x40, RunningDeAllocs @0x44, TotalBigPages @0x48, TotalBytes @0x50 (x64 a
// ULONG64, x86 a ULONG), PoolIndex @0x80, TotalPages @0xC0; size 0x1140 on both.
const (
	poolDescSize          = 0x1140
	poolDescPoolIndex     = 0x80
	poolDescTotalPages    = 0xC0
	poolDescTotalBigPages = 0x48
	pagedPoolSlots        = 16 + 1
	pagedPoolsWin7        = 4
)

// pagedPoolWeights share the paged pool's pages out: pool 0 the largest part, as on a real
// machine where it also serves the allocations of the boot, then decreasing shares.
var pagedPoolWeights = [pagedPoolsWin7 + 1]uint64{8, 5, 4, 3, 2}

// PagedPoolFacts are the paged pools the writer put in (Manifest.Pool.PagedPools; Windows 7
// machines only).
type PagedPoolFacts struct {
	// Count is the value of nt!ExpNumberOfPagedPools; descriptors 0..Count are in use.
	Count      uint32 `json:"count"`
	CountVar   uint64 `json:"count_var"`   // address of nt!ExpNumberOfPagedPools
	Array      uint64 `json:"array"`       // address of nt!ExpPagedPoolDescriptor
	TotalPages uint64 `json:"total_pages"` // the sum of every pool's Usage
	// Offsets inside POOL_DESCRIPTOR the writer used.
	TotalPagesOffset    uint64          `json:"total_pages_offset"`
	TotalBigPagesOffset uint64          `json:"total_big_pages_offset"`
	DescriptorSize      uint64          `json:"descriptor_size"`
	Pools               []PagedPoolFact `json:"pools"`
}

// PagedPoolFact is one descriptor: Usage = TotalPages + TotalBigPages.
type PagedPoolFact struct {
	Index         int    `json:"index"`
	Descriptor    uint64 `json:"descriptor"`
	TotalPages    uint64 `json:"total_pages"`
	TotalBigPages uint64 `json:"total_big_pages"`
	Usage         uint64 `json:"usage"`
}

// hasPagedPools says which machines get the descriptors: the Windows 7 builds, whose layout the
// facts give.
func hasPagedPools(build uint32) bool { return build == 7601 }

// pagedPools writes the variables, the descriptors (in the arena, nonpaged as the kernel
// allocates them) and the KDBG pointers, and records them in the manifest.
func (w *poolWriter) pagedPools() error {
	if !hasPagedPools(w.l.build) {
		return nil
	}
	b := w.b
	total := w.spec.VM.PagedPoolCommit
	f := &PagedPoolFacts{Count: pagedPoolsWin7, TotalPagesOffset: poolDescTotalPages,
		TotalBigPagesOffset: poolDescTotalBigPages, DescriptorSize: poolDescSize}
	f.CountVar = w.global("ExpNumberOfPagedPools", 4)
	f.Array = w.global("ExpPagedPoolDescriptor", pagedPoolSlots*w.l.ptr)
	b.u32(f.CountVar, f.Count)
	var weights, given uint64
	for _, wt := range pagedPoolWeights {
		weights += wt
	}
	for i := int(f.Count); i >= 0; i-- { // pool 0 last: it takes the remainder
		desc, err := b.alloc(poolDescSize, 64)
		if err != nil {
			return err
		}
		usage := total * pagedPoolWeights[i] / weights
		if i == 0 {
			usage = total - given
		}
		given += usage
		big := usage / uint64(i+3) // a share of big allocations that differs by pool
		pages := usage - big
		b.u32(desc, 1) // PoolType: PagedPool
		b.u32(desc+poolDescPoolIndex, uint32(i))
		b.u32(desc+poolDescTotalPages, uint32(pages))
		b.u32(desc+poolDescTotalBigPages, uint32(big))
		b.ptr(f.Array+uint64(i)*w.l.ptr, desc)
		f.Pools = append([]PagedPoolFact{{Index: i, Descriptor: desc, TotalPages: pages, TotalBigPages: big, Usage: usage}}, f.Pools...)
	}
	f.TotalPages = given
	w.kdbgField("ExpPagedPoolDescriptor", 0x68, f.Array)
	w.kdbgField("ExpNumberOfPagedPools", 0x70, f.CountVar)
	w.f.PagedPools = f
	return nil
}

// poolDescriptorType is _POOL_DESCRIPTOR for the kernel PDB, on the machines whose dumps hold
// descriptors, with the offsets above.
func (p *profile) poolDescriptorType(t *typeSet) {
	if !hasPagedPools(p.build) {
		return
	}
	totalBytes := pw.ULong
	if p.is64 {
		totalBytes = pw.UQuad
	}
	t.add("_POOL_DESCRIPTOR", poolDescSize, false,
		member("PoolType", 0, pw.ULong), member("RunningAllocs", 0x40, pw.Long),
		member("RunningDeAllocs", 0x44, pw.Long), member("TotalBigPages", poolDescTotalBigPages, pw.Long),
		member("TotalBytes", 0x50, totalBytes), member("PoolIndex", poolDescPoolIndex, pw.ULong),
		member("TotalPages", poolDescTotalPages, pw.Long))
}
