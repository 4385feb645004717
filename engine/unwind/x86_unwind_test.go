package unwind

import (
	"context"
	"strings"
	"testing"

	"wdbg/engine/cpu"
)

const (
	x86Mod   = 0x400000
	x86Stack = 0x12f000
)

// x86Records is an X86FrameInfo from a list.
type x86Records []X86Frame

func (r x86Records) X86Frame(rva uint32) (X86Frame, bool) {
	for _, f := range r {
		if rva >= f.Start && rva-f.Start < f.Size {
			return f, true
		}
	}
	return X86Frame{}, false
}

// x86Image is a module image whose return addresses 0x4200, 0x4300, 0x4400 and 0x4500 follow
// call instructions (E8 rel32), so that stack scans accept them.
func x86Image(t *testing.T, recs x86Records) Module {
	im := newFakeImage(0x10000)
	for _, ra := range []uint32{0x4200, 0x4300, 0x4400, 0x4500} {
		im.put(ra-5, 0xE8, 0, 0, 0, 0)
	}
	ft, err := NewFunctionTable(cpu.ArchX86, nil, im.read)
	if err != nil {
		t.Fatal(err)
	}
	m := Module{Base: x86Mod, Size: 0x10000, Name: "app", Unwind: ft}
	if recs != nil {
		m.X86 = recs
	}
	return m
}

func x86Stack32(vals map[uint64]uint32) *fakeMem {
	m := newFakeMem()
	m.region(x86Stack, 0x1000)
	for a, v := range vals {
		m.put32(a, v)
	}
	return m
}

func walkX86(t *testing.T, m *fakeMem, mods []Module, eip, esp, ebp uint32) []Frame {
	t.Helper()
	ctx := &cpu.X86Context{Eip: eip, Esp: esp, Ebp: ebp, Ebx: 0xB0B0, Esi: 0x5151, Edi: 0xD1D1, Eax: 0xAAAA}
	return Walk(context.Background(), cpu.ArchX86, ctx, m, mods, 0)
}

type x86Want struct {
	ip, sp, fp uint64
	trust      Trust
}

func checkX86Frames(t *testing.T, frames []Frame, want []x86Want) {
	t.Helper()
	if len(frames) != len(want) {
		for i := range frames {
			t.Logf("frame %d: %v", i, &frames[i])
		}
		t.Fatalf("%d frames, want %d (stop: %s)", len(frames), len(want), frames[len(frames)-1].Stop)
	}
	for i, w := range want {
		f := frames[i]
		if f.InstructionPointer != w.ip || f.StackPointer != w.sp || f.FramePointer != w.fp || f.Trust != w.trust {
			t.Errorf("frame %d: %v; want ip=%#x sp=%#x fp=%#x trust=%s", i, &f, w.ip, w.sp, w.fp, w.trust)
		}
		if i+1 < len(frames) && f.ReturnAddress != frames[i+1].InstructionPointer {
			t.Errorf("frame %d RetAddr %#x, next frame at %#x", i, f.ReturnAddress, frames[i+1].InstructionPointer)
		}
	}
}

// TestX86FramePointer follows an EBP chain: [EBP] = caller EBP, [EBP+4] = return address,
// caller ESP = EBP+8 (FORMATS.md §8.2). The numbers are those of breakpad's minidump2 stack.
func TestX86FramePointer(t *testing.T) {
	m := x86Stack32(map[uint64]uint32{
		0x12fe88: 0x12ff70, 0x12fe8c: x86Mod + 0x4200, 0x12fe90: 1, 0x12fe94: 2, 0x12fe98: 3, 0x12fe9c: 4,
		0x12ff70: 0x12ffc0, 0x12ff74: x86Mod + 0x4300,
		0x12ffc0: 0x12fff0, 0x12ffc4: x86Mod + 0x4400,
		0x12fff0: 0, 0x12fff4: 0,
	})
	frames := walkX86(t, m, []Module{x86Image(t, nil)}, x86Mod+0x429e, 0x12fe84, 0x12fe88)
	checkX86Frames(t, frames, []x86Want{
		{x86Mod + 0x429e, 0x12fe84, 0x12fe88, TrustContext},
		{x86Mod + 0x4200, 0x12fe90, 0x12ff70, TrustFramePointer},
		{x86Mod + 0x4300, 0x12ff78, 0x12ffc0, TrustFramePointer},
		{x86Mod + 0x4400, 0x12ffc8, 0x12fff0, TrustFramePointer},
	})
	if f := frames[0]; f.ArgsValid != 4 || f.Args != [4]uint64{1, 2, 3, 4} {
		t.Errorf("frame 0 args %v (%d), want [1 2 3 4] from ChildEBP+8", f.Args, f.ArgsValid)
	}
	if v, ok := frames[2].Regs.Get("ebx"); !ok || v != 0xB0B0 {
		t.Errorf("ebx is callee-saved and carries over: %#x %v", v, ok)
	}
	if _, ok := frames[2].Regs.Get("eax"); ok {
		t.Errorf("eax is volatile and is not known in caller frames")
	}
	if last := frames[len(frames)-1]; !strings.Contains(last.Stop, "return address is 0") {
		t.Errorf("stop %q", last.Stop)
	}
}

// TestX86FPO unwinds an FPO frame by breakpad's STACK WIN 0 rules: the return address is at
// ESP + callee params + locals + saved registers, and a function that uses EBP saved it 8 bytes
// below the top of its saved registers.
func TestX86FPO(t *testing.T) {
	// Frame 0 in F (RVA 0x1000): sub esp,8; push ebx; push ebp; ESP = 0x12fe00:
	// [+0] ebp, [+4] ebx, [+8..+15] locals, [+16] return into G, then F's 8 bytes of arguments.
	// G (0x4200) is an FPO function too, with 12 bytes of locals and no saved registers, and its
	// return address lies above F's arguments (callee params 8) and its locals.
	recs := x86Records{
		{Kind: X86FrameFPO, Start: 0x1000, Size: 0x100, LocalsSize: 8, SavedRegsSize: 8, ParamsSize: 8, UsesBP: true, FrameType: FrameTypeFPO},
		{Kind: X86FrameFPO, Start: 0x4100, Size: 0x200, LocalsSize: 12, FrameType: FrameTypeFPO},
		{Kind: X86FrameFPO, Start: 0x4300, Size: 0x80, FrameType: FrameTypeNonFPO},
	}
	m := x86Stack32(map[uint64]uint32{
		0x12fe00: 0x12ff80, 0x12fe04: 0xB1B1, 0x12fe10: x86Mod + 0x4200, 0x12fe14: 0xA1, 0x12fe18: 0xA2,
		// G: ESP 0x12fe14; + callee params 8 + locals 12 = 0x12fe28
		0x12fe28: x86Mod + 0x4300,
		// H (0x4300) is a standard frame: EBP 0x12ff80 restored from F
		0x12ff80: 0, 0x12ff84: 0,
	})
	frames := walkX86(t, m, []Module{x86Image(t, recs)}, x86Mod+0x1010, 0x12fe00, 0x11111)
	checkX86Frames(t, frames, []x86Want{
		{x86Mod + 0x1010, 0x12fe00, 0x12fe0c, TrustContext},
		{x86Mod + 0x4200, 0x12fe14, 0x12fe24, TrustFPO},
		{x86Mod + 0x4300, 0x12fe2c, 0x12ff80, TrustFPO},
	})
	if v, _ := frames[1].Regs.Get("ebp"); v != 0x12ff80 {
		t.Errorf("F saved EBP %#x, want 0x12ff80", v)
	}
	if frames[0].X86 == nil || frames[0].X86.Start != 0x1000 || frames[1].X86 == nil || frames[1].X86.Start != 0x4100 {
		t.Errorf("frame records not attached: %+v %+v", frames[0].X86, frames[1].X86)
	}
	if frames[0].Args[0] != 0xA1 || frames[0].Args[1] != 0xA2 {
		t.Errorf("frame 0 args %x", frames[0].Args)
	}
}

// TestX86FrameData runs FRAMEDATA program strings of the two shapes MSVC emits (as in
// breakpad's test_app.sym): EBP-based, and .raSearchStart-based for FPO code.
func TestX86FrameData(t *testing.T) {
	const ebpProgram = "$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + = $L $T0 .cbSavedRegs - = $P $T0 8 + .cbParams + ="
	const searchProgram = "$T2 $esp .cbLocals + .cbSavedRegs + = $T0 .raSearchStart = $eip $T0 ^ = $esp $T0 4 + ="
	recs := x86Records{
		{Kind: X86FrameData, Start: 0x1000, Size: 0x100, SavedRegsSize: 4, Program: ebpProgram},
		{Kind: X86FrameData, Start: 0x4100, Size: 0x200, LocalsSize: 8, SavedRegsSize: 4, Program: searchProgram},
	}
	m := x86Stack32(map[uint64]uint32{
		0x12fe40: 0x12ff00, 0x12fe44: x86Mod + 0x4200, // F: EBP frame
		// G at ESP 0x12fe48: start = ESP + 0 + 8 + 4 = 0x12fe54 holds a data word; the return
		// address is the next word, which .raSearchStart's search finds.
		0x12fe54: 0x12345, 0x12fe58: x86Mod + 0x4300,
		0x12ff00: 0, 0x12ff04: 0,
	})
	frames := walkX86(t, m, []Module{x86Image(t, recs)}, x86Mod+0x1020, 0x12fe30, 0x12fe40)
	checkX86Frames(t, frames, []x86Want{
		{x86Mod + 0x1020, 0x12fe30, 0x12fe40, TrustContext},
		{x86Mod + 0x4200, 0x12fe48, 0x12fe54, TrustFPO},
		{x86Mod + 0x4300, 0x12fe5c, 0x12ff00, TrustFPO},
	})
	if !strings.Contains(frames[2].Note, "searching") {
		t.Errorf("frame 2 note %q should say the return address was searched for", frames[2].Note)
	}
}

// TestX86Scan falls back to a stack scan when EBP leads nowhere; scanned frames are marked.
func TestX86Scan(t *testing.T) {
	m := x86Stack32(map[uint64]uint32{
		0x12fe00: 0x77, 0x12fe04: x86Mod + 0x4250, // not after a call: skipped
		0x12fe08: x86Mod + 0x4200, // after a call
	})
	frames := walkX86(t, m, []Module{x86Image(t, nil)}, x86Mod+0x1000, 0x12fe00, 0)
	if len(frames) < 2 {
		t.Fatalf("%d frames", len(frames))
	}
	if f := frames[1]; f.InstructionPointer != x86Mod+0x4200 || f.StackPointer != 0x12fe0c || f.Trust != TrustScan {
		t.Errorf("frame 1 = %v, want the scanned return address 0x404200", &f)
	}
}

// TestX86FrameEdges: an interrupted frame at `push ebp`, `mov ebp, esp`, `pop ebp; ret`,
// `leave; ret` or `ret` is unwound from the code at EIP, not from EBP (which belongs to the
// caller there).
func TestX86FrameEdges(t *testing.T) {
	code := map[uint32][]byte{
		0x1000: {0x55, 0x8B, 0xEC},       // push ebp; mov ebp, esp
		0x1100: {0x5D, 0xC3},             // pop ebp; ret
		0x1200: {0xC9, 0xC2, 0x08, 0x00}, // leave; ret 8
		0x1300: {0xC3},                   // ret
		0x1400: {0x55, 0x89, 0xE5},       // push ebp; mov ebp, esp (other encoding)
	}
	cases := []struct {
		name     string
		eip      uint32
		esp, ebp uint32
		stack    map[uint64]uint32
		wantEIP  uint64
		wantESP  uint64
		wantEBP  uint64
		wantNote string
	}{
		{"push ebp", 0x1000, 0x12fe00, 0x12ff00, map[uint64]uint32{0x12fe00: x86Mod + 0x4200}, x86Mod + 0x4200, 0x12fe04, 0x12ff00, "in prolog"},
		{"mov ebp, esp", 0x1001, 0x12fe00, 0x12ff00, map[uint64]uint32{0x12fe00: 0x12ff00, 0x12fe04: x86Mod + 0x4200}, x86Mod + 0x4200, 0x12fe08, 0x12ff00, "in prolog"},
		{"mov ebp, esp (89 E5)", 0x1401, 0x12fe00, 0x12ff00, map[uint64]uint32{0x12fe00: 0x12ff00, 0x12fe04: x86Mod + 0x4200}, x86Mod + 0x4200, 0x12fe08, 0x12ff00, "in prolog"},
		{"pop ebp; ret", 0x1100, 0x12fe00, 0x12fe00, map[uint64]uint32{0x12fe00: 0x12ff40, 0x12fe04: x86Mod + 0x4200}, x86Mod + 0x4200, 0x12fe08, 0x12ff40, "in epilogue"},
		{"leave; ret 8", 0x1200, 0x12fd00, 0x12fe00, map[uint64]uint32{0x12fe00: 0x12ff40, 0x12fe04: x86Mod + 0x4200}, x86Mod + 0x4200, 0x12fe08, 0x12ff40, "in epilogue"},
		{"ret", 0x1300, 0x12fe00, 0x12ff00, map[uint64]uint32{0x12fe00: x86Mod + 0x4200}, x86Mod + 0x4200, 0x12fe04, 0x12ff00, "in epilogue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mod := x86Image(t, nil)
			im := mod.Unwind.(*FunctionTable)
			for rva, b := range code {
				bytes, _ := im.read(rva, len(b))
				copy(bytes, b)
			}
			frames := walkX86(t, x86Stack32(c.stack), []Module{mod}, x86Mod+c.eip, c.esp, c.ebp)
			if len(frames) < 2 {
				t.Fatalf("%d frames: %s", len(frames), frames[0].Stop)
			}
			f := frames[1]
			ebp, _ := f.Regs.Get("ebp")
			if f.InstructionPointer != c.wantEIP || f.StackPointer != c.wantESP || ebp != c.wantEBP || f.Trust != TrustFramePointer {
				t.Errorf("caller %v ebp %#x; want eip %#x esp %#x ebp %#x", &f, ebp, c.wantEIP, c.wantESP, c.wantEBP)
			}
			if frames[0].Note != c.wantNote {
				t.Errorf("frame 0 note %q, want %q", frames[0].Note, c.wantNote)
			}
		})
	}
}

// TestScanWithoutImage: without the image bytes a scan accepts any address in a module's code
// range, but never one in the PE headers (below RVA 0x200, the least FileAlignment).
func TestScanWithoutImage(t *testing.T) {
	m := x86Stack32(map[uint64]uint32{0x12fe00: x86Mod + 0x40, 0x12fe04: x86Mod + 0x4250})
	frames := walkX86(t, m, []Module{{Base: x86Mod, Size: 0x10000, Name: "app"}}, x86Mod+0x1000, 0x12fe00, 0)
	if len(frames) < 2 || frames[1].InstructionPointer != x86Mod+0x4250 || frames[1].Trust != TrustScan {
		t.Fatalf("frames %v", frames)
	}
}
