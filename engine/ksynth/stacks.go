package ksynth

import (
	"encoding/binary"
	"fmt"
)

// Kernel stacks. A chain of sites (youngest first) becomes frames laid out the way the
// functions' prologs built them, so that a correct unwinder walks them back:
//
//   - x64 (FORMATS.md §8.1): frame i's body rsp is SP_i; its prolog pushed/allocated
//     frameSize bytes; the return address into frame i+1 is at SP_i+frameSize, and
//     SP_{i+1} = SP_i+frameSize+8. KiPageFault instead ends in a machine frame (ErrorCode,
//     Rip, SegCs, EFlags, Rsp, SegSs) that resumes the interrupted function.
//   - x86 (FORMATS.md §8.2, EBP chain): EBP_i = ESP_i+locals, [EBP_i] = EBP_{i+1},
//     [EBP_i+4] = the return address, three argument slots above it, and ESP_{i+1} = EBP_i+0x14.
//     KiTrap0E's EBP is the KTRAP_FRAME, whose DbgEbp/DbgEip (@0/@4) continue the chain.
//
// Threads that are not running start at a switch frame at KTHREAD.KernelStack: x64
// KSWITCH_FRAME (0x40 bytes, Rbp @0x30, return address @0x38, FORMATS.md §9 gap 8: the layout
// is the writer's assumption), x86 {ExceptionList @0, flags @4, return address @8} followed by
// KiSwapContext's saved ebp, edi, esi, ebx.

type stackLayout struct {
	frames []Frame
	start  Registers
}

// x86 KTRAP_FRAME offsets (public x86 ks386/ntddk layout, not in FORMATS.md).
const (
	trap86DbgEbp   = 0x00
	trap86DbgEip   = 0x04
	trap86SegGs    = 0x30
	trap86SegEs    = 0x34
	trap86SegDs    = 0x38
	trap86Edx      = 0x3C
	trap86Ecx      = 0x40
	trap86Eax      = 0x44
	trap86SegFs    = 0x50
	trap86Edi      = 0x54
	trap86Esi      = 0x58
	trap86Ebx      = 0x5C
	trap86Ebp      = 0x60
	trap86ErrCode  = 0x64
	trap86Eip      = 0x68
	trap86SegCs    = 0x6C
	trap86EFlags   = 0x70
	trap86KernelSP = 0x74 // a kernel-mode trap pushes no Esp/SegSs: the interrupted esp is here
)

// x64 KTRAP_FRAME offsets (public amd64 ntddk layout, not in FORMATS.md).
const (
	trap64PreviousMode = 0x28
	trap64PreviousIrql = 0x29
	trap64Rax          = 0x30
	trap64Rcx          = 0x38
	trap64Rdx          = 0x40
	trap64R8           = 0x48
	trap64R9           = 0x50
	trap64R10          = 0x58
	trap64R11          = 0x60
	trap64Rbp          = 0x158
	trap64ErrorCode    = 0x160
	trap64Rip          = 0x168
	trap64SegCs        = 0x170
	trap64EFlags       = 0x178
	trap64Rsp          = 0x180
	trap64SegSs        = 0x188
)

// composeStack lays out t's chain on its stack and sets t.kernelStack and t.layout.
func (b *builder) composeStack(t *thread) error {
	chain := b.names(t.chain)
	fns := make([]*function, len(chain))
	ips := make([]uint64, len(chain)+1) // ips[len] = 0: the walk ends
	for i, s := range chain {
		fns[i] = b.function(s.fn)
		ips[i] = fns[i].va() + uint64(s.off)
		if s.off != 0 && int(s.off) < len(fns[i].prolog) {
			return fmt.Errorf("%s+%#x is inside the prolog", s.fn, s.off)
		}
	}
	b.patchCode(fns, ips)
	switched := t.state != stateRunning
	if b.p.arm64 {
		return b.composeARM64(t, fns, chain, ips, switched)
	}
	if b.p.is64 {
		return b.composeX64(t, fns, chain, ips, switched)
	}
	return b.composeX86(t, fns, ips, switched)
}

// patchCode writes a call instruction ending at every return address (E8 rel32 to the callee;
// the first caller of a site wins) and, after a trap frame, a faulting load at the interrupted
// instruction, so that disassembly around the frames looks like code.
func (b *builder) patchCode(fns []*function, ips []uint64) {
	for i := 1; i < len(fns); i++ {
		callee := fns[i-1]
		if callee.kind == fnTrapARM64 {
			continue // the interrupted instruction is the function's own code (arm64_trap.go)
		}
		if callee.kind == fnMachineFrame || callee.kind == fnTrap86 {
			if b.p.is64 {
				b.write(ips[i], []byte{0x48, 0x8B, 0x01}) // mov rax, [rcx]
			} else {
				b.write(ips[i], []byte{0x8B, 0x01}) // mov eax, [ecx]
			}
			continue
		}
		key := ips[i]
		if b.patched == nil {
			b.patched = map[uint64]bool{}
		}
		if b.patched[key] {
			continue
		}
		b.patched[key] = true
		if b.p.arm64 {
			b.write(ips[i]-4, armBLWord(ips[i]-4, callee.va())) // the BL returns to ips[i]
			continue
		}
		call := []byte{0xE8, 0, 0, 0, 0}
		binary.LittleEndian.PutUint32(call[1:], uint32(callee.va()-ips[i]))
		b.write(ips[i]-5, call)
		b.write(ips[i], []byte{0x90})
	}
}

func (b *builder) composeX64(t *thread, fns []*function, chain []site, ips []uint64, switched bool) error {
	n := len(fns)
	sizes := make([]uint64, n) // bytes the executed prolog of frame i allocated
	advance := make([]uint64, n)
	var total uint64
	for i, f := range fns {
		if chain[i].off != 0 || f.kind == fnMachineFrame {
			sizes[i] = f.frameSize()
		}
		advance[i] = sizes[i] + 8
		if f.kind == fnMachineFrame {
			advance[i] = trapFrameSize64
		}
		total += advance[i]
	}
	sp0 := (t.initialStack - total - 0x100) &^ 0xF
	sps := make([]uint64, n+1)
	sps[0] = sp0
	for i := range n {
		sps[i+1] = sps[i] + advance[i]
	}
	if sps[n] > t.initialStack {
		return fmt.Errorf("frames need %#x bytes, the stack has less", total)
	}
	// rbp: unchanged through frames that do not set it; KiPageFault sets it to trap+0x80.
	rbps := make([]uint64, n+1)
	for i := n - 1; i >= 0; i-- {
		rbps[i] = rbps[i+1]
		if fns[i].kind == fnMachineFrame {
			rbps[i] = sps[i] + trapRbpOffset64
		}
	}
	var frames []Frame
	for i, f := range fns {
		sp := sps[i]
		fr := Frame{Symbol: symbolOf(f, ips[i]), IP: ips[i], SP: sp, FP: rbps[i], RetAddr: ips[i+1]}
		switch f.kind {
		case fnPushRbp:
			if sizes[i] != 0 {
				b.u64(sp+uint64(f.alloc), rbps[i+1])
			}
			b.u64(sp+sizes[i], ips[i+1])
		case fnMachineFrame:
			trap := sp
			fr.TrapFrame = trap
			b.trapFrame = trap
			b.u64(trap+trap64Rbp, rbps[i+1])
			b.u64(trap+trap64ErrorCode, 0) // read of a not-present page, kernel mode
			b.u64(trap+trap64Rip, ips[i+1])
			b.u64(trap+trap64SegCs, 0x10)
			b.u64(trap+trap64EFlags, 0x10286)
			b.u64(trap+trap64Rsp, sps[i+1])
			b.u64(trap+trap64SegSs, 0x18)
			b.u8(trap+trap64PreviousMode, kernelMode)
			b.u8(trap+trap64PreviousIrql, 2)
			regs := map[string]uint64{"rax": 0, "rcx": b.referencedAddress(), "rdx": 0x10, "r8": 0x2,
				"r9": 0, "r10": 0xFFFFF80312401000, "r11": sps[i+1] - 0x40}
			for name, off := range map[string]uint64{"rax": trap64Rax, "rcx": trap64Rcx, "rdx": trap64Rdx,
				"r8": trap64R8, "r9": trap64R9, "r10": trap64R10, "r11": trap64R11} {
				b.u64(trap+off, regs[name])
			}
			regs["rip"], regs["rsp"], regs["rbp"], regs["efl"] = ips[i+1], sps[i+1], rbps[i+1], 0x10286
			b.m.TrapFrame, b.m.TrapRegisters = trap, regs
			b.m.FaultingIP = ips[i+1]
		default:
			b.u64(sp+sizes[i], ips[i+1])
		}
		frames = append(frames, fr)
	}
	t.layout.frames = frames
	t.layout.start = Registers{IP: ips[0], SP: sps[0], FP: rbps[0]}
	if switched {
		ks := sps[0] - 0x40
		b.u64(ks+0x30, rbps[0])
		b.u64(ks+0x38, ips[0])
		t.kernelStack = ks
	} else {
		t.kernelStack = sps[0] - 0x100 // a running thread's saved KernelStack is stale
	}
	return nil
}

func (b *builder) composeX86(t *thread, fns []*function, ips []uint64, switched bool) error {
	n := len(fns)
	advance := make([]uint64, n)
	var total uint64
	for i, f := range fns {
		advance[i] = uint64(f.alloc) + 0x14
		if f.kind == fnTrap86 {
			advance[i] = trap86KernelSP
		}
		total += advance[i]
	}
	esps := make([]uint64, n+1)
	esps[0] = (t.initialStack - total - 0x80) &^ 3
	for i := range n {
		esps[i+1] = esps[i] + advance[i]
	}
	if esps[n] > t.initialStack {
		return fmt.Errorf("frames need %#x bytes, the stack has less", total)
	}
	ebps := make([]uint64, n+1)
	for i, f := range fns {
		ebps[i] = esps[i] + uint64(f.alloc)
	}
	for i, f := range fns {
		if f.kind == fnTrap86 {
			b.m.TrapFrame, b.m.FaultingIP = ebps[i], ips[i+1]
		}
	}
	var frames []Frame
	for i, f := range fns {
		ebp := ebps[i]
		fr := Frame{Symbol: symbolOf(f, ips[i]), IP: ips[i], SP: esps[i], FP: ebp, RetAddr: ips[i+1]}
		b.u32(ebp, uint32(ebps[i+1]))
		b.u32(ebp+4, uint32(ips[i+1]))
		if f.kind == fnTrap86 {
			trap := ebp
			fr.TrapFrame = trap
			b.trapFrame = trap
			regs := map[string]uint64{"eax": 0, "ecx": b.referencedAddress(), "edx": 0x10, "ebx": 0,
				"esi": 0x84801000, "edi": 0, "ebp": ebps[i+1], "eip": ips[i+1], "esp": esps[i+1], "efl": 0x10286}
			for name, off := range map[string]uint64{"eax": trap86Eax, "ecx": trap86Ecx, "edx": trap86Edx,
				"ebx": trap86Ebx, "esi": trap86Esi, "edi": trap86Edi, "ebp": trap86Ebp, "eip": trap86Eip,
				"efl": trap86EFlags} {
				b.u32(trap+off, uint32(regs[name]))
			}
			b.u32(trap+trap86SegCs, 0x8)
			b.u32(trap+trap86SegDs, 0x23)
			b.u32(trap+trap86SegEs, 0x23)
			b.u32(trap+trap86SegFs, 0x30)
			b.u32(trap+trap86SegGs, 0)
			b.u32(trap+trap86ErrCode, 0)
			b.m.TrapRegisters = regs
		} else {
			args := b.frameArgs(f, i, fns, ebps)
			for k, a := range args {
				b.u32(ebp+8+4*uint64(k), uint32(a))
			}
		}
		frames = append(frames, fr)
	}
	t.layout.frames = frames
	t.layout.start = Registers{IP: ips[0], SP: esps[0], FP: ebps[0]}
	if switched {
		ks := esps[0] - 0xC
		b.u32(ks, 0xFFFFFFFF) // ExceptionList: end of the SEH chain
		b.u32(ks+4, 0)
		b.u32(ks+8, uint32(ips[0]))
		// KiSwapContext's frame (0x10 bytes) holds the registers it saved: ebp first.
		b.u32(esps[0], uint32(ebps[0]))
		t.kernelStack = ks
	} else {
		t.kernelStack = esps[0] - 0x80
	}
	return nil
}

// frameArgs are the three argument slots of an x86 frame (kv shows them).
func (b *builder) frameArgs(f *function, i int, fns []*function, ebps []uint64) [3]uint64 {
	switch f.name {
	case "KeBugCheckEx":
		bc := b.bugCheck()
		return [3]uint64{uint64(bc.Code), bc.Parameters[0], bc.Parameters[1]}
	case "KiDispatchException":
		if i+1 < len(fns) && fns[i+1].kind == fnTrap86 {
			return [3]uint64{0, 0, ebps[i+1]} // ExceptionRecord, ExceptionFrame, TrapFrame
		}
	}
	return [3]uint64{}
}

// symbolOf formats module!function+0xoff (WinDbg omits +0x0).
func symbolOf(f *function, ip uint64) string {
	off := ip - f.va()
	if off == 0 {
		return f.image.def.name + "!" + f.name
	}
	return fmt.Sprintf("%s!%s+%#x", f.image.def.name, f.name, off)
}
