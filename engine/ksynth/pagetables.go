package ksynth

import "fmt"

// Page-table entry bits (FORMATS.md §3.1 hardware, §3.2 Windows software states).
const (
	ptePresent    = 1 << 0
	pteWrite      = 1 << 1
	pteUser       = 1 << 2
	pteAccessed   = 1 << 5
	pteDirty      = 1 << 6
	pteLarge      = 1 << 7 // PS in a PDPTE (x64) or PDE
	pteGlobal     = 1 << 8
	ptePrototype  = 1 << 10
	pteTransition = 1 << 11
	pteNX         = 1 << 63

	frameMask = 0x000FFFFFFFFFF000 // bits 51:12

	// Entry values the writer uses.
	tableKernel = ptePresent | pteWrite | pteAccessed | pteDirty // upper levels
	tableUser   = tableKernel | pteUser                          // upper levels over user pages
	leafData    = pteNX | ptePresent | pteWrite | pteAccessed | pteDirty | pteGlobal
	leafCode    = ptePresent | pteAccessed | pteGlobal // read-only, executable
	leafUser    = pteNX | ptePresent | pteWrite | pteUser | pteAccessed | pteDirty
	leafLarge   = ptePresent | pteWrite | pteAccessed | pteDirty | pteLarge | pteGlobal
	pdptePAE    = ptePresent // PAE PDPTEs allow only P, PWT, PCD (§3.1: Windows keeps all four valid)
	protReadWrt = 4 << 5     // MM protection 4 (read/write) in bits 9:5 of a software PTE (§3.2)

	pageFileHigh = 0x1234 // the PageFileHigh of the pagefile PTE the writer puts in (§3.2)
	// selfIndexX86 is the non-PAE page-directory entry that maps the directory itself:
	// 0xC0000000 >> 22 (§3.1, the PTE self-map at 0xC0000000).
	selfIndexX86 = 0x300
)

// pagingLevel is one level of a walk: its WinDbg name, the VA bits that index it.
type pagingLevel struct {
	name  string
	shift uint
	bits  uint
}

var (
	// FORMATS.md §3.1: x64 PML4 47:39, PDPT 38:30, PD 29:21, PT 20:12.
	levelsX64 = []pagingLevel{{"PXE", 39, 9}, {"PPE", 30, 9}, {"PDE", 21, 9}, {"PTE", 12, 9}}
	// FORMATS.md §3.1: PAE PDPTE 31:30 (four entries), PDE 29:21, PTE 20:12.
	levelsPAE = []pagingLevel{{"PDPTE", 30, 2}, {"PDE", 21, 9}, {"PTE", 12, 9}}
	// FORMATS.md §3.1: x86 non-PAE PDE 31:22 (1024 entries), PTE 21:12, 4-byte entries.
	levelsX86 = []pagingLevel{{"PDE", 22, 10}, {"PTE", 12, 10}}
)

// space is one address space: a page-table root and the tables below it, in physMem.
type space struct {
	mem    *physMem
	levels []pagingLevel
	root   uint64 // physical address of the PML4 page or of the 32-byte PDPT
	user   bool   // tables created for user addresses get the U/S bit
	// userEnd is the end of user space: 1<<47 on x64, 0x80000000 on x86 (FORMATS.md §3.3).
	userEnd uint64
	// arm: the tables hold ARM64 descriptors (arm64_pagetables.go); the writer's x86-style
	// flag sets are converted when an entry is written.
	arm bool
}

func (s *space) index(va uint64, l pagingLevel) uint64 { return va >> l.shift & (1<<l.bits - 1) }

// twoLevel says the space uses x86 non-PAE paging: 4-byte entries, 4 MiB large pages.
func (s *space) twoLevel() bool { return len(s.levels) == 2 }

// entrySize is 4 bytes for non-PAE x86, 8 for PAE and x64 (§3.1).
func (s *space) entrySize() uint64 {
	if s.twoLevel() {
		return 4
	}
	return 8
}

// entryAddr is the physical address of va's entry in the table at table for level i.
func (s *space) entryAddr(table, va uint64, i int) uint64 {
	return table + s.entrySize()*s.index(va, s.levels[i])
}

// getEntry and putEntry read and write one entry of the space's size. A 4-byte entry has no NX
// bit (bit 63): putEntry drops the bits above 31, so the writer's flag sets work unchanged.
func (s *space) getEntry(pa uint64) uint64 {
	if s.twoLevel() {
		return s.mem.u64(pa) & 0xFFFFFFFF
	}
	return s.mem.u64(pa)
}

func (s *space) putEntry(pa, v uint64) {
	if s.twoLevel() {
		s.mem.write(pa, le32(uint32(v)))
		return
	}
	s.mem.putU64(pa, v)
}

// largeAt says whether an entry at level i may map a large page (PS): the PDPTE and PDE on
// x64, the PDE on PAE and non-PAE (§3.1).
func (s *space) largeAt(i int) bool {
	if s.twoLevel() {
		return i == 0
	}
	return i > 0 && i < len(s.levels)-1
}

// table returns the physical address of the table at level depth for va, creating the
// tables above it as needed.
func (s *space) table(va uint64, depth int) (uint64, error) {
	t := s.root
	for i := range depth {
		ea := s.entryAddr(t, va, i)
		e := s.getEntry(ea)
		if e&ptePresent != 0 {
			if s.isLarge(i, e) {
				return 0, fmt.Errorf("ksynth: %#x is already inside a large page", va)
			}
			t = e & frameMask
			continue
		}
		if i == 0 && len(s.levels) == 3 {
			return 0, fmt.Errorf("ksynth: PAE PDPTE for %#x is not present", va)
		}
		pfn, err := s.mem.alloc()
		if err != nil {
			return 0, err
		}
		s.mem.page(pfn) // a table page is part of the dump even while it is empty
		flags := uint64(tableKernel)
		if s.user && va < s.userEnd {
			flags = tableUser
		}
		s.putEntry(ea, s.tableEntry(pfn*pageSize, flags))
		t = pfn * pageSize
	}
	return t, nil
}

// setLeaf writes the raw entry value for va at level depth (the last level for a 4 KiB page,
// one higher for a 2 MiB page, two higher for a 1 GiB page).
func (s *space) setLeaf(va uint64, depth int, value uint64) error {
	t, err := s.table(va, depth)
	if err != nil {
		return err
	}
	ea := s.entryAddr(t, va, depth)
	if s.twoLevel() {
		value &= 0xFFFFFFFF
	}
	if s.arm {
		value = armLeaf(value, depth == len(s.levels)-1)
	}
	if old := s.getEntry(ea); old != 0 && old != value {
		return fmt.Errorf("ksynth: %#x is mapped twice (%s %#x, then %#x)", va, s.levels[depth].name, old, value)
	}
	s.putEntry(ea, value)
	return nil
}

// map4K maps the 4 KiB page at va to frame pfn.
func (s *space) map4K(va, pfn, flags uint64) error {
	return s.setLeaf(va, len(s.levels)-1, pfn*pageSize|flags)
}

// mapLarge maps a 2 MiB page (PDE.PS), on x64 a 1 GiB page (PDPTE.PS), or with non-PAE
// paging a 4 MiB page (PDE.PS) at va to pa.
func (s *space) mapLarge(va, pa, size uint64) error {
	depth := len(s.levels) - 2
	switch {
	case size == 1<<30:
		if len(s.levels) != 4 {
			return fmt.Errorf("ksynth: 1 GiB pages need x64 paging")
		}
		depth = 1
	case s.twoLevel() && size != 1<<22, !s.twoLevel() && size != 1<<21:
		return fmt.Errorf("ksynth: large page of %#x bytes", size)
	}
	if va%size != 0 || pa%size != 0 {
		return fmt.Errorf("ksynth: large page %#x -> %#x is not %#x aligned", va, pa, size)
	}
	return s.setLeaf(va, depth, pa|leafLarge)
}

// walkStep is one entry of a walk as the writer knows it.
type walkStep struct {
	Level     string
	EntryAddr uint64
	Entry     uint64
}

// walk reads back the entries for va the way the hardware would (FORMATS.md §3.1), following
// a transition PTE at the last level (§3.2). ok is false when an entry is not present.
func (s *space) walk(va uint64) (steps []walkStep, pa, size uint64, ok bool) {
	t := s.root
	for i, l := range s.levels {
		ea := s.entryAddr(t, va, i)
		e := s.getEntry(ea)
		steps = append(steps, walkStep{l.name, ea, e})
		last := i == len(s.levels)-1
		if e&ptePresent == 0 {
			if last && !s.arm && e&pteTransition != 0 && e&ptePrototype == 0 {
				return steps, e&s.transitionMask() | va&0xFFF, pageSize, true
			}
			return steps, 0, 0, false
		}
		if s.isLarge(i, e) {
			size := uint64(1) << l.shift
			return steps, e&frameMask&^(size-1) | va&(size-1), size, true
		}
		if last {
			return steps, e&frameMask | va&0xFFF, pageSize, true
		}
		t = e & frameMask
	}
	return steps, 0, 0, false
}

// transitionMask is the PFN field of a transition PTE: bits 47:12 on x64, 37:12 on PAE, 31:12
// without PAE (§3.2).
func (s *space) transitionMask() uint64 {
	switch len(s.levels) {
	case 4:
		return 0x0000FFFFFFFFF000
	case 2:
		return 0xFFFFF000
	}
	return 0x0000003FFFFFF000
}

// cloneKernelHalf makes a new address space that shares this one's kernel half: on x64 a new
// PML4 with entries 256..511 copied (the self-map entry pointing at the new PML4), on PAE a new
// 32-byte PDPT at pdptPA whose entries 2 and 3 (0x80000000 and up) are copied and whose user
// entries get fresh page directories, or without PAE a new page directory with entries
// 0x200..0x3FF copied and the self-map entry 0x300 pointing at the new directory.
func (s *space) cloneKernelHalf(pdptPA uint64, selfIndex int) (*space, error) {
	n := &space{mem: s.mem, levels: s.levels, user: true, userEnd: s.userEnd, arm: s.arm}
	if s.twoLevel() {
		pfn, err := s.mem.alloc()
		if err != nil {
			return nil, err
		}
		n.root = pfn * pageSize
		s.mem.page(pfn)
		for i := uint64(0x200); i < 0x400; i++ {
			n.putEntry(n.root+4*i, s.getEntry(s.root+4*i))
		}
		n.putEntry(n.root+4*selfIndexX86, n.root|tableKernel)
		return n, nil
	}
	if len(s.levels) == 4 {
		pfn, err := s.mem.alloc()
		if err != nil {
			return nil, err
		}
		n.root = pfn * pageSize
		for i := uint64(256); i < 512; i++ {
			s.mem.putU64(n.root+8*i, s.mem.u64(s.root+8*i))
		}
		s.mem.putU64(n.root+8*uint64(selfIndex), s.selfEntry(n.root))
		return n, nil
	}
	n.root = pdptPA
	for i := uint64(0); i < 4; i++ {
		v := s.mem.u64(s.root + 8*i)
		if i < 2 {
			pfn, err := s.mem.alloc()
			if err != nil {
				return nil, err
			}
			s.mem.page(pfn)
			v = pfn*pageSize | pdptePAE
		}
		s.mem.putU64(n.root+8*i, v)
	}
	return n, nil
}
