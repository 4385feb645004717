package cpu

import (
	"bytes"
	"testing"
)

func x86(c Context) *X86Context { return c.(*X86Context) }

// x86Fields is the x86 CONTEXT of FORMATS.md §4.4, offset by offset.
var x86Fields = []field{
	{"", 0x00, 4, func(c Context) uint64 { return uint64(x86(c).ContextFlags) }},
	{"dr0", 0x04, 4, func(c Context) uint64 { return uint64(x86(c).Dr0) }},
	{"dr1", 0x08, 4, func(c Context) uint64 { return uint64(x86(c).Dr1) }},
	{"dr2", 0x0C, 4, func(c Context) uint64 { return uint64(x86(c).Dr2) }},
	{"dr3", 0x10, 4, func(c Context) uint64 { return uint64(x86(c).Dr3) }},
	{"dr6", 0x14, 4, func(c Context) uint64 { return uint64(x86(c).Dr6) }},
	{"dr7", 0x18, 4, func(c Context) uint64 { return uint64(x86(c).Dr7) }},
	// FloatSave (FLOATING_SAVE_AREA) at 0x1C: seven u32, RegisterArea[80], Cr0NpxState.
	{"", 0x1C, 4, func(c Context) uint64 { return uint64(x86(c).FloatSave.ControlWord) }},
	{"", 0x20, 4, func(c Context) uint64 { return uint64(x86(c).FloatSave.StatusWord) }},
	{"", 0x24, 4, func(c Context) uint64 { return uint64(x86(c).FloatSave.TagWord) }},
	{"", 0x28, 4, func(c Context) uint64 { return uint64(x86(c).FloatSave.ErrorOffset) }},
	{"", 0x2C, 4, func(c Context) uint64 { return uint64(x86(c).FloatSave.ErrorSelector) }},
	{"", 0x30, 4, func(c Context) uint64 { return uint64(x86(c).FloatSave.DataOffset) }},
	{"", 0x34, 4, func(c Context) uint64 { return uint64(x86(c).FloatSave.DataSelector) }},
	{"", 0x88, 4, func(c Context) uint64 { return uint64(x86(c).FloatSave.Cr0NpxState) }},
	{"", 0x8C, 4, func(c Context) uint64 { return uint64(x86(c).SegGs) }},
	{"", 0x90, 4, func(c Context) uint64 { return uint64(x86(c).SegFs) }},
	{"", 0x94, 4, func(c Context) uint64 { return uint64(x86(c).SegEs) }},
	{"", 0x98, 4, func(c Context) uint64 { return uint64(x86(c).SegDs) }},
	{"edi", 0x9C, 4, func(c Context) uint64 { return uint64(x86(c).Edi) }},
	{"esi", 0xA0, 4, func(c Context) uint64 { return uint64(x86(c).Esi) }},
	{"ebx", 0xA4, 4, func(c Context) uint64 { return uint64(x86(c).Ebx) }},
	{"edx", 0xA8, 4, func(c Context) uint64 { return uint64(x86(c).Edx) }},
	{"ecx", 0xAC, 4, func(c Context) uint64 { return uint64(x86(c).Ecx) }},
	{"eax", 0xB0, 4, func(c Context) uint64 { return uint64(x86(c).Eax) }},
	{"ebp", 0xB4, 4, func(c Context) uint64 { return uint64(x86(c).Ebp) }},
	{"eip", 0xB8, 4, func(c Context) uint64 { return uint64(x86(c).Eip) }},
	{"", 0xBC, 4, func(c Context) uint64 { return uint64(x86(c).SegCs) }},
	{"efl", 0xC0, 4, func(c Context) uint64 { return uint64(x86(c).EFlags) }},
	{"esp", 0xC4, 4, func(c Context) uint64 { return uint64(x86(c).Esp) }},
	{"", 0xC8, 4, func(c Context) uint64 { return uint64(x86(c).SegSs) }},
	// Segment registers through Register are the 16-bit selector (low half of the u32 slot).
	{"gs", 0x8C, 2, func(c Context) uint64 { return uint64(x86(c).SegGs & 0xFFFF) }},
	{"fs", 0x90, 2, func(c Context) uint64 { return uint64(x86(c).SegFs & 0xFFFF) }},
	{"es", 0x94, 2, func(c Context) uint64 { return uint64(x86(c).SegEs & 0xFFFF) }},
	{"ds", 0x98, 2, func(c Context) uint64 { return uint64(x86(c).SegDs & 0xFFFF) }},
	{"cs", 0xBC, 2, func(c Context) uint64 { return uint64(x86(c).SegCs & 0xFFFF) }},
	{"ss", 0xC8, 2, func(c Context) uint64 { return uint64(x86(c).SegSs & 0xFFFF) }},
}

func TestDecodeX86Layout(t *testing.T) {
	rec := randomRecord(x86ContextSize, 86)
	c := x86(checkFields(t, DecodeX86, rec, x86Fields))
	if c.Arch() != ArchX86 {
		t.Errorf("Arch() = %v", c.Arch())
	}
	if c.PC() != uint64(c.Eip) || c.SP() != uint64(c.Esp) || c.FP() != uint64(c.Ebp) {
		t.Errorf("PC/SP/FP = %#x/%#x/%#x, want eip/esp/ebp %#x/%#x/%#x", c.PC(), c.SP(), c.FP(), c.Eip, c.Esp, c.Ebp)
	}
	if !bytes.Equal(c.FloatSave.RegisterArea[:], rec[0x38:0x88]) {
		t.Error("FloatSave.RegisterArea is not the 80 bytes at 0x38")
	}
	if !c.HasExtendedRegisters || !bytes.Equal(c.ExtendedRegisters[:], rec[0xCC:0x2CC]) {
		t.Error("ExtendedRegisters is not the 512 bytes at 0xCC")
	}
	// XMM0 is at +0xA0 inside the FXSAVE image (FORMATS.md §4.4).
	for i := range c.Xmm {
		at := 0xCC + 0xA0 + 16*i
		if !bytes.Equal(c.Xmm[i][:], rec[at:at+16]) {
			t.Errorf("Xmm[%d] is not the 16 bytes at %#x", i, at)
		}
	}
	checkNames(t, c, []string{"eax", "ebx", "ecx", "edx", "esi", "edi", "eip", "esp", "ebp",
		"efl", "cs", "ss", "ds", "es", "fs", "gs", "dr0", "dr1", "dr2", "dr3", "dr6", "dr7"})
}

func TestDecodeX86Short(t *testing.T) {
	checkShort(t, ArchX86, DecodeX86, 0xCC)
	// The classic record without ExtendedRegisters decodes the integer registers only.
	rec := randomRecord(0xCC, 1)
	c := x86(checkFields(t, DecodeX86, rec, x86Fields))
	if c.HasExtendedRegisters || c.Xmm[0] != ([16]byte{}) {
		t.Error("ExtendedRegisters claimed from a 0xCC-byte record")
	}
	// A record with XSTATE data after the classic CONTEXT is accepted.
	long := randomRecord(x86ContextSize+0x340, 2)
	if c := x86(checkFields(t, DecodeX86, long, x86Fields)); !c.HasExtendedRegisters {
		t.Error("long record: ExtendedRegisters not decoded")
	}
}

func TestDecodeWOW64IsX86(t *testing.T) {
	rec := randomRecord(x86ContextSize, 64)
	checkFields(t, DecodeWOW64, rec, x86Fields)
	if _, err := DecodeWOW64(rec[:10]); err == nil {
		t.Error("short WOW64_CONTEXT accepted")
	}
}

func TestX86SubRegisters(t *testing.T) {
	rec := make([]byte, x86ContextSize)
	put32(rec, 0xB0, 0x11223344) // Eax
	put32(rec, 0xA4, 0xA1B2C3D4) // Ebx
	put32(rec, 0xAC, 0x0000CAFE) // Ecx
	put32(rec, 0xA8, 0x00BEEF00) // Edx
	put32(rec, 0xA0, 0x12345678) // Esi
	put32(rec, 0x9C, 0x9ABCDEF0) // Edi
	put32(rec, 0xB4, 0x0012FF80) // Ebp
	put32(rec, 0xC4, 0x0012FF40) // Esp
	put32(rec, 0xB8, 0x7C90EB94) // Eip
	put32(rec, 0xC0, 0x00003246) // EFlags: IOPL 3, IF, ZF, PF, bit 1
	put32(rec, 0xBC, 0x0001001B) // SegCs with junk in the upper half
	c, err := DecodeX86(rec)
	if err != nil {
		t.Fatal(err)
	}
	checkSubRegisters(t, c, []subCase{
		{"EAX", 0x11223344}, {"Eax", 0x11223344}, {"ax", 0x3344}, {"al", 0x44}, {"ah", 0x33},
		{"bx", 0xC3D4}, {"bl", 0xD4}, {"bh", 0xC3},
		{"cx", 0xCAFE}, {"cl", 0xFE}, {"ch", 0xCA},
		{"dx", 0xEF00}, {"dl", 0x00}, {"dh", 0xEF},
		{"si", 0x5678}, {"di", 0xDEF0}, {"bp", 0xFF80}, {"sp", 0xFF40}, {"ip", 0xEB94},
		{"cs", 0x1B}, {"efl", 0x3246},
		{"zf", 1}, {"pf", 1}, {"if", 1}, {"cf", 0}, {"sf", 0}, {"of", 0}, {"df", 0}, {"af", 0},
		{"iopl", 3},
	})
	for _, bad := range []string{"", "rax", "r8", "eaxx", "x0", "sil", "xmm0", "dr4"} {
		if v, ok := c.Register(bad); ok {
			t.Errorf("Register(%q) = %#x, true; want not found", bad, v)
		}
	}
}
