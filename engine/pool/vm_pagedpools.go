package pool

import "fmt"

// Paged pools of the builds that have several (Windows 7 and its era).
//
// Facts: nt!ExpPagedPoolDescriptor is an array of pointers to POOL_DESCRIPTOR and
// nt!ExpNumberOfPagedPools a ULONG; KDBG holds the addresses of both variables (FORMATS.md §2,
// 0x68 and 0x70). ReactOS's NT-compatible pool manager (reactos/reactos
// ntoskrnl/mm/ARM3/expool.c, FORMATS.md §6's source) declares the array with 16 + 1 slots and,
// in ExQueryPoolUsage, sums descriptors 0 through ExpNumberOfPagedPools (that is, count + 1 of
// them) and counts a pool's pages in use as TotalPages + TotalBigPages: the small-block pages
// plus the pages of big allocations. That sum is what WinDbg's `PagedPool N Usage:` rows show
// and their total the `PagedPool Usage:` row (Microsoft's !vm page: rows 729 + 432 + 436 =
// PagedPool Usage 1597).
//
// From Windows 10 (build 10240) the paged pool is no longer described by these facts; the
// reader leaves it alone there.

// maxPagedPools bounds ExpNumberOfPagedPools: ReactOS's array has 17 slots; a count far past
// that is a corrupt or misread variable, not a machine.
const maxPagedPools = 64

// PagedPool is one paged pool: descriptor ExpPagedPoolDescriptor[Index].
type PagedPool struct {
	Index      int
	Descriptor uint64
	// TotalPages and TotalBigPages as the descriptor holds them; Usage is their sum.
	TotalPages, TotalBigPages uint64
	Usage                     Counter
}

// poolDescriptorOffsets are POOL_DESCRIPTOR's TotalPages and TotalBigPages offsets.
type poolDescriptorOffsets struct {
	totalPages, totalBigPages uint64
	source                    string // "the PDB's types", "built-in Windows 7 SP1 offsets"
}

// builtinPoolDescriptor are the Windows 7 SP1 offsets, taken from the public PDB-derived type
// dumps of ntdiff/headers: Win7_SP1/x86/System32/ntoskrnl.exe/Standalone/_POOL_DESCRIPTOR.h
// and, for x64, the _POOL_DESCRIPTOR in Win7_SP1/x64/System32/ntoskrnl.exe/Standalone/
// _MM_SESSION_SPACE.h. Both architectures put TotalBigPages @0x48 and TotalPages @0xC0
// (cache-line aligned members; size 0x1140).
func builtinPoolDescriptor(build uint32) (poolDescriptorOffsets, bool) {
	if build == 7600 || build == 7601 {
		return poolDescriptorOffsets{totalPages: 0xC0, totalBigPages: 0x48, source: "built-in Windows 7 SP1 offsets"}, true
	}
	return poolDescriptorOffsets{}, false
}

// readPagedPools fills v.PagedPools and, when every descriptor was read, v.PagedPoolUsage
// (their total). What cannot be read becomes a note; nothing here is an error.
func readPagedPools(k *Kernel, v *VM) {
	if k.Build >= 10240 {
		return
	}
	var countField, arrayField uint64
	if d := k.Debugger; d != nil {
		countField, arrayField = d.ExpNumberOfPagedPools, d.ExpPagedPoolDescriptor
	}
	countAddr, countSrc, ok1 := k.global("ExpNumberOfPagedPools", countField)
	arrayAddr, arraySrc, ok2 := k.global("ExpPagedPoolDescriptor", arrayField)
	if !ok1 || !ok2 {
		return // neither the symbols nor KDBG name them: nothing to say
	}
	off, ok := descriptorOffsets(k)
	if !ok {
		v.Notes = append(v.Notes, fmt.Sprintf("paged pools: no POOL_DESCRIPTOR offsets for build %d (they come with the kernel's symbols)", k.Build))
		return
	}
	count, err := k.readU32(countAddr)
	if err != nil {
		v.Notes = append(v.Notes, fmt.Sprintf("paged pools: %s (%#x): %v", countSrc, countAddr, err))
		return
	}
	if count > maxPagedPools {
		v.Notes = append(v.Notes, fmt.Sprintf("paged pools: %s = %d is not a plausible count (at most %d); per-pool usage left out", countSrc, count, maxPagedPools))
		return
	}
	ptr := uint64(k.ptrSize())
	var sum uint64
	complete := true
	for i := 0; i <= int(count); i++ {
		slot := arrayAddr + uint64(i)*ptr
		name := fmt.Sprintf("%s[%d]", arraySrc, i)
		desc, err := k.readPtr(slot)
		if err != nil {
			v.Notes = append(v.Notes, fmt.Sprintf("paged pools: %s (%#x): %v", name, slot, err))
			complete = false
			continue
		}
		if !k.kernelAddress(desc) {
			v.Notes = append(v.Notes, fmt.Sprintf("paged pools: %s = %#x is not a kernel address", name, desc))
			complete = false
			continue
		}
		pages, err1 := k.readU32(desc + off.totalPages)
		big, err2 := k.readU32(desc + off.totalBigPages)
		if err := firstErr(err1, err2); err != nil {
			v.Notes = append(v.Notes, fmt.Sprintf("paged pools: descriptor %d at %#x: %v", i, desc, err))
			complete = false
			continue
		}
		// Both are LONGs: a negative count is a corrupt descriptor.
		if int32(pages) < 0 || int32(big) < 0 {
			v.Notes = append(v.Notes, fmt.Sprintf("paged pools: descriptor %d at %#x: negative page count (TotalPages %d, TotalBigPages %d)",
				i, desc, int32(pages), int32(big)))
			complete = false
			continue
		}
		u := uint64(pages) + uint64(big)
		sum += u
		v.PagedPools = append(v.PagedPools, PagedPool{Index: i, Descriptor: desc, TotalPages: uint64(pages),
			TotalBigPages: uint64(big), Usage: Counter{Value: u, Known: true,
				Source: fmt.Sprintf("%s->TotalPages+TotalBigPages (%s)", name, off.source)}})
	}
	if complete {
		v.PagedPoolUsage = Counter{Value: sum, Known: true,
			Source: fmt.Sprintf("%s[0..%d]->TotalPages+TotalBigPages (%s)", arraySrc, count, off.source)}
	}
}

// descriptorOffsets asks the PDB's types first, then the built-in table.
func descriptorOffsets(k *Kernel) (poolDescriptorOffsets, bool) {
	tp, ok1 := k.field("_POOL_DESCRIPTOR", "TotalPages")
	bp, ok2 := k.field("_POOL_DESCRIPTOR", "TotalBigPages")
	if ok1 && ok2 {
		return poolDescriptorOffsets{totalPages: tp, totalBigPages: bp, source: "offsets from the PDB's types"}, true
	}
	return builtinPoolDescriptor(k.Build)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
