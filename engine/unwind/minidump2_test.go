package unwind_test

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/cpu"
	"wdbg/engine/unwind"
	"wdbg/internal/corpus"
)

// The oracle is breakpad's minidump_stackwalk on breakpad/minidump2.dmp with breakpad/symbols
// (expected/minidump2.stackwalk.out): thread 0 (crashed), four frames.
var minidump2Frames = []struct {
	eip, esp, ebp uint64
}{
	{0x0040429e, 0x0012fe84, 0x0012fe88}, // test_app.exe!`anonymous namespace'::CrashFunction (context)
	{0x00404200, 0x0012fe90, 0x0012ff70}, // test_app.exe!main
	{0x004053ec, 0x0012ff78, 0x0012ffc0}, // test_app.exe!__tmainCRTStartup
	{0x7c816fd7, 0x0012ffc8, 0x0012fff0}, // kernel32.dll!BaseProcessStart+0x23
}

func openMinidump2(t *testing.T) (*engine.Target, []unwind.Module) {
	t.Helper()
	tg, err := engine.Open(corpus.Path(t, "breakpad/minidump2.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	if tg.Exception == nil || tg.Exception.Context == nil {
		t.Fatal("minidump2 has no exception context")
	}
	var mods []unwind.Module
	for _, m := range tg.Modules {
		mods = append(mods, unwind.Module{Base: m.Base, Size: uint64(m.Size), Name: m.Name})
	}
	return tg, mods
}

func checkMinidump2(t *testing.T, frames []unwind.Frame, trust unwind.Trust) {
	t.Helper()
	if len(frames) != len(minidump2Frames) {
		for i := range frames {
			t.Logf("frame %d: %v", i, &frames[i])
		}
		t.Fatalf("%d frames, breakpad found %d (stop: %s)", len(frames), len(minidump2Frames), frames[len(frames)-1].Stop)
	}
	for i, w := range minidump2Frames {
		f := frames[i]
		ebp, _ := f.Regs.Get("ebp")
		if f.InstructionPointer != w.eip || f.StackPointer != w.esp || ebp != w.ebp {
			t.Errorf("frame %d: eip %#x esp %#x ebp %#x; breakpad eip %#x esp %#x ebp %#x", i, f.InstructionPointer, f.StackPointer, ebp, w.eip, w.esp, w.ebp)
		}
		want := trust
		if i == 0 {
			want = unwind.TrustContext
		}
		if f.Trust != want {
			t.Errorf("frame %d found by %s, want %s", i, f.Trust, want)
		}
	}
}

// TestMinidump2FramePointer: the EBP chain alone finds main's, __tmainCRTStartup's and
// BaseProcessStart's return addresses.
func TestMinidump2FramePointer(t *testing.T) {
	tg, mods := openMinidump2(t)
	frames := unwind.Walk(context.Background(), cpu.ArchX86, tg.Exception.Context, tg.Memory, mods, 0)
	checkMinidump2(t, frames, unwind.TrustFramePointer)
	t.Logf("stop: %s", frames[len(frames)-1].Stop)
	// kb's "Args to Child" of frame 1 (main) are the three words above its return address slot.
	if frames[1].ArgsValid < 3 || frames[1].FramePointer != 0x12ff70 {
		t.Errorf("frame 1 ChildEBP %#x args %x (%d)", frames[1].FramePointer, frames[1].Args, frames[1].ArgsValid)
	}
}

// TestMinidump2StackWin walks with the STACK WIN records of breakpad's symbol files for
// test_app.exe and kernel32.dll, as breakpad itself did ("Found by: call frame info").
func TestMinidump2StackWin(t *testing.T) {
	tg, mods := openMinidump2(t)
	syms := map[string]string{
		"test_app": "breakpad/symbols/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym",
		"kernel32": "breakpad/symbols/kernel32.pdb/BCE8785C57B44245A669896B6A19B9542/kernel32.sym",
	}
	for i := range mods {
		if rel, ok := syms[mods[i].Name]; ok {
			mods[i].X86 = readStackWin(t, corpus.Path(t, rel))
		}
	}
	frames := unwind.Walk(context.Background(), cpu.ArchX86, tg.Exception.Context, tg.Memory, mods, 0)
	checkMinidump2(t, frames, unwind.TrustFPO)
	t.Logf("stop: %s", frames[len(frames)-1].Stop)
	for i := 0; i < 3; i++ {
		if frames[i].X86 == nil || frames[i].X86.Kind != unwind.X86FrameData {
			t.Errorf("frame %d was not unwound with a STACK WIN 4 record: %+v", i, frames[i].X86)
		}
	}
}

// stackWin is an X86FrameInfo read from the STACK WIN lines of a breakpad .sym file
// (symbol_files.md: type rva code_size prologue_size epilogue_size parameter_size
// saved_register_size local_size max_stack_size has_program_string program_or_allocates_bp).
type stackWin []unwind.X86Frame

func readStackWin(t *testing.T, path string) stackWin {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out stackWin
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "STACK WIN ") {
			continue
		}
		fs := strings.SplitN(line, " ", 13)
		if len(fs) < 13 {
			continue
		}
		h := func(i int) uint32 { v, _ := strconv.ParseUint(fs[i], 16, 32); return uint32(v) }
		rec := unwind.X86Frame{Start: h(3), Size: h(4), PrologSize: h(5), ParamsSize: h(7), SavedRegsSize: h(8), LocalsSize: h(9), MaxStackSize: h(10)}
		switch fs[2] {
		case "4":
			rec.Kind = unwind.X86FrameData
			if h(11) != 0 {
				rec.Program = fs[12]
			}
		case "0":
			rec.Kind = unwind.X86FrameFPO
			rec.UsesBP = fs[12] != "0"
		default:
			continue
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (s stackWin) X86Frame(rva uint32) (unwind.X86Frame, bool) {
	var best unwind.X86Frame
	found := false
	for _, r := range s {
		if rva >= r.Start && rva-r.Start < r.Size && (!found || r.Kind == unwind.X86FrameData && best.Kind != unwind.X86FrameData) {
			best, found = r, true
		}
	}
	return best, found
}
