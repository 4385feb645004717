package synth

import "encoding/binary"

// Context is a register context the writer can store: its CONTEXT record bytes.
type Context interface {
	ContextBytes() []byte
}

// RawContext is a context record given as bytes, e.g. a truncated or garbled one.
type RawContext []byte

func (r RawContext) ContextBytes() []byte { return append([]byte(nil), r...) }

// CPU bits and the usual "all" flags of ContextFlags, FORMATS.md §4.4.
const (
	ContextFlagsX86   uint32 = 0x0001003F // i386 | CONTROL | INTEGER | SEGMENTS | FLOATING_POINT | DEBUG | EXTENDED
	ContextFlagsAMD64 uint32 = 0x0010001F // AMD64 | CONTROL | INTEGER | SEGMENTS | FLOATING_POINT | DEBUG
	ContextFlagsARM64 uint32 = 0x0040000F // ARM64 | CONTROL | INTEGER | FLOATING_POINT | DEBUG
)

// record is a CONTEXT under construction.
type record []byte

func (r record) u16(off int, v uint16) { binary.LittleEndian.PutUint16(r[off:], v) }
func (r record) u32(off int, v uint32) { binary.LittleEndian.PutUint32(r[off:], v) }
func (r record) u64(off int, v uint64) { binary.LittleEndian.PutUint64(r[off:], v) }

// sized applies a context's Size and Extra: Size > 0 cuts (or zero-pads) the record to that many
// bytes, Extra is appended (XSTATE data follows the classic CONTEXT in real dumps).
func sized(r record, size int, extra []byte) []byte {
	b := []byte(r)
	if size > 0 {
		if size < len(b) {
			b = b[:size]
		} else {
			b = append(b, make([]byte, size-len(b))...)
		}
	}
	return append(b, extra...)
}

// ContextX86 is an x86 CONTEXT (0x2CC bytes, FORMATS.md §4.4); it is also the WOW64_CONTEXT.
// Zero ContextFlags writes ContextFlagsX86.
type ContextX86 struct {
	ContextFlags                 uint32
	Dr0, Dr1, Dr2, Dr3, Dr6, Dr7 uint32
	// FloatSave: ControlWord, StatusWord, TagWord, ErrorOffset, ErrorSelector, DataOffset,
	// DataSelector, RegisterArea[80], Cr0NpxState.
	FloatControlWord, FloatStatusWord, FloatTagWord uint32
	FloatRegisterArea                               [80]byte
	SegGs, SegFs, SegEs, SegDs                      uint32
	Edi, Esi, Ebx, Edx, Ecx, Eax                    uint32
	Ebp, Eip, SegCs, EFlags, Esp, SegSs             uint32
	ExtendedRegisters                               [512]byte
	Xmm                                             [8][16]byte // written into ExtendedRegisters at +0xA0 when non-zero

	Size  int    // cut or pad the record to this size (0: 0x2CC)
	Extra []byte // appended after the record
}

func (c ContextX86) ContextBytes() []byte {
	r := make(record, 0x2CC)
	flags := c.ContextFlags
	if flags == 0 {
		flags = ContextFlagsX86
	}
	r.u32(0x00, flags)
	r.u32(0x04, c.Dr0)
	r.u32(0x08, c.Dr1)
	r.u32(0x0C, c.Dr2)
	r.u32(0x10, c.Dr3)
	r.u32(0x14, c.Dr6)
	r.u32(0x18, c.Dr7)
	r.u32(0x1C, c.FloatControlWord)
	r.u32(0x20, c.FloatStatusWord)
	r.u32(0x24, c.FloatTagWord)
	copy(r[0x38:0x88], c.FloatRegisterArea[:])
	r.u32(0x8C, c.SegGs)
	r.u32(0x90, c.SegFs)
	r.u32(0x94, c.SegEs)
	r.u32(0x98, c.SegDs)
	r.u32(0x9C, c.Edi)
	r.u32(0xA0, c.Esi)
	r.u32(0xA4, c.Ebx)
	r.u32(0xA8, c.Edx)
	r.u32(0xAC, c.Ecx)
	r.u32(0xB0, c.Eax)
	r.u32(0xB4, c.Ebp)
	r.u32(0xB8, c.Eip)
	r.u32(0xBC, c.SegCs)
	r.u32(0xC0, c.EFlags)
	r.u32(0xC4, c.Esp)
	r.u32(0xC8, c.SegSs)
	copy(r[0xCC:0x2CC], c.ExtendedRegisters[:])
	for i, x := range c.Xmm {
		if x != ([16]byte{}) {
			copy(r[0xCC+0xA0+16*i:], x[:])
		}
	}
	return sized(r, c.Size, c.Extra)
}

// ContextAMD64 is an x64 CONTEXT (0x4D0 bytes, FORMATS.md §4.4). Zero ContextFlags writes
// ContextFlagsAMD64; zero MxCsr writes 0x1F80 (the reset value) in both MxCsr slots.
type ContextAMD64 struct {
	P1Home, P2Home, P3Home, P4Home, P5Home, P6Home uint64
	ContextFlags                                   uint32
	MxCsr                                          uint32
	SegCs, SegDs, SegEs, SegFs, SegGs, SegSs       uint16
	EFlags                                         uint32
	Dr0, Dr1, Dr2, Dr3, Dr6, Dr7                   uint64
	Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi         uint64
	R8, R9, R10, R11, R12, R13, R14, R15           uint64
	Rip                                            uint64
	FloatControlWord, FloatStatusWord              uint16
	Xmm                                            [16][16]byte
	VectorControl, DebugControl                    uint64
	LastBranchToRip, LastBranchFromRip             uint64
	LastExceptionToRip, LastExceptionFromRip       uint64

	Size  int    // cut or pad the record to this size (0: 0x4D0)
	Extra []byte // appended after the record (XSTATE)
}

func (c ContextAMD64) ContextBytes() []byte {
	r := make(record, 0x4D0)
	flags := c.ContextFlags
	if flags == 0 {
		flags = ContextFlagsAMD64
	}
	mxcsr := c.MxCsr
	if mxcsr == 0 {
		mxcsr = 0x1F80
	}
	for i, v := range []uint64{c.P1Home, c.P2Home, c.P3Home, c.P4Home, c.P5Home, c.P6Home} {
		r.u64(8*i, v)
	}
	r.u32(0x30, flags)
	r.u32(0x34, mxcsr)
	r.u16(0x38, c.SegCs)
	r.u16(0x3A, c.SegDs)
	r.u16(0x3C, c.SegEs)
	r.u16(0x3E, c.SegFs)
	r.u16(0x40, c.SegGs)
	r.u16(0x42, c.SegSs)
	r.u32(0x44, c.EFlags)
	for i, v := range []uint64{c.Dr0, c.Dr1, c.Dr2, c.Dr3, c.Dr6, c.Dr7} {
		r.u64(0x48+8*i, v)
	}
	// Rax 0x78, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8 … R15, Rip 0xF8: the unwind-code order.
	for i, v := range []uint64{c.Rax, c.Rcx, c.Rdx, c.Rbx, c.Rsp, c.Rbp, c.Rsi, c.Rdi,
		c.R8, c.R9, c.R10, c.R11, c.R12, c.R13, c.R14, c.R15, c.Rip} {
		r.u64(0x78+8*i, v)
	}
	// FltSave (XMM_SAVE_AREA32) at 0x100: ControlWord 0x100, StatusWord 0x102, MxCsr 0x118,
	// MxCsr_Mask 0x11C, Xmm0 at 0x1A0.
	r.u16(0x100, c.FloatControlWord)
	r.u16(0x102, c.FloatStatusWord)
	r.u32(0x118, mxcsr)
	r.u32(0x11C, 0xFFFF)
	for i, x := range c.Xmm {
		copy(r[0x1A0+16*i:], x[:])
	}
	r.u64(0x4A0, c.VectorControl)
	r.u64(0x4A8, c.DebugControl)
	r.u64(0x4B0, c.LastBranchToRip)
	r.u64(0x4B8, c.LastBranchFromRip)
	r.u64(0x4C0, c.LastExceptionToRip)
	r.u64(0x4C8, c.LastExceptionFromRip)
	return sized(r, c.Size, c.Extra)
}

// ContextARM64 is a Windows ARM64 CONTEXT (0x390 bytes, FORMATS.md §4.4). X holds x0..x28;
// Fp is x29 and Lr x30. Zero ContextFlags writes ContextFlagsARM64.
type ContextARM64 struct {
	ContextFlags uint32
	Cpsr         uint32
	X            [29]uint64
	Fp, Lr       uint64
	Sp, Pc       uint64
	V            [32][16]byte
	Fpcr, Fpsr   uint32
	Bcr          [8]uint32
	Bvr          [8]uint64
	Wcr          [2]uint32
	Wvr          [2]uint64

	Size  int    // cut or pad the record to this size (0: 0x390)
	Extra []byte // appended after the record
}

func (c ContextARM64) ContextBytes() []byte {
	r := make(record, 0x390)
	flags := c.ContextFlags
	if flags == 0 {
		flags = ContextFlagsARM64
	}
	r.u32(0x00, flags)
	r.u32(0x04, c.Cpsr)
	for i, v := range c.X {
		r.u64(0x08+8*i, v)
	}
	r.u64(0xF0, c.Fp)
	r.u64(0xF8, c.Lr)
	r.u64(0x100, c.Sp)
	r.u64(0x108, c.Pc)
	for i, v := range c.V {
		copy(r[0x110+16*i:], v[:])
	}
	r.u32(0x310, c.Fpcr)
	r.u32(0x314, c.Fpsr)
	for i, v := range c.Bcr {
		r.u32(0x318+4*i, v)
	}
	for i, v := range c.Bvr {
		r.u64(0x338+8*i, v)
	}
	for i, v := range c.Wcr {
		r.u32(0x378+4*i, v)
	}
	for i, v := range c.Wvr {
		r.u64(0x380+8*i, v)
	}
	return sized(r, c.Size, c.Extra)
}
