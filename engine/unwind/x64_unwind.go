package unwind

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// errNoFunctionEntry means the function table has no entry for the address: on x64 and ARM64 that
// marks a leaf function, which moves no stack and saves no register.
var errNoFunctionEntry = errors.New("no function table entry")

// unwindStep is the outcome of unwinding one frame with unwind data.
type unwindStep struct {
	caller        Registers
	functionBegin uint32 // RVA of the primary function entry
	machineFrame  uint64 // stack address of the machine frame that gave the caller's IP, 0 if none
	trapFrame     uint64 // ARM64: address of the KTRAP_FRAME (code 0xE8) that gave it, 0 if none
	interrupted   bool   // the caller's IP is an interrupted instruction (machine/trap frame)
	note          string // "in prolog", "in epilogue", ...
}

// unwindX64 computes the caller's registers for a frame executing in a module with x64 unwind
// data, as RtlVirtualUnwind does (FORMATS.md §8.1). exact says the IP is the instruction being
// executed (frame 0, or a frame restored from a machine frame) rather than a return address: only
// then can the frame be inside an epilogue, and only then is the function looked up at IP itself
// instead of IP-1 (a call can be the last instruction of a function).
func unwindX64(mem Memory, src UnwindSource, base uint64, regs Registers, exact bool) (unwindStep, error) {
	ip := regs.PC()
	if ip < base || ip-base > 0xFFFFFFFF {
		return unwindStep{}, fmt.Errorf("x64 unwind: IP %#x is outside the image at %#x", ip, base)
	}
	pcRVA := uint32(ip - base)
	rf, ok := lookupX64(src, pcRVA, exact)
	if !ok {
		return unwindStep{}, errNoFunctionEntry
	}
	rf, err := resolveIndirect(src, rf)
	if err != nil {
		return unwindStep{}, err
	}
	ui, err := DecodeUnwindInfoX64(src, rf.UnwindData)
	if err != nil {
		return unwindStep{}, err
	}
	prologOffset := pcRVA - rf.Begin
	est, err := establisherFrame(ui, prologOffset, &regs)
	if err != nil {
		return unwindStep{}, err
	}
	st := unwindStep{caller: regs}
	st.functionBegin, err = primaryBegin(src, rf, ui)
	if err != nil {
		return unwindStep{}, err
	}
	if exact {
		var in bool
		if ui.Version < 2 {
			in, err = epilogueV1(mem, src, rf, ui, pcRVA, &st)
		} else {
			in, err = epilogueV2(mem, src, rf, ui, pcRVA, &st)
		}
		if err != nil {
			return unwindStep{}, err
		}
		if in {
			st.note = "in epilogue"
			st.caller.keepCalleeSaved()
			return st, nil
		}
	}
	if prologOffset < uint32(ui.SizeOfProlog) {
		st.note = "in prolog"
	}
	if err := undoPrologs(mem, src, rf, ui, pcRVA, est, &st); err != nil {
		return unwindStep{}, err
	}
	st.caller.keepCalleeSaved()
	return st, nil
}

// lookupX64 finds the entry for a frame: a return address is looked up one byte back, so that a
// call ending its function still finds that function.
func lookupX64(src UnwindSource, pcRVA uint32, exact bool) (RuntimeFunction, bool) {
	if !exact && pcRVA > 0 {
		if rf, ok := src.RuntimeFunction(pcRVA - 1); ok && x64Covers(rf, pcRVA-1) {
			return rf, true
		}
	}
	rf, ok := src.RuntimeFunction(pcRVA)
	if !ok || !x64Covers(rf, pcRVA) {
		return RuntimeFunction{}, false
	}
	return rf, true
}

func x64Covers(rf RuntimeFunction, rva uint32) bool {
	return rva >= rf.Begin && (rf.End == 0 || rva < rf.End)
}

// resolveIndirect follows entries whose UnwindData has bit 0 set: they point at the
// RUNTIME_FUNCTION that really describes the code (FORMATS.md §8.1).
func resolveIndirect(src UnwindSource, rf RuntimeFunction) (RuntimeFunction, error) {
	for i := 0; rf.UnwindData&1 != 0; i++ {
		if i >= unwindChainLimit {
			return rf, unwindErr(rf.UnwindData, "RUNTIME_FUNCTION", "more than %d indirect entries", unwindChainLimit)
		}
		rva := rf.UnwindData &^ 1
		b, err := src.ReadRVA(rva, 12)
		if err != nil {
			return rf, unwindErr(rva, "indirect RUNTIME_FUNCTION", "%v", err)
		}
		rf = RuntimeFunction{
			Begin:      binary.LittleEndian.Uint32(b),
			End:        binary.LittleEndian.Uint32(b[4:]),
			UnwindData: binary.LittleEndian.Uint32(b[8:]),
		}
	}
	return rf, nil
}

// chainedInfo decodes the parent of a chained UNWIND_INFO, refusing loops and long chains.
func chainedInfo(src UnwindSource, ui *UnwindInfoX64, seen map[uint32]bool) (RuntimeFunction, *UnwindInfoX64, error) {
	parent := *ui.Chained
	if len(seen) >= unwindChainLimit {
		return parent, nil, unwindErr(ui.RVA, "UNWIND_INFO", "more than %d chained entries", unwindChainLimit)
	}
	if seen[parent.UnwindData] {
		return parent, nil, unwindErr(ui.RVA, "UNWIND_INFO", "chained unwind info loops back to RVA %#x", parent.UnwindData)
	}
	seen[parent.UnwindData] = true
	next, err := DecodeUnwindInfoX64(src, parent.UnwindData)
	return parent, next, err
}

// primaryBegin is the Begin of the entry at the root of a chain: the function's real start.
func primaryBegin(src UnwindSource, rf RuntimeFunction, ui *UnwindInfoX64) (uint32, error) {
	seen := map[uint32]bool{rf.UnwindData: true}
	for ui.Chained != nil {
		parent, next, err := chainedInfo(src, ui, seen)
		if err != nil {
			return 0, err
		}
		rf, ui = parent, next
	}
	return rf.Begin, nil
}

// establisherFrame is the frame base that UWOP_SAVE_* offsets are relative to: RSP, or the frame
// register minus 16×FrameOffset once the prolog has set that register up (FORMATS.md §8.1).
func establisherFrame(ui *UnwindInfoX64, prologOffset uint32, regs *Registers) (uint64, error) {
	rsp := regs.SP()
	if ui.FrameRegister == 0 {
		return rsp, nil
	}
	established := prologOffset >= uint32(ui.SizeOfProlog) || ui.Flags&UnwFlagChainInfo != 0
	if !established {
		for _, c := range ui.Codes {
			if c.Op == UwopSetFPReg {
				established = prologOffset >= uint32(c.CodeOffset)
				break
			}
		}
	}
	if !established {
		return rsp, nil
	}
	fr, ok := regs.get(int(ui.FrameRegister))
	if !ok {
		return 0, fmt.Errorf("x64 unwind: frame register %s is not known", amd64Names[ui.FrameRegister])
	}
	return fr - 16*uint64(ui.FrameOffset), nil
}

// undoPrologs reverses the unwind codes whose instructions have run, for the entry and each
// chained parent, then pops the return address unless a machine frame supplied RIP.
func undoPrologs(mem Memory, src UnwindSource, rf RuntimeFunction, ui *UnwindInfoX64, pcRVA uint32, est uint64, st *unwindStep) error {
	r := &st.caller
	seen := map[uint32]bool{rf.UnwindData: true}
	machine := false
	for {
		offset := pcRVA - rf.Begin
		for _, c := range ui.Codes {
			if offset < uint32(c.CodeOffset) {
				continue // this prolog instruction has not run yet
			}
			mf, err := undoX64Code(mem, ui, c, est, st)
			if err != nil {
				return err
			}
			machine = machine || mf
		}
		if ui.Chained == nil {
			break
		}
		parent, next, err := chainedInfo(src, ui, seen)
		if err != nil {
			return err
		}
		rf, ui = parent, next
	}
	if !machine {
		return popReturnX64(mem, r)
	}
	return nil
}

func popReturnX64(mem Memory, r *Registers) error {
	rsp := r.SP()
	ra, err := readU64(mem, rsp)
	if err != nil {
		return fmt.Errorf("x64 unwind: reading the return address at %#x: %w", rsp, err)
	}
	r.set(amd64RIP, ra)
	r.set(amd64RSP, rsp+8)
	return nil
}

// undoX64Code reverses one prolog operation (FORMATS.md §8.1 table). It reports whether the
// operation was a machine frame.
func undoX64Code(mem Memory, ui *UnwindInfoX64, c UnwindCodeX64, est uint64, st *unwindStep) (bool, error) {
	r := &st.caller
	rsp := r.SP()
	switch c.Op {
	case UwopPushNonvol:
		v, err := readU64(mem, rsp)
		if err != nil {
			return false, fmt.Errorf("x64 unwind: reading pushed %s at %#x: %w", amd64Names[c.OpInfo], rsp, err)
		}
		r.set(int(c.OpInfo), v)
		r.set(amd64RSP, r.SP()+8)
	case UwopAllocLarge, UwopAllocSmall:
		r.set(amd64RSP, rsp+uint64(c.Operand))
	case UwopSetFPReg:
		if ui.FrameRegister == 0 {
			return false, unwindErr(ui.RVA, "UNWIND_INFO", "SET_FPREG without a frame register")
		}
		fr, ok := r.get(int(ui.FrameRegister))
		if !ok {
			return false, fmt.Errorf("x64 unwind: frame register %s is not known", amd64Names[ui.FrameRegister])
		}
		r.set(amd64RSP, fr-16*uint64(ui.FrameOffset))
	case UwopSaveNonvol, UwopSaveNonvolFar:
		addr := est + uint64(c.Operand)
		v, err := readU64(mem, addr)
		if err != nil {
			return false, fmt.Errorf("x64 unwind: reading saved %s at %#x: %w", amd64Names[c.OpInfo], addr, err)
		}
		r.set(int(c.OpInfo), v)
	case UwopSaveXMM128, UwopSaveXMM128Far:
		addr := est + uint64(c.Operand)
		v, err := read128(mem, addr)
		if err != nil {
			return false, fmt.Errorf("x64 unwind: reading saved xmm%d at %#x: %w", c.OpInfo, addr, err)
		}
		r.setVector(int(c.OpInfo), v)
	case UwopPushMachFrame:
		// The machine frame holds RIP, CS, EFLAGS, RSP, SS (above an error code when OpInfo is 1).
		frame := rsp
		if c.OpInfo != 0 {
			frame += 8
		}
		ip, err := readU64(mem, frame)
		if err != nil {
			return false, fmt.Errorf("x64 unwind: reading the machine frame's RIP at %#x: %w", frame, err)
		}
		sp, err := readU64(mem, frame+24)
		if err != nil {
			return false, fmt.Errorf("x64 unwind: reading the machine frame's RSP at %#x: %w", frame+24, err)
		}
		r.set(amd64RIP, ip)
		r.set(amd64RSP, sp)
		st.machineFrame, st.interrupted = frame, true
		return true, nil
	}
	return false, nil
}
