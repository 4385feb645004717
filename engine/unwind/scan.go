package unwind

import (
	"encoding/binary"

	"wdbg/engine/cpu"
)

// Stack scanning is the last resort: look upwards from the stack pointer for a word that points
// into a module's code (just after a call instruction, when the image bytes are available).
const (
	scanWordsFirst = 256 // from the context frame: a whole leaf-function frame may lie in between
	scanWords      = 64
)

func (w *walker) scanMethod(callee, _ *Frame) (*candidate, error) {
	if len(w.mods) == 0 {
		return nil, nil
	}
	words := scanWords
	if callee.Trust == TrustContext {
		words = scanWordsFirst
	}
	start := callee.StackPointer
	for i := 0; i < words; i++ {
		slot := start + uint64(i*w.ptr)
		v, err := readPtr(w.mem, slot, w.ptr)
		if err != nil {
			break
		}
		if !w.looksLikeReturn(v) {
			continue
		}
		r := callee.Regs
		r.set(r.pcIndex(), v)
		r.set(r.spIndex(), slot+uint64(w.ptr))
		r.keepCalleeSaved()
		return &candidate{regs: r, trust: TrustScan, raSlot: slot, note: "found by stack scan"}, nil
	}
	return nil, nil
}

// minCodeRVA is the lowest RVA code can have: the PE headers come first and take at least
// FileAlignment bytes, which the PE/COFF specification keeps at 512 or more.
const minCodeRVA = 0x200

// looksLikeReturn reports whether v can be a return address: it lies in a module, past the
// headers, and, when the module's bytes can be read, follows a call instruction.
func (w *walker) looksLikeReturn(v uint64) bool {
	m := w.module(v)
	if m == nil || v-m.Base < minCodeRVA {
		return false
	}
	if m.Unwind == nil {
		return true // nothing to check the code against
	}
	rva := uint32(v - m.Base)
	switch w.arch {
	case cpu.ArchARM64:
		if rva < 4 {
			return false
		}
		b, err := m.Unwind.ReadRVA(rva-4, 4)
		if err != nil {
			return true
		}
		return isCallARM64(binary.LittleEndian.Uint32(b))
	default:
		if rva < 7 {
			return false
		}
		b, err := m.Unwind.ReadRVA(rva-7, 7)
		if err != nil {
			return true
		}
		return endsWithCallX86(b)
	}
}

// isCallARM64 matches BL, BLR and the pointer-authenticating BLRAA/BLRAB/BLRAAZ/BLRABZ.
func isCallARM64(i uint32) bool {
	return i&0xFC000000 == 0x94000000 || // bl imm26
		i&0xFFFFFC1F == 0xD63F0000 || // blr xn
		i&0xFEFFF800 == 0xD63F0800 // blraa/blrab(z)
}

// endsWithCallX86 reports whether the 7 bytes before a return address end with a call: E8 rel32
// or FF /2 with any of its ModRM forms (a REX or other prefix may precede it).
func endsWithCallX86(b []byte) bool {
	if len(b) != 7 {
		return false
	}
	if b[2] == 0xE8 {
		return true
	}
	// ff /2 forms by total length (opcode, ModRM, SIB, displacement).
	for _, l := range []int{2, 3, 4, 6, 7} {
		op, modrm := b[7-l], b[7-l+1]
		if op != 0xFF || (modrm>>3)&7 != 2 {
			continue
		}
		mod, rm := modrm>>6, modrm&7
		var sibBase byte = 0xFF
		if rm == 4 && l >= 3 {
			sibBase = b[7-l+2] & 7
		}
		switch l {
		case 2:
			if mod == 3 || (mod == 0 && rm != 4 && rm != 5) {
				return true
			}
		case 3:
			if (mod == 1 && rm != 4) || (mod == 0 && rm == 4 && sibBase != 5) {
				return true
			}
		case 4:
			if mod == 1 && rm == 4 {
				return true
			}
		case 6:
			if (mod == 2 && rm != 4) || (mod == 0 && rm == 5) {
				return true
			}
		case 7:
			if (mod == 2 && rm == 4) || (mod == 0 && rm == 4 && sibBase == 5) {
				return true
			}
		}
	}
	return false
}
