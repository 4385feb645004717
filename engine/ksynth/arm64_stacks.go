package ksynth

import "fmt"

// ARM64 stacks and the ARM64 crash. Every frame is a chained frame record (arm64_pe.go): after
// function i's prolog, sp = SP_i, [SP_i] = the caller's x29, [SP_i+8] = the return address
// into the caller, x29 = SP_i, and the caller's sp is SP_i + F_i. A function stopped at its
// first instruction has run no prolog: its return address is still in lr and sp, x29 are the
// caller's.
//
// The crash context is inside KeBugCheckEx, past its prolog (where it captures its context), not
// at its first instruction. That placement once also kept clear of a walker bug (an interrupted
// frame that has moved no stack was dropped, engine/unwind/walk.go leafReturn); the bug is
// fixed, and the idle threads' interrupted hal!HalProcessorIdle now stops before its prolog on
// purpose (arm64_trap.go).
//
// Threads that are not running get their frames laid out the same way, but no switch frame:
// wdbg has no ARM64 KSWITCH_FRAME facts (FORMATS.md §9 items 8 and 10), so the writer invents
// none and KTHREAD.KernelStack only points into the stack.
//
// The crash: synthdrv!SynthReadRegister overran a stack buffer; the driver's own cookie check,
// SynthCheckCookie (its __report_gsfailure; a name without leading underscores, which wdbg's
// symbol undecoration strips on every machine), calls KeBugCheckEx(DRIVER_OVERRAN_STACK_BUFFER)
// directly, so the chain needs no trap frame: KeBugCheckEx ← SynthCheckCookie ←
// SynthReadRegister ← SynthDispatchRead ← IofCallDriver ← SynthWorkerThread ←
// PspSystemThreadStartup ← KiStartSystemThread.

var chainCrashARM64 = []site{{"nt!KeBugCheckEx", 0x1e}, {"synthdrv!SynthCheckCookie", 0x3c},
	{"synthdrv!SynthReadRegister", 0x1c}, {"synthdrv!SynthDispatchRead", 0x40}, {"nt!IofCallDriver", 0x55},
	{"synthdrv!SynthWorkerThread", 0x2a}, {"nt!PspSystemThreadStartup", 0x55}, {"nt!KiStartSystemThread", 0x28}}

// Bug check 0xF7 DRIVER_OVERRAN_STACK_BUFFER: P1 the cookie found (overwritten with 'A's), P2
// the cookie expected, P3 its complement, P4 0 (WINDBG-SPEC §4, engine/bugcheck's catalog).
const (
	armCookieFound    = 0x4141414141414141
	armCookieExpected = 0x00002B992DDFA232
)

func armBugCheck() BugCheck {
	return BugCheck{Code: 0xF7, Name: "DRIVER_OVERRAN_STACK_BUFFER",
		Parameters: [4]uint64{armCookieFound, armCookieExpected, ^uint64(armCookieExpected), 0}}
}

// armModuleDefs adapts the module definitions to ARM64: instructions are 4 bytes, so every
// site moves to a word boundary past the prolog (armSiteOffset), and synthdrv gets the
// SynthCheckCookie the crash goes through.
func armModuleDefs(defs []*moduleDef) {
	for _, d := range defs {
		if d.name == "synthdrv" {
			d.funcs = append(d.funcs, fn("SynthCheckCookie", fnAlloc, 0x28, 0x3c))
		}
		armTrapModuleDefs(d) // the interrupt of the idle threads (arm64_trap.go)
		for _, f := range d.funcs {
			for i, s := range f.sites {
				f.sites[i] = armSiteOffset(f, s)
			}
		}
	}
}

// armSiteOffset moves an x64 site offset to ARM64: rounded up to a word, and at least one
// instruction past the prolog, where the BL that returns there can sit. 0 (the entry) stays.
func armSiteOffset(f *function, off uint32) uint32 {
	if off == 0 {
		return 0
	}
	return max(alignUp(off, 4), uint32(len(armPrologBytes(f)))+4)
}

// namesARM64 maps a chain to ARM64: the crash chain becomes chainCrashARM64, a running idle
// thread's becomes chainInterruptARM64, and every offset becomes its ARM64 site.
func (b *builder) namesARM64(chain []site) []site {
	if len(chain) > 0 && chain[0].fn == "nt!KeBugCheckEx" {
		chain = chainCrashARM64
	}
	if len(chain) > 0 && chain[0].fn == "hal!HalProcessorIdle" {
		chain = chainInterruptARM64
	}
	out := make([]site, len(chain))
	for i, s := range chain {
		s.off = armSiteOffset(b.function(s.fn), s.off)
		out[i] = s
	}
	return out
}

func (b *builder) composeARM64(t *thread, fns []*function, chain []site, ips []uint64, switched bool) error {
	n := len(fns)
	sizes := make([]uint64, n)   // bytes frame i's executed prolog allocated
	advance := make([]uint64, n) // from frame i's sp to frame i+1's
	var total uint64
	for i, f := range fns {
		if chain[i].off != 0 {
			sizes[i] = armFrameSize(f)
		}
		advance[i] = sizes[i]
		if f.kind == fnTrapARM64 {
			advance[i] += trapFrameSizeARM64 // the KTRAP_FRAME below the interrupted sp
		}
		total += advance[i]
	}
	sps := make([]uint64, n+1)
	sps[0] = (t.initialStack - total - 0x100) &^ 0xF
	for i := range n {
		sps[i+1] = sps[i] + advance[i]
	}
	if sps[n] > t.initialStack {
		return fmt.Errorf("frames need %#x bytes, the stack has less", total)
	}
	// x29 in each frame: its own frame record, or the caller's when its prolog has not run;
	// 0 above the thread's first function (the end of the frame chain).
	fps := make([]uint64, n+1)
	for i := n - 1; i >= 0; i-- {
		fps[i] = fps[i+1]
		if sizes[i] != 0 {
			fps[i] = sps[i]
		}
	}
	var frames []Frame
	for i, f := range fns {
		if sizes[i] != 0 {
			b.u64(sps[i], fps[i+1])
			b.u64(sps[i]+8, ips[i+1])
		}
		fr := Frame{Symbol: symbolOf(f, ips[i]), IP: ips[i], SP: sps[i], FP: fps[i], RetAddr: ips[i+1]}
		if f.kind == fnTrapARM64 {
			if i+1 >= n {
				return fmt.Errorf("trap handler %s interrupts nothing", fr.Symbol)
			}
			fr.TrapFrame = sps[i] + sizes[i]
			b.armTrapFrame(t, fr.TrapFrame, i, fns, ips, sps, fps)
		}
		frames = append(frames, fr)
		if t.state == stateRunning && b.m.FaultingIP == 0 && t.chain[0].fn == "nt!KeBugCheckEx" {
			if name := f.image.def.name; name != "nt" && name != "hal" {
				b.m.FaultingIP = ips[i] // the first driver frame: where !analyze must point
			}
		}
	}
	t.layout.frames = frames
	t.layout.start = Registers{IP: ips[0], SP: sps[0], FP: fps[0], LR: ips[1]}
	// No switch frame for waiting threads (see the file comment); a running thread's saved
	// KernelStack is stale anyway.
	t.kernelStack = sps[0] - 0x100
	_ = switched
	return nil
}
