package vmem

// ARM64 (VMSAv8-64) with a 4 KB granule and 48-bit virtual addresses (TnSZ = 16): four levels
// of 512 8-byte descriptors, indexed by VA bits 47:39, 38:30, 29:21 and 20:12. FORMATS.md §9
// lists ARM64 translation as a gap (10); these are the architecture's published descriptor
// rules, not Windows-specific facts:
//   - bit 0 = valid; at levels 0–2 bit 1 set = table descriptor, clear = block descriptor;
//     at level 3 bits 1:0 = 11 is a page, 01 is reserved (invalid);
//   - a block maps 1 GB at level 1 and 2 MB at level 2; level 0 has no blocks with 4 KB pages;
//   - output address = bits 47:12 (table/page), 47:30 (1 GB block), 47:21 (2 MB block).
// Windows' software encodings of invalid ARM64 PTEs were not researched, so every invalid
// descriptor is reported as not present (no transition following).

var pagingARM64 = paging{
	name:      "ARM64",
	levels:    x64Levels, // WinDbg shows ARM64 walks with the x64 level names
	entrySize: 8,
	split:     splitTTBR,
	decode:    decodeARM64,
}

// splitTTBR picks TTBR0 for addresses whose bits 63:48 are all clear and TTBR1 when they are
// all set; anything else faults.
func splitTTBR(va uint64) (int, string) {
	switch va >> 48 {
	case 0:
		return 0, ""
	case 0xFFFF:
		return 1, ""
	}
	return 0, "not a canonical address (bits 63:48 must be all 0 (TTBR0) or all 1 (TTBR1))"
}

func decodeARM64(i int, l level, e uint64) decoded {
	if e&1 == 0 {
		if e == 0 {
			return stop(StateZero, "not valid (descriptor is zero)")
		}
		return stop(StateInvalid, "not valid")
	}
	table := e&2 != 0
	switch {
	case i == 3 && table:
		return pageAt(e&frameMask48, kb4, StateValid)
	case i == 3:
		return stop(StateInvalid, "reserved descriptor (bits 1:0 = 01 at level 3)")
	case table:
		return tableAt(e&frameMask48, StateValid)
	case i == 1:
		return pageAt(e&frameMask48&^(gb1-1), gb1, StateValid)
	case i == 2:
		return pageAt(e&frameMask48&^(mb2-1), mb2, StateValid)
	}
	return stop(StateInvalid, "block descriptor at level 0 (not allowed with a 4 KB granule)")
}
