package commands

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"wdbg/engine/ksynth"
)

// TestProcessSessionID: `!process 0 0` reads each process's MM_SESSION_SPACE.SessionId through
// that process's own page tables (session space is mapped per session), so processes of the
// writer's session 1 show it whatever the current process is, and the others show `none`.
func TestProcessSessionID(t *testing.T) {
	s, m := openPoolSynth(t, ksynth.X64Win10_19041)
	sf := m.Pool.Session
	if sf == nil {
		t.Fatal("the writer made no session")
	}
	_, text := runPoolCmd(t, s, "!process 0 0") // current process: System, which maps no session space
	for _, p := range m.Processes {
		want := "none"
		if slices.Contains(sf.Processes, p.Address) {
			want = fmt.Sprint(sf.SessionID)
		}
		block := fmt.Sprintf("PROCESS %x\n    SessionId: %s  Cid: %04x", p.Address, want, p.PID)
		if !strings.Contains(text, block) {
			t.Errorf("%s: want %q in\n%s", p.ImageFileName, block, text)
		}
	}
}

// TestThreadStartAddresses: `!thread ADDR` shows each thread's TEB and start addresses as the
// writer put them; kernel threads (the idle threads included) start in a kernel function, shown
// as module!function with the address in parentheses, and have no TEB.
func TestThreadStartAddresses(t *testing.T) {
	s, m := openPoolSynth(t, ksynth.X64Win10_19041)
	for _, th := range m.Threads {
		_, text := runPoolCmd(t, s, fmt.Sprintf("!thread %x", th.Address))
		if want := fmt.Sprintf("Teb: %016x", th.Teb); !strings.Contains(text, want) {
			t.Errorf("thread %x: want %q in\n%s", th.Address, want, text)
		}
		for label, v := range map[string]uint64{"Start Address ": th.StartAddress, "Win32 Start Address ": th.Win32StartAddress} {
			want := fmt.Sprintf("\n%s0x%016x\n", label, v) // user entry points: not in the dump's images
			if th.Teb == 0 {
				want = fmt.Sprintf(" (0x%016x)\n", v)
				if !strings.Contains(text, "\n"+label+"nt!") && !strings.Contains(text, "\n"+label+"synthdrv!") &&
					!strings.Contains(text, "\n"+label+"printflt!") {
					t.Errorf("thread %x: %q is not a kernel symbol in\n%s", th.Address, label, text)
				}
			}
			if !strings.Contains(text, want) {
				t.Errorf("thread %x: want %q in\n%s", th.Address, want, text)
			}
		}
	}
	// The idle threads start in the idle loop.
	for _, p := range m.Processors {
		_, text := runPoolCmd(t, s, fmt.Sprintf("!thread %x", p.IdleThread))
		if !strings.Contains(text, "\nStart Address nt!KiIdleLoop (0x") {
			t.Errorf("idle thread of processor %d:\n%s", p.Number, text)
		}
	}
}
