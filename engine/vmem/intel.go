package vmem

import "fmt"

// Intel paging: FORMATS.md §3.1 (hardware) and §3.2 (Windows software PTEs).

const (
	frameMask52 = 0x000FFFFFFFFFF000 // entry bits 51:12 (x64 and PAE frame field, §3.1)
	frameMask48 = 0x0000FFFFFFFFF000 // bits 47:12

	bitPresent    = 1 << 0
	bitLargePage  = 1 << 7  // PS in a PDPTE (x64) or PDE
	bitPrototype  = 1 << 10 // §3.2, the same bit on x64, PAE and non-PAE
	bitTransition = 1 << 11
)

const (
	kb4 = 1 << 12
	mb2 = 1 << 21
	mb4 = 1 << 22
	gb1 = 1 << 30
)

// intelFlavor holds what differs between x64, PAE and non-PAE in the shared decoder.
type intelFlavor struct {
	frameMask      uint64 // frame field of a valid entry
	transitionMask uint64 // PFN field of a transition entry (§3.2)
	largeSizes     []uint64
	protoAddress   func(e uint64) (uint64, bool) // VA of the prototype PTE, if the encoding is known
	systemSpace    func(va uint64) bool          // va is a kernel address (prototype PTEs live there)
	pageFileOffset func(e uint64) uint64         // PageFileHigh (§3.2)
}

var (
	x64Levels = []level{{"PXE", 39, 9}, {"PPE", 30, 9}, {"PDE", 21, 9}, {"PTE", 12, 9}}

	// x64: 1 GB at the PPE, 2 MB at the PDE (§3.1); transition PFN 47:12 (§3.2); ProtoAddress
	// bits 63:16 sign-extended from 48 bits; PageFileHigh 63:32.
	flavorX64 = intelFlavor{
		frameMask:      frameMask52,
		transitionMask: frameMask48,
		largeSizes:     []uint64{0, gb1, mb2, 0},
		protoAddress: func(e uint64) (uint64, bool) {
			return uint64(int64(e) >> 16), true // bits 63:16 = the 48-bit VA, sign-extended
		},
		systemSpace:    func(va uint64) bool { return va>>63 != 0 },
		pageFileOffset: func(e uint64) uint64 { return e >> 32 },
	}
	flavorX64LA57 = intelFlavor{
		frameMask:      flavorX64.frameMask,
		transitionMask: flavorX64.transitionMask,
		largeSizes:     []uint64{0, 0, gb1, mb2, 0},
		protoAddress:   flavorX64.protoAddress,
		systemSpace:    flavorX64.systemSpace,
		pageFileOffset: flavorX64.pageFileOffset,
	}
	// PAE: 2 MB at the PDE; transition PFN 37:12; ProtoAddress 63:32; PageFileHigh 63:32.
	flavorPAE = intelFlavor{
		frameMask:      frameMask52,
		transitionMask: 0x0000003FFFFFF000,
		largeSizes:     []uint64{0, mb2, 0},
		protoAddress:   func(e uint64) (uint64, bool) { return e >> 32, true },
		systemSpace:    system32,
		pageFileOffset: func(e uint64) uint64 { return e >> 32 },
	}
	// non-PAE: 4 MB at the PDE (PSE-36 bits unused by Windows, §3.3); PFN 31:12; the
	// prototype address is split into two fields (Win7 layout, §3.2: ProtoAddressLow 8:1,
	// ProtoAddressHigh 31:11) that together hold only 29 bits, an offset from a base the facts
	// do not give (FORMATS.md §9), so it is not reassembled and such PTEs are not followed;
	// PageFileHigh 31:12.
	flavorX86 = intelFlavor{
		frameMask:      0xFFFFF000,
		transitionMask: 0xFFFFF000,
		largeSizes:     []uint64{mb4, 0},
		protoAddress:   func(uint64) (uint64, bool) { return 0, false },
		systemSpace:    system32,
		pageFileOffset: func(e uint64) uint64 { return e >> 12 & 0xFFFFF },
	}
)

var pagingX64 = paging{
	name:        "x64",
	levels:      x64Levels,
	entrySize:   8,
	split:       canonicalSplit(48),
	decode:      flavorX64.decode,
	decodeProto: flavorX64.decodeProto,

	transitionMask: flavorX64.transitionMask,
}

var pagingX64LA57 = paging{
	name:        "x64 LA57",
	levels:      append([]level{{"PML5E", 48, 9}}, x64Levels...),
	entrySize:   8,
	split:       canonicalSplit(57),
	decode:      flavorX64LA57.decode,
	decodeProto: flavorX64LA57.decodeProto,

	transitionMask: flavorX64LA57.transitionMask,
}

var pagingPAE = paging{
	name:        "x86 PAE",
	levels:      []level{{"PDPTE", 30, 2}, {"PDE", 21, 9}, {"PTE", 12, 9}},
	entrySize:   8,
	split:       split32,
	decode:      flavorPAE.decodePAE,
	decodeProto: flavorPAE.decodeProto,

	transitionMask: flavorPAE.transitionMask,
}

var pagingX86 = paging{
	name:        "x86",
	levels:      []level{{"PDE", 22, 10}, {"PTE", 12, 10}},
	entrySize:   4,
	split:       split32,
	decode:      flavorX86.decode,
	decodeProto: flavorX86.decodeProto,

	transitionMask: flavorX86.transitionMask,
}

// system32 says a 32-bit address is in system space: MmSystemRangeStart is 0x80000000, or
// higher with /3GB (FORMATS.md §3.3), so system addresses always have bit 31 set.
func system32(va uint64) bool { return va>>32 == 0 && va&0x80000000 != 0 }

// canonicalSplit accepts addresses sign-extended from bit vaBits-1 (§3.1 canonical addresses).
func canonicalSplit(vaBits uint) func(uint64) (int, string) {
	return func(va uint64) (int, string) {
		top := int64(va) >> (vaBits - 1)
		if top != 0 && top != -1 {
			return 0, fmt.Sprintf("not a canonical address (bits 63:%d must equal bit %d)", vaBits-1, vaBits-1)
		}
		return 0, ""
	}
}

func split32(va uint64) (int, string) {
	// 32-bit kernels store and print pointers sign-extended to 64 bits (FORMATS.md §1.3), and
	// MASM expressions on them evaluate so: 0xffffffff8480a040 is kernel address 8480a040.
	if va>>32 == 0xFFFFFFFF && va&0x80000000 != 0 {
		return 0, ""
	}
	if va>>32 != 0 {
		return 0, "not a 32-bit address"
	}
	return 0, ""
}

func (f *intelFlavor) decode(i int, l level, e uint64) decoded {
	last := l.shift == 12
	if e&bitPresent != 0 {
		if size := f.largeSizes[i]; size != 0 && e&bitLargePage != 0 {
			// The frame of a large page starts at its size's alignment; the bits below hold
			// PAT and reserved bits (§3.1: PA = entry[51:30] ‖ VA[29:0] and similar).
			return pageAt(e&f.frameMask&^(size-1), size, StateValid)
		}
		if last {
			return pageAt(e&f.frameMask, kb4, StateValid)
		}
		return tableAt(e&f.frameMask, StateValid)
	}
	return f.software(last, e)
}

// decodePAE differs only at the PDPTE: four entries, no large pages, no software states
// (Windows keeps the four PDPTEs valid).
func (f *intelFlavor) decodePAE(i int, l level, e uint64) decoded {
	if i == 0 && e&bitPresent == 0 {
		if e == 0 {
			return stop(StateZero, "not present (PDPTE is zero)")
		}
		return stop(StateInvalid, "not present")
	}
	return f.decode(i, l, e)
}

// software interprets a non-present entry by the Windows rules of §3.2. Page tables are
// pageable on Windows, so the rules apply to upper levels too: a table in transition is
// still in RAM and is followed like a valid one.
func (f *intelFlavor) software(last bool, e uint64) decoded {
	switch {
	case e == 0:
		return stop(StateZero, "not present (entry is zero)")
	case e&bitPrototype != 0:
		va, ok := f.protoAddress(e)
		switch {
		case !ok:
			return stop(StatePrototype, "not present (prototype PTE, address encoding not decoded for this mode)")
		case va == 0xFFFFFFFF0000 || va == 0xFFFFFFFFFFFF0000 || va == 0xFFFFFFFF:
			return stop(StatePrototype, "not present (prototype PTE: look up the VAD)")
		case !last:
			return stop(StatePrototype, fmt.Sprintf("not present (prototype PTE at %#x above the last level)", va))
		case !f.systemSpace(va):
			return stop(StatePrototype, fmt.Sprintf("not present (prototype PTE at %#x, outside system space)", va))
		}
		// §3.2: the prototype PTE (in system space) says where the page is; walk follows it.
		d := stop(StatePrototype, fmt.Sprintf("not present (prototype PTE at %#x)", va))
		d.proto, d.followProto = va, true
		return d
	case e&bitTransition != 0:
		pa := e & f.transitionMask
		if last {
			return pageAt(pa, kb4, StateTransition)
		}
		return tableAt(pa, StateTransition)
	case f.pageFileOffset(e) != 0:
		return stop(StatePageFile, fmt.Sprintf("not present (in the pagefile at page %#x)", f.pageFileOffset(e)))
	case e>>5&0x1F != 0:
		return stop(StateDemandZero, fmt.Sprintf("not present (demand zero, protection %d)", e>>5&0x1F))
	}
	return stop(StateInvalid, "not present")
}

// decodeProto interprets a prototype PTE read from system space (FORMATS.md §3.2): valid or in
// transition, it names the page; with its own Prototype bit set it is a subsection PTE (the page
// is in a mapped file, not in memory), which is never followed further; the other software
// states (pagefile, demand zero, zero) stop the translation as they do in a process's PTE.
func (f *intelFlavor) decodeProto(e uint64) decoded {
	switch {
	case e&bitPresent != 0:
		return pageAt(e&f.frameMask, kb4, StateValid)
	case e&bitPrototype != 0:
		return stop(StateSubsection, "not present (subsection PTE: a file-backed page that is not in memory)")
	}
	return f.software(true, e)
}
