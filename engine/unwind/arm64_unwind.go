package unwind

import (
	"encoding/binary"
	"fmt"
)

// unwindARM64 computes the caller's registers for a frame in a module with ARM64 unwind data.
// A return address is unwound at PC-4 (the call instruction), as Windows does for frames
// "unwound to a call", so that prolog and epilogue offsets count the instructions already run.
func unwindARM64(mem Memory, src UnwindSource, base uint64, regs Registers, exact bool) (unwindStep, error) {
	pc := regs.PC()
	if !exact && pc >= 4 {
		pc -= 4
	}
	if pc < base || pc-base > 0xFFFFFFFF {
		return unwindStep{}, fmt.Errorf("ARM64 unwind: PC %#x is outside the image at %#x", pc, base)
	}
	pcRVA := uint32(pc - base)
	rf, ok := src.RuntimeFunction(pcRVA)
	if !ok || pcRVA < rf.Begin {
		return unwindStep{}, errNoFunctionEntry
	}
	offsetRVA := pcRVA
	if rf.UnwindData&3 == 3 {
		// A chained fragment (flag 3): the parent .pdata entry is at UnwindData-3, and the
		// fragment unwinds as the parent does at its first instruction, as the Windows ARM64
		// unwinder does it.
		if rf.UnwindData&4 != 0 {
			return unwindStep{}, unwindErr(rf.UnwindData, "ARM64 .pdata", "chained entry with bit 2 set")
		}
		b, err := src.ReadRVA(rf.UnwindData-3, 8)
		if err != nil {
			return unwindStep{}, unwindErr(rf.UnwindData-3, "ARM64 parent .pdata", "%v", err)
		}
		rf = RuntimeFunction{Begin: binary.LittleEndian.Uint32(b), UnwindData: binary.LittleEndian.Uint32(b[4:])}
		if rf.UnwindData&3 == 3 {
			return unwindStep{}, unwindErr(rf.UnwindData, "ARM64 .pdata", "chained entry points at another chained entry")
		}
		offsetRVA = rf.Begin
	}
	x, err := armUnwindData(src, rf)
	if err != nil {
		return unwindStep{}, err
	}
	if offsetRVA-rf.Begin >= x.funcLen && offsetRVA == pcRVA {
		return unwindStep{}, errNoFunctionEntry
	}
	st := unwindStep{caller: regs, functionBegin: rf.Begin}
	start, skip, where := x.position((offsetRVA - rf.Begin) / 4)
	st.note = where
	if err := execARM64(mem, x, start, skip, &st); err != nil {
		return unwindStep{}, err
	}
	st.caller.keepCalleeSaved()
	return st, nil
}

// armUnwindData decodes the .xdata record of an entry, or expands its packed data.
func armUnwindData(src UnwindSource, rf RuntimeFunction) (*xdataARM64, error) {
	if rf.UnwindData&3 == 0 {
		return decodeXdataARM64(src, rf.UnwindData)
	}
	x, err := expandPackedARM64(rf.UnwindData)
	if err != nil {
		if fe, ok := err.(*UnwindFormatError); ok {
			fe.RVA = rf.Begin
		}
	}
	return x, err
}

// arm64CodeLen is the size in bytes of the unwind code starting with byte c, and the number of
// prolog/epilogue instructions it stands for (the custom frame codes stand for none).
func arm64CodeLen(c byte) (size, instrs int) {
	switch {
	case c < 0xC0:
		return 1, 1
	case c < 0xE0:
		return 2, 1
	case c == 0xE0:
		return 4, 1
	case c == 0xE2:
		return 2, 1
	case c == 0xE7:
		return 3, 1
	case c >= 0xE8 && c <= 0xEF:
		return 1, 0
	case c >= 0xF8 && c <= 0xFB:
		return 2 + int(c&3), 1
	}
	return 1, 1
}

func arm64IsEnd(c byte) bool { return c&0xFE == 0xE4 } // end or end_c

// scopeSize counts the instructions described from code index i to the next end code; an
// epilogue has one more, its ret.
func (x *xdataARM64) scopeSize(i int, epilogue bool) uint32 {
	n := uint32(0)
	for i < len(x.codes) && !arm64IsEnd(x.codes[i]) {
		size, instrs := arm64CodeLen(x.codes[i])
		n += uint32(instrs)
		i += size
	}
	if epilogue {
		n++
	}
	return n
}

// position says where to start executing unwind codes for a PC that is off instructions into the
// function, and how many codes to skip: in a prolog the codes of instructions not yet run, in an
// epilogue those of instructions already run ("Unwinding partial prologs and epilogs").
func (x *xdataARM64) position(off uint32) (start, skip int, where string) {
	if size := x.scopeSize(0, false); off < size {
		return 0, int(size - off), "in prolog"
	}
	if x.epilogInHead {
		size := x.scopeSize(x.epilogIndex, true)
		if begin := x.funcLen/4 - size; x.funcLen/4 >= size && off >= begin {
			return x.epilogIndex, int(off - begin), "in epilogue"
		}
		return 0, 0, ""
	}
	for _, s := range x.scopes {
		begin := s.start / 4
		if off < begin {
			break
		}
		if size := x.scopeSize(s.index, true); off < begin+size {
			return s.index, int(off - begin), "in epilogue"
		}
	}
	return 0, 0, ""
}

// ARM64 trap frame (ARM64_KTRAP_FRAME) and CONTEXT offsets used by the custom unwind codes. The
// CONTEXT offsets are FORMATS.md §4.4; the trap frame's are the public layout of the structure
// in the Windows ARM64 unwinder (Sp 0x98, X0–X18 0xA0, Lr 0x138, Fp 0x140, Pc 0x148).
const (
	arm64TrapSp = 0x98
	arm64TrapX  = 0xA0
	arm64TrapLr = 0x138
	arm64TrapFp = 0x140
	arm64TrapPc = 0x148
	arm64CtxX   = 0x08
	arm64CtxFp  = 0xF0
	arm64CtxLr  = 0xF8
	arm64CtxSp  = 0x100
	arm64CtxPc  = 0x108
)

// maxARM64Codes bounds the unwind codes executed for one frame.
const maxARM64Codes = 1024

// execARM64 runs unwind codes from codes[start], after skipping skip of them, until an end code.
func execARM64(mem Memory, x *xdataARM64, start, skip int, st *unwindStep) error {
	r := &st.caller
	codes := x.codes
	i := start
	for ; skip > 0 && i < len(codes) && !arm64IsEnd(codes[i]); skip-- {
		size, _ := arm64CodeLen(codes[i])
		i += size
	}
	saveNext := 0
	pcFromLR := true
	arg := func(k int) (byte, error) {
		if i+k >= len(codes) {
			return 0, unwindErr(x.rva, "ARM64 unwind codes", "code %#x at byte %d runs past the %d code bytes", codes[i], i, len(codes))
		}
		return codes[i+k], nil
	}
	for steps := 0; i < len(codes); steps++ {
		if steps > maxARM64Codes {
			return unwindErr(x.rva, "ARM64 unwind codes", "more than %d codes", maxARM64Codes)
		}
		c := codes[i]
		size, _ := arm64CodeLen(c)
		var b1, b2, b3 byte
		var err error
		if size > 1 {
			if b1, err = arg(1); err != nil {
				return err
			}
		}
		if size > 2 {
			if b2, err = arg(2); err != nil {
				return err
			}
		}
		if size > 3 {
			if b3, err = arg(3); err != nil {
				return err
			}
		}
		pairOnly := func() error {
			if saveNext != 0 {
				return unwindErr(x.rva, "ARM64 unwind codes", "save_next before code %#x at byte %d", c, i)
			}
			return nil
		}
		switch {
		case c <= 0x1F: // alloc_s
			err = pairOnly()
			r.set(arm64SP, r.SP()+16*uint64(c&0x1F))
		case c <= 0x3F: // save_r19r20_x
			err = restoreInts(mem, r, -8*int64(c&0x1F), 19, 2+2*saveNext)
			saveNext = 0
		case c <= 0x7F: // save_fplr
			if err = pairOnly(); err == nil {
				err = restoreInts(mem, r, 8*int64(c&0x3F), 29, 2)
			}
		case c <= 0xBF: // save_fplr_x
			if err = pairOnly(); err == nil {
				err = restoreInts(mem, r, -8*(int64(c&0x3F)+1), 29, 2)
			}
		case c <= 0xC7: // alloc_m
			err = pairOnly()
			r.set(arm64SP, r.SP()+16*(uint64(c&7)<<8|uint64(b1)))
		case c <= 0xCB: // save_regp
			err = restoreInts(mem, r, 8*int64(b1&0x3F), 19+int(c&3)<<2+int(b1>>6), 2+2*saveNext)
			saveNext = 0
		case c <= 0xCF: // save_regp_x
			err = restoreInts(mem, r, -8*(int64(b1&0x3F)+1), 19+int(c&3)<<2+int(b1>>6), 2+2*saveNext)
			saveNext = 0
		case c <= 0xD3: // save_reg
			if err = pairOnly(); err == nil {
				err = restoreInts(mem, r, 8*int64(b1&0x3F), 19+int(c&3)<<2+int(b1>>6), 1)
			}
		case c <= 0xD5: // save_reg_x
			if err = pairOnly(); err == nil {
				err = restoreInts(mem, r, -8*(int64(b1&0x1F)+1), 19+int(c&1)<<3+int(b1>>5), 1)
			}
		case c <= 0xD7: // save_lrpair
			if err = pairOnly(); err == nil {
				off := 8 * int64(b1&0x3F)
				if err = restoreInts(mem, r, off, 19+2*(int(c&1)<<2+int(b1>>6)), 1); err == nil {
					err = restoreInts(mem, r, off+8, 30, 1)
				}
			}
		case c <= 0xD9: // save_fregp
			err = restoreFloats(mem, r, 8*int64(b1&0x3F), 8+int(c&1)<<2+int(b1>>6), 2+2*saveNext)
			saveNext = 0
		case c <= 0xDB: // save_fregp_x
			err = restoreFloats(mem, r, -8*(int64(b1&0x3F)+1), 8+int(c&1)<<2+int(b1>>6), 2+2*saveNext)
			saveNext = 0
		case c <= 0xDD: // save_freg
			if err = pairOnly(); err == nil {
				err = restoreFloats(mem, r, 8*int64(b1&0x3F), 8+int(c&1)<<2+int(b1>>6), 1)
			}
		case c == 0xDE: // save_freg_x
			if err = pairOnly(); err == nil {
				err = restoreFloats(mem, r, -8*(int64(b1&0x1F)+1), 8+int(b1>>5), 1)
			}
		case c == 0xDF:
			err = unwindErr(x.rva, "ARM64 unwind codes", "reserved code %#x at byte %d", c, i)
		case c == 0xE0: // alloc_l
			err = pairOnly()
			r.set(arm64SP, r.SP()+16*(uint64(b1)<<16|uint64(b2)<<8|uint64(b3)))
		case c == 0xE1: // set_fp: mov x29, sp
			err = pairOnly()
			r.set(arm64SP, fpOf(r))
		case c == 0xE2: // add_fp: add x29, sp, #x*8
			err = pairOnly()
			r.set(arm64SP, fpOf(r)-8*uint64(b1))
		case c == 0xE3: // nop
			err = pairOnly()
		case c == 0xE4: // end
			if err = pairOnly(); err != nil {
				return err
			}
			i = len(codes)
			continue
		case c == 0xE5: // end_c: the parent region's codes follow
		case c == 0xE6: // save_next
			saveNext++
			if saveNext > 16 {
				err = unwindErr(x.rva, "ARM64 unwind codes", "too many save_next codes")
			}
		case c == 0xE7: // save_any_reg
			err = saveAnyReg(mem, r, b1, b2, saveNext, x.rva)
			saveNext = 0
		case c >= 0xE8 && c <= 0xEC:
			if err = pairOnly(); err == nil {
				err = customFrameARM64(mem, r, c, st)
				pcFromLR = false
			}
		case c == 0xFC: // pac_sign_lr: strip the authentication code from lr
			err = pairOnly()
			if lr, ok := r.get(arm64LR); ok {
				r.set(arm64LR, stripPAC(lr))
			}
		case c >= 0xF8: // reserved codes: no unwind action
			err = pairOnly()
		default:
			err = unwindErr(x.rva, "ARM64 unwind codes", "reserved code %#x at byte %d", c, i)
		}
		if err != nil {
			return err
		}
		i += size
	}
	if pcFromLR {
		lr, ok := r.get(arm64LR)
		if !ok {
			return fmt.Errorf("ARM64 unwind: lr is not known")
		}
		r.set(arm64PC, stripPAC(lr))
	}
	return nil
}
