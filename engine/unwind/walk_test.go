package unwind

import (
	"context"
	"strings"
	"testing"

	"wdbg/engine/cpu"
)

// x64Chain builds three x64 functions A (0x1000) → B (0x1100) → C (0x1200), each `push rbx; sub
// rsp, 0x20` with a call before its return address, and a stack where A was called by B and B
// by C, and C returns to 0.
func x64Chain(t testing.TB) (*fakeMem, []Module, *cpu.AMD64Context) {
	im := newFakeImage(0x8000)
	info := unwindInfo(1, 0, 5, 0, 0, []uint16{uwc(5, UwopAllocSmall, 3), uwc(1, UwopPushNonvol, 3)})
	im.put(0x3000, info...)
	for _, begin := range []uint32{0x1000, 0x1100, 0x1200} {
		im.entries = append(im.entries, RuntimeFunction{Begin: begin, End: begin + 0x100, UnwindData: 0x3000})
		im.put(begin+0x40-5, 0xE8, 0, 0, 0, 0)
	}
	m := newFakeMem()
	m.region(x64Stack, 0x4000)
	rsp := uint64(x64RSP)
	for _, ret := range []uint64{x64Base + 0x1140, x64Base + 0x1240, 0} {
		m.put64(rsp+0x20, 0xB0B0+rsp) // saved rbx
		m.put64(rsp+0x28, ret)
		m.put64(rsp+0x30, 0xA1) // home slots of the callee: its "args"
		rsp += 0x30
	}
	mods := []Module{{Base: x64Base, Size: 0x8000, Name: "app", Unwind: im.table(t, cpu.ArchAMD64)}}
	return m, mods, &cpu.AMD64Context{Rip: x64Base + 0x1010, Rsp: x64RSP, Rbx: 0x1234, Rax: 1}
}

func TestWalkX64(t *testing.T) {
	m, mods, ctx := x64Chain(t)
	frames := Walk(context.Background(), cpu.ArchAMD64, ctx, m, mods, 0)
	if len(frames) != 3 {
		t.Fatalf("%d frames: %v", len(frames), frames)
	}
	wantIP := []uint64{x64Base + 0x1010, x64Base + 0x1140, x64Base + 0x1240}
	wantSP := []uint64{x64RSP, x64RSP + 0x30, x64RSP + 0x60}
	wantTrust := []Trust{TrustContext, TrustUnwindInfo, TrustUnwindInfo}
	for i, f := range frames {
		if f.InstructionPointer != wantIP[i] || f.StackPointer != wantSP[i] || f.Trust != wantTrust[i] || f.Module != 0 {
			t.Errorf("frame %d: %v, want ip %#x sp %#x %s", i, &f, wantIP[i], wantSP[i], wantTrust[i])
		}
	}
	if frames[0].ReturnAddress != wantIP[1] || frames[1].ReturnAddress != wantIP[2] || frames[2].ReturnAddress != 0 {
		t.Errorf("return addresses %#x %#x %#x", frames[0].ReturnAddress, frames[1].ReturnAddress, frames[2].ReturnAddress)
	}
	if frames[0].Args[0] != 0xA1 || frames[0].ArgsValid != 4 {
		t.Errorf("frame 0 args %x (%d): the home slots at the caller's RSP", frames[0].Args, frames[0].ArgsValid)
	}
	if frames[0].FunctionBegin != 0x1000 || frames[1].FunctionBegin != 0x1100 {
		t.Errorf("function begins %#x %#x", frames[0].FunctionBegin, frames[1].FunctionBegin)
	}
	if rbx, _ := frames[1].Regs.Get("rbx"); rbx != 0xB0B0+x64RSP {
		t.Errorf("frame 1 rbx %#x", rbx)
	}
	if !strings.Contains(frames[2].Stop, "return address is 0") {
		t.Errorf("stop %q", frames[2].Stop)
	}
	// The registers applied over the thread context give the frame's `r` view.
	c := frames[1].Regs.ApplyTo(ctx).(*cpu.AMD64Context)
	if c.Rip != wantIP[1] || c.Rsp != wantSP[1] || c.Rbx != 0xB0B0+x64RSP || c.Rax != 1 {
		t.Errorf("ApplyTo: rip %#x rsp %#x rbx %#x rax %#x", c.Rip, c.Rsp, c.Rbx, c.Rax)
	}
}

func TestWalkStops(t *testing.T) {
	m, mods, ctx := x64Chain(t)
	if frames := Walk(context.Background(), cpu.ArchAMD64, ctx, m, mods, 2); len(frames) != 2 || !strings.Contains(frames[1].Stop, "after 2 frames") {
		t.Errorf("max frames: %d frames, stop %q", len(frames), frames[len(frames)-1].Stop)
	} else if frames[1].ReturnAddress != x64Base+0x1240 {
		t.Errorf("the last frame shown still has its RetAddr: %#x", frames[1].ReturnAddress)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if frames := Walk(cancelled, cpu.ArchAMD64, ctx, m, mods, 0); len(frames) != 1 || frames[0].Stop != "walk cancelled" {
		t.Errorf("cancelled: %d frames, stop %q", len(frames), frames[0].Stop)
	}
	if frames := Walk(context.Background(), cpu.ArchX86, ctx, m, mods, 0); len(frames) != 1 || frames[0].Stop == "" {
		t.Errorf("architecture mismatch: %v", frames)
	}

	// A return address that is not canonical is refused; a stack scan then finds the next
	// return address up the stack (B's, into C), and the frame says so.
	m.put64(x64RSP+0x28, 0x8000000000001234)
	frames := Walk(context.Background(), cpu.ArchAMD64, ctx, m, mods, 0)
	if len(frames) < 2 || frames[1].Trust != TrustScan || frames[1].InstructionPointer != x64Base+0x1240 ||
		!strings.Contains(frames[1].Note, "not a valid address") {
		t.Fatalf("non-canonical then scan: %v", frames)
	}
	// With nothing to scan for, the walk stops and says why.
	m.put64(x64RSP+0x58, 0)
	frames = Walk(context.Background(), cpu.ArchAMD64, ctx, m, mods, 0)
	if len(frames) != 1 || !strings.Contains(frames[0].Stop, "not a valid address") {
		t.Errorf("non-canonical: %d frames, stop %q", len(frames), frames[0].Stop)
	}
}

func TestWalkLoop(t *testing.T) {
	// An EBP chain that points back at itself.
	m := x86Stack32(map[uint64]uint32{0x12fe88: 0x12fe88, 0x12fe8c: x86Mod + 0x4200})
	frames := walkX86(t, m, []Module{x86Image(t, nil)}, x86Mod+0x1000, 0x12fe80, 0x12fe88)
	if len(frames) > 3 {
		t.Fatalf("a looping EBP chain gave %d frames", len(frames))
	}
	if last := frames[len(frames)-1]; last.Stop == "" {
		t.Errorf("no stop reason: %v", frames)
	}
}

func TestRegisters(t *testing.T) {
	r := FromContext(&cpu.ARM64Context{X: [31]uint64{29: 0x29, 30: 0x30}, Fp: 0x29, Lr: 0x30, Sp: 0x5000, Pc: 0x1000})
	if r.PC() != 0x1000 || r.SP() != 0x5000 || r.FP() != 0x29 {
		t.Errorf("pc %#x sp %#x fp %#x", r.PC(), r.SP(), r.FP())
	}
	if v, ok := r.Get("x30"); !ok || v != 0x30 {
		t.Errorf("x30 = %#x %v", v, ok)
	}
	if v, ok := r.Get("LR"); !ok || v != 0x30 {
		t.Errorf("LR = %#x %v", v, ok)
	}
	r.keepCalleeSaved()
	names := strings.Join(r.Names(), " ")
	if strings.Contains(names, "x0 ") || !strings.Contains(names, "fp lr sp pc") {
		t.Errorf("names after a call: %s", names)
	}
	x := FromContext(&cpu.X86Context{Eip: 1, Esp: 2, Ebp: 3, Eax: 4})
	if got := strings.Join(x.Names(), " "); got != "eax ebx ecx edx esi edi eip esp ebp" {
		t.Errorf("x86 names %q", got)
	}
}
