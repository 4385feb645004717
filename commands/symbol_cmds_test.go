package commands

import (
	"path/filepath"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/symstore"
	"wdbg/internal/corpus"
)

// symbolicator/windows.dmp with crash.pdb on the symbol path. Facts: llvm-pdbutil (recorded in
// engine/pdb/testdata/oracles/crash.procs.txt and crash.dump.txt) puts S_GPROC32 `main` at
// 0001:6416 (decimal) with .text at RVA 0x1000, so main = 0x2a0000 + 0x2910, and the fault at
// 0x2a2a3d (symbolicator's snapshot: main, main.cpp:35) is main+0x12d.
func TestSymbolCommandsWindowsDmp(t *testing.T) {
	tgt, err := engine.Open(corpus.Path(t, "symbolicator/windows.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	s := NewSessionWith(tgt, SessionOptions{Store: symstore.Options{DefaultCache: t.TempDir()}})
	if got := run(t, s, ".sympath"); !strings.HasPrefix(got, "Symbol search path is: *** Invalid ***\n") {
		t.Errorf(".sympath with no path = %q", got)
	}
	// Without symbols, the label is module+offset.
	if got := run(t, s, ".ecxr"); !strings.Contains(got, "\ncrash+0x2a3d:\n") {
		t.Errorf(".ecxr without symbols lacks crash+0x2a3d:\n%s", got)
	}
	dir := filepath.Join(corpus.Dir(t), "symbolic")
	if got := run(t, s, ".sympath+ "+dir); !strings.Contains(got, "Symbol search path is: "+dir) {
		t.Errorf(".sympath+ = %q", got)
	}
	if got := run(t, s, ".ecxr"); !strings.Contains(got, "\ncrash!main+0x12d:\n002a2a3d ") {
		t.Errorf(".ecxr lacks the crash!main+0x12d label:\n%s", got)
	}
	if got := run(t, s, "? crash!main"); got != "Evaluate expression: 2763024 = 002a2910\n" {
		t.Errorf("? crash!main = %q", got)
	}
	if got := run(t, s, "ln 2a2a3d"); !strings.HasPrefix(got, "(002a2910)   crash!main+0x12d   |  (") {
		t.Errorf("ln = %q", got)
	}
	if got := run(t, s, "ln 2a2910"); !strings.Contains(got, "Exact matches:\n    crash!main ") {
		t.Errorf("ln at main's start = %q", got)
	}
	if got := run(t, s, "x crash!main"); got != "002a2910 crash!main (<no parameter info>)\n" {
		t.Errorf("x crash!main = %q", got)
	}
	lm := run(t, s, "lm m crash")
	// crash.exe has no checksum in its module record (minidump module list), which lm flags C.
	if !strings.Contains(lm, "crash    C (private pdb symbols)  "+filepath.Join(dir, "crash.pdb")) {
		t.Errorf("lm m crash = %q", lm)
	}
	if got := run(t, s, "lm l"); strings.Count(got, "\n") != 2 {
		t.Errorf("lm l should list crash only:\n%s", got)
	}
	reload := run(t, s, ".reload")
	if !strings.HasPrefix(reload, "Reloading current modules\n") {
		t.Errorf(".reload = %q", reload)
	}
	if got := run(t, s, "lm m crash"); !strings.Contains(got, "(deferred)") {
		t.Errorf("after .reload symbols should be deferred again:\n%s", got)
	}
	if got := run(t, s, ".reload /f crash"); got != "" {
		t.Errorf(".reload /f crash = %q, want no complaint", got)
	}
}

// A minidump holds no code outside its stacks; WinDbg maps the images it finds on the image path.
// windows.dmp lacks crash.exe's headers and main's code, which symbolic/crash.exe supplies
// (objdump -d -M intel on crash.exe: 0x402910 "55 push ebp", "8d ac 24 34 ff ff ff lea ebp,[esp-0xcc]").
func TestImageFillsMinidumpHoles(t *testing.T) {
	tgt, err := engine.Open(corpus.Path(t, "symbolicator/windows.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	s := NewSessionWith(tgt, SessionOptions{Store: symstore.Options{DefaultCache: t.TempDir()}})
	if got := run(t, s, "db 2a0000 L2"); !strings.Contains(got, "?? ??") {
		t.Fatalf("the dump itself should lack crash.exe's header: %q", got)
	}
	run(t, s, ".exepath "+filepath.Join(corpus.Dir(t), "symbolic"))
	if got := run(t, s, "db 2a0000 L2"); !strings.HasPrefix(got, "002a0000  4d 5a ") {
		t.Errorf("db 2a0000 with the image = %q", got)
	}
	got := run(t, s, "u 2a2910 L2")
	for _, want := range []string{"002a2910 55              push    ebp", "002a2911 8dac2434ffffff  lea     ebp,[esp-0CCh]"} {
		if !strings.Contains(got, want) {
			t.Errorf("u 2a2910 L2 lacks %q:\n%s", want, got)
		}
	}
}

// A PDB that does not match the image's CodeView record is refused, and .reload /f says why.
func TestReloadReportsMismatchedPDB(t *testing.T) {
	dir := t.TempDir()
	if err := linkOrCopyFile(corpus.Path(t, "lldb/test-pdb.pdb"), filepath.Join(dir, "crash.pdb")); err != nil {
		t.Fatal(err)
	}
	s := sessionWithSymbols(t, "symbolicator/windows.dmp", dir)
	got := run(t, s, ".reload /f crash")
	if !strings.Contains(got, "*** WARNING: ") || !strings.Contains(got, "does not match crash.exe") ||
		!strings.Contains(got, "symbols could not be loaded for crash.exe") {
		t.Errorf(".reload /f crash with a foreign crash.pdb:\n%s", got)
	}
}
