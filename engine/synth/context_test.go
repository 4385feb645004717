package synth_test

import (
	"fmt"
	"testing"

	"wdbg/engine/synth"
)

// contextDump is a one-thread dump whose thread and exception carry ctx.
func contextDump(arch synth.Arch, ctx synth.Context) []byte {
	b := synth.NewMinidump(arch)
	b.SystemInfo(synth.Windows10(arch))
	b.Thread(0x42, 0x7000, 0x9000, []byte{1, 2, 3, 4}, ctx)
	b.Exception(0x42, 0x80000003, 0x1234, nil, ctx)
	return b.Bytes()
}

// TestARM64ContextMinidumpDump writes an ARM64 context with a distinct value in every register
// and checks what breakpad's minidump_dump decodes from it.
func TestARM64ContextMinidumpDump(t *testing.T) {
	ctx := synth.ContextARM64{Cpsr: 0x60000000, Fp: 0xF00DF00D29, Lr: 0x7FF6000030, Sp: 0x5FFF00, Pc: 0x7FF612341234,
		Fpcr: 0x3000000, Fpsr: 0x10}
	for i := range ctx.X {
		ctx.X[i] = 0x1111111100000000*uint64(i%7+1) + uint64(i)
	}
	ctx.V[3] = [16]byte{0xAA, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xBB}
	blocks := named(minidumpDump(t, contextDump(synth.ArchARM64, ctx)), "MDRawContextARM64")
	if len(blocks) != 2 {
		t.Fatalf("minidump_dump printed %d ARM64 contexts, want 2 (thread and exception)", len(blocks))
	}
	want := map[string]string{
		"context_flags": "0x40000f", "cpsr": "0x60000000",
		"iregs[29]": hex64(ctx.Fp), "iregs[30]": hex64(ctx.Lr), "iregs[31]": hex64(ctx.Sp), "iregs[32]": hex64(ctx.Pc),
		"float_save.fpcr": "0x3000000", "float_save.fpsr": "0x10",
	}
	for i, x := range ctx.X {
		want[fmt.Sprintf("iregs[%2d]", i)] = hex64(x)
	}
	for _, b := range blocks {
		expectFields(t, "ARM64 context", b, want)
		// breakpad prints a 128-bit register as its low 64 bits in hex, then the high 64 bits
		// as 16 hex digits (seen in its output for this value).
		if got := b.fields["float_save.regs[ 3]"]; got != "0x7060504030201aabb0e0d0c0b0a0908" {
			t.Errorf("v3 = %s, want low 0x07060504030201aa then high 0xbb0e0d0c0b0a0908", got)
		}
	}
}

func TestAMD64ContextMinidumpDump(t *testing.T) {
	ctx := synth.ContextAMD64{
		P1Home: 0x11, P2Home: 0x22, P3Home: 0x33, P4Home: 0x44, P5Home: 0x55, P6Home: 0x66,
		MxCsr: 0x1F80, SegCs: 0x33, SegDs: 0x2B, SegEs: 0x2C, SegFs: 0x53, SegGs: 0x2D, SegSs: 0x2E, EFlags: 0x10246,
		Dr0: 0xD0, Dr1: 0xD1, Dr2: 0xD2, Dr3: 0xD3, Dr6: 0xD6, Dr7: 0xD7,
		Rax: 0xA0A0, Rcx: 0xC0C0, Rdx: 0xD0D0, Rbx: 0xB0B0, Rsp: 0x5050, Rbp: 0xBBBB, Rsi: 0x5151, Rdi: 0xD1D1,
		R8: 0x8, R9: 0x9, R10: 0x10, R11: 0x11, R12: 0x12, R13: 0x13, R14: 0x14, R15: 0xFFFFFFFFFFFFFF15,
		Rip: 0x7FF7A13110D9,
	}
	blocks := named(minidumpDump(t, contextDump(synth.ArchAMD64, ctx)), "MDRawContextAMD64")
	if len(blocks) != 2 {
		t.Fatalf("minidump_dump printed %d x64 contexts, want 2", len(blocks))
	}
	want := map[string]string{
		"p1_home": "0x11", "p2_home": "0x22", "p3_home": "0x33", "p4_home": "0x44", "p5_home": "0x55", "p6_home": "0x66",
		"context_flags": "0x10001f", "mx_csr": "0x1f80",
		"cs": "0x33", "ds": "0x2b", "es": "0x2c", "fs": "0x53", "gs": "0x2d", "ss": "0x2e", "eflags": "0x10246",
		"dr0": "0xd0", "dr1": "0xd1", "dr2": "0xd2", "dr3": "0xd3", "dr6": "0xd6", "dr7": "0xd7",
		"rax": "0xa0a0", "rcx": "0xc0c0", "rdx": "0xd0d0", "rbx": "0xb0b0", "rsp": "0x5050", "rbp": "0xbbbb",
		"rsi": "0x5151", "rdi": "0xd1d1", "r8": "0x8", "r9": "0x9", "r10": "0x10", "r11": "0x11", "r12": "0x12",
		"r13": "0x13", "r14": "0x14", "r15": "0xffffffffffffff15", "rip": "0x7ff7a13110d9",
	}
	for _, b := range blocks {
		expectFields(t, "x64 context", b, want)
	}
}

func TestX86ContextMinidumpDump(t *testing.T) {
	ctx := synth.ContextX86{
		Dr0: 0xD0, Dr1: 0xD1, Dr2: 0xD2, Dr3: 0xD3, Dr6: 0xD6, Dr7: 0xD7,
		FloatControlWord: 0xFFFF027F, FloatStatusWord: 0xFFFF0000, FloatTagWord: 0xFFFFFFFF,
		SegGs: 0x2B, SegFs: 0x53, SegEs: 0x2C, SegDs: 0x2D,
		Edi: 0xD1, Esi: 0x51, Ebx: 0xB1, Edx: 0xD2D2, Ecx: 0xC1, Eax: 0x400000,
		Ebp: 0x12F384, Eip: 0x7C90EB94, SegCs: 0x1B, EFlags: 0x246, Esp: 0x12F320, SegSs: 0x23,
	}
	blocks := named(minidumpDump(t, contextDump(synth.ArchX86, ctx)), "MDRawContextX86")
	if len(blocks) != 2 {
		t.Fatalf("minidump_dump printed %d x86 contexts, want 2", len(blocks))
	}
	want := map[string]string{
		"context_flags": "0x1003f", "dr0": "0xd0", "dr1": "0xd1", "dr2": "0xd2", "dr3": "0xd3", "dr6": "0xd6", "dr7": "0xd7",
		"float_save.control_word": "0xffff027f", "float_save.status_word": "0xffff0000", "float_save.tag_word": "0xffffffff",
		"gs": "0x2b", "fs": "0x53", "es": "0x2c", "ds": "0x2d", "edi": "0xd1", "esi": "0x51", "ebx": "0xb1",
		"edx": "0xd2d2", "ecx": "0xc1", "eax": "0x400000", "ebp": "0x12f384", "eip": "0x7c90eb94", "cs": "0x1b",
		"eflags": "0x246", "esp": "0x12f320", "ss": "0x23",
	}
	for _, b := range blocks {
		expectFields(t, "x86 context", b, want)
	}
}

// TestContextSizes checks Size and Extra: a context can be cut short (for decoder errors) or
// carry XSTATE bytes after the classic record.
func TestContextSizes(t *testing.T) {
	for _, tc := range []struct {
		ctx  synth.Context
		want int
	}{
		{synth.ContextX86{}, 0x2CC},
		{synth.ContextAMD64{}, 0x4D0},
		{synth.ContextARM64{}, 0x390},
		{synth.ContextAMD64{Size: 0x80}, 0x80},
		{synth.ContextAMD64{Extra: make([]byte, 0xAF)}, 0x57F},
		{synth.ContextX86{Size: 0xCC}, 0xCC},
		{synth.RawContext{1, 2, 3}, 3},
	} {
		if got := len(tc.ctx.ContextBytes()); got != tc.want {
			t.Errorf("%T: %#x bytes, want %#x", tc.ctx, got, tc.want)
		}
	}
}
