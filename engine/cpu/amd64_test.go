package cpu

import (
	"bytes"
	"testing"
)

func amd(c Context) *AMD64Context { return c.(*AMD64Context) }

// amd64Fields is the AMD64 CONTEXT of FORMATS.md §4.4, offset by offset.
var amd64Fields = []field{
	{"", 0x00, 8, func(c Context) uint64 { return amd(c).P1Home }},
	{"", 0x08, 8, func(c Context) uint64 { return amd(c).P2Home }},
	{"", 0x10, 8, func(c Context) uint64 { return amd(c).P3Home }},
	{"", 0x18, 8, func(c Context) uint64 { return amd(c).P4Home }},
	{"", 0x20, 8, func(c Context) uint64 { return amd(c).P5Home }},
	{"", 0x28, 8, func(c Context) uint64 { return amd(c).P6Home }},
	{"", 0x30, 4, func(c Context) uint64 { return uint64(amd(c).ContextFlags) }},
	{"mxcsr", 0x34, 4, func(c Context) uint64 { return uint64(amd(c).MxCsr) }},
	{"cs", 0x38, 2, func(c Context) uint64 { return uint64(amd(c).SegCs) }},
	{"ds", 0x3A, 2, func(c Context) uint64 { return uint64(amd(c).SegDs) }},
	{"es", 0x3C, 2, func(c Context) uint64 { return uint64(amd(c).SegEs) }},
	{"fs", 0x3E, 2, func(c Context) uint64 { return uint64(amd(c).SegFs) }},
	{"gs", 0x40, 2, func(c Context) uint64 { return uint64(amd(c).SegGs) }},
	{"ss", 0x42, 2, func(c Context) uint64 { return uint64(amd(c).SegSs) }},
	{"efl", 0x44, 4, func(c Context) uint64 { return uint64(amd(c).EFlags) }},
	{"dr0", 0x48, 8, func(c Context) uint64 { return amd(c).Dr0 }},
	{"dr1", 0x50, 8, func(c Context) uint64 { return amd(c).Dr1 }},
	{"dr2", 0x58, 8, func(c Context) uint64 { return amd(c).Dr2 }},
	{"dr3", 0x60, 8, func(c Context) uint64 { return amd(c).Dr3 }},
	{"dr6", 0x68, 8, func(c Context) uint64 { return amd(c).Dr6 }},
	{"dr7", 0x70, 8, func(c Context) uint64 { return amd(c).Dr7 }},
	{"rax", 0x78, 8, func(c Context) uint64 { return amd(c).Rax }},
	{"rcx", 0x80, 8, func(c Context) uint64 { return amd(c).Rcx }},
	{"rdx", 0x88, 8, func(c Context) uint64 { return amd(c).Rdx }},
	{"rbx", 0x90, 8, func(c Context) uint64 { return amd(c).Rbx }},
	{"rsp", 0x98, 8, func(c Context) uint64 { return amd(c).Rsp }},
	{"rbp", 0xA0, 8, func(c Context) uint64 { return amd(c).Rbp }},
	{"rsi", 0xA8, 8, func(c Context) uint64 { return amd(c).Rsi }},
	{"rdi", 0xB0, 8, func(c Context) uint64 { return amd(c).Rdi }},
	{"r8", 0xB8, 8, func(c Context) uint64 { return amd(c).R8 }},
	{"r9", 0xC0, 8, func(c Context) uint64 { return amd(c).R9 }},
	{"r10", 0xC8, 8, func(c Context) uint64 { return amd(c).R10 }},
	{"r11", 0xD0, 8, func(c Context) uint64 { return amd(c).R11 }},
	{"r12", 0xD8, 8, func(c Context) uint64 { return amd(c).R12 }},
	{"r13", 0xE0, 8, func(c Context) uint64 { return amd(c).R13 }},
	{"r14", 0xE8, 8, func(c Context) uint64 { return amd(c).R14 }},
	{"r15", 0xF0, 8, func(c Context) uint64 { return amd(c).R15 }},
	{"rip", 0xF8, 8, func(c Context) uint64 { return amd(c).Rip }},
}

// amd64FltSaveFields is FltSave (XMM_SAVE_AREA32) at 0x100, FORMATS.md §4.4.
var amd64FltSaveFields = []field{
	{"", 0x100, 2, func(c Context) uint64 { return uint64(amd(c).FltSave.ControlWord) }},
	{"", 0x102, 2, func(c Context) uint64 { return uint64(amd(c).FltSave.StatusWord) }},
	{"", 0x104, 1, func(c Context) uint64 { return uint64(amd(c).FltSave.TagWord) }},
	{"", 0x106, 2, func(c Context) uint64 { return uint64(amd(c).FltSave.ErrorOpcode) }},
	{"", 0x108, 4, func(c Context) uint64 { return uint64(amd(c).FltSave.ErrorOffset) }},
	{"", 0x10C, 2, func(c Context) uint64 { return uint64(amd(c).FltSave.ErrorSelector) }},
	{"", 0x110, 4, func(c Context) uint64 { return uint64(amd(c).FltSave.DataOffset) }},
	{"", 0x114, 2, func(c Context) uint64 { return uint64(amd(c).FltSave.DataSelector) }},
	{"", 0x118, 4, func(c Context) uint64 { return uint64(amd(c).FltSave.MxCsr) }},
	{"", 0x11C, 4, func(c Context) uint64 { return uint64(amd(c).FltSave.MxCsrMask) }},
}

// amd64TailFields follow VectorRegister[26] (0x300), FORMATS.md §4.4.
var amd64TailFields = []field{
	{"", 0x4A0, 8, func(c Context) uint64 { return amd(c).VectorControl }},
	{"", 0x4A8, 8, func(c Context) uint64 { return amd(c).DebugControl }},
	{"", 0x4B0, 8, func(c Context) uint64 { return amd(c).LastBranchToRip }},
	{"", 0x4B8, 8, func(c Context) uint64 { return amd(c).LastBranchFromRip }},
	{"", 0x4C0, 8, func(c Context) uint64 { return amd(c).LastExceptionToRip }},
	{"", 0x4C8, 8, func(c Context) uint64 { return amd(c).LastExceptionFromRip }},
}

func TestDecodeAMD64Layout(t *testing.T) {
	rec := randomRecord(amd64ContextSize, 64)
	all := append(append(append([]field{}, amd64Fields...), amd64FltSaveFields...), amd64TailFields...)
	c := amd(checkFields(t, DecodeAMD64, rec, all))
	if c.Arch() != ArchAMD64 {
		t.Errorf("Arch() = %v", c.Arch())
	}
	if c.PC() != c.Rip || c.SP() != c.Rsp || c.FP() != c.Rbp {
		t.Errorf("PC/SP/FP = %#x/%#x/%#x, want rip/rsp/rbp", c.PC(), c.SP(), c.FP())
	}
	if !c.HasFltSave || !c.HasVector {
		t.Errorf("HasFltSave %v HasVector %v on a full record", c.HasFltSave, c.HasVector)
	}
	checkBlocks(t, "FloatRegisters", rec, 0x120, c.FltSave.FloatRegisters[:])
	checkBlocks(t, "Xmm", rec, 0x1A0, c.Xmm[:]) // Xmm0 0x1A0 … Xmm15 0x290
	checkBlocks(t, "VectorRegister", rec, 0x300, c.VectorRegister[:])
	checkNames(t, c, []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rip", "rsp", "rbp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
		"efl", "cs", "ss", "ds", "es", "fs", "gs", "mxcsr", "dr0", "dr1", "dr2", "dr3", "dr6", "dr7"})
}

func checkBlocks(t *testing.T, what string, rec []byte, at int, got [][16]byte) {
	t.Helper()
	for i := range got {
		off := at + 16*i
		if !bytes.Equal(got[i][:], rec[off:off+16]) {
			t.Errorf("%s[%d] is not the 16 bytes at %#x", what, i, off)
		}
	}
}

func TestDecodeAMD64Short(t *testing.T) {
	checkShort(t, ArchAMD64, DecodeAMD64, 0x100)
	// Integer registers only.
	c := amd(checkFields(t, DecodeAMD64, randomRecord(0x100, 3), amd64Fields))
	if c.HasFltSave || c.HasVector {
		t.Error("0x100-byte record claims FltSave or vector state")
	}
	// Up to the end of FltSave, not the vector registers.
	c = amd(checkFields(t, DecodeAMD64, randomRecord(0x4CF, 4), append(append([]field{}, amd64Fields...), amd64FltSaveFields...)))
	if !c.HasFltSave || c.HasVector {
		t.Errorf("0x4CF-byte record: HasFltSave %v HasVector %v", c.HasFltSave, c.HasVector)
	}
	// XSTATE after the classic CONTEXT (breakpad's tiny-exe-with-cet-xsave.dmp has such records).
	if c := amd(checkFields(t, DecodeAMD64, randomRecord(0x4D0+0x3A8, 5), amd64Fields)); !c.HasVector {
		t.Error("long record: vector state not decoded")
	}
}

func TestAMD64SubRegisters(t *testing.T) {
	rec := make([]byte, amd64ContextSize)
	put64(rec, 0x78, 0x1122334455667788) // Rax
	put64(rec, 0x90, 0x0102030405060708) // Rbx
	put64(rec, 0x80, 0xF0E0D0C0B0A09080) // Rcx
	put64(rec, 0x88, 0x00000000DEADBEEF) // Rdx
	put64(rec, 0xA8, 0xAAAABBBBCCCCDDEE) // Rsi
	put64(rec, 0xB0, 0x123456789ABCDEF1) // Rdi
	put64(rec, 0xA0, 0x000000C0FFEE0042) // Rbp
	put64(rec, 0x98, 0x00000096F0AFA1A8) // Rsp
	put64(rec, 0xF8, 0x00007FF830B269A2) // Rip
	put64(rec, 0xB8, 0x00000001000000CE) // R8
	put64(rec, 0xF0, 0xFFFFFFFFFFFFFF7F) // R15
	put32(rec, 0x44, 0x00010297)         // EFlags from WINDBG-SPEC §3.9's example: ng nz ac pe cy
	c, err := DecodeAMD64(rec)
	if err != nil {
		t.Fatal(err)
	}
	checkSubRegisters(t, c, []subCase{
		{"RAX", 0x1122334455667788}, {"eax", 0x55667788}, {"ax", 0x7788}, {"al", 0x88}, {"ah", 0x77},
		{"ebx", 0x05060708}, {"bx", 0x0708}, {"bl", 0x08}, {"bh", 0x07},
		{"ecx", 0xB0A09080}, {"cx", 0x9080}, {"cl", 0x80}, {"ch", 0x90},
		{"edx", 0xDEADBEEF}, {"dx", 0xBEEF}, {"dl", 0xEF}, {"dh", 0xBE},
		{"esi", 0xCCCCDDEE}, {"si", 0xDDEE}, {"sil", 0xEE},
		{"edi", 0x9ABCDEF1}, {"di", 0xDEF1}, {"dil", 0xF1},
		{"ebp", 0xFFEE0042}, {"bp", 0x0042}, {"bpl", 0x42},
		{"esp", 0xF0AFA1A8}, {"sp", 0xA1A8}, {"spl", 0xA8},
		{"eip", 0x30B269A2},
		{"r8d", 0x000000CE}, {"R8W", 0x00CE}, {"r8b", 0xCE},
		{"r15d", 0xFFFFFF7F}, {"r15w", 0xFF7F}, {"r15b", 0x7F},
		{"efl", 0x10297}, {"cf", 1}, {"pf", 1}, {"af", 1}, {"zf", 0}, {"sf", 1}, {"if", 1}, {"iopl", 0},
	})
	for _, bad := range []string{"", "r16", "r8x", "x0", "w0", "rflags", "dr4"} {
		if v, ok := c.Register(bad); ok {
			t.Errorf("Register(%q) = %#x, true; want not found", bad, v)
		}
	}
}
