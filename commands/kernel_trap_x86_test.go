package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"wdbg/engine/ksynth"
)

// x86 kernel stacks through a trap frame (WINDBG-SPEC §3.2): with the kernel PDB that
// engine/ksynth writes (its FPO records mark KiTrap0E FRAME_TRAP), kv leaves KiTrap0E's frame
// through the KTRAP_FRAME, puts ` (T)` in the marker slot after RetAddr and notes
// `(FPO: [params,locals] TrapFrame @ addr)`. Every expected value is the manifest's: the crash
// thread's frames (ChildEBP, RetAddr, symbol) and the trap frame's address and registers.

var x86TrapMachines = []struct {
	name    string
	machine ksynth.Machine
}{{"x86pae-7601", ksynth.X86PAEWin7_7601}, {"x86-7601", ksynth.X86Win7_7601}}

func TestKernelTrapFrameX86(t *testing.T) {
	for _, mc := range x86TrapMachines {
		t.Run(mc.name, func(t *testing.T) {
			s, m := openPoolDump(t, ksynth.Spec{Machine: mc.machine, Storage: ksynth.RunList})
			crash := m.Thread(m.CrashThread)
			if crash == nil || m.TrapFrame == 0 {
				t.Fatal("the manifest has no crash thread or trap frame")
			}
			trapIdx := -1
			for i, f := range crash.Frames {
				if f.TrapFrame != 0 {
					trapIdx = i
				}
			}
			if trapIdx < 0 || crash.Frames[trapIdx].TrapFrame != m.TrapFrame {
				t.Fatalf("no crash frame owns the manifest's trap frame %#x", m.TrapFrame)
			}

			kv := run(t, s, "kv")
			rows := stackRows(kv)
			if len(rows) != len(crash.Frames) {
				t.Fatalf("kv shows %d frames, the writer built %d:\n%s", len(rows), len(crash.Frames), kv)
			}
			noteRE := regexp.MustCompile(fmt.Sprintf(`\(FPO: \[\d+,\d+\] TrapFrame @ %08x\)$`, m.TrapFrame))
			for i, f := range crash.Frames {
				marker := "    "
				if i == trapIdx {
					marker = " (T)"
				}
				// `NN ChildEBP RetAddr MMMM a1 a2 a3 symbol (FPO: ...)`: the columns up to the marker
				// slot, then the call site after the three arguments.
				head := fmt.Sprintf("%02x %08x %08x%s ", i, f.FP, f.RetAddr, marker)
				if !strings.HasPrefix(rows[i], head) {
					t.Errorf("kv row %d = %q, want it to start %q", i, rows[i], head)
				}
				if !strings.Contains(rows[i], " "+f.Symbol+" (FPO: ") {
					t.Errorf("kv row %d = %q, want call site %s", i, rows[i], f.Symbol)
				}
				if got := noteRE.MatchString(rows[i]); got != (i == trapIdx) {
					t.Errorf("kv row %d = %q: TrapFrame @ %08x note present %v, want %v", i, rows[i], m.TrapFrame, got, i == trapIdx)
				}
			}
			if kb := run(t, s, "kb"); !strings.Contains(kb, fmt.Sprintf(" %08x %08x (T) ", crash.Frames[trapIdx].FP, crash.Frames[trapIdx].RetAddr)) ||
				strings.Contains(kb, "FPO:") {
				t.Errorf("kb lacks the (T) marker on frame %x or shows kv's notes:\n%s", trapIdx, kb)
			}
			checkTrapFrameJSON(t, s, "kv", crash.Frames, m.TrapFrame)

			// .trap of the same address: the interrupted registers, and the stack below the trap.
			run(t, s, fmt.Sprintf(".trap %x", m.TrapFrame))
			// eax..edx sit where Windows 7 keeps them (4 bytes above the 1903 layout).
			for _, reg := range []string{"eip", "esp", "ebp", "eax", "ecx", "edx", "esi"} {
				want, ok := m.TrapRegisters[reg]
				if !ok {
					t.Fatalf("manifest trap registers lack %s", reg)
				}
				if got := run(t, s, "r "+reg); !strings.HasSuffix(got, fmt.Sprintf("=%08x\n", want)) {
					t.Errorf(".trap %x; r %s = %q, want %08x", m.TrapFrame, reg, got, want)
				}
			}
			var want []string
			for _, f := range crash.Frames[trapIdx+1:] {
				want = append(want, f.Symbol)
			}
			var got []string
			for _, l := range stackRows(run(t, s, "kc")) {
				if f := strings.Fields(l); len(f) == 2 {
					got = append(got, f[1])
				}
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("kc after .trap:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// Without the kernel PDB there are no FPO records: the walk follows the EBP chain (through the
// trap frame's DbgEbp/DbgEip) and claims no trap frame.
func TestKernelTrapFrameX86NoSymbols(t *testing.T) {
	k := openSynthKernel(t, ksynth.X86PAEWin7_7601, ksynth.RunList)
	kv := run(t, k.s, "kv")
	if strings.Contains(kv, "(T)") || strings.Contains(kv, "TrapFrame @") {
		t.Errorf("kv without FPO records claims a trap frame:\n%s", kv)
	}
}

// x64 output keeps its form: `(TrapFrame @ ...)` after the call site and no (T) marker; JSON now
// names the trap frame on the frame that owns it.
func TestKernelTrapFrameX64Unchanged(t *testing.T) {
	s, m := openPoolDump(t, ksynth.Spec{Machine: ksynth.X64Win10_19041, Storage: ksynth.RunList})
	crash := m.Thread(m.CrashThread)
	if crash == nil || m.TrapFrame == 0 {
		t.Fatal("the manifest has no crash thread or trap frame")
	}
	kv := run(t, s, "kv")
	if want := fmt.Sprintf("(TrapFrame @ %s)", FormatAddr(m.TrapFrame, 8)); strings.Count(kv, want) != 1 || strings.Contains(kv, "(T)") {
		t.Errorf("x64 kv: want %q once and no (T) marker:\n%s", want, kv)
	}
	checkTrapFrameJSON(t, s, "kv", crash.Frames, m.TrapFrame)
}

// checkTrapFrameJSON checks that the k result's JSON carries trap_frame on exactly the frames
// the manifest says own one.
func checkTrapFrameJSON(t *testing.T, s *Session, line string, frames []ksynth.Frame, trap uint64) {
	t.Helper()
	res, err := s.Exec(context.Background(), line)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Frames []struct {
			Number    int    `json:"number"`
			TrapFrame string `json:"trap_frame"`
		} `json:"frames"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Frames) != len(frames) {
		t.Fatalf("%s JSON has %d frames, the writer built %d", line, len(doc.Frames), len(frames))
	}
	for i, f := range doc.Frames {
		want := ""
		if frames[i].TrapFrame != 0 {
			want = fmt.Sprintf("0x%x", trap)
		}
		if f.TrapFrame != want {
			t.Errorf("%s JSON frame %d trap_frame %q, want %q", line, i, f.TrapFrame, want)
		}
	}
}

// stackRows are the frame rows of k output: the lines that start with a hex frame number.
func stackRows(out string) []string {
	var rows []string
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 3 && l[2] == ' ' && isHex(l[:2]) {
			rows = append(rows, l)
		}
	}
	return rows
}
