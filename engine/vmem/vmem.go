// Package vmem translates virtual addresses of a kernel dump into physical ones by walking the
// page tables the dump holds, and reads virtual memory through that translation.
//
// It follows ../shared/spec/FORMATS.md §3: the hardware walks of §3.1 (x64 4- and 5-level with
// 1 GB and 2 MB pages, x86 PAE and non-PAE with 2 MB / 4 MB pages) and the Windows software PTE
// states of §3.2 (a transition entry still names a physical page and is followed; a prototype
// PTE is followed to the prototype PTE it names, in system space, and that one's page used when
// it is valid or in transition; subsection, pagefile and demand-zero entries are reported as
// not available), with the L1TF heuristic of swizzle.go for transition entries whose page the
// dump lacks (a kernel that inverts a physical-address bit in them). ARM64 uses the VMSAv8-64
// descriptor format with a 4 KB granule and 48-bit addresses; FORMATS.md §9 (gap 10) notes
// that the Windows side of it was not researched, so only the hardware walk is done there.
//
// The walk has a fixed number of levels, so page tables that point back at themselves (the
// Windows self-map, or a corrupt loop) end after the last level like the hardware does; a
// page table the dump does not hold stops the walk with an error naming the level. Nothing
// here trusts the dump: every entry read is bounds-checked by the Physical reader.
package vmem

import (
	"sync"
)

// Physical reads the dump's physical memory. Like io.ReaderAt it may return fewer bytes than
// asked when a page is missing from the dump; the error then says why.
type Physical interface {
	ReadPhysical(p []byte, pa uint64) (int, error)
}

// Translator maps virtual addresses of one address space (one page-table root) to physical
// ones. It is an engine.Memory over the virtual addresses (ReadAt) and is safe for concurrent
// use. It remembers where recent walks ended (a small TLB), which the dump never invalidates.
type Translator struct {
	phys  Physical
	mode  *paging
	roots [2]uint64 // physical address of the top table; [1] only for ARM64's TTBR1
	// l1tfBit is the physical-address bit un-flipped in swizzled transition entries (0: the
	// rule is off; swizzle.go).
	l1tfBit uint

	mu     sync.Mutex
	tables [tableSlots]tableSlot
	pages  [pageSlots]pageSlot
}

// NewX64 walks x64 page tables from dtb (CR3; the PCID in bits 11:0 and bit 63 are ignored),
// with four levels, or five when la57 (CR4.LA57, ntkrla57). FORMATS.md §3.1.
func NewX64(phys Physical, dtb uint64, la57 bool) *Translator {
	root := dtb & frameMask52 // FORMATS.md §3.1: CR3 bits 51:12, mask the PCID
	if la57 {
		return newTranslator(phys, &pagingX64LA57, root, 0)
	}
	return newTranslator(phys, &pagingX64, root, 0)
}

// NewX86 walks 32-bit x86 page tables from dtb (CR3): PAE (three levels of 8-byte entries) or
// classic two levels of 4-byte entries. FORMATS.md §3.1 and §3.3.
func NewX86(phys Physical, dtb uint64, pae bool) *Translator {
	if pae {
		// FORMATS.md §3.1: CR3 bits 31:5 = 32-byte aligned PDPT.
		return newTranslator(phys, &pagingPAE, dtb&0xFFFFFFE0, 0)
	}
	// FORMATS.md §3.1: CR3 bits 31:12 = page directory.
	return newTranslator(phys, &pagingX86, dtb&0xFFFFF000, 0)
}

// NewARM64 walks ARM64 translation tables (4 KB granule, 48-bit addresses, four levels):
// addresses with bits 63:48 clear use ttbr0, those with them all set use ttbr1. The ASID
// (bits 63:48) and CnP (bit 0) of each TTBR are ignored. A zero TTBR means "not given".
func NewARM64(phys Physical, ttbr0, ttbr1 uint64) *Translator {
	return newTranslator(phys, &pagingARM64, ttbr0&frameMask48, ttbr1&frameMask48)
}

func newTranslator(phys Physical, mode *paging, root0, root1 uint64) *Translator {
	return &Translator{phys: phys, mode: mode, roots: [2]uint64{root0, root1}}
}

// Mode names the paging mode ("x64", "x64 LA57", "x86 PAE", "x86", "ARM64").
func (t *Translator) Mode() string { return t.mode.name }

// Levels names the levels of a walk from the top table down (for x64 "PXE", "PPE", "PDE",
// "PTE", WinDbg's names).
func (t *Translator) Levels() []string {
	names := make([]string, len(t.mode.levels))
	for i, l := range t.mode.levels {
		names[i] = l.name
	}
	return names
}

// Translate returns the physical address of va and the size of the page that maps it (4 KB,
// or a large page's size). A failure is a *TranslationError.
func (t *Translator) Translate(va uint64) (pa, pageSize uint64, err error) {
	page, table := t.cached(va)
	if page.used && page.vpn == va>>12 {
		return page.pa + va&0xFFF, page.size, nil
	}
	if table.used && table.region == va>>t.regionShift() {
		pa, pageSize, err = t.finishFromTable(va, table)
		if err == nil {
			t.store(va, pa, pageSize, nil)
		}
		return pa, pageSize, err
	}
	w, err := t.walk(va, nil, true)
	if err != nil {
		return 0, 0, err
	}
	t.store(va, w.PA, w.PageSize, &w)
	return w.PA, w.PageSize, nil
}

// Walk translates va without the cache and reports every entry read on the way, for `!pte`
// and `!vtop`. On failure the steps read so far are returned with the *TranslationError.
func (t *Translator) Walk(va uint64) (Walk, error) {
	var steps []Step
	w, err := t.walk(va, &steps, true)
	w.Steps = steps
	return w, err
}

// Walk is the record of one translation.
type Walk struct {
	VA       uint64
	Steps    []Step // one per level read, top first; then a ProtoLevel step when a prototype PTE was read
	PA       uint64 // valid when the walk succeeded
	PageSize uint64
	// ProtoVA is the kernel address of the prototype PTE the last-level entry pointed at, when
	// the walk went on to it (FORMATS.md §3.2); 0 otherwise.
	ProtoVA uint64

	leafTable uint64 // physical address of the table holding the last entry (for the cache)
}

// Step is one page-table entry a walk read.
type Step struct {
	Level     string // "PXE", "PPE", "PDE", "PTE", "PDPTE", "PML5E", or ProtoLevel
	EntryAddr uint64 // physical address of the entry
	Entry     uint64 // its value
	State     EntryState
	// L1TFBit is the physical-address bit flipped back in this transition entry's frame because
	// the dump lacks the page it names (L1TF swizzling, swizzle.go); 0 when the entry was used
	// as it reads. Note explains it.
	L1TFBit uint
}
