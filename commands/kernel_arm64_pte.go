package commands

// pteFlagsARM64 spells an ARM64 translation-table descriptor in the letters of !pte's x64 flag
// column, from the architecture's descriptor bits (VMSAv8-64, 4 KB granule; FORMATS.md §9 item
// 10: no ARM64 !pte capture or Windows fact, so the mapping is ours):
//
//	L  a block descriptor (1 GB or 2 MB)       G  global: nG (bit 11) clear
//	C  - (cacheability is in MAIR, not here)   D  - (no dirty bit without DBM)
//	A  the access flag AF (bit 10)             N, T  -
//	U/K  EL0 may access: AP[1] (bit 6)         W/R  writable: AP[2] (bit 7) clear
//	E  executable where it is accessed: PXN (bit 53) clear for K, UXN (bit 54) clear for U
//	V  valid (bit 0)
//
// A table descriptor carries only the hierarchical limits: APTable[0] (bit 61) = no EL0 access,
// APTable[1] (bit 62) = no writes, PXNTable (bit 59).
func pteFlagsARM64(e uint64, leaf, large bool) string {
	set := func(n uint) bool { return e>>n&1 != 0 }
	pick := func(cond bool, yes, no byte) byte {
		if cond {
			return yes
		}
		return no
	}
	if !leaf {
		return string([]byte{'-', '-', '-', '-', '-', '-', '-',
			pick(set(61), 'K', 'U'), pick(set(62), 'R', 'W'), pick(set(59), '-', 'E'), pick(set(0), 'V', '-')})
	}
	user := set(6)
	exec := !set(53)
	if user {
		exec = !set(54)
	}
	return string([]byte{pick(large, 'L', '-'), pick(set(11), '-', 'G'), '-', '-', pick(set(10), 'A', '-'), '-', '-',
		pick(user, 'U', 'K'), pick(set(7), 'R', 'W'), pick(exec, 'E', '-'), pick(set(0), 'V', '-')})
}
