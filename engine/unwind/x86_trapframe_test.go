package unwind

import (
	"strings"
	"testing"
)

// A trap handler's frame (FPO record FRAME_TRAP) is left through the KTRAP_FRAME its EBP points
// at: the interrupted function resumes with the Eip, Ebp and registers saved there and with esp
// just past the frame (a kernel-mode trap pushes no esp). Offsets as x86_trapframe.go states
// them (Ebp 0x60, Eip 0x68, SegCs 0x6c, EFlags 0x70, HardwareEsp 0x74).

const (
	trapHandlerRVA  = 0x1000
	interruptedRVA  = 0x2000
	trapTestESP     = x86Stack + 0x100
	trapTestFrame   = trapTestESP + 0x10 // the handler's EBP: the KTRAP_FRAME
	interruptedESP  = trapTestFrame + 0x74
	interruptedEBP  = interruptedESP + 0x20
	interruptedEBP2 = interruptedEBP + 0x20
)

func trapRecords() x86Records {
	return x86Records{{Kind: X86FrameFPO, Start: trapHandlerRVA, Size: 0x100, FrameType: FrameTypeTrap, UsesBP: true}}
}

func TestX86TrapFrameFollowed(t *testing.T) {
	m := x86Stack32(map[uint64]uint32{
		// DbgEbp/DbgEip left 0: an EBP-chain walk would stop here, the trap frame goes on.
		trapTestFrame + 0x08: 0xA1A1A1A1, // the words kb shows for the handler (ChildEBP+8…)
		trapTestFrame + 0x5c: 0x0B0B,     // Ebx
		trapTestFrame + 0x58: 0x5E5E,     // Esi
		trapTestFrame + 0x54: 0xD0D0,     // Edi
		trapTestFrame + 0x60: interruptedEBP,
		trapTestFrame + 0x68: x86Mod + interruptedRVA + 0x10,
		trapTestFrame + 0x6c: 0x8, // kernel CS
		trapTestFrame + 0x70: 0x10246,
		interruptedEBP:       interruptedEBP2,
		interruptedEBP + 4:   x86Mod + 0x4200,
	})
	mods := []Module{x86Image(t, trapRecords())}
	frames := walkX86(t, m, mods, x86Mod+trapHandlerRVA+0x50, trapTestESP, trapTestFrame)
	checkX86Frames(t, frames, []x86Want{
		{x86Mod + trapHandlerRVA + 0x50, trapTestESP, trapTestFrame, TrustContext},
		{x86Mod + interruptedRVA + 0x10, interruptedESP, interruptedEBP, TrustFPO},
		{x86Mod + 0x4200, interruptedEBP + 8, interruptedEBP2, TrustFramePointer},
	})
	if got := frames[0].TrapFrame; got != trapTestFrame {
		t.Errorf("frame 0 TrapFrame = %#x, want %#x", got, trapTestFrame)
	}
	if frames[0].X86 == nil || frames[0].X86.FrameType != FrameTypeTrap {
		t.Errorf("frame 0 record = %+v, want the FRAME_TRAP record", frames[0].X86)
	}
	if frames[0].ArgsValid == 0 || frames[0].Args[0] != 0xA1A1A1A1 {
		t.Errorf("frame 0 args %x (valid %d), want the words at ChildEBP+8", frames[0].Args, frames[0].ArgsValid)
	}
	if !frames[1].Interrupted {
		t.Error("the frame restored from the trap frame is not marked interrupted")
	}
	for name, want := range map[string]uint64{"ebx": 0x0B0B, "esi": 0x5E5E, "edi": 0xD0D0} {
		if v, ok := frames[1].Regs.Get(name); !ok || v != want {
			t.Errorf("frame 1 %s = %#x (known %v), want %#x from the trap frame", name, v, ok, want)
		}
	}
	if _, ok := frames[1].Regs.Get("eax"); ok {
		t.Error("frame 1 claims to know eax: its trap-frame offset differs between builds")
	}
	if frames[1].TrapFrame != 0 {
		t.Errorf("frame 1 TrapFrame = %#x, want 0", frames[1].TrapFrame)
	}
}

// A trap frame that is not in the dump leaves the EBP chain (DbgEbp/DbgEip at the frame's
// start), with a note saying so.
func TestX86TrapFrameUnreadable(t *testing.T) {
	const (
		frame = x86Stack + 0x1000 - 0x10 // the 0x8c-byte frame runs past the readable stack
		upper = x86Stack + 0x2000
	)
	m := x86Stack32(map[uint64]uint32{
		frame:     upper,
		frame + 4: x86Mod + 0x4300,
	})
	m.region(upper, 0x10) // [upper] = 0, [upper+4] = 0: the chain ends there
	mods := []Module{x86Image(t, trapRecords())}
	frames := walkX86(t, m, mods, x86Mod+trapHandlerRVA+0x20, frame-0x20, frame)
	checkX86Frames(t, frames, []x86Want{
		{x86Mod + trapHandlerRVA + 0x20, frame - 0x20, frame, TrustContext},
		{x86Mod + 0x4300, frame + 8, upper, TrustFPO},
	})
	if frames[0].TrapFrame != 0 {
		t.Errorf("frame 0 TrapFrame = %#x for an unreadable trap frame", frames[0].TrapFrame)
	}
	if n := frames[1].Note; !strings.Contains(n, "trap frame at 0x") || !strings.Contains(n, "followed EBP") {
		t.Errorf("frame 1 note %q does not say the trap frame was unreadable", n)
	}
}

func TestDecodeX86TrapFrame(t *testing.T) {
	b := make([]byte, X86TrapFrameSize)
	put := func(off int, v uint32) {
		b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	put(0x40, 0xEAEA)     // Eax
	put(0x68, 0x77001234) // Eip
	put(0x6c, 0x1b)       // user CS (RPL 3): esp and ss were pushed
	put(0x70, 0x202)
	put(0x74, 0x0012FF00) // HardwareEsp
	put(0x78, 0x23)       // HardwareSegSs
	c, err := DecodeX86TrapFrame(b, 0x8d000000)
	if err != nil {
		t.Fatal(err)
	}
	if c.Eax != 0xEAEA || c.Eip != 0x77001234 || c.Esp != 0x0012FF00 || c.SegSs != 0x23 || c.SegCs != 0x1b {
		t.Errorf("user-mode trap decoded as %+v", c)
	}
	put(0x6c, 0x8) // kernel CS: esp is the address of HardwareEsp
	if c, _ = DecodeX86TrapFrame(b, 0x8d000000); c.Esp != 0x8d000074 || c.SegSs != 0x10 {
		t.Errorf("kernel-mode trap: esp %#x ss %#x, want 0x8d000074 and 0x10", c.Esp, c.SegSs)
	}
	if _, err := DecodeX86TrapFrame(b[:0x70], 0); err == nil {
		t.Error("no error for a truncated trap frame")
	}
}
