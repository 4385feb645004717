package commands

import (
	"path/filepath"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/symstore"
	"wdbg/internal/corpus"
)

func sessionWithSymbols(t *testing.T, dump, symPath string) *Session {
	t.Helper()
	tgt, err := engine.Open(corpus.Path(t, dump))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tgt.Close() })
	return NewSessionWith(tgt, SessionOptions{SymbolPath: symPath, Store: symstore.Options{DefaultCache: t.TempDir()}})
}

// kv on breakpad/minidump2.dmp with breakpad/symbols must give breakpad's own stack walk
// (breakpad/expected/minidump2.stackwalk.out): the frames' ebp (ChildEBP) and eip (the next
// frame's RetAddr), and names — CrashFunction, main, __tmainCRTStartup, kernel32!BaseProcessStart+0x23.
func TestStackMinidump2(t *testing.T) {
	s := sessionWithSymbols(t, "breakpad/minidump2.dmp", filepath.Join(corpus.Dir(t), "breakpad", "symbols"))
	run(t, s, ".ecxr")
	got := run(t, s, "k")
	want := []string{
		"  *** Stack trace for last set context - .thread/.cxr resets it",
		" # ChildEBP RetAddr      ",
		"00 0012fe88 00404200     test_app!`anonymous namespace'::CrashFunction+0xe [c:\\test_app.cc @ 58]",
		"01 0012ff70 004053ec     test_app!main+0x50 [c:\\test_app.cc @ 65]",
		"02 0012ffc0 7c816fd7     test_app!__tmainCRTStartup+0x15f [f:\\sp\\vctools\\crt_bld\\self_x86\\crt\\src\\crt0.c @ 327]",
		"03 0012fff0 00000000     kernel32!BaseProcessStart+0x23",
	}
	if got != strings.Join(want, "\n")+"\n" {
		t.Errorf("k =\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if got := run(t, s, "kc 2"); got != "  *** Stack trace for last set context - .thread/.cxr resets it\n # Call Site\n"+
		"00 test_app!`anonymous namespace'::CrashFunction+0xe\n01 test_app!main+0x50\n" {
		t.Errorf("kc 2 = %q", got)
	}
	if got := run(t, s, ".frame 1"); got != "01 0012ff70 004053ec     test_app!main+0x50 [c:\\test_app.cc @ 65]\n" {
		t.Errorf(".frame 1 = %q", got)
	}
	// breakpad: frame 1 has esp = 0x0012fe90, ebp = 0x0012ff70.
	if got := run(t, s, ".frame /r 1"); !strings.Contains(got, "esp=0012fe90 ebp=0012ff70") {
		t.Errorf(".frame /r 1 registers:\n%s", got)
	}
}

// symbolicator/windows.dmp with crash.pdb: the crashing thread's frames as in symbolicator's
// snapshot (main 0x2a2a3d, __scrt_common_main_seh 0x2a2d96+1, kernel32 0x750662c4, ntdll
// 0x771d0f79, ntdll 0x771d0f44); the first two come from crash.pdb's FRAMEDATA programs.
func TestStackWindowsDmp(t *testing.T) {
	s := sessionWithSymbols(t, "symbolicator/windows.dmp", filepath.Join(corpus.Dir(t), "symbolic"))
	run(t, s, ".ecxr")
	all := strings.Split(strings.TrimRight(run(t, s, "kL"), "\n"), "\n")[2:]
	// Symbolicator lists physical frames only; the inline frames crash.pdb describes at main+0x12d
	// and at the return address into __scrt_common_main_seh are those llvm-symbolizer --inlines
	// gives for crash.exe at RVAs 0x2a3d and 0x2d96 (the call before the return address):
	// `anonymous namespace'::crash, `anonymous namespace'::start, and invoke_main.
	var lines, inline []string
	for _, l := range all {
		if strings.Contains(l, " (Inline) -------- ") {
			inline = append(inline, strings.Fields(l)[3])
		} else {
			lines = append(lines, l)
		}
	}
	if strings.Join(inline, " ") != "crash!`anonymous crash!`anonymous crash!invoke_main+0x1c" ||
		!strings.Contains(all[0], "crash!`anonymous namespace'::crash") || !strings.Contains(all[1], "crash!`anonymous namespace'::start") {
		t.Errorf("kL inline frames:\n%s", strings.Join(all, "\n"))
	}
	want := []struct{ ret, site string }{
		{"002a2d97", "crash!main+0x12d"},
		{"750662c4", "crash!__scrt_common_main_seh+0xf9"},
		{"771d0f79", "kernel32+0x162c4"},
		{"771d0f44", "ntdll+0x60f79"},
		{"00000000", "ntdll+0x60f44"},
	}
	if len(lines) != len(want) {
		t.Fatalf("kL has %d frames, want %d:\n%s", len(lines), len(want), strings.Join(lines, "\n"))
	}
	for i, w := range want {
		f := strings.Fields(lines[i])
		if f[2] != w.ret || f[3] != w.site {
			t.Errorf("frame %d = %q, want RetAddr %s and %s", i, lines[i], w.ret, w.site)
		}
	}
}

// The WOW64 full-memory dump holds its images, so stacks unwind from their .pdata (x64) and frame
// pointers (x86) and frames are named from the images' exports. kdlibcpp's ORACLE_NOTES
// (DbgEng-verified, 32-bit view): thread 2's top symbol is NtWaitForWorkViaWorkerFactory.
func TestStackWOW64(t *testing.T) {
	s := sessionWithSymbols(t, "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp", "")
	run(t, s, "~2s")
	k := run(t, s, "k")
	lines := strings.Split(k, "\n")
	// The 64-bit view starts in the 64-bit ntdll's system call stub (Nt and Zw share it).
	if len(lines) < 3 || !strings.Contains(lines[1], " ntdll!NtWaitForWorkViaWorkerFactory+0x14") {
		t.Errorf("~2s; k: frame 0 is not ntdll!NtWaitForWorkViaWorkerFactory:\n%s", k)
	}
	if strings.Contains(k, "WARNING") {
		t.Errorf("the x64 stack needed a scan:\n%s", k)
	}
	run(t, s, ".effmach x86")
	k32 := run(t, s, "k")
	if lines := strings.Split(k32, "\n"); len(lines) < 3 || !strings.Contains(lines[1], "!NtWaitForWorkViaWorkerFactory+0x") ||
		!strings.Contains(lines[1], "ntdll_") {
		t.Errorf(".effmach x86; k: frame 0 is not the 32-bit ntdll's NtWaitForWorkViaWorkerFactory:\n%s", k32)
	}
	run(t, s, ".effmach .")
	if all := run(t, s, "~*k"); strings.Count(all, "Child-SP") != len(s.Target.Threads) {
		t.Errorf("~*k does not show one stack per thread:\n%s", all)
	}
}
