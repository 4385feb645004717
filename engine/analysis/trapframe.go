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

// TrapFrameSize is the size of a KTRAP_FRAME for the architecture (0 when wdbg cannot decode one).
func TrapFrameSize(a cpu.Arch) int {
	switch a {
	case cpu.ArchAMD64:
		return trapFrameSizeAMD64
	case cpu.ArchX86:
		return unwind.X86TrapFrameSize
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
	return &cpu.AMD64Context{
		MxCsr: u32(0x2c),
		Rax:   u64(0x30), Rcx: u64(0x38), Rdx: u64(0x40), R8: u64(0x48), R9: u64(0x50), R10: u64(0x58), R11: u64(0x60),
		SegDs: u16(0x130), SegEs: u16(0x132), SegFs: u16(0x134), SegGs: u16(0x136),
		Rbp: u64(0x158), Rip: u64(0x168), SegCs: u16(0x170), EFlags: u32(0x178), Rsp: u64(0x180), SegSs: u16(0x188),
	}, nil
}
