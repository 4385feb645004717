package ntuser

import (
	"testing"

	"wdbg/engine"
	"wdbg/engine/cpu"
)

func wow64Target(img *pageImage, modules ...string) *engine.Target {
	t := &engine.Target{Arch: cpu.ArchAMD64, Kind: engine.KindUserFull, Memory: img}
	for i, m := range modules {
		t.Modules = append(t.Modules, engine.Module{Base: uint64(0x10000000 * (i + 1)), ImageName: m, Path: `C:\Windows\System32\` + m})
	}
	return t
}

func TestIsWOW64(t *testing.T) {
	img := newImage(8)
	if !IsWOW64(wow64Target(img, "app.exe", "ntdll.dll", "wow64.dll", "wow64cpu.dll")) {
		t.Error("x64 target with wow64.dll not recognised")
	}
	if IsWOW64(wow64Target(img, "app.exe", "ntdll.dll", "kernel32.dll")) {
		t.Error("plain x64 target taken for WOW64")
	}
	x86 := wow64Target(img, "app.exe", "wow64.dll")
	x86.Arch = cpu.ArchX86
	if IsWOW64(x86) {
		t.Error("x86 target taken for WOW64")
	}
	// No WOW64 DLLs in the list, but the main image's PE header says i386 (Microsoft PE/COFF:
	// e_lfanew at 0x3c, "PE\0\0", Machine 0x14c).
	tg := wow64Target(img, "app.exe", "ntdll.dll")
	base := tg.Modules[0].Base
	img.put(base, []byte("MZ"))
	img.u32(base+0x3c, 0xe8)
	img.put(base+0xe8, []byte("PE\x00\x00\x4c\x01"))
	if !IsWOW64(tg) {
		t.Error("x64 target whose main image is i386 not recognised")
	}
	img.put(base+0xec, []byte{0x64, 0x86}) // AMD64
	if IsWOW64(tg) {
		t.Error("x64 target whose main image is AMD64 taken for WOW64")
	}
	if IsWOW64(nil) {
		t.Error("nil target")
	}
}

func TestSavedX86Context(t *testing.T) {
	img := newImage(8)
	const teb, area = 0x5d9000, 0x34fd20
	img.u64(teb+0x1480+8, area) // TlsSlots[1], FORMATS.md §5 _TEB TlsSlots 0x1480
	img.u16(area, 0)            // Flags
	img.u16(area+2, 0x14c)      // Machine
	ctx := uint64(area + 4)
	// x86 CONTEXT offsets, FORMATS.md §4.4.
	img.u32(ctx+0x00, 0x1003f)
	img.u32(ctx+0xB0, 0x11111111) // Eax
	img.u32(ctx+0xB4, 0x6ffb44)   // Ebp
	img.u32(ctx+0xB8, 0x77d5a3f6) // Eip
	img.u32(ctx+0xBC, 0x23)       // SegCs
	img.u32(ctx+0xC4, 0x6ffb28)   // Esp
	img.u32(ctx+0xC8, 0x2b)       // SegSs
	img.put(ctx+0xCC, make([]byte, 512))

	tg := wow64Target(img, "app.exe", "wow64.dll")
	native := &cpu.AMD64Context{SegCs: 0x33, Rip: 0x7ffc8d79d844, Rsp: 0x3be468}
	c, err := WOW64ContextOf(tg, teb, native)
	if err != nil {
		t.Fatal(err)
	}
	x, ok := c.(*cpu.X86Context)
	if !ok {
		t.Fatalf("context is %T", c)
	}
	if x.Eip != 0x77d5a3f6 || x.Esp != 0x6ffb28 || x.Ebp != 0x6ffb44 || x.Eax != 0x11111111 || x.SegCs != 0x23 || !x.HasExtendedRegisters {
		t.Errorf("saved context = %+v", x)
	}

	// A thread caught in 32-bit code: the native context's low halves are the x86 registers.
	native = &cpu.AMD64Context{SegCs: 0x23, SegSs: 0x2b, SegFs: 0x53, Rip: 0x875f5d, Rsp: 0x6ff478, Rbp: 0x6ff550,
		Rax: 0xffffffff00893071, EFlags: 0x244}
	th := &engine.Thread{TEB: teb, Context: native}
	c, err = WOW64Context(tg, th)
	if err != nil {
		t.Fatal(err)
	}
	if c.PC() != 0x875f5d || c.SP() != 0x6ff478 || c.FP() != 0x6ff550 {
		t.Errorf("from native: pc %#x sp %#x fp %#x", c.PC(), c.SP(), c.FP())
	}
	if v, _ := c.Register("eax"); v != 0x893071 {
		t.Errorf("eax = %#x", v)
	}
	if v, _ := c.Register("fs"); v != 0x53 {
		t.Errorf("fs = %#x", v)
	}

	// Not WOW64, no CPU area, no x86 context there.
	if _, err := WOW64ContextOf(wow64Target(img, "app.exe"), teb, nil); err == nil {
		t.Error("plain x64 target gave a WOW64 context")
	}
	if _, err := SavedX86Context(img, 0x900000); err == nil {
		t.Error("missing TEB gave a context")
	}
	img.u32(ctx, 0x10001f) // AMD64 flags: not an x86 record
	if _, err := SavedX86Context(img, teb); err == nil {
		t.Error("record without CONTEXT_i386 accepted")
	}
	img.u64(teb+0x1488, 0)
	if _, err := SavedX86Context(img, teb); err == nil {
		t.Error("NULL CPU area accepted")
	}
	if TEB32Address(0x5d9000) != 0x5db000 {
		t.Error("TEB32Address")
	}
}
