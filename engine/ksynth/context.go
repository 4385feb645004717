package ksynth

import "encoding/binary"

// CONTEXT records (FORMATS.md §4.4).

const (
	contextSizeAMD64 = 0x4D0
	contextSizeX86   = 0x2CC
	// ContextFlags: CONTROL | INTEGER | SEGMENTS | FLOATING_POINT | DEBUG_REGISTERS.
	contextFlagsAMD64 = 0x0010001F
	// x86: CONTROL | INTEGER | SEGMENTS | FLOATING_POINT | DEBUG_REGISTERS | EXTENDED_REGISTERS.
	contextFlagsX86 = 0x0001003F
	mxcsrDefault    = 0x1F80
)

// amd64Regs is the order of the integer registers at 0x78 (§4.4), Rip follows at 0xF8.
var amd64Regs = []string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"}

// contextAMD64 encodes an AMD64 CONTEXT with kernel-mode segments and the given registers
// (names as in amd64Regs, plus "efl").
func contextAMD64(regs map[string]uint64) []byte {
	c := le(make([]byte, contextSizeAMD64))
	c.u32(0x30, contextFlagsAMD64)
	c.u32(0x34, mxcsrDefault)
	c.u16(0x38, 0x10) // SegCs
	c.u16(0x3A, 0x2B) // SegDs
	c.u16(0x3C, 0x2B) // SegEs
	c.u16(0x3E, 0x53) // SegFs
	c.u16(0x40, 0x2B) // SegGs
	c.u16(0x42, 0x18) // SegSs
	efl := regs["efl"]
	if efl == 0 {
		efl = 0x282
	}
	c.u32(0x44, uint32(efl))
	for i, r := range amd64Regs {
		c.u64(0x78+8*uint32(i), regs[r])
	}
	c.u16(0x100, 0x027F)       // FltSave.ControlWord
	c.u32(0x118, mxcsrDefault) // FltSave.MxCsr equals MxCsr (kdmp-parser's check, §4.4)
	c.u32(0x11C, 0xFFFF)       // MxCsr_Mask
	return c
}

var x86Regs = map[string]uint32{"edi": 0x9C, "esi": 0xA0, "ebx": 0xA4, "edx": 0xA8, "ecx": 0xAC, "eax": 0xB0,
	"ebp": 0xB4, "eip": 0xB8, "esp": 0xC4}

// contextX86 encodes an x86 CONTEXT with kernel-mode segments.
func contextX86(regs map[string]uint64) []byte {
	c := le(make([]byte, contextSizeX86))
	c.u32(0x00, contextFlagsX86)
	c.u32(0x8C, 0x00) // SegGs
	c.u32(0x90, 0x30) // SegFs: the KPCR selector
	c.u32(0x94, 0x23) // SegEs
	c.u32(0x98, 0x23) // SegDs
	c.u32(0xBC, 0x08) // SegCs
	c.u32(0xC8, 0x10) // SegSs
	efl := regs["efl"]
	if efl == 0 {
		efl = 0x282
	}
	c.u32(0xC0, uint32(efl))
	for name, off := range x86Regs {
		c.u32(off, uint32(regs[name]))
	}
	binary.LittleEndian.PutUint32(c[0xCC+0x18:], mxcsrDefault) // FXSAVE image: MXCSR
	return c
}

// context encodes the machine's CONTEXT.
func (b *builder) context(regs map[string]uint64) []byte {
	if b.p.arm64 {
		return contextARM64(regs)
	}
	if b.p.is64 {
		return contextAMD64(regs)
	}
	return contextX86(regs)
}

// startRegisters turns a stack start into a register map for the machine.
func (b *builder) startRegisters(r Registers, extra map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range extra {
		out[k] = v
	}
	switch {
	case b.p.arm64:
		out["pc"], out["sp"], out["fp"], out["lr"] = r.IP, r.SP, r.FP, r.LR
		return out // no EFLAGS: contextARM64 sets Cpsr
	case b.p.is64:
		out["rip"], out["rsp"], out["rbp"] = r.IP, r.SP, r.FP
	default:
		out["eip"], out["esp"], out["ebp"] = r.IP, r.SP, r.FP
	}
	if _, ok := out["efl"]; !ok {
		out["efl"] = 0x282
	}
	return out
}
