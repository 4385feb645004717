package ksynth

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// The ARM64 trap frame read back by the offsets of _ARM64_KTRAP_FRAME in dotnet/runtime's ARM64
// unwinder (src/coreclr/unwinder/arm64/unwinder.cpp: Spsr u32 @0x90, Esr u32 @0x94, Sp @0x98,
// X[19] @0xA0, Lr @0x138, Fp @0x140, Pc @0x148; 0x150 bytes), written out here rather than taken
// from the writer's constants; the manifest's frames must place it between the handler's frame
// and the interrupted sp.
func TestARM64TrapFrame(t *testing.T) {
	d, _, tr := openARM64(t, RunList)
	m := d.Manifest()
	if len(m.ARM64Traps) != m.NumberProcessors-1 {
		t.Fatalf("%d trap frames, want one per processor that did not bug-check (%d)", len(m.ARM64Traps), m.NumberProcessors-1)
	}
	for _, tf := range m.ARM64Traps {
		b := make([]byte, 0x150)
		if _, err := tr.ReadAt(b, tf.Address); err != nil {
			t.Fatalf("trap frame %#x: %v", tf.Address, err)
		}
		le := binary.LittleEndian
		got := map[string]uint64{"cpsr": uint64(le.Uint32(b[0x90:])), "sp": le.Uint64(b[0x98:]),
			"lr": le.Uint64(b[0x138:]), "fp": le.Uint64(b[0x140:]), "pc": le.Uint64(b[0x148:])}
		for n := 0; n < 19; n++ {
			got[fmt.Sprintf("x%d", n)] = le.Uint64(b[0xA0+8*n:])
		}
		if len(tf.Registers) != len(got) {
			t.Errorf("manifest has %d trap registers, the frame %d", len(tf.Registers), len(got))
		}
		for name, v := range tf.Registers {
			if got[name] != v {
				t.Errorf("trap %#x: %s = %#x, manifest %#x", tf.Address, name, got[name], v)
			}
		}
		if b[0] != 0 || le.Uint32(b[0x94:]) != 0 {
			t.Errorf("trap %#x: ExceptionActive %d Esr %#x, want an interrupt frame (0) without syndrome", tf.Address, b[0], le.Uint32(b[0x94:]))
		}
		th := m.Thread(tf.Thread)
		if th == nil || th.State != stateRunning || th.Processor != tf.Processor {
			t.Fatalf("trap %#x: thread %#x is not running on processor %d: %+v", tf.Address, tf.Thread, tf.Processor, th)
		}
		// Frames: the ISR, the handler owning the trap frame, the interrupted function at its
		// first instruction (pc, sp, fp, lr from the trap frame), then its caller at the same sp.
		want := []string{"synthdrv!SynthInterruptService+0x30", "nt!KiInterruptException+0x40", "hal!HalProcessorIdle", "nt!KiIdleLoop+0xa0"}
		if len(th.Frames) != len(want) {
			t.Fatalf("thread %#x: %d frames, want %v", th.Address, len(th.Frames), want)
		}
		for i, w := range want {
			if th.Frames[i].Symbol != w {
				t.Errorf("thread %#x frame %d: %s, want %s", th.Address, i, th.Frames[i].Symbol, w)
			}
		}
		h, in, caller := th.Frames[1], th.Frames[2], th.Frames[3]
		if h.TrapFrame != tf.Address || tf.Handler != h.Symbol || tf.Interrupted != in.Symbol {
			t.Errorf("handler frame %+v, trap %+v", h, tf)
		}
		if tf.Address <= h.SP || tf.Address+0x150 > in.SP || in.SP != tf.Registers["sp"] {
			t.Errorf("trap frame %#x..%#x not between the handler's sp %#x and the interrupted sp %#x (Sp %#x)",
				tf.Address, tf.Address+0x150, h.SP, in.SP, tf.Registers["sp"])
		}
		if in.IP != tf.Registers["pc"] || in.FP != tf.Registers["fp"] || caller.IP != tf.Registers["lr"] || caller.SP != in.SP {
			t.Errorf("interrupted frame %+v / caller %+v, trap registers %v", in, caller, tf.Registers)
		}
		if e := m.Module("hal").Exports[0]; e.Name != "HalProcessorIdle" || in.IP != e.Address {
			t.Errorf("interrupted pc %#x, want HalProcessorIdle's first instruction %#x", in.IP, e.Address)
		}
	}
}
