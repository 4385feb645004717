package breakpadsym

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func mustParse(t *testing.T, text string) *File {
	t.Helper()
	f, err := Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestCFIDocExample is the worked example of symbol_files.md ("STACK CFI records"), whose table
// gives the rules in force at each address. (The document's INIT line omits the size; 17 covers
// func+0 to func+22.)
func TestCFIDocExample(t *testing.T) {
	f := mustParse(t, `MODULE Linux x86 D3096ED481217FD4C16B29CD9BC208BA0 example
STACK CFI INIT 1000 17 .cfa: $sp .ra: .cfa ^
STACK CFI 1001 .cfa: $sp 16 +
STACK CFI 1002 $r0: .cfa 4 - ^
STACK CFI 100b .cfa: $sp 20 +
STACK CFI 1015 $r0: $r0
STACK CFI 1016 .cfa: $sp
`)
	for _, c := range []struct {
		rva         uint64
		cfa, ra, r0 string
	}{
		{0x1000, "$sp", ".cfa ^", ""},
		{0x1001, "$sp 16 +", ".cfa ^", ""},
		{0x1002, "$sp 16 +", ".cfa ^", ".cfa 4 - ^"},
		{0x100a, "$sp 16 +", ".cfa ^", ".cfa 4 - ^"},
		{0x100b, "$sp 20 +", ".cfa ^", ".cfa 4 - ^"},
		{0x1015, "$sp 20 +", ".cfa ^", "$r0"},
		{0x1016, "$sp", ".cfa ^", "$r0"},
	} {
		row, ok := f.CFIAt(c.rva)
		if !ok {
			t.Fatalf("no row at %x", c.rva)
		}
		cfa, _ := row.Rule(".cfa")
		ra, _ := row.Rule(".ra")
		r0, _ := row.Rule("$r0")
		if cfa.Expr != c.cfa || ra.Expr != c.ra || r0.Expr != c.r0 {
			t.Errorf("row at %x = %+v", c.rva, row.Rules)
		}
	}
	if _, ok := f.CFIAt(0x1017); ok {
		t.Error("row past the INIT's range")
	}
	if _, ok := f.CFIAt(0xfff); ok {
		t.Error("row before the INIT")
	}
}

// TestInline reads the INLINE example of Breakpad's change that added call_site_file_id
// (breakpad commit "Fix incorrect source file name for inlined frames"), in both forms.
func TestInline(t *testing.T) {
	for _, text := range []string{
		"MODULE Linux x86_64 0 a\nFILE 0 /tmp/a.h\nFILE 1 /tmp/a.cpp\nINLINE_ORIGIN 0 foo()\n" +
			"FUNC 1110 a 0 main\nINLINE 0 22 1 0 1110 7\n1110 7 3 0\n1117 3 23 1\n",
		"MODULE Linux x86_64 0 a\nFILE 0 /tmp/a.h\nFILE 1 /tmp/a.cpp\nINLINE_ORIGIN 0 0 foo()\n" +
			"FUNC 1110 a 0 main\nINLINE 0 22 0 1110 7\n1110 7 3 0\n1117 3 23 1\n",
	} {
		f := mustParse(t, text)
		if f.Warnings != 0 {
			t.Fatal(f.WarningSamples)
		}
		in := f.InlinesAt(0x1112)
		if len(in) != 1 || in[0].CallLine != 22 || in[0].Origin != 0 || f.InlineOrigins[0] != "foo()" ||
			len(in[0].Ranges) != 1 || in[0].Ranges[0] != (Range{0x1110, 7}) {
			t.Errorf("InlinesAt(1112) = %+v, origins %v", in, f.InlineOrigins)
		}
		if in[0].HasCallFile && in[0].CallFile != 1 {
			t.Errorf("call file = %d", in[0].CallFile)
		}
		if got := f.InlinesAt(0x1117); len(got) != 0 {
			t.Errorf("InlinesAt(1117) = %+v", got)
		}
		// The INLINE record between FUNC and its lines does not hide them.
		if sl, ok := f.LineAt(0x1112); !ok || sl.File != "/tmp/a.h" || sl.Number != 3 {
			t.Errorf("LineAt(1112) = %+v", sl)
		}
		if sl, ok := f.LineAt(0x1119); !ok || sl.File != "/tmp/a.cpp" || sl.Number != 23 {
			t.Errorf("LineAt(1119) = %+v", sl)
		}
	}
}

func TestMalformedRecordsAreCounted(t *testing.T) {
	f := mustParse(t, "MODULE windows x86 ABC 1 x.pdb\r\n"+
		"1000 5 1 1\n"+ // line record before any FUNC
		"FUNC zz 10 0 bad\n"+
		"FUNC 1000 10 0 good one\n"+
		"1000 4 12 1\n"+
		"1004 zz 13 1\n"+ // bad line record: counted when the lines are read
		"PUBLIC 2000\n"+
		"PUBLIC m 2000 8 pub@8\n"+
		"STACK WIN 4 1000 10 0 0 0 0 0 0 1\n"+ // program missing
		"STACK WIN 0 1000 10 0 0 0 0 0 0 0 1\n"+
		"STACK CFI 1000 .cfa: $esp 4 +\n"+ // delta without INIT
		"STACK CFI INIT 3000 10 .cfa:\n"+ // rule without expression
		"STACK CFI INIT 3000 10 .cfa: $esp 4 + .ra: .cfa 4 - ^\n"+
		"STACK CFI 2fff .cfa: $esp 8 +\n"+ // before the INIT
		"STACK XYZ 1\n"+
		"BOGUS record\n"+
		"INLINE 0 1 1 1\n"+ // no range
		"FILE x name\n"+
		"MODULE windows x86 ABC 1 again.pdb\n")
	if f.Warnings != 12 {
		t.Errorf("warnings = %d: %v", f.Warnings, f.WarningSamples)
	}
	if len(f.Funcs) != 1 || f.Funcs[0].Name != "good one" {
		t.Errorf("funcs = %+v", f.Funcs)
	}
	if lines := f.Lines(&f.Funcs[0]); len(lines) != 1 || f.Warnings != 13 {
		t.Errorf("lines = %+v, warnings %d", lines, f.Warnings)
	}
	if p := f.PublicAt(0x2001); p == nil || !p.Multiple || p.ParamSize != 8 || p.Name != "pub@8" {
		t.Errorf("public = %+v", p)
	}
	if w := f.StackWinAt(0x1001); w == nil || w.Type != StackWinFPO || !w.AllocatesBasePointer {
		t.Errorf("stack win = %+v", w)
	}
	if row, ok := f.CFIAt(0x3001); !ok || len(row.Rules) != 2 {
		t.Errorf("cfi = %+v", row)
	}
	if f.WarningSamples[0].Line != 2 {
		t.Errorf("first warning at line %d, want 2", f.WarningSamples[0].Line)
	}
}

func TestNotASymbolFile(t *testing.T) {
	for _, text := range []string{"", "\n\n", "FUNC 1000 10 0 f\n", "MZ\x90\x00", "MODULE windows\n"} {
		if _, err := Parse(strings.NewReader(text)); !errors.Is(err, ErrNotSymbolFile) {
			t.Errorf("%q: err = %v", text, err)
		}
	}
}

// TestRunProgram runs kernel32.sym's frame-data program for BaseProcessStart (line 3029) on a
// frame laid out by hand: EBP points at the saved EBP, the return address above it.
func TestRunProgram(t *testing.T) {
	mem := map[uint64]uint64{0x12ffa0: 0x12fff0, 0x12ffa4: 0x7c816fd7}
	m := &Machine{
		Vars:   map[string]uint64{"$ebp": 0x12ffa0, "$esp": 0x12ff80, ".cbSavedRegs": 8, ".cbParams": 4},
		Deref:  func(a uint64) (uint64, bool) { v, ok := mem[a]; return v, ok },
		Word32: true,
	}
	err := m.Run("$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + = $L $T0 .cbSavedRegs - = $P $T0 4 + .cbParams + =")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"$eip": 0x7c816fd7, "$ebp": 0x12fff0, "$esp": 0x12ffa8, "$L": 0x12ff98, "$P": 0x12ffa8}
	for k, v := range want {
		if m.Vars[k] != v {
			t.Errorf("%s = %#x, want %#x", k, m.Vars[k], v)
		}
	}
	// A CFI rule: .ra at [.cfa - 8] with .cfa = rsp + 80 (mozwer.sym line 1553), 64-bit.
	m = &Machine{Vars: map[string]uint64{"$rsp": 0x1000}, Deref: func(a uint64) (uint64, bool) { return a * 2, a == 0x1048 }}
	cfa, err := m.Eval(mustExpr(t, "$rsp 80 +"))
	if err != nil || cfa != 0x1050 {
		t.Fatalf("cfa = %#x, %v", cfa, err)
	}
	m.Vars[".cfa"] = cfa
	if ra, err := m.Eval(mustExpr(t, ".cfa 8 - ^")); err != nil || ra != 0x2090 {
		t.Errorf("ra = %#x, %v", ra, err)
	}
	// Negative numbers, alignment and 32-bit wrap.
	m = &Machine{Vars: map[string]uint64{"$esp": 0x10}, Word32: true}
	if v, err := m.Eval(mustExpr(t, "$esp -32 + 16 @")); err != nil || v != 0xfffffff0 {
		t.Errorf("align = %#x, %v", v, err)
	}
	for _, bad := range []string{"+", "$esp ^", "1 0 /", "$nope", "1 2", "= 1", "1 2 ="} {
		e, err := ParseExpr(bad)
		if err == nil {
			_, err = m.Eval(e)
		}
		if !errors.Is(err, ErrExpr) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
	if err := m.Run("$T0 1 = 2"); !errors.Is(err, ErrExpr) {
		t.Errorf("leftover value: %v", err)
	}
}

func mustExpr(t *testing.T, s string) Expr {
	t.Helper()
	e, err := ParseExpr(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestParseRules(t *testing.T) {
	rules := ParseRules(".cfa: $rsp 64 + $rdi: .cfa 16 - ^ $rbx: .cfa 0 - ^ $rsi: .cfa -8 - ^ .ra: .cfa 8 - ^")
	var got []string
	for _, r := range rules {
		got = append(got, r.Register+"="+r.Expr+"|"+r.Postfix.String())
	}
	want := "[.cfa=$rsp 64 +|$rsp 64 + $rdi=.cfa 16 - ^|.cfa 16 - ^ $rbx=.cfa 0 - ^|.cfa 0 - ^ " +
		"$rsi=.cfa -8 - ^|.cfa -8 - ^ .ra=.cfa 8 - ^|.cfa 8 - ^]"
	if s := "[" + strings.Join(got, " ") + "]"; s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
}

// TestConcurrentLookups reads line records lazily from several goroutines (run with -race).
func TestConcurrentLookups(t *testing.T) {
	var b strings.Builder
	b.WriteString("MODULE windows x86 ABC1 x.pdb\nFILE 1 a.c\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "FUNC %x 10 0 f%d\n%x 8 %d 1\n%x 8 %d 1\n", 0x1000+i*0x10, i, 0x1000+i*0x10, 2*i+1, 0x1008+i*0x10, 2*i+2)
	}
	f := mustParse(t, b.String())
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				sl, ok := f.LineAt(uint64(0x1009 + i*0x10))
				if !ok || sl.Number != uint32(2*i+2) || sl.File != "a.c" {
					t.Errorf("LineAt(%x) = %+v", 0x1009+i*0x10, sl)
					return
				}
			}
		}()
	}
	wg.Wait()
}
