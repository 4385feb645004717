package vmem

import "fmt"

// L1TF swizzling (FORMATS.md §3.2 "[gap] L1TF swizzling", §9 gap 3). Since the 2018 L1
// Terminal Fault mitigation, Windows 10 (1809 and later) inverts a high physical-address bit
// in non-present PTEs, so that a speculative walk through a not-present entry reaches no
// cached RAM; KDDEBUGGER_DATA64 gives debuggers the bit (L1tfHighPhysicalBitIndex, 0x2C2) and
// the MMPTE SwizzleBit (L1tfSwizzleBitIndex, 0x2C3). The exact rule, which entries are
// inverted and when, is not in a public source, so FORMATS.md prescribes a heuristic, which
// this file implements: a transition entry (the only non-present state whose frame is used)
// naming a page the dump does not hold is tried again with the bit flipped, and taken if that
// page is in the dump. Valid entries are never touched: the hardware reads them as they are.
//
// The index is read as a bit of the physical address, not of the PFN: the field is named
// after the physical address ("HighPhysicalBit"), the mitigation needs an address above all
// RAM, i.e. a bit near MAXPHYADDR (45 on a part with 46 physical address bits), and read as a
// PFN bit such a value would fall above bit 47, outside the transition PFN field (47:12 on x64)
// altogether. The PFN bit flipped is therefore index-12.

// WithL1TF returns a translator over the same tables and memory that un-flips physical-address
// bit highBit of transition entries whose page is missing from the dump (see above), or, when
// highBit is 0 or outside this mode's transition PFN field, one that reads every entry as it
// is. The receiver is not changed (its caches may hold translations made without the rule).
func (t *Translator) WithL1TF(highBit uint) *Translator {
	n := newTranslator(t.phys, t.mode, t.roots[0], t.roots[1])
	if l1tfUsable(t.mode, highBit) {
		n.l1tfBit = highBit
	}
	return n
}

// L1TFBit is the physical-address bit the translator un-flips (0: none).
func (t *Translator) L1TFBit() uint { return t.l1tfBit }

// l1tfUsable says whether highBit lies in the transition PFN field of mode (x64 47:12, PAE
// 37:12, non-PAE 31:12, FORMATS.md §3.2); ARM64 has no transition entries here at all.
func l1tfUsable(mode *paging, highBit uint) bool {
	return highBit >= 12 && highBit < 64 && mode.transitionMask>>highBit&1 != 0
}

// unswizzle applies the heuristic to one decoded entry: a transition page or table whose
// frame the dump lacks, and whose frame with the L1TF bit flipped it holds, is taken at the
// flipped frame, and the entry is marked with the bit.
func (t *Translator) unswizzle(d decoded) decoded {
	if t.l1tfBit == 0 || d.state != StateTransition || t.holds(d.next) {
		return d
	}
	alt := d.next ^ 1<<t.l1tfBit
	if !t.holds(alt) {
		return d
	}
	d.next, d.l1tfBit = alt, t.l1tfBit
	return d
}

// holds says whether the dump has the physical page at pa (a one-byte probe of its start).
func (t *Translator) holds(pa uint64) bool {
	var b [1]byte
	n, _ := t.phys.ReadPhysical(b[:], pa&^0xFFF)
	return n == 1
}

// Note explains how a walk used this entry beyond its plain value: today only the L1TF
// restoration of a swizzled transition entry ("" otherwise).
func (s Step) Note() string {
	if s.L1TFBit == 0 {
		return ""
	}
	return fmt.Sprintf("transition, L1TF-swizzled: PFN bit %d restored (physical address bit %d)", s.L1TFBit-12, s.L1TFBit)
}
