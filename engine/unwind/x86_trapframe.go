package unwind

import (
	"encoding/binary"
	"fmt"

	"wdbg/engine/cpu"
)

// The x86 KTRAP_FRAME. The kernel saves one on the stack when an interrupt, fault or system call
// enters it, and a trap handler (KiTrap0E, KiSystemService...) keeps EBP pointing at it; its FPO
// record says FRAME_TRAP (FORMATS.md §8.2: "kernel trap frames via KTRAP_FRAME"). The walker
// continues from the interrupted registers saved there; analysis (.trap, !analyze) decodes the
// same frame with DecodeX86TrapFrame.
//
// Offsets: a published Windows 10 1903 x86 _KTRAP_FRAME (size 0x8c): SegGs 0x2c, SegEs 0x30,
// SegDs 0x34, Edx 0x38, Ecx 0x3c, Eax 0x40, SegFs 0x50, Edi 0x54, Esi 0x58, Ebx 0x5c, Ebp 0x60,
// Eip 0x68, SegCs 0x6c, EFlags 0x70, HardwareEsp 0x74, HardwareSegSs 0x78. The Windows 7 layout
// engine/ksynth writes (the public ks386/ntddk one) has SegGs..Eax 4 bytes higher but the fields
// from SegFs on at the same offsets, so the walker uses only those. A trap taken in kernel mode
// pushes no stack pointer, so the interrupted esp is the address of HardwareEsp itself [our
// reading of the x86 trap entry; not checked against a capture].
const (
	// X86TrapFrameSize is sizeof(KTRAP_FRAME) on x86.
	X86TrapFrameSize = 0x8c

	x86TrapSegGs       = 0x2c
	x86TrapSegEs       = 0x30
	x86TrapSegDs       = 0x34
	x86TrapEdx         = 0x38
	x86TrapEcx         = 0x3c
	x86TrapEax         = 0x40
	x86TrapSegFs       = 0x50
	x86TrapEdi         = 0x54
	x86TrapEsi         = 0x58
	x86TrapEbx         = 0x5c
	x86TrapEbp         = 0x60
	x86TrapEip         = 0x68
	x86TrapSegCs       = 0x6c
	x86TrapEFlags      = 0x70
	x86TrapHardwareEsp = 0x74
	x86TrapHardwareSs  = 0x78

	x86EFlagsVM = 1 << 17 // virtual-8086 mode: the processor pushed esp and ss
)

// DecodeX86TrapFrame turns the x86 KTRAP_FRAME at addr (its bytes in b) into a register context,
// with the Windows 10 layout of the volatile registers (DecodeX86TrapFrameBuild for others).
// A trap from kernel mode (CS RPL 0, not virtual-8086) resumes with esp at addr+0x74 and the
// kernel stack segment (0x10); otherwise esp and ss are the ones the processor pushed.
func DecodeX86TrapFrame(b []byte, addr uint64) (*cpu.X86Context, error) {
	return DecodeX86TrapFrameBuild(b, addr, 0)
}

// DecodeX86TrapFrameBuild is DecodeX86TrapFrame for a kernel build: up to Windows 7 (7601) the
// classic layout (the public ks386/ntddk one, which engine/ksynth writes) keeps SegGs..Eax 4
// bytes higher than the 1903 one. Build 0 means unknown: the 1903 layout. Builds between 7601 and
// 18362 are not sourced and take the 1903 layout.
func DecodeX86TrapFrameBuild(b []byte, addr uint64, build uint32) (*cpu.X86Context, error) {
	if len(b) < X86TrapFrameSize {
		return nil, fmt.Errorf("x86 trap frame: truncated (need %d bytes, have %d)", X86TrapFrameSize, len(b))
	}
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	shift := 0
	if build != 0 && build <= 7601 {
		shift = 4
	}
	v := func(off int) uint32 { return u32(off + shift) } // SegGs..Eax
	c := &cpu.X86Context{
		SegGs: v(x86TrapSegGs) & 0xffff, SegEs: v(x86TrapSegEs) & 0xffff, SegDs: v(x86TrapSegDs) & 0xffff,
		Edx: v(x86TrapEdx), Ecx: v(x86TrapEcx), Eax: v(x86TrapEax), SegFs: u32(x86TrapSegFs) & 0xffff,
		Edi: u32(x86TrapEdi), Esi: u32(x86TrapEsi), Ebx: u32(x86TrapEbx), Ebp: u32(x86TrapEbp),
		Eip: u32(x86TrapEip), SegCs: u32(x86TrapSegCs) & 0xffff, EFlags: u32(x86TrapEFlags),
	}
	if x86TrapFromKernel(c) {
		c.Esp, c.SegSs = uint32(addr)+x86TrapHardwareEsp, 0x10
	} else {
		c.Esp, c.SegSs = u32(x86TrapHardwareEsp), u32(x86TrapHardwareSs)&0xffff
	}
	return c, nil
}

func x86TrapFromKernel(c *cpu.X86Context) bool {
	return c.SegCs&1 == 0 && c.EFlags&x86EFlagsVM == 0
}

// trapFrameX86 unwinds a frame whose FPO record says FRAME_TRAP: EBP holds the KTRAP_FRAME, and
// the caller is the interrupted code with the registers saved there. The walk keeps only those
// the trap frame holds at the same offset on every build (eip, esp, ebp, ebx, esi, edi); the
// volatile ones are not a caller's to know anyway. nil, nil when EBP is not set.
func (w *walker) trapFrameX86(callee *Frame) (*candidate, error) {
	trap, ok := callee.Regs.get(x86EBP)
	if !ok || trap == 0 {
		return nil, nil
	}
	if trap < callee.StackPointer {
		return nil, fmt.Errorf("trap frame: EBP %#x is below ESP %#x", trap, callee.StackPointer)
	}
	var b [X86TrapFrameSize]byte
	if err := readFull(w.mem, b[:], trap); err != nil {
		return nil, fmt.Errorf("trap frame at %#x: %w", trap, err)
	}
	c, err := DecodeX86TrapFrame(b[:], trap)
	if err != nil {
		return nil, err
	}
	if c.Eip == 0 {
		// Not a trap frame after all (or one never filled in): let the EBP chain decide.
		return nil, fmt.Errorf("trap frame at %#x: Eip is 0", trap)
	}
	r := Registers{Arch: cpu.ArchX86}
	r.set(x86EIP, uint64(c.Eip))
	r.set(x86ESP, uint64(c.Esp))
	r.set(x86EBP, uint64(c.Ebp))
	r.set(x86EBX, uint64(c.Ebx))
	r.set(x86ESI, uint64(c.Esi))
	r.set(x86EDI, uint64(c.Edi))
	note := ""
	if !x86TrapFromKernel(c) {
		note = "trap frame from user mode"
	}
	return &candidate{regs: r, trust: TrustFPO, note: note, trapFrame: trap, interrupted: true}, nil
}
