package analysis

import (
	"encoding/binary"
	"fmt"

	"wdbg/engine/cpu"
	"wdbg/engine/unwind"
)

// KTRAP_FRAME layouts. The kernel saves a trap frame on the stack when an interrupt, fault or
// system call enters it; bug checks 0x8E and 0x139 name one. Only the volatile registers and the
// machine frame are always saved: the non-volatile ones are left zero, as `.trap` shows them.
//
// x64 offsets: `dt nt!_KTRAP_FRAME` output in several public write-ups (Windows 10 1809-26100
// agree): Rax 0x30, Rcx 0x38, Rdx 0x40, R8 0x48, R9 0x50, R10 0x58, R11 0x60, SegDs 0x130,
// SegEs 0x132, SegFs 0x134, SegGs 0x136, Rbp 0x158, Rip 0x168, SegCs 0x170, EFlags 0x178,
// Rsp 0x180, SegSs 0x188; size 0x190.
// x86: engine/unwind decodes it (unwind.DecodeX86TrapFrame, offsets and their source there), as
// the stack walker follows x86 trap frames too.
const trapFrameSizeAMD64 = 0x190

// ARM64 KTRAP_FRAME: the public layout of _ARM64_KTRAP_FRAME in dotnet/runtime's ARM64 unwinder
// (MIT; src/coreclr/unwinder/arm64/unwinder.cpp), size 0x150: ExceptionActive u8 @0 (0 interrupt,
// 1 exception, 2 system service), FaultStatus u32 @4, FaultAddress (or, for system services, the
// previous TrapFrame) u64 @8, VfpState pointer @0x10, debug registers 0x18–0x8F, Spsr u32 @0x90,
// Esr u32 @0x94, Sp @0x98, X0–X18 @0xA0 (19 × 8), Lr @0x138, Fp @0x140, Pc @0x148. Only the
// volatile registers are saved: x19–x28 are not in it and stay zero. engine/unwind's ARM64
// unwinder (code 0xE8, arm64_restore.go) reads the same offsets.
const (
	trapFrameSizeARM64 = 0x150
	arm64TrapSpsr      = 0x90
	arm64TrapSp        = 0x98
	arm64TrapX         = 0xA0
	arm64TrapLr        = 0x138
	arm64TrapFp        = 0x140
	arm64TrapPc        = 0x148
	// arm64TrapRegs is the number of X registers saved from X0 on (X0–X18).
	arm64TrapRegs = 19
)

// TrapFrameSize is the size of a KTRAP_FRAME for the architecture (0 when wdbg cannot decode one).
func TrapFrameSize(a cpu.Arch) int {
	switch a {
	case cpu.ArchAMD64:
		return trapFrameSizeAMD64
	case cpu.ArchX86:
		return unwind.X86TrapFrameSize
	case cpu.ArchARM64:
		return trapFrameSizeARM64
	}
	return 0
}

// DecodeTrapFrame turns the KTRAP_FRAME at addr (its bytes in b) into a register context, for
// a kernel of unknown build (DecodeTrapFrameBuild).
func DecodeTrapFrame(a cpu.Arch, b []byte, addr uint64) (cpu.Context, error) {
	return DecodeTrapFrameBuild(a, b, addr, 0)
}

// DecodeTrapFrameBuild decodes the trap frame of a kernel of that build: the x86 layout
// changed after Windows 7 (unwind.DecodeX86TrapFrameBuild).
func DecodeTrapFrameBuild(a cpu.Arch, b []byte, addr uint64, build uint32) (cpu.Context, error) {
	need := TrapFrameSize(a)
	if need == 0 {
		return nil, fmt.Errorf("trap frames of %s are not supported", a)
	}
	if len(b) < need {
		return nil, fmt.Errorf("%s trap frame: truncated (need %d bytes, have %d)", a, need, len(b))
	}
	le := binary.LittleEndian
	u64 := func(off int) uint64 { return le.Uint64(b[off:]) }
	u32 := func(off int) uint32 { return le.Uint32(b[off:]) }
	u16 := func(off int) uint16 { return le.Uint16(b[off:]) }
	if a == cpu.ArchX86 {
		c, err := unwind.DecodeX86TrapFrameBuild(b, addr, build)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return c, nil
	}
	if a == cpu.ArchARM64 {
		return decodeARM64TrapFrame(b), nil
	}
	return &cpu.AMD64Context{
		MxCsr: u32(0x2c),
		Rax:   u64(0x30), Rcx: u64(0x38), Rdx: u64(0x40), R8: u64(0x48), R9: u64(0x50), R10: u64(0x58), R11: u64(0x60),
		SegDs: u16(0x130), SegEs: u16(0x132), SegFs: u16(0x134), SegGs: u16(0x136),
		Rbp: u64(0x158), Rip: u64(0x168), SegCs: u16(0x170), EFlags: u32(0x178), Rsp: u64(0x180), SegSs: u16(0x188),
	}, nil
}

// decodeARM64TrapFrame turns an ARM64 KTRAP_FRAME (at least trapFrameSizeARM64 bytes) into a
// CONTEXT: X0–X18, Fp, Lr, Sp, Pc, and Cpsr from the saved Spsr (the PSTATE of the interrupted
// code, as the unwinder's 0xE8 code restores it). ContextFlags says CONTROL | INTEGER
// (FORMATS.md §4.4: CONTEXT_ARM64 0x00400000, CONTROL 0x1, INTEGER 0x2): the floating-point
// state is behind VfpState and not read.
func decodeARM64TrapFrame(b []byte) *cpu.ARM64Context {
	le := binary.LittleEndian
	c := &cpu.ARM64Context{
		ContextFlags: cpu.ContextFlagARM64 | 0x3,
		Cpsr:         le.Uint32(b[arm64TrapSpsr:]),
		Sp:           le.Uint64(b[arm64TrapSp:]),
		Lr:           le.Uint64(b[arm64TrapLr:]),
		Fp:           le.Uint64(b[arm64TrapFp:]),
		Pc:           le.Uint64(b[arm64TrapPc:]),
	}
	for i := 0; i < arm64TrapRegs; i++ {
		c.X[i] = le.Uint64(b[arm64TrapX+8*i:])
	}
	c.X[29], c.X[30] = c.Fp, c.Lr // X holds all 31 registers; Fp and Lr repeat x29 and x30
	return c
}
