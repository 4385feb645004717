package ksynth

// ARM64 translation tables (VMSAv8-64, 4 KB granule, 48-bit VA: four levels of 512 8-byte
// descriptors indexed by VA bits 47:39, 38:30, 29:21, 20:12), the architecture's published
// descriptor rules, as engine/vmem/arm64.go reads them; FORMATS.md §9 item 10 lists ARM64
// translation as a gap, so nothing here is a Windows fact:
//   - bits 1:0 = 11 is a table descriptor at levels 0–2 and a page descriptor at level 3;
//     01 is a block descriptor at level 1 (1 GiB) or level 2 (2 MiB);
//   - the output address is bits 47:12; lower attributes: AttrIndx 4:2, AP 7:6 (AP[2] bit 7 =
//     read-only, AP[1] bit 6 = EL0 access), SH 9:8, AF bit 10, nG bit 11; upper: PXN bit 53,
//     UXN bit 54.
//
// The writer's machine uses one top-level table per address space for both halves, the x64
// way: user addresses (TTBR0) index entries 0–255 and kernel addresses (TTBR1, bits 63:48 all
// set) entries 256–511, with the kernel half copied into every process's table. The dump
// header's DirectoryTableBase is the kernel's table, which wdbg walks as TTBR1.
//
// Windows' software encodings of invalid ARM64 PTEs (transition, pagefile, prototype) were not
// researched: the x64 ones are x64-only facts, so the ARM64 machine writes only valid
// descriptors and zero (unmapped) entries.

const (
	armValid     = 1 << 0
	armTableBit  = 1 << 1 // table (levels 0–2) or page (level 3); clear: block
	armAPReadOnl = 1 << 7 // AP[2]
	armAPEL0     = 1 << 6 // AP[1]
	armShInner   = 3 << 8
	armAF        = 1 << 10
	armNG        = 1 << 11
	armPXN       = 1 << 53
	armUXN       = 1 << 54
	armAPTable0  = 1 << 61 // table descriptor: no EL0 access below it
)

// armTable is a table descriptor for the next-level table at pa.
func armTable(pa uint64) uint64 { return pa&frameMask | armValid | armTableBit }

// armKernelTable is a table descriptor over kernel addresses: APTable[0] set, so that nothing
// below it is reachable from EL0 whatever the leaf says.
func armKernelTable(pa uint64) uint64 { return armTable(pa) | armAPTable0 }

// armLeaf converts a writer entry (frame | x86-style flags: present, write, user, NX) into an
// ARM64 page (page true) or block descriptor: normal memory (AttrIndx 0), inner shareable,
// accessed; read-only without the write flag; EL0-accessible and not global for user pages;
// never executable at EL1 with NX, and kernel pages never executable at EL0.
func armLeaf(v uint64, page bool) uint64 {
	if v&ptePresent == 0 {
		return 0
	}
	d := v&frameMask | armValid | armShInner | armAF
	if page {
		d |= armTableBit
	}
	if v&pteWrite == 0 {
		d |= armAPReadOnl
	}
	if v&pteUser != 0 {
		d |= armAPEL0 | armNG
	}
	switch {
	case v&pteNX != 0:
		d |= armPXN | armUXN
	case v&pteUser == 0:
		d |= armUXN
	}
	return d
}

// isLarge says whether entry e at level i maps a large page: an ARM64 block descriptor, or an
// x86/x64 entry with PS set where the level allows one.
func (s *space) isLarge(i int, e uint64) bool {
	if s.arm {
		return e&(armValid|armTableBit) == armValid && (i == 1 || i == 2)
	}
	return e&pteLarge != 0 && s.largeAt(i)
}

// tableEntry is the entry that points at a new table at pa; flags are tableUser for tables
// over user addresses, tableKernel otherwise.
func (s *space) tableEntry(pa, flags uint64) uint64 {
	if s.arm {
		if flags&pteUser != 0 {
			return armTable(pa)
		}
		return armKernelTable(pa)
	}
	return pa | flags
}

// selfEntry is the top-level entry that maps the table at root onto itself (the PTE self-map
// whose base KDBG.PteBase gives, FORMATS.md §2). On ARM64 a table descriptor pointing at its own
// table is architecturally valid: the level-3 walk then ends in the tables themselves.
func (s *space) selfEntry(root uint64) uint64 {
	if s.arm {
		return armKernelTable(root)
	}
	return root | pteNX | tableKernel
}

// armPTEFacts is the ARM64 part of buildPTEFacts: only the hardware cases — a level-1 block
// (1 GiB) over physical 0; the unmapped address needs no entry. No transition, pagefile or
// prototype PTEs (see the file comment).
func (b *builder) armPTEFacts() error {
	if b.p.gigPageVA == 0 {
		return nil
	}
	return b.kernel.mapLarge(b.p.gigPageVA, 0, 1<<30)
}
