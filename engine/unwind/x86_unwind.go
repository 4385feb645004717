package unwind

import (
	"fmt"
	"strings"
)

// raSearchWords is how far above .raSearchStart (or an FPO frame's computed return-address slot)
// the x86 unwinder looks for a word that is a return address.
const raSearchWords = 64

// frameRecordX86 unwinds an x86 frame with the FPO or FRAMEDATA record covering its IP
// (FORMATS.md §8.2), breakpad's rules for STACK WIN records.
func (w *walker) frameRecordX86(callee, calleeOfCallee *Frame) (*candidate, error) {
	if callee.Interrupted {
		// Stopped at a return, EIP's code says exactly where the return address is; a frame
		// record's rules describe the body and would misread EBP there.
		if c, err := w.frameEdgeX86(callee, true); c != nil || err != nil {
			return c, err
		}
	}
	lookup := callee.InstructionPointer
	if !callee.Interrupted && lookup > 0 {
		lookup--
	}
	m := w.module(lookup)
	if m == nil || m.X86 == nil {
		return nil, nil
	}
	rec, ok := m.X86.X86Frame(uint32(lookup - m.Base))
	if !ok {
		return nil, nil
	}
	// The arguments the callee's own callee received are part of this frame (breakpad's
	// "next_parameter_size"); only a record can say how many there were.
	var calleeParams uint32
	if calleeOfCallee != nil && calleeOfCallee.X86 != nil {
		calleeParams = calleeOfCallee.X86.ParamsSize
	}
	r := &rec
	var c *candidate
	var err error
	switch {
	case rec.Kind == X86FrameData && rec.Program != "":
		c, err = w.runFrameProgram(callee, r, calleeParams)
	case rec.Kind == X86FrameFPO && rec.FrameType == FrameTypeFPO:
		c, err = w.fpoFrame(callee, r, calleeParams)
	case rec.Kind == X86FrameFPO && rec.FrameType == FrameTypeTrap:
		c, err = w.trapFrameX86(callee)
		if err != nil || c == nil {
			// An unreadable trap frame still leaves the EBP chain, which trap handlers keep
			// going through the frame's DbgEbp/DbgEip words.
			why := "trap frame not found"
			if err != nil {
				why = err.Error()
			}
			c, err = w.framePointerX86(callee, calleeOfCallee)
			if c != nil {
				c.trust = TrustFPO
				c.note = joinNotes(why+": followed EBP", c.note)
			}
			if err != nil {
				err = fmt.Errorf("%s; %w", why, err)
			}
		}
	default:
		// FRAME_NONFPO (a standard EBP frame), and TSS frames, whose task state segment is not
		// decoded here: follow EBP.
		c, err = w.framePointerX86(callee, calleeOfCallee)
		if c != nil {
			c.trust = TrustFPO
			if rec.FrameType == FrameTypeTSS {
				c.note = joinNotes(c.note, "TSS frame not decoded: followed EBP")
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s record at RVA %#x: %w", rec.Kind, rec.Start, err)
	}
	if c != nil {
		c.x86 = r
		c.functionBegin = rec.Start
	}
	return c, nil
}

// runFrameProgram evaluates a FRAMEDATA program string: it starts with the callee's registers and
// the record's sizes and leaves the caller's $eip, $esp and, when it assigns them, $ebp, $ebx,
// $esi and $edi.
func (w *walker) runFrameProgram(callee *Frame, rec *X86Frame, calleeParams uint32) (*candidate, error) {
	regs := callee.Regs
	vars := map[string]uint32{
		".cbParams":    rec.ParamsSize,
		".cbSavedRegs": rec.SavedRegsSize,
		".cbLocals":    rec.LocalsSize,
	}
	for i, n := range x86Names {
		if v, ok := regs.get(i); ok {
			vars["$"+n] = uint32(v)
		}
	}
	note := ""
	if strings.Contains(rec.Program, ".raSearch") {
		start := uint64(uint32(regs.SP()) + calleeParams + rec.LocalsSize + rec.SavedRegsSize)
		slot, moved := w.findReturnSlot(start)
		if moved {
			note = "return address found by searching the stack"
		}
		vars[".raSearch"] = uint32(slot)
		vars[".raSearchStart"] = uint32(slot)
	}
	if err := evalProgram(rec.Program, vars, w.mem); err != nil {
		return nil, err
	}
	eip, okIP := vars["$eip"]
	esp, okSP := vars["$esp"]
	if !okIP || !okSP {
		return nil, fmt.Errorf("program string does not set $eip and $esp")
	}
	regs.set(x86EIP, uint64(eip))
	regs.set(x86ESP, uint64(esp))
	for _, i := range []int{x86EBP, x86EBX, x86ESI, x86EDI} {
		if v, ok := vars["$"+x86Names[i]]; ok {
			regs.set(i, uint64(v))
		}
	}
	regs.keepCalleeSaved()
	return &candidate{regs: regs, trust: TrustFPO, note: note, raSlot: uint64(esp) - 4}, nil
}

// fpoFrame unwinds an FPO frame: the return address is above the callee's outgoing arguments, the
// locals and the saved registers; a function that saves EBP keeps it 8 bytes below the top of the
// saved registers (breakpad's "STACK WIN" rules, symbol_files.md).
func (w *walker) fpoFrame(callee *Frame, rec *X86Frame, calleeParams uint32) (*candidate, error) {
	regs := callee.Regs
	esp := uint32(regs.SP())
	start := uint64(esp + calleeParams + rec.LocalsSize + rec.SavedRegsSize)
	slot, moved := w.findReturnSlot(start)
	ra, err := readU32(w.mem, slot)
	if err != nil {
		return nil, err
	}
	c := &candidate{trust: TrustFPO, raSlot: slot}
	if moved {
		c.note = "return address found by searching the stack"
	}
	if rec.UsesBP {
		if rec.SavedRegsSize >= 8 {
			ebp, err := readU32(w.mem, uint64(esp+calleeParams+rec.SavedRegsSize-8))
			if err != nil {
				return nil, err
			}
			regs.set(x86EBP, uint64(ebp))
		} else {
			c.note = joinNotes(c.note, "saved EBP not located")
		}
	}
	regs.set(x86EIP, uint64(ra))
	regs.set(x86ESP, slot+4)
	regs.keepCalleeSaved()
	c.regs = regs
	return c, nil
}

// findReturnSlot returns start when the word there looks like a return address, else the first
// such word in the next raSearchWords words, else start; moved says a later word was taken.
func (w *walker) findReturnSlot(start uint64) (uint64, bool) {
	for i := 0; i < raSearchWords; i++ {
		addr := start + uint64(4*i)
		v, err := readU32(w.mem, addr)
		if err != nil {
			break
		}
		if w.looksLikeReturn(uint64(v)) {
			return addr, i > 0
		}
	}
	return start, false
}

// framePointerX86 follows the EBP chain: [EBP] is the caller's EBP and [EBP+4] the return
// address (FORMATS.md §8.2). An interrupted frame stopped at the edge of a standard frame (before
// `mov ebp, esp`, or at `pop ebp` / `leave` / `ret`) is recognised from its code first, because
// there EBP still or already belongs to the caller.
func (w *walker) framePointerX86(callee, _ *Frame) (*candidate, error) {
	if callee.Interrupted {
		if c, err := w.frameEdgeX86(callee, false); c != nil || err != nil {
			return c, err
		}
	}
	ebp, ok := callee.Regs.get(x86EBP)
	if !ok || ebp == 0 {
		return nil, nil
	}
	if ebp < callee.StackPointer {
		return nil, fmt.Errorf("frame pointer: EBP %#x is below ESP %#x", ebp, callee.StackPointer)
	}
	if ebp&3 != 0 {
		return nil, fmt.Errorf("frame pointer: EBP %#x is not aligned", ebp)
	}
	prev, err := readU32(w.mem, ebp)
	if err != nil {
		return nil, fmt.Errorf("frame pointer: %w", err)
	}
	ra, err := readU32(w.mem, ebp+4)
	if err != nil {
		return nil, fmt.Errorf("frame pointer: %w", err)
	}
	r := callee.Regs
	r.set(x86EBP, uint64(prev))
	r.set(x86EIP, uint64(ra))
	r.set(x86ESP, ebp+8)
	r.keepCalleeSaved()
	c := &candidate{regs: r, trust: TrustFramePointer, raSlot: ebp + 4}
	if prev != 0 && uint64(prev) <= ebp {
		// The chain ends here: the next EBP does not point further up the stack.
		c.final = fmt.Sprintf("EBP chain ends (next EBP %#x is not above %#x)", prev, ebp)
		if !w.looksLikeReturn(uint64(ra)) {
			return nil, fmt.Errorf("frame pointer: EBP %#x does not point at a frame", ebp)
		}
	}
	return c, nil
}

// frameEdgeX86 decodes the instruction at an interrupted EIP: `pop ebp` / `leave` before a
// `ret`, or a `ret` (the return address is at [ESP]); unless retOnly, also `push ebp` (a standard
// prolog that has not saved EBP: the return address is at [ESP]) and `mov ebp, esp` after it
// ([ESP] is the saved EBP), which are only safe guesses when no frame record describes the
// function. It returns nil when the code is something else or cannot be read.
func (w *walker) frameEdgeX86(callee *Frame, retOnly bool) (*candidate, error) {
	eip := callee.InstructionPointer
	m := w.module(eip)
	if m == nil || m.Unwind == nil || eip-m.Base < 1 {
		return nil, nil
	}
	code, err := m.Unwind.ReadRVA(uint32(eip-m.Base)-1, 4)
	if err != nil {
		return nil, nil
	}
	prev, at := code[0], code[1:]
	isRet := func(b byte) bool { return b == 0xC3 || b == 0xC2 }
	r := callee.Regs
	esp := r.SP()
	var savedEBP, raSlot uint64
	note := "in epilogue"
	switch {
	case isRet(at[0]):
		raSlot = esp
	case at[0] == 0x5D && isRet(at[1]): // pop ebp; ret
		savedEBP, raSlot = esp, esp+4
	case at[0] == 0xC9 && isRet(at[1]): // leave; ret
		ebp, ok := r.get(x86EBP)
		if !ok {
			return nil, nil
		}
		savedEBP, raSlot = ebp, ebp+4
	case retOnly:
		return nil, nil
	case at[0] == 0x55: // push ebp
		raSlot, note = esp, "in prolog"
	case prev == 0x55 && (at[0] == 0x8B && at[1] == 0xEC || at[0] == 0x89 && at[1] == 0xE5): // mov ebp, esp
		savedEBP, raSlot, note = esp, esp+4, "in prolog"
	default:
		return nil, nil
	}
	ra, err := readU32(w.mem, raSlot)
	if err != nil {
		return nil, fmt.Errorf("frame pointer: %w", err)
	}
	if savedEBP != 0 {
		v, err := readU32(w.mem, savedEBP)
		if err != nil {
			return nil, fmt.Errorf("frame pointer: %w", err)
		}
		r.set(x86EBP, uint64(v))
	}
	r.set(x86EIP, uint64(ra))
	r.set(x86ESP, raSlot+4)
	r.keepCalleeSaved()
	return &candidate{regs: r, trust: TrustFramePointer, raSlot: raSlot, calleeNote: note}, nil
}
