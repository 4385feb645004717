package symbols

import (
	"context"
	"path/filepath"
	"testing"

	"wdbg/engine"
	"wdbg/engine/symstore"
	"wdbg/internal/corpus"
)

func openWithPath(t *testing.T, dump string, symPath string) (*engine.Target, *Resolver) {
	t.Helper()
	tgt, err := engine.Open(corpus.Path(t, dump))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tgt.Close() })
	// A private cache directory, so that nothing outside the test is written or read.
	r := New(tgt, Options{Path: symstore.ParsePath(symPath), Store: symstore.Options{DefaultCache: t.TempDir()}})
	return tgt, r
}

// minidump2.dmp with Breakpad symbols in a store directory: names must equal breakpad's own
// stack walk (breakpad/expected/minidump2.stackwalk.out), lines too (caller frames are looked up
// at the return address minus one, as breakpad does).
func TestBreakpadSymbolsMinidump2(t *testing.T) {
	_, r := openWithPath(t, "breakpad/minidump2.dmp", filepath.Join(corpus.Dir(t), "breakpad", "symbols"))
	ctx := context.Background()
	cases := []struct {
		addr       uint64
		lineAddr   uint64
		want, file string
		line       int
	}{
		// 0  test_app.exe!`anonymous namespace'::CrashFunction [test_app.cc : 58 + 0x3]
		// (FUNC 4290 18 0 `anonymous namespace'::CrashFunction: 0x40429e - 0x404290 = +0xe)
		{0x0040429e, 0x0040429e, "test_app!`anonymous namespace'::CrashFunction+0xe", "c:\\test_app.cc", 58},
		// 1  test_app.exe!main [test_app.cc : 65 + 0x5]
		// (FUNC 41b0 86 8 main: +0x50)
		{0x00404200, 0x004041ff, "test_app!main+0x50", "c:\\test_app.cc", 65},
		// 2  test_app.exe!__tmainCRTStartup [crt0.c : 327 + 0x12]
		// (FUNC 528d 1b6 0 __tmainCRTStartup: +0x15f)
		{0x004053ec, 0x004053eb, "test_app!__tmainCRTStartup+0x15f", "f:\\sp\\vctools\\crt_bld\\self_x86\\crt\\src\\crt0.c", 327},
		// 3  kernel32.dll!BaseProcessStart + 0x23 (PUBLIC 16fb4 4 BaseProcessStart)
		{0x7c816fd7, 0, "kernel32!BaseProcessStart+0x23", "", 0},
	}
	for _, c := range cases {
		sym, ok := r.Lookup(ctx, c.addr)
		if !ok {
			t.Fatalf("%#x: no symbol", c.addr)
		}
		// Breakpad prints the offset from the line, not the function; the function offsets
		// here are the address minus the start of the .sym FUNC record quoted beside each case.
		if got := sym.String(); got != c.want {
			t.Errorf("%#x: %s, want %s", c.addr, got, c.want)
		}
		if c.lineAddr != 0 {
			l, _ := r.Lookup(ctx, c.lineAddr)
			if l.File != c.file || l.Line != c.line {
				t.Errorf("%#x: line %s:%d, want %s:%d", c.lineAddr, l.File, l.Line, c.file, c.line)
			}
		}
	}
	if k, _ := r.Status(0); k != Breakpad {
		t.Errorf("test_app symbols: %v, want breakpad symbols", k)
	}
	if addr, ok := r.Address(ctx, "kernel32!BaseProcessStart"); !ok || addr != 0x7c816fd7-0x23 {
		t.Errorf("kernel32!BaseProcessStart = %#x, %v", addr, ok)
	}
}

// symbolicator/windows.dmp with crash.pdb found by name in a plain directory: the names and lines
// of symbolicator's snapshot (integration__process_minidump__minidump_windows.snap).
func TestPDBSymbolsWindowsDmp(t *testing.T) {
	_, r := openWithPath(t, "symbolicator/windows.dmp", filepath.Join(corpus.Dir(t), "symbolic"))
	ctx := context.Background()
	sym, _ := r.Lookup(ctx, 0x2a2a3d)
	if sym.Module == nil || sym.Module.Name != "crash" || sym.Name != "main" || sym.Line != 35 {
		t.Errorf("0x2a2a3d = %s line %d, want crash!main at main.cpp:35", sym, sym.Line)
	}
	if filepath.Base(filepath.FromSlash(sym.File)) == "" {
		t.Errorf("no source file for main")
	}
	caller, _ := r.Lookup(ctx, 0x2a2d96-1)
	if caller.Name != "__scrt_common_main_seh" || caller.Line != 283 {
		t.Errorf("0x2a2d95 = %s line %d, want __scrt_common_main_seh at exe_common.inl:283", caller, caller.Line)
	}
	if k, file := r.Status(0); k != PrivatePDB || filepath.Base(file) != "crash.pdb" {
		t.Errorf("crash symbols: %v from %q, want private pdb symbols from crash.pdb", k, file)
	}
	// ntdll has no symbols here and no image in the dump: its addresses stay module+offset.
	nt, _ := r.Lookup(ctx, 0x771d0f79)
	if nt.Name != "" || nt.String() != "ntdll+0x60f79" {
		t.Errorf("0x771d0f79 = %q, want ntdll+0x60f79", nt)
	}
}

// A PDB whose GUID does not match is refused: another program's PDB offered as crash.pdb.
// (crash_with_srcsrv.pdb would not do: source indexing raised only its info-stream age, and its
// DBI age still matches crash.exe's CodeView record, as for amdppm.pdb in test-pdb-repository.)
func TestMismatchedPDBRefused(t *testing.T) {
	dir := t.TempDir()
	src := corpus.Path(t, "lldb/test-pdb.pdb")
	if err := linkOrCopy(src, filepath.Join(dir, "crash.pdb")); err != nil {
		t.Fatal(err)
	}
	_, r := openWithPath(t, "symbolicator/windows.dmp", dir)
	r.Lookup(context.Background(), 0x2a2a3d)
	if k, _ := r.Status(0); k == PublicPDB || k == PrivatePDB {
		t.Errorf("mismatched PDB loaded: %v", k)
	}
	if notes := r.Notes(0); len(notes) == 0 {
		t.Errorf("no note says why crash.pdb was refused")
	}
}

func TestUndecorate(t *testing.T) {
	// x86 C decorations as dbghelp strips them; C++ through the undecorator.
	for in, want := range map[string]string{
		"_main":                   "main",
		"_BaseProcessStart@4":     "BaseProcessStart",
		"@FastCall@8":             "FastCall",
		"__security_check_cookie": "_security_check_cookie",
		"?f@ns@@YAXH@Z":           "ns::f",
		"WriteIoMemRawEx":         "WriteIoMemRawEx",
	} {
		if got := Undecorate(in); got != want {
			t.Errorf("Undecorate(%q) = %q, want %q", in, got, want)
		}
	}
}
