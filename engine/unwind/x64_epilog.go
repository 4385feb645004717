package unwind

import (
	"encoding/binary"
	"fmt"
)

// maxEpilogueBytes bounds the code read at RIP to recognise an epilogue: an add/lea, sixteen
// two-byte pops, a prefix and a jump fit in it.
const maxEpilogueBytes = 64

// x64Epilogue is an epilogue recognised at RIP: an optional stack adjustment, pops, then a return
// or a tail jump (FORMATS.md §8.1, "Epilogue recognition").
type x64Epilogue struct {
	adjust   int // 0 none, 1 add rsp, imm, 2 lea rsp, [frame register + disp]
	disp     int64
	frameReg int
	pops     []int
}

// epilogueV1 decides, by decoding the instructions at RIP, whether a version-1 frame is inside an
// epilogue, and if so emulates the rest of the epilogue forward into st.caller. Code that cannot be
// read is taken as "not in an epilogue", as the Windows unwinder does.
func epilogueV1(mem Memory, src UnwindSource, rf RuntimeFunction, ui *UnwindInfoX64, pcRVA uint32, st *unwindStep) (bool, error) {
	n := maxEpilogueBytes
	if rf.End > pcRVA && rf.End-pcRVA < uint32(n) {
		n = int(rf.End - pcRVA)
	}
	code, err := src.ReadRVA(pcRVA, n)
	if err != nil {
		return false, nil
	}
	ep, ok := parseX64Epilogue(code, src, rf, ui, pcRVA)
	if !ok {
		return false, nil
	}
	r := &st.caller
	switch ep.adjust {
	case 1:
		r.set(amd64RSP, r.SP()+uint64(ep.disp))
	case 2:
		fr, known := r.get(ep.frameReg)
		if !known {
			return false, fmt.Errorf("x64 unwind: frame register %s is not known", amd64Names[ep.frameReg])
		}
		r.set(amd64RSP, fr+uint64(ep.disp))
	}
	for _, reg := range ep.pops {
		rsp := r.SP()
		v, err := readU64(mem, rsp)
		if err != nil {
			return false, fmt.Errorf("x64 unwind: emulating pop %s at %#x: %w", amd64Names[reg], rsp, err)
		}
		r.set(reg, v)
		r.set(amd64RSP, rsp+8)
	}
	return true, popReturnX64(mem, r)
}

// parseX64Epilogue recognises the epilogue forms of FORMATS.md §8.1 at the start of code.
func parseX64Epilogue(code []byte, src UnwindSource, rf RuntimeFunction, ui *UnwindInfoX64, pcRVA uint32) (x64Epilogue, bool) {
	var ep x64Epilogue
	at := func(i int) int { // -1 past the end of what could be read
		if i < len(code) {
			return int(code[i])
		}
		return -1
	}
	p := 0
	switch {
	case at(0) == 0x48 && at(1) == 0x83 && at(2) == 0xC4 && len(code) >= 4: // add rsp, imm8
		ep.adjust, ep.disp = 1, int64(int8(code[3]))
		p = 4
	case at(0) == 0x48 && at(1) == 0x81 && at(2) == 0xC4 && len(code) >= 7: // add rsp, imm32
		ep.adjust, ep.disp = 1, int64(int32(binary.LittleEndian.Uint32(code[3:])))
		p = 7
	case at(0)&0xFE == 0x48 && at(1) == 0x8D && len(code) >= 3: // lea rsp, [fr+disp]
		fr := int(code[0]&1)<<3 | int(code[2]&7)
		if fr != 0 && fr == int(ui.FrameRegister) {
			switch code[2] & 0xF8 {
			case 0x60:
				if len(code) >= 4 {
					ep.adjust, ep.frameReg, ep.disp = 2, fr, int64(int8(code[3]))
					p = 4
				}
			case 0xA0:
				if len(code) >= 7 {
					ep.adjust, ep.frameReg, ep.disp = 2, fr, int64(int32(binary.LittleEndian.Uint32(code[3:])))
					p = 7
				}
			}
		}
	}
	for {
		b := at(p)
		if b >= 0 && b&0xF8 == 0x58 { // pop r64
			ep.pops = append(ep.pops, b&7)
			p++
			continue
		}
		if b >= 0 && b&0xF0 == 0x40 && at(p+1) >= 0 && at(p+1)&0xF8 == 0x58 { // REX pop r64
			ep.pops = append(ep.pops, (b&1)<<3|at(p+1)&7)
			p += 2
			continue
		}
		break
	}
	if at(p) == 0xF2 { // REPNE prefix before the control transfer
		p++
	}
	switch b := at(p); {
	case b == 0xC3 || b == 0xC2: // ret, ret imm16
		return ep, true
	case b == 0xF3 && at(p+1) == 0xC3: // rep ret
		return ep, true
	case b == 0xEB || b == 0xE9: // jmp rel8 / rel32: a tail call when it leaves the function
		var target uint32
		if b == 0xEB {
			if at(p+1) < 0 {
				return ep, false
			}
			target = pcRVA + uint32(p) + 2 + uint32(int32(int8(code[p+1])))
		} else {
			if p+5 > len(code) {
				return ep, false
			}
			target = pcRVA + uint32(p) + 5 + uint32(int32(binary.LittleEndian.Uint32(code[p+1:])))
		}
		if target < rf.Begin || (rf.End != 0 && target >= rf.End) {
			primary, same := sameFunction(src, rf, ui, target)
			return ep, !same || target == primary
		}
		return ep, target == rf.Begin && ui.Flags&UnwFlagChainInfo == 0
	case b == 0xFF && at(p+1) == 0x25: // jmp [rip+disp32]
		return ep, true
	case b >= 0 && b&0xF8 == 0x48 && at(p+1) == 0xFF && at(p+2) >= 0 && at(p+2)&0x38 == 0x20:
		// REX.W jmp r/m64: the redundant REX.W marks a jump out of the function.
		return ep, true
	}
	return ep, false
}

// sameFunction reports whether target lies in another fragment of the function rf belongs to,
// and returns that function's primary Begin.
func sameFunction(src UnwindSource, rf RuntimeFunction, ui *UnwindInfoX64, target uint32) (uint32, bool) {
	ours, err := primaryBegin(src, rf, ui)
	if err != nil {
		return 0, false
	}
	trf, ok := src.RuntimeFunction(target)
	if !ok || !x64Covers(trf, target) {
		return 0, false
	}
	trf, err = resolveIndirect(src, trf)
	if err != nil {
		return 0, false
	}
	tui, err := DecodeUnwindInfoX64(src, trf.UnwindData)
	if err != nil {
		return 0, false
	}
	theirs, err := primaryBegin(src, trf, tui)
	if err != nil || theirs != ours {
		return 0, false
	}
	return ours, true
}

// epilogueV2 uses the UWOP_EPILOG descriptors of a version-2 UNWIND_INFO to decide whether RIP is
// in an epilogue, and emulates the rest of it with the prolog's push codes.
func epilogueV2(mem Memory, src UnwindSource, rf RuntimeFunction, ui *UnwindInfoX64, pcRVA uint32, st *unwindStep) (bool, error) {
	if len(ui.slots) == 0 {
		return false, nil
	}
	first := ui.slots[0]
	if uint8(first>>8)&0x0F != UwopEpilog || rf.End == 0 {
		return false, nil
	}
	size := uint32(first & 0xFF) // the first descriptor's CodeOffset is the epilogue size
	if size == 0 {
		return false, nil
	}
	var start uint32
	in := false
	if (first>>12)&1 != 0 { // a single epilogue at the end of the function
		start = rf.End - size
		in = pcRVA-start < size
	}
	for i := 1; !in && i < len(ui.slots); i++ {
		s := ui.slots[i]
		if uint8(s>>8)&0x0F != UwopEpilog {
			break
		}
		off := uint32(s&0xFF) + uint32(s>>12)*256 // distance from the function end
		if off == 0 {
			break // padding
		}
		start = rf.End - off
		in = pcRVA-start < size
	}
	if !in {
		return false, nil
	}
	return true, emulateEpilogueV2(mem, src, rf, ui, pcRVA-start, st)
}

// emulateEpilogueV2 pops the registers the epilogue has not popped yet (each pop is one byte, two
// for r8–r15), then returns through a machine frame or the return address.
func emulateEpilogueV2(mem Memory, src UnwindSource, rf RuntimeFunction, ui *UnwindInfoX64, done uint32, st *unwindStep) error {
	seen := map[uint32]bool{rf.UnwindData: true}
	first := -1
	for {
		for i, c := range ui.Codes {
			if c.Op == UwopPushNonvol || c.Op == UwopPushMachFrame {
				first = i
				break
			}
		}
		if first >= 0 || ui.Chained == nil {
			break
		}
		_, next, err := chainedInfo(src, ui, seen)
		if err != nil {
			return err
		}
		ui = next
	}
	r := &st.caller
	if first >= 0 {
		cur := uint32(0)
		i := first
		for ; i < len(ui.Codes) && ui.Codes[i].Op == UwopPushNonvol; i++ {
			c := ui.Codes[i]
			if cur >= done {
				rsp := r.SP()
				v, err := readU64(mem, rsp)
				if err != nil {
					return fmt.Errorf("x64 unwind: emulating pop %s at %#x: %w", amd64Names[c.OpInfo], rsp, err)
				}
				r.set(int(c.OpInfo), v)
				r.set(amd64RSP, rsp+8)
			}
			cur++
			if c.OpInfo >= 8 {
				cur++
			}
		}
		if i < len(ui.Codes) && ui.Codes[i].Op == UwopAllocSmall && ui.Codes[i].OpInfo == 0 {
			// pushfq's matching pop: ALLOC_SMALL 8
			if cur >= done {
				r.set(amd64RSP, r.SP()+8)
			}
			i++
		}
		if i < len(ui.Codes) && ui.Codes[i].Op == UwopPushMachFrame {
			rsp := r.SP()
			ip, err := readU64(mem, rsp)
			if err != nil {
				return fmt.Errorf("x64 unwind: reading the machine frame's RIP at %#x: %w", rsp, err)
			}
			sp, err := readU64(mem, rsp+24)
			if err != nil {
				return fmt.Errorf("x64 unwind: reading the machine frame's RSP at %#x: %w", rsp+24, err)
			}
			r.set(amd64RIP, ip)
			r.set(amd64RSP, sp)
			st.machineFrame, st.interrupted = rsp, true
			return nil
		}
	}
	return popReturnX64(mem, r)
}
