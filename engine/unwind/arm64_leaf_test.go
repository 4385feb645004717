package unwind

import (
	"context"
	"fmt"
	"testing"

	"wdbg/engine/cpu"
)

// ARM64 frames stopped where their function has moved no stack: a leaf function (no .pdata
// entry: "If the function does not have a function entry, then it is a pure leaf ... the stack
// pointer does not move, and LR is never overwritten", the ARM64 unwinder of dotnet/runtime,
// src/coreclr/unwinder/arm64/unwinder.cpp) or a function at its first instruction, before its
// prolog. Its caller is at the same sp, reached through lr. The walker must keep that caller
// instead of rejecting it for not growing the stack and skipping it through the x29 chain.
//
// The image (base armBase): A at RVA 0x1000 (the interrupted function), B at 0x1100 which called
// A from B+0x20, C at 0x1200 which called B from C+0x30. B and C have packed unwind data of a
// chained frame record (CR 3) with a 32-byte frame: [sp] = caller's x29, [sp+8] = return
// address, and the caller's sp is sp+32 (ARM64 exception handling, "Packed unwind data").

const (
	leafA, leafB, leafC = 0x1000, 0x1100, 0x1200
	leafRetB            = armBase + leafB + 0x24 // in lr: A returns there
	leafRetC            = armBase + leafC + 0x34 // in B's frame record
)

// packedChained is packed unwind data (Flag 1) for a function of n bytes with a chained frame
// record (CR 3) and a frame of size bytes.
func packedChained(n, size uint32) uint32 { return 1 | n/4<<2 | 3<<21 | size/16<<23 }

// leafStack builds the image and the stack: B's frame at armSP, C's at armSP+32 ending the chain
// (its record holds 0, 0). aEntry gives A a .pdata entry; bXdata replaces B's packed data.
func leafStack(t *testing.T, aEntry bool, bXdata []byte) (*fakeMem, []Module) {
	t.Helper()
	im := newFakeImage(0x4000)
	if aEntry {
		im.entries = append(im.entries, RuntimeFunction{Begin: leafA, UnwindData: packedChained(0x40, 32)})
	}
	if bXdata != nil {
		im.put(0x3000, bXdata...)
		im.entries = append(im.entries, RuntimeFunction{Begin: leafB, UnwindData: 0x3000})
	} else {
		im.entries = append(im.entries, RuntimeFunction{Begin: leafB, UnwindData: packedChained(0x80, 32)})
	}
	im.entries = append(im.entries, RuntimeFunction{Begin: leafC, UnwindData: packedChained(0x80, 32)})
	m := newFakeMem()
	m.region(armStack, 0x4000)
	m.put64(armSP, armSP+32) // B's record: C's x29
	m.put64(armSP+8, leafRetC)
	m.put64(armSP+32, 0) // C's record: the end of the chain
	m.put64(armSP+40, 0)
	return m, []Module{{Base: armBase, Size: 0x4000, Name: "leaf", Unwind: im.table(t, cpu.ArchARM64)}}
}

func walkLeaf(m *fakeMem, mods []Module, pc, lr uint64) []Frame {
	ctx := &cpu.ARM64Context{ContextFlags: cpu.ContextFlagARM64 | 3, Pc: pc, Sp: armSP, Fp: armSP, Lr: lr}
	ctx.X[29], ctx.X[30] = ctx.Fp, ctx.Lr
	return Walk(context.Background(), cpu.ArchARM64, ctx, m, mods, 0)
}

func framesText(fs []Frame) string {
	s := ""
	for i, f := range fs {
		s += fmt.Sprintf("\n  %d: %s", i, f.String())
	}
	return s
}

func TestWalkARM64LeafAtFrame0(t *testing.T) {
	for _, c := range []struct {
		name   string
		aEntry bool
		pc     uint64
	}{
		{"leaf without .pdata entry", false, armBase + leafA + 8},
		{"function before its prolog", true, armBase + leafA},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, mods := leafStack(t, c.aEntry, nil)
			frames := walkLeaf(m, mods, c.pc, leafRetB)
			want := []struct{ pc, sp uint64 }{{c.pc, armSP}, {leafRetB, armSP}, {leafRetC, armSP + 32}}
			if len(frames) != len(want) {
				t.Fatalf("%d frames, want A, B, C:%s", len(frames), framesText(frames))
			}
			for i, w := range want {
				if frames[i].InstructionPointer != w.pc || frames[i].StackPointer != w.sp {
					t.Errorf("frame %d: pc %#x sp %#x, want %#x %#x", i, frames[i].InstructionPointer, frames[i].StackPointer, w.pc, w.sp)
				}
			}
			if frames[1].Trust != TrustUnwindInfo || frames[2].Trust != TrustUnwindInfo {
				t.Errorf("B and C not found by unwind info:%s", framesText(frames))
			}
			if frames[0].ReturnAddress != leafRetB {
				t.Errorf("A's RetAddr %#x, want %#x", frames[0].ReturnAddress, leafRetB)
			}
			if last := frames[2]; last.Stop != "return address is 0 (end of the stack)" {
				t.Errorf("C's stop %q", last.Stop)
			}
		})
	}
}

// The loop protection stays: an unwind that leaves both sp and pc unchanged is rejected, for
// the interrupted frame as for any other.
func TestWalkARM64EqualSPNeedsProgress(t *testing.T) {
	// A at its first instruction with lr pointing at itself: its unwind (pc from lr, sp kept)
	// goes nowhere, and the walker must not repeat A; the x29 chain leads on to C.
	m, mods := leafStack(t, true, nil)
	pc := uint64(armBase + leafA)
	frames := walkLeaf(m, mods, pc, pc)
	if len(frames) < 2 || frames[1].InstructionPointer == pc {
		t.Fatalf("frame 0 repeated:%s", framesText(frames))
	}
	if frames[1].InstructionPointer != leafRetC || frames[1].Trust != TrustFramePointer {
		t.Errorf("frame 1 %s, want C (%#x) through the frame record", frames[1].String(), uint64(leafRetC))
	}
	// B (at a return address, not interrupted) whose unwind data claims no stack: the candidate
	// has B's own pc and sp again and is rejected; the x29 chain goes on to C.
	m, mods = leafStack(t, false, xdata(0x80, false, 0, nil, 0xE4))
	frames = walkLeaf(m, mods, armBase+leafA+8, leafRetB)
	if len(frames) != 3 || frames[1].InstructionPointer != leafRetB || frames[2].InstructionPointer != leafRetC {
		t.Fatalf("want A, B, C:%s", framesText(frames))
	}
	if frames[2].Trust != TrustFramePointer {
		t.Errorf("C found by %s, want the frame pointer after B's unwind was rejected:%s", frames[2].Trust, framesText(frames))
	}
}
