package commands

import (
	"fmt"
	"strings"
	"testing"

	"wdbg/engine/ksynth"
)

// ARM64 kernel stacks through a trap frame. engine/ksynth's ARM64 machine interrupts the idle
// thread of every processor that did not bug-check: the driver's interrupt service routine runs,
// called by nt!KiInterruptException, whose .xdata unwind code 0xE8 (MSFT_OP_TRAP_FRAME) names
// the KTRAP_FRAME holding the interrupted hal!HalProcessorIdle (stopped at its first
// instruction, its return address into nt!KiIdleLoop still in lr). kv must leave the handler
// through the trap frame as x64 does — `(TrapFrame @ addr)` after its call site and trap_frame
// in the JSON — `.trap` must show the trap frame's registers, and kc after it the interrupted
// frames. Every expected value is the manifest's (ksynth.Manifest.ARM64Traps and the thread's
// frames).

func TestKernelTrapFrameARM64(t *testing.T) {
	for _, st := range []struct {
		name    string
		storage ksynth.Storage
	}{{"runlist", ksynth.RunList}, {"bitmap", ksynth.Bitmap}} {
		t.Run(st.name, func(t *testing.T) {
			k := openARM64Kernel(t, st.storage)
			if len(k.m.ARM64Traps) == 0 {
				t.Fatal("the manifest has no ARM64 trap frame")
			}
			for _, tf := range k.m.ARM64Traps {
				checkARM64TrapStack(t, k, tf)
			}
			run(t, k.s, fmt.Sprintf("~%ds", k.m.BugCheckProcessor))
			// The bug check (0xF7) names no trap frame: !analyze -v must not claim one.
			if a := run(t, k.s, "!analyze -v"); strings.Contains(a, "TRAP_FRAME:") {
				t.Errorf("!analyze -v of bug check %#x shows a TRAP_FRAME:\n%s", k.m.BugCheck.Code, a)
			}
		})
	}
}

func checkARM64TrapStack(t *testing.T, k synthKernel, tf ksynth.ARM64Trap) {
	t.Helper()
	th := k.m.Thread(tf.Thread)
	if th == nil {
		t.Fatalf("trap %#x: thread %#x not in the manifest", tf.Address, tf.Thread)
	}
	trapIdx := -1
	for i, f := range th.Frames {
		if f.TrapFrame != 0 {
			trapIdx = i
		}
	}
	if trapIdx < 0 || trapIdx+1 >= len(th.Frames) || th.Frames[trapIdx].TrapFrame != tf.Address {
		t.Fatalf("no frame of thread %#x owns trap frame %#x: %+v", th.Address, tf.Address, th.Frames)
	}
	run(t, k.s, fmt.Sprintf("~%ds", tf.Processor))

	// kv: every row's Child-SP, RetAddr and call site; the note on the handler's row only.
	kv := run(t, k.s, "kv")
	rows := stackRows(kv)
	if len(rows) != len(th.Frames) {
		t.Fatalf("processor %d: kv shows %d frames, the writer built %d:\n%s", tf.Processor, len(rows), len(th.Frames), kv)
	}
	note := fmt.Sprintf(" (TrapFrame @ %s)", FormatAddr(tf.Address, 8))
	for i, f := range th.Frames {
		if head := fmt.Sprintf("%02x %s %s ", i, FormatAddr(f.SP, 8), FormatAddr(f.RetAddr, 8)); !strings.HasPrefix(rows[i], head) {
			t.Errorf("kv row %d = %q, want it to start %q", i, rows[i], head)
		}
		site := " : " + f.Symbol
		if i == trapIdx {
			site += note
		}
		if !strings.HasSuffix(rows[i], site) {
			t.Errorf("kv row %d = %q, want it to end %q", i, rows[i], site)
		}
	}
	if strings.Count(kv, "TrapFrame @") != 1 {
		t.Errorf("kv names %d trap frames, want 1:\n%s", strings.Count(kv, "TrapFrame @"), kv)
	}
	if kb := run(t, k.s, "kb"); strings.Contains(kb, "TrapFrame @") || strings.Contains(kb, "(T)") {
		t.Errorf("kb shows kv's trap note or an x86 marker:\n%s", kb)
	}
	checkTrapFrameJSON(t, k.s, "kv", th.Frames, tf.Address)
	if out := run(t, k.s, fmt.Sprintf("!thread %x", th.Address)); !strings.Contains(out, " : "+th.Frames[trapIdx].Symbol+note+"\n") {
		t.Errorf("!thread %x lacks the handler's row with %q:\n%s", th.Address, note, out)
	}

	// .trap: the trap frame's registers; x19–x28 are not in it.
	out := run(t, k.s, fmt.Sprintf(".trap %x", tf.Address))
	if !strings.HasPrefix(out, "NOTE: The trap frame does not contain all registers.\n") {
		t.Errorf(".trap %x does not start with the trap-frame note:\n%s", tf.Address, out)
	}
	if want := tf.Interrupted + ":\n"; !strings.Contains(out, want) {
		t.Errorf(".trap %x lacks the interrupted instruction's label %q:\n%s", tf.Address, want, out)
	}
	if len(tf.Registers) != 24 {
		t.Errorf("manifest trap registers: %d, want x0–x18, fp, lr, sp, pc, cpsr", len(tf.Registers))
	}
	for name, want := range tf.Registers {
		w := fmt.Sprintf("%s=%016x\n", name, want)
		if name == "cpsr" {
			w = fmt.Sprintf("cpsr=%08x\n", want)
		}
		if got := run(t, k.s, "r "+name); got != w {
			t.Errorf(".trap %x; r %s = %q, want %q", tf.Address, name, got, w)
		}
	}
	if got := run(t, k.s, "r x19"); got != "x19=0000000000000000\n" {
		t.Errorf(".trap %x; r x19 = %q, want 0 (not saved in a trap frame)", tf.Address, got)
	}
	// kc after .trap: the interrupted frames, the first at its first instruction (a frame that
	// has moved no stack: its caller shares its sp).
	var want, got []string
	for _, f := range th.Frames[trapIdx+1:] {
		want = append(want, f.Symbol)
	}
	for _, l := range stackRows(run(t, k.s, "kc")) {
		if f := strings.Fields(l); len(f) == 2 {
			got = append(got, f[1])
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("kc after .trap %x: %v, want %v", tf.Address, got, want)
	}
	rows = stackRows(run(t, k.s, "k"))
	for i, f := range th.Frames[trapIdx+1:] {
		if i >= len(rows) || !strings.HasPrefix(rows[i], fmt.Sprintf("%02x %s %s ", i, FormatAddr(f.SP, 8), FormatAddr(f.RetAddr, 8))) {
			t.Errorf("k after .trap, frame %d (%s, sp %#x): rows %q", i, f.Symbol, f.SP, rows)
			break
		}
	}
	if out := run(t, k.s, ".trap"); out != "Resetting default scope\n" {
		t.Errorf(".trap without an address = %q", out)
	}
	if pc := run(t, k.s, "r pc"); pc != fmt.Sprintf("pc=%016x\n", th.Frames[0].IP) {
		t.Errorf("after .trap: r pc = %q, want the processor's %016x", pc, th.Frames[0].IP)
	}
}
