package unwind

import (
	"encoding/binary"
	"fmt"
)

// The register restores and special frames of the ARM64 unwind codes.

func fpOf(r *Registers) uint64 { v, _ := r.get(arm64FP); return v }

// restoreInts restores count registers from first on, from SP+off; a negative off is a
// pre-indexed save: the registers are at SP and SP grows by -off afterwards.
func restoreInts(mem Memory, r *Registers, off int64, first, count int) error {
	if first+count > 31 {
		return fmt.Errorf("ARM64 unwind: restoring x%d..x%d is past x30", first, first+count-1)
	}
	sp := r.SP()
	addr := sp
	if off > 0 {
		addr += uint64(off)
	}
	for k := 0; k < count; k++ {
		v, err := readU64(mem, addr+8*uint64(k))
		if err != nil {
			return fmt.Errorf("ARM64 unwind: reading saved x%d at %#x: %w", first+k, addr+8*uint64(k), err)
		}
		r.set(first+k, v)
	}
	if off < 0 {
		r.set(arm64SP, sp+uint64(-off))
	}
	return nil
}

// restoreFloats restores the low 64 bits of count registers d(first)…; 16-byte saves (q
// registers) use restoreQuads.
func restoreFloats(mem Memory, r *Registers, off int64, first, count int) error {
	if first+count > 32 {
		return fmt.Errorf("ARM64 unwind: restoring d%d..d%d is past d31", first, first+count-1)
	}
	sp := r.SP()
	addr := sp
	if off > 0 {
		addr += uint64(off)
	}
	for k := 0; k < count; k++ {
		v, err := readU64(mem, addr+8*uint64(k))
		if err != nil {
			return fmt.Errorf("ARM64 unwind: reading saved d%d at %#x: %w", first+k, addr+8*uint64(k), err)
		}
		var q [16]byte
		binary.LittleEndian.PutUint64(q[:], v)
		r.setVector(first+k, q)
	}
	if off < 0 {
		r.set(arm64SP, sp+uint64(-off))
	}
	return nil
}

func restoreQuads(mem Memory, r *Registers, off int64, first, count int) error {
	if first+count > 32 {
		return fmt.Errorf("ARM64 unwind: restoring q%d..q%d is past q31", first, first+count-1)
	}
	sp := r.SP()
	addr := sp
	if off > 0 {
		addr += uint64(off)
	}
	for k := 0; k < count; k++ {
		v, err := read128(mem, addr+16*uint64(k))
		if err != nil {
			return fmt.Errorf("ARM64 unwind: reading saved q%d at %#x: %w", first+k, addr+16*uint64(k), err)
		}
		r.setVector(first+k, v)
	}
	if off < 0 {
		r.set(arm64SP, sp+uint64(-off))
	}
	return nil
}

// saveAnyReg is the three-byte code 0xE7 (save_any_reg): 0pxrrrrr ffoooooo — p pair, x
// pre-indexed, r register, f class (0 X, 1 D, 2 Q), o offset in 16-byte units when x, p or Q,
// else 8.
func saveAnyReg(mem Memory, r *Registers, b1, b2 byte, saveNext int, rva uint32) error {
	if b1&0x80 != 0 {
		return unwindErr(rva, "ARM64 unwind codes", "save_any_reg with reserved bit set")
	}
	pair := b1&0x40 != 0
	pre := b1&0x20 != 0
	reg := int(b1 & 0x1F)
	class := b2 >> 6
	if !pair && saveNext != 0 {
		return unwindErr(rva, "ARM64 unwind codes", "save_next before a single save_any_reg")
	}
	off := int64(b2 & 0x3F)
	if pre {
		off++
	}
	if pre || pair || class == 2 {
		off *= 16
	} else {
		off *= 8
	}
	if pre {
		off = -off
	}
	count := 1 + 2*saveNext
	if pair {
		count++
	}
	switch class {
	case 0:
		return restoreInts(mem, r, off, reg, count)
	case 1:
		return restoreFloats(mem, r, off, reg, count)
	case 2:
		return restoreQuads(mem, r, off, reg, count)
	}
	return unwindErr(rva, "ARM64 unwind codes", "save_any_reg with register class 3")
}

// customFrameARM64 restores the special frames of codes 0xE8–0xEC: a kernel trap frame, a machine
// frame (SP and PC), a whole CONTEXT, or "clear unwound to call" (PC from lr).
func customFrameARM64(mem Memory, r *Registers, c byte, st *unwindStep) error {
	sp := r.SP()
	load := func(addr uint64, reg int) error {
		v, err := readU64(mem, addr)
		if err != nil {
			return fmt.Errorf("ARM64 unwind: reading %s at %#x: %w", arm64Names[reg], addr, err)
		}
		r.set(reg, v)
		return nil
	}
	switch c {
	case 0xE8: // trap frame
		for k := 0; k < 19; k++ {
			if err := load(sp+arm64TrapX+8*uint64(k), k); err != nil {
				return err
			}
		}
		for _, f := range []struct {
			off uint64
			reg int
		}{{arm64TrapLr, arm64LR}, {arm64TrapFp, arm64FP}, {arm64TrapPc, arm64PC}, {arm64TrapSp, arm64SP}} {
			if err := load(sp+f.off, f.reg); err != nil {
				return err
			}
		}
		st.machineFrame, st.trapFrame, st.interrupted = sp, sp, true
	case 0xE9: // machine frame: SP then PC
		if err := load(sp+8, arm64PC); err != nil {
			return err
		}
		if err := load(sp, arm64SP); err != nil {
			return err
		}
		st.machineFrame, st.interrupted = sp, true
	case 0xEA: // a CONTEXT record
		for k := 0; k < 29; k++ {
			if err := load(sp+arm64CtxX+8*uint64(k), k); err != nil {
				return err
			}
		}
		for _, f := range []struct {
			off uint64
			reg int
		}{{arm64CtxFp, arm64FP}, {arm64CtxLr, arm64LR}, {arm64CtxPc, arm64PC}, {arm64CtxSp, arm64SP}} {
			if err := load(sp+f.off, f.reg); err != nil {
				return err
			}
		}
		st.machineFrame, st.interrupted = sp, true
	case 0xEB:
		return fmt.Errorf("ARM64 unwind: ARM64EC context frames are not supported")
	case 0xEC: // clear unwound-to-call: the frame returns to lr as an interrupted PC
		lr, ok := r.get(arm64LR)
		if !ok {
			return fmt.Errorf("ARM64 unwind: lr is not known")
		}
		r.set(arm64PC, stripPAC(lr))
		st.interrupted = true
	}
	return nil
}

// stripPAC removes a pointer authentication code: bit 55 says whether the address is a kernel
// (upper bits all ones) or user (all zeros) address.
func stripPAC(v uint64) uint64 {
	const low48 = 1<<48 - 1
	if v&(1<<55) == 0 {
		return v & low48
	}
	return v | ^uint64(low48)
}
