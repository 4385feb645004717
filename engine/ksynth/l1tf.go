package ksynth

import "fmt"

// L1TF swizzling (FORMATS.md §3.2 "[gap] L1TF swizzling", §9 gap 3): Windows 10 1809 and later
// invert a high physical-address bit in non-present PTEs and tell debuggers which one in
// KDDEBUGGER_DATA64 (L1tfHighPhysicalBitIndex 0x2C2, L1tfSwizzleBitIndex 0x2C3, §2). The exact
// inversion rule is not public, so the machine carries one page that only the FORMATS.md
// heuristic reads: a kernel page whose PTE is in transition with the bit inverted, naming a
// frame far beyond the dump's RAM, while the page's bytes sit in the real frame.

const (
	// l1tfHighPhysicalBit is the KDBG's L1tfHighPhysicalBitIndex: a physical-address bit (the
	// reader takes it so, engine/vmem/swizzle.go), here 45, the top bit of a part with 46
	// physical address bits, inside the x64 transition PFN field 47:12 (§3.2).
	l1tfHighPhysicalBit = 45
	// l1tfSwizzleBit is the KDBG's L1tfSwizzleBitIndex: the SwizzleBit of the 19041 MMPTE_*
	// layouts, bit 4 (§3.2). The swizzled PTE leaves it clear (§3.2's presumed rule: clear
	// means "inverted"); readers do not rely on it.
	l1tfSwizzleBit = 4
	// l1tfPattern is what the page holds.
	l1tfPattern = "ksynth L1TF page: swizzled transition PTE"
)

// L1TFPage is the page whose PTE is an L1TF-swizzled transition PTE (x64-19041 only).
type L1TFPage struct {
	VA uint64 `json:"va"` // kernel address of the page
	// HighPhysicalBit and SwizzleBit are what the KDBG holds at 0x2C2 and 0x2C3.
	HighPhysicalBit uint `json:"high_physical_bit"`
	SwizzleBit      uint `json:"swizzle_bit"`
	// PTE is the transition PTE as stored (valid 0, transition 1, prototype 0, protection
	// read/write) and PTEAddr its physical address.
	PTE     uint64 `json:"pte"`
	PTEAddr uint64 `json:"pte_addr"`
	// SwizzledPA is the frame the PTE names (beyond the dump), PA the frame with bit
	// HighPhysicalBit flipped back: the one holding Pattern.
	SwizzledPA uint64 `json:"swizzled_pa"`
	PA         uint64 `json:"pa"`
	Pattern    []byte `json:"pattern"`
	// Walk is the kernel walk of VA: its levels as stored, PA the restored page.
	Walk Walk `json:"walk"`
}

// swizzlesL1TF says the machine's kernel has the L1TF mitigation: x64 Windows 10 1809 (build
// 17763) and later (FORMATS.md §3.2: "Win10 (mid-2018+)"); the Windows 7 and x86 machines and
// ARM64 (no L1TF) keep a KDBG without the fields.
func (p *profile) swizzlesL1TF() bool { return p.is64 && !p.arm64 && p.build >= 17763 }

// l1tfVA is the swizzled page: four pages after the transition page (the pagefile PTE and the
// prototype PTE page take the next two).
func (p *profile) l1tfVA() uint64 { return p.transitionVA + 4*pageSize }

// buildL1TF writes the KDBG's L1TF fields into block (facts records them) and places the
// swizzled page, on machines that have the mitigation.
func (b *builder) buildL1TF(block uint64, facts map[string]uint64) error {
	if !b.p.swizzlesL1TF() {
		return nil
	}
	if uint64(b.p.kdbgSize) < 0x2C4 {
		return fmt.Errorf("ksynth: internal: KDBG Size %#x does not reach the L1TF fields at 0x2C2", b.p.kdbgSize)
	}
	b.u8(block+0x2C2, l1tfHighPhysicalBit) // §2: L1tfHighPhysicalBitIndex
	b.u8(block+0x2C3, l1tfSwizzleBit)      // §2: L1tfSwizzleBitIndex
	facts["L1tfHighPhysicalBitIndex"] = l1tfHighPhysicalBit
	facts["L1tfSwizzleBitIndex"] = l1tfSwizzleBit

	const flip = uint64(1) << l1tfHighPhysicalBit
	if b.mem.maxPFN*pageSize > flip {
		return fmt.Errorf("ksynth: the L1TF page needs RAM below physical bit %d", l1tfHighPhysicalBit)
	}
	pfn, err := b.mem.alloc()
	if err != nil {
		return err
	}
	pa := pfn * pageSize
	b.mem.write(pa, []byte(l1tfPattern))
	va := b.p.l1tfVA()
	pte := (pa | flip) | pteTransition | protReadWrt
	if err := b.kernel.setLeaf(va, len(b.kernel.levels)-1, pte); err != nil {
		return err
	}
	steps, swizzled, _, ok := b.kernel.walk(va)
	if !ok || swizzled != pa|flip {
		return fmt.Errorf("ksynth: internal: the L1TF page %#x walks to %#x", va, swizzled)
	}
	page := &L1TFPage{VA: va, HighPhysicalBit: l1tfHighPhysicalBit, SwizzleBit: l1tfSwizzleBit, PTE: pte,
		PTEAddr: steps[len(steps)-1].EntryAddr, SwizzledPA: swizzled, PA: pa, Pattern: []byte(l1tfPattern)}
	page.Walk = Walk{VA: va, PA: pa, PageSize: pageSize, Valid: true, Pattern: page.Pattern[:16]}
	for _, st := range steps {
		page.Walk.Levels = append(page.Walk.Levels, PTELevel{Name: st.Level, EntryAddr: st.EntryAddr, Entry: st.Entry})
	}
	b.m.PTE.L1TF = page
	return nil
}
