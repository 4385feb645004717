package ksynth

import "fmt"

// An ARM64 trap frame on a running thread's stack. Every processor that did not bug-check runs
// its idle thread, and on ARM64 that thread was interrupted: hal!HalProcessorIdle, at its first
// instruction (its prolog not run: a leaf-like frame whose return address is still in lr), took
// an interrupt; the kernel's handler, nt!KiInterruptException, saved a KTRAP_FRAME below the
// interrupted sp and called the driver's interrupt service routine, which is running:
//
//	synthdrv!SynthInterruptService ← nt!KiInterruptException ← [KTRAP_FRAME] hal!HalProcessorIdle
//	← nt!KiIdleLoop
//
// (Non-running threads have no ARM64 stack to walk — no switch-frame facts, arm64_stacks.go — so
// the trap frame goes on a running one.) The handler's name is ours, in the style of the ARM64
// kernel's exception entries; it is in nt's exports and kernel PDB publics like every function.
//
// KTRAP_FRAME layout: _ARM64_KTRAP_FRAME in dotnet/runtime's ARM64 unwinder (MIT;
// src/coreclr/unwinder/arm64/unwinder.cpp), 0x150 bytes; the same offsets engine/unwind
// (arm64_restore.go, code 0xE8) and engine/analysis (trapframe.go) read.
//
// The handler's prolog is the usual one (stp x29, x30, [sp, #-F]! ; mov x29, sp), run with sp at
// the trap frame, and its .xdata ("ARM64 exception handling", Microsoft C++ docs: unwind codes,
// custom stack cases) lists, in reverse prolog order: set_fp (0xE1), save_fplr_x (0x80 | F/8-1),
// MSFT_OP_TRAP_FRAME (0xE8: the registers come from the trap frame at sp, pc included), end. So
// the handler's frame is {its frame record: interrupted x29, interrupted pc; locals}, the trap
// frame is right above it, and the interrupted sp right above that.

// ARM64 KTRAP_FRAME offsets (dotnet/runtime unwinder.cpp, _ARM64_KTRAP_FRAME).
const (
	trapFrameSizeARM64   = 0x150
	armTrapExceptionType = 0x00 // ExceptionActive: 0 interrupt, 1 exception, 2 system service
	armTrapPreviousIrql  = 0x03 // interrupts only
	armTrapVfpState      = 0x10 // 0: no floating-point state saved
	armTrapSpsr          = 0x90
	armTrapEsr           = 0x94
	armTrapSp            = 0x98
	armTrapX             = 0xA0 // X0–X18
	armTrapLr            = 0x138
	armTrapFp            = 0x140
	armTrapPc            = 0x148
	armTrapRegs          = 19
)

// ARM64 unwind codes the handler's .xdata uses ("ARM64 exception handling", Unwind codes table).
const (
	armCodeSetFP     = 0xE1 // set_fp: mov x29, sp
	armCodeSaveFPLRX = 0x80 // save_fplr_x: stp x29, lr, [sp, #-(Z+1)*8]!  (| Z)
	armCodeTrapFrame = 0xE8 // MSFT_OP_TRAP_FRAME
	armCodeEnd       = 0xE4
	armEret          = 0xD69F03E0 // eret (Arm A64 encoding)
)

// chainInterruptARM64 replaces the idle loop's chain on ARM64 (namesARM64); the offsets are
// x64-style and become ARM64 sites as every chain's do. HalProcessorIdle's 0 keeps it at its
// first instruction.
var chainInterruptARM64 = []site{{"synthdrv!SynthInterruptService", 0x30}, {"nt!KiInterruptException", 0x40},
	{"hal!HalProcessorIdle", 0}, {"nt!KiIdleLoop", 0x9e}}

// armTrapModuleDefs adds the handler to nt and the interrupt service routine to synthdrv.
func armTrapModuleDefs(d *moduleDef) {
	switch d.name {
	case "nt":
		d.funcs = append(d.funcs, fn("KiInterruptException", fnTrapARM64, 0x20, 0x40))
	case "synthdrv":
		d.funcs = append(d.funcs, fn("SynthInterruptService", fnAlloc, 0x38, 0x30))
	}
}

// armXdata is the .xdata record of a trap handler (nil for every other function, whose packed
// data armPdata writes): header with Function Length (bits 0–17, in words) and Code Words 1
// (bits 27–31), no epilogue scopes (the handler leaves through eret, not a described epilogue),
// then the four code bytes.
func armXdata(f *function) []byte {
	if f.kind != fnTrapARM64 {
		return nil
	}
	size := armFrameSize(f)
	if size > armMaxPairFrame {
		panic(fmt.Sprintf("ksynth: internal: trap handler %s has a %#x-byte frame, more than save_fplr_x reaches", f.name, size))
	}
	codes := []byte{armCodeSetFP, armCodeSaveFPLRX | byte(size/8-1), armCodeTrapFrame, armCodeEnd}
	out := make(le, 4+len(codes))
	out.u32(0, f.size/4|uint32(len(codes)/4)<<27)
	copy(out[4:], codes)
	return out
}

// armTrapRegisters is the interrupted context the trap frame holds: the volatile registers
// x0–x18 with values of the writer's (distinct per register and processor), and fp, lr, sp, pc,
// cpsr of the interrupted function. An interrupt taken from kernel code at EL1 saves its PSTATE
// (cpsrEL1h) in Spsr.
func armTrapRegisters(cpu int, pc, sp, fp, lr uint64) map[string]uint64 {
	regs := map[string]uint64{"pc": pc, "sp": sp, "fp": fp, "lr": lr, "cpsr": cpsrEL1h}
	for n := range armTrapRegs {
		regs[fmt.Sprintf("x%d", n)] = uint64(cpu)<<32 | 0xA5A50000 + 0x101*uint64(n)
	}
	return regs
}

// armTrapFrame writes the KTRAP_FRAME at trap for the handler fns[i] of t's stack: the
// interrupted frame is i+1 (pc ips[i+1], sp sps[i+1], x29 fps[i+1]) and its return address, still
// in lr, is ips[i+2]. It records the frame in the manifest.
func (b *builder) armTrapFrame(t *thread, trap uint64, i int, fns []*function, ips, sps, fps []uint64) {
	lr := ips[i+2] // ips has len(fns)+1 entries, the last 0
	regs := armTrapRegisters(t.cpu, ips[i+1], sps[i+1], fps[i+1], lr)
	b.u8(trap+armTrapExceptionType, 0) // an interrupt
	b.u8(trap+armTrapPreviousIrql, 0)  // the idle processor's IRQL (processors.go)
	b.u64(trap+armTrapVfpState, 0)
	b.u32(trap+armTrapSpsr, uint32(regs["cpsr"]))
	b.u32(trap+armTrapEsr, 0) // an interrupt has no syndrome: ESR_EL1 describes synchronous exceptions
	b.u64(trap+armTrapSp, regs["sp"])
	for n := range armTrapRegs {
		b.u64(trap+armTrapX+8*uint64(n), regs[fmt.Sprintf("x%d", n)])
	}
	b.u64(trap+armTrapLr, regs["lr"])
	b.u64(trap+armTrapFp, regs["fp"])
	b.u64(trap+armTrapPc, regs["pc"])
	b.m.ARM64Traps = append(b.m.ARM64Traps, ARM64Trap{Thread: t.addr, Processor: t.cpu, Address: trap,
		Handler: symbolOf(fns[i], ips[i]), Interrupted: symbolOf(fns[i+1], ips[i+1]), Registers: regs})
}

// ARM64Trap is a trap frame the ARM64 writer put on a running thread's stack (arm64_trap.go).
type ARM64Trap struct {
	Thread    uint64 `json:"thread"`    // the ETHREAD
	Processor int    `json:"processor"` // the processor it runs on
	Address   uint64 `json:"address"`   // the KTRAP_FRAME
	// Handler is the frame that owns the trap frame (kv's "TrapFrame @" line); Interrupted the
	// frame the trap frame resumes.
	Handler     string `json:"handler"`
	Interrupted string `json:"interrupted"`
	// Registers are what the trap frame holds: x0–x18, fp, lr, sp, pc, and cpsr (its Spsr).
	Registers map[string]uint64 `json:"registers"`
}
