package breakpadsym

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"wdbg/internal/corpus"
)

// symFiles lists every symbol file of the corpus with its record counts. The counts are the
// files' own lines, counted by awk over the first field(s) independently of this package:
//
//	awk '{ if ($1=="FILE") fi++; else if ($1=="FUNC") fu++; else if ($1=="PUBLIC") pu++;
//	       else if ($1=="STACK" && $2=="WIN") sw++; else if ($1=="STACK" && $2=="CFI" && $3=="INIT") ci++;
//	       else if ($1=="STACK" && $2=="CFI") cd++; else if ($1 ~ /^[0-9a-f]+$/) ln++ } ...' FILE
var symFiles = []struct {
	path                                          string
	files, funcs, lines, publics, win, cfi, delta int
}{
	{"breakpad/symbols/kernel32.pdb/BCE8785C57B44245A669896B6A19B9542/kernel32.sym", 0, 0, 0, 1576, 4210, 0, 0},
	{"breakpad/symbols/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym", 6661, 1065, 12604, 5, 1815, 0, 0},
	{"breakpad/dump_syms_testdata/dump_syms_regtest.sym", 282, 158, 2219, 4, 281, 0, 0},
	{"breakpad/dump_syms_testdata/dump_syms_regtest64.sym", 322, 246, 3599, 2, 0, 195, 195},
	{"breakpad/dump_syms_testdata/omap_reorder_bbs.sym", 282, 953, 2463, 4, 2506, 0, 0},
	{"breakpad/dump_syms_testdata/omap_reorder_funcs.sym", 282, 158, 2219, 4, 281, 0, 0},
	{"breakpad/dump_syms_testdata/omap_stretched.sym", 282, 175, 2325, 4, 350, 0, 0},
	{"breakpad/dump_syms_testdata/omap_stretched_filled.sym", 282, 158, 2219, 4, 281, 0, 0},
	{"breakpad/dump_syms_testdata/pe_only_symbol_test.sym", 0, 0, 0, 0, 0, 106, 106},
	{"mozilla-dump_syms/basic-opt64.sym", 224, 3090, 21834, 85, 0, 1462, 0},
	{"mozilla-dump_syms/basic32-min.sym", 0, 723, 0, 2452, 4993, 0, 0},
	{"mozilla-dump_syms/basic32.sym", 259, 3072, 24037, 96, 4993, 0, 0},
	{"mozilla-dump_syms/basic64.sym", 229, 3109, 21908, 85, 0, 1502, 0},
	{"mozilla-dump_syms/dump_syms_regtest64.sym", 95, 246, 3538, 3, 0, 195, 0},
	{"mozilla-dump_syms/mozwer.sym", 0, 1547, 0, 2, 0, 1547, 1547},
	{"symbolic/CrashWithException.pdb.sym", 110, 66, 304, 33, 0, 41, 41},
	{"symbolic/crash.sym", 147, 92, 761, 35, 154, 0, 0},
	{"lldb/fizzbuzz.syms", 0, 0, 0, 1, 0, 0, 0},
}

func openCorpus(t *testing.T, rel string) *File {
	t.Helper()
	f, err := Open(corpus.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCorpusCounts(t *testing.T) {
	for _, want := range symFiles {
		t.Run(want.path, func(t *testing.T) {
			f := openCorpus(t, want.path)
			deltas, lines := 0, 0
			for _, c := range f.CFIs {
				deltas += len(c.Deltas)
			}
			for i := range f.Funcs {
				lines += len(f.Lines(&f.Funcs[i]))
			}
			got := [...]int{len(f.Files), len(f.Funcs), lines, len(f.Publics), len(f.StackWins), len(f.CFIs), deltas}
			exp := [...]int{want.files, want.funcs, want.lines, want.publics, want.win, want.cfi, want.delta}
			if got != exp {
				t.Errorf("files, funcs, lines, publics, stack win, cfi init, cfi deltas = %v, want %v", got, exp)
			}
			if f.Warnings != 0 {
				t.Errorf("%d warnings on a well-formed file: %v", f.Warnings, f.WarningSamples)
			}
			// Every line record lies in its function (dump_syms writes them so), except where
			// OMAP reordered the code (the omap_* files are made to test that).
			for i := range f.Funcs {
				if strings.Contains(want.path, "omap_") {
					break
				}
				fn := &f.Funcs[i]
				for _, ln := range f.Lines(fn) {
					if ln.Size > 0 && !fn.Contains(ln.Addr) {
						t.Fatalf("line %x outside FUNC %x+%x %s", ln.Addr, fn.Addr, fn.Size, fn.Name)
					}
				}
			}
		})
	}
}

// TestEveryFuncAndPublicFound looks every FUNC and PUBLIC record of every file up by its own
// address (read from the file's text with a plain scan, not with the parser).
func TestEveryFuncAndPublicFound(t *testing.T) {
	for _, sf := range symFiles {
		f := openCorpus(t, sf.path)
		file, err := os.Open(corpus.Path(t, sf.path))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[0] != "FUNC" && fields[0] != "PUBLIC" {
				continue
			}
			if fields[1] == "m" {
				fields = append(fields[:1], fields[2:]...)
			}
			addr, _ := strconv.ParseUint(fields[1], 16, 64)
			if fields[0] == "FUNC" {
				size, _ := strconv.ParseUint(fields[2], 16, 64)
				if size == 0 {
					continue
				}
				fn := f.FunctionAt(addr + size - 1)
				if fn == nil || fn.Addr != addr {
					t.Errorf("%s: FunctionAt(%x) = %v, want FUNC at %x", sf.path, addr+size-1, fn, addr)
				}
				continue
			}
			if p := f.PublicAt(addr); p == nil || p.Addr != addr {
				t.Errorf("%s: PublicAt(%x) = %v", sf.path, addr, p)
			}
		}
		file.Close()
	}
}

func TestModuleAndInfo(t *testing.T) {
	// symbolic/crash.sym lines 1-2:
	//   MODULE windows x86 3249D99D0C4049318610F4E4FB0B69361 crash.pdb
	//   INFO CODE_ID 5AB380779000 crash.exe
	f := openCorpus(t, "symbolic/crash.sym")
	m := f.Module
	if m.OS != "windows" || m.Arch != "x86" || m.Name != "crash.pdb" || m.GUID() != "3249D99D0C4049318610F4E4FB0B6936" {
		t.Errorf("module = %+v (GUID %s)", m, m.GUID())
	}
	if age, ok := m.Age(); !ok || age != 1 {
		t.Errorf("age = %d, %v", age, ok)
	}
	if f.CodeID != "5AB380779000" || f.CodeFile != "crash.exe" {
		t.Errorf("code id = %q %q", f.CodeID, f.CodeFile)
	}
	// mozilla-dump_syms/basic32.sym: MODULE windows x86 34060D222DBB44E5AA72243CE8326C2F2 basic32.pdb
	f = openCorpus(t, "mozilla-dump_syms/basic32.sym")
	if age, _ := f.Module.Age(); age != 2 || f.Module.GUID() != "34060D222DBB44E5AA72243CE8326C2F" {
		t.Errorf("basic32 module = %+v", f.Module)
	}
	// lldb/fizzbuzz.syms has CRLF line ends: "PUBLIC 1000 0 main\r\n".
	f = openCorpus(t, "lldb/fizzbuzz.syms")
	if p := f.PublicAt(0x1234); p == nil || p.Name != "main" || f.Module.Name != "fizzbuzz.pdb" {
		t.Errorf("fizzbuzz: %+v %+v", p, f.Module)
	}
}

func TestFuncsAndLines(t *testing.T) {
	f := openCorpus(t, "breakpad/symbols/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym")
	// test_app.sym line 7706-7710:
	//   FUNC 4290 18 0 `anonymous namespace'::CrashFunction
	//   4290 4 56 178 / 4294 7 57 178 / 429b 9 58 178 / 42a4 4 59 178
	// and line 179: FILE 178 c:\test_app.cc
	fn := f.FunctionAt(0x42a7)
	if fn == nil || fn.Name != "`anonymous namespace'::CrashFunction" || fn.Addr != 0x4290 || fn.Size != 0x18 {
		t.Fatalf("FunctionAt(42a7) = %+v", fn)
	}
	if f.FunctionAt(0x42a8) == fn {
		t.Error("FunctionAt past the end of CrashFunction")
	}
	for _, c := range []struct {
		rva  uint64
		line uint32
	}{{0x4290, 56}, {0x4293, 56}, {0x4294, 57}, {0x429b, 58}, {0x42a3, 58}, {0x42a7, 59}} {
		sl, ok := f.LineAt(c.rva)
		if !ok || sl.Number != c.line || sl.File != `c:\test_app.cc` {
			t.Errorf("LineAt(%x) = %+v %v, want line %d", c.rva, sl, ok, c.line)
		}
	}
	// symbolic/crash.sym line 752: "FUNC m 2eb6 11 0 std::bad_alloc::~bad_alloc()".
	f = openCorpus(t, "symbolic/crash.sym")
	if fn := f.FunctionAt(0x2ec6); fn == nil || !fn.Multiple || fn.Name != "std::bad_alloc::~bad_alloc()" {
		t.Errorf("FunctionAt(2ec6) = %+v", fn)
	}
}

func TestPublicsAndStackWin(t *testing.T) {
	f := openCorpus(t, "breakpad/symbols/kernel32.pdb/BCE8785C57B44245A669896B6A19B9542/kernel32.sym")
	// kernel32.sym line 669: PUBLIC 16fb4 4 BaseProcessStart; the next public up is
	// 16ff1 (line 1434, CsrBasepNlsGetUserInfo). minidump2.stackwalk.out frame 3 is
	// kernel32.dll!BaseProcessStart + 0x23 at 0x7c816fd7 (module base 0x7c800000).
	p := f.PublicAt(0x16fd7)
	if p == nil || p.Name != "BaseProcessStart" || p.Addr != 0x16fb4 || p.ParamSize != 4 {
		t.Fatalf("PublicAt(16fd7) = %+v", p)
	}
	if p := f.PublicAt(0x16ff1); p == nil || p.Name != "CsrBasepNlsGetUserInfo" {
		t.Errorf("PublicAt(16ff1) = %+v", p)
	}
	// Line 3029: STACK WIN 4 16fb4 4f c 0 4 8 1c 0 1 $T0 $ebp = $eip $T0 4 + ^ = ...
	w := f.StackWinAt(0x16fd7)
	if w == nil || w.Type != StackWinFrameData || w.RVA != 0x16fb4 || w.CodeSize != 0x4f ||
		w.PrologSize != 0xc || w.EpilogSize != 0 || w.ParamSize != 4 || w.SavedRegSize != 8 ||
		w.LocalSize != 0x1c || w.MaxStackSize != 0 || !w.HasProgram ||
		w.Program != "$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + = $L $T0 .cbSavedRegs - = $P $T0 4 + .cbParams + =" {
		t.Fatalf("StackWinAt(16fd7) = %+v", w)
	}
	// Lines 2897 and 5408: STACK WIN 4 16f83 6 ... and STACK WIN 0 16f83 6 0 0 0 0 0 0 0 0:
	// frame data is preferred over FPO.
	if w := f.StackWinAt(0x16f85); w == nil || w.Type != StackWinFrameData || w.RVA != 0x16f83 {
		t.Errorf("StackWinAt(16f85) = %+v", w)
	}
	var fpo *StackWin
	for i := range f.StackWins {
		if f.StackWins[i].Type == StackWinFPO && f.StackWins[i].RVA == 0x16f83 {
			fpo = &f.StackWins[i]
		}
	}
	if fpo == nil || fpo.HasProgram || fpo.AllocatesBasePointer || fpo.String() != "STACK WIN 0 16f83 6 0 0 0 0 0 0 0 0" {
		t.Errorf("FPO record = %+v", fpo)
	}
}

// TestStackWinSnapshot compares the STACK WIN records read from symbolic/crash.sym with symbolic's
// own reading of the same file (symbolic/snapshots/test_cfi__cfi_sym_windows.snap), and checks
// that each record is found at its own addresses (nested records: the innermost wins).
func TestStackWinSnapshot(t *testing.T) {
	f := openCorpus(t, "symbolic/crash.sym")
	snap, err := os.ReadFile(corpus.Path(t, "symbolic/snapshots/test_cfi__cfi_sym_windows.snap"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(string(snap), "\n") {
		if strings.HasPrefix(l, "STACK WIN") {
			want = append(want, l)
		}
	}
	if len(want) != len(f.StackWins) {
		t.Fatalf("%d records, snapshot has %d", len(f.StackWins), len(want))
	}
	for i := range want {
		if got := f.StackWins[i].String(); got != want[i] {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
	// Snapshot lines 5-8: 4 1000 114, 4 100f f5, 4 1030 92, 4 1048 a all nest.
	for _, c := range []struct{ rva, start uint64 }{
		{0x1000, 0x1000}, {0x100e, 0x1000}, {0x100f, 0x100f}, {0x1030, 0x1030}, {0x1047, 0x1030},
		{0x1048, 0x1048}, {0x1051, 0x1048}, {0x1052, 0x1030}, {0x10c1, 0x1030}, {0x10c2, 0x100f},
		{0x1103, 0x100f}, {0x1104, 0x1000}, {0x1113, 0x1000},
	} {
		if w := f.StackWinAt(c.rva); w == nil || w.RVA != c.start {
			t.Errorf("StackWinAt(%x) = %v, want the record at %x", c.rva, w, c.start)
		}
	}
}

// TestCFIAgainstPE compares the CFI rows of symbolic/CrashWithException.pdb.sym (an INIT with
// ".cfa: $rsp" and a delta at the same address setting the frame size) with symbolic's CFI read
// from the PE's own unwind data (symbolic/snapshots/test_cfi__cfi_pe_windows.snap): at each
// function start, the .cfa and .ra rules must agree.
func TestCFIAgainstPE(t *testing.T) {
	f := openCorpus(t, "symbolic/CrashWithException.pdb.sym")
	snap, err := os.ReadFile(corpus.Path(t, "symbolic/snapshots/test_cfi__cfi_pe_windows.snap"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, l := range strings.Split(string(snap), "\n") {
		rest, ok := strings.CutPrefix(l, "STACK CFI INIT ")
		if !ok {
			continue
		}
		addrText, rest, _ := strings.Cut(rest, " ")
		_, rules, _ := strings.Cut(rest, " ")
		addr, _ := strconv.ParseUint(addrText, 16, 64)
		row, ok := f.CFIAt(addr)
		if !ok {
			t.Errorf("no CFI at %x", addr)
			continue
		}
		for _, want := range ParseRules(rules) {
			if want.Register != ".cfa" && want.Register != ".ra" {
				continue // the .sym file does not record saved registers
			}
			got, ok := row.Rule(want.Register)
			if !ok || got.Expr != want.Expr {
				t.Errorf("CFIAt(%x) %s = %q, PE unwind data says %q", addr, want.Register, got.Expr, want.Expr)
			}
		}
		checked++
	}
	if checked != 41 { // the snapshot's 41 STACK CFI INIT lines
		t.Errorf("checked %d rows, want 41", checked)
	}
}

func TestCFIRows(t *testing.T) {
	// mozilla-dump_syms/mozwer.sym lines 1552-1553:
	//   STACK CFI INIT 1000 94 .cfa: $rsp 8 + .ra: .cfa 8 - ^
	//   STACK CFI 1000 .cfa: $rsp 80 +
	f := openCorpus(t, "mozilla-dump_syms/mozwer.sym")
	row, ok := f.CFIAt(0x1093)
	if !ok || row.Addr != 0x1000 || row.Size != 0x94 || len(row.Rules) != 2 {
		t.Fatalf("CFIAt(1093) = %+v %v", row, ok)
	}
	cfa, _ := row.Rule(".cfa")
	ra, _ := row.Rule(".ra")
	if cfa.Expr != "$rsp 80 +" || ra.Expr != ".cfa 8 - ^" {
		t.Errorf("rules = %+v", row.Rules)
	}
	want := Expr{{Kind: TokenName, Name: "$rsp"}, {Kind: TokenNumber, Value: 80}, {Kind: TokenOp, Name: "+"}}
	if cfa.Postfix.String() != want.String() || len(cfa.Postfix) != 3 || cfa.Postfix[0] != want[0] || cfa.Postfix[1] != want[1] {
		t.Errorf(".cfa parsed = %#v", cfa.Postfix)
	}
	if _, ok := f.CFIAt(0x1094); ok { // 1000+94 ends the record; the next INIT (line 1554) is at 10a0
		t.Error("CFIAt(1094) found a row in the gap between records")
	}
}

// TestMinidump2Frames checks the frames of breakpad's own stackwalk of minidump2.dmp
// (breakpad/expected/minidump2.stackwalk.out) against the symbol files it used: each frame's
// function and "[file : line + offset]" must come from FunctionAt/LineAt at the frame's address
// (the module base taken from the same output's module list). Breakpad looks caller frames up at
// the return address minus one and prints the offset from the line's start to the return address.
func TestMinidump2Frames(t *testing.T) {
	out, err := os.ReadFile(corpus.Path(t, "breakpad/expected/minidump2.stackwalk.out"))
	if err != nil {
		t.Fatal(err)
	}
	symbols := map[string]*File{
		"test_app.exe": openCorpus(t, "breakpad/symbols/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym"),
		"kernel32.dll": openCorpus(t, "breakpad/symbols/kernel32.pdb/BCE8785C57B44245A669896B6A19B9542/kernel32.sym"),
	}
	bases := map[string]uint64{}
	modRe := regexp.MustCompile(`^0x([0-9a-f]+) - 0x[0-9a-f]+  (\S+)`)
	frameRe := regexp.MustCompile(`^ ?(\d+)  (\S+?)!(.+?)(?: \[(.+) : (\d+) \+ 0x([0-9a-f]+)\]| \+ 0x([0-9a-f]+))$`)
	eipRe := regexp.MustCompile(`eip = 0x([0-9a-f]+)`)
	lines := strings.Split(string(out), "\n")
	for _, l := range lines {
		if m := modRe.FindStringSubmatch(l); m != nil {
			bases[m[2]], _ = strconv.ParseUint(m[1], 16, 64)
		}
	}
	if bases["test_app.exe"] != 0x400000 {
		t.Fatalf("module list: %v", bases)
	}
	frames := 0
	for i, l := range lines {
		m := frameRe.FindStringSubmatch(l)
		if m == nil || i+1 >= len(lines) {
			continue
		}
		em := eipRe.FindStringSubmatch(lines[i+1])
		if em == nil {
			t.Fatalf("no eip after %q", l)
		}
		eip, _ := strconv.ParseUint(em[1], 16, 64)
		sym := symbols[m[2]]
		if sym == nil {
			t.Fatalf("no symbols for %s", m[2])
		}
		rva := eip - bases[m[2]]
		lookup := rva
		if m[1] != "0" {
			lookup-- // a return address: the call is the instruction before
		}
		if m[4] == "" { // "module!name + 0xoff": a PUBLIC
			off, _ := strconv.ParseUint(m[7], 16, 64)
			p := sym.PublicAt(lookup)
			if p == nil || p.Name != m[3] || rva-p.Addr != off {
				t.Errorf("frame %s: PublicAt(%x) = %+v, want %s + 0x%x", m[1], lookup, p, m[3], off)
			}
		} else {
			fn := sym.FunctionAt(lookup)
			if fn == nil || fn.Name != m[3] {
				t.Errorf("frame %s: FunctionAt(%x) = %+v, want %s", m[1], lookup, fn, m[3])
				continue
			}
			wantLine, _ := strconv.ParseUint(m[5], 10, 32)
			off, _ := strconv.ParseUint(m[6], 16, 64)
			sl, ok := sym.LineAt(lookup)
			if !ok || sl.Number != uint32(wantLine) || rva-sl.Addr != off || !strings.HasSuffix(sl.File, `\`+m[4]) {
				t.Errorf("frame %s: LineAt(%x) = %+v, want %s : %d + 0x%x", m[1], lookup, sl, m[4], wantLine, off)
			}
		}
		frames++
	}
	// CrashFunction, main, __tmainCRTStartup, BaseProcessStart.
	if frames != 4 {
		t.Errorf("checked %d frames, want 4", frames)
	}
}
