package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"wdbg/commands/masm"
	"wdbg/engine"
	"wdbg/engine/cpu"
)

// regionMemory is an engine.Memory made of a few byte ranges.
type regionMemory []struct {
	base uint64
	data []byte
}

func (m regionMemory) ReadAt(p []byte, addr uint64) (int, error) {
	n := 0
	for n < len(p) {
		found := false
		for _, r := range m {
			a := addr + uint64(n)
			if a >= r.base && a < r.base+uint64(len(r.data)) {
				n += copy(p[n:], r.data[a-r.base:])
				found = true
				break
			}
		}
		if !found {
			return n, &engine.ReadError{Addr: addr + uint64(n)}
		}
	}
	return n, nil
}

func le64(v uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

// Values from the MASM page's worked example: rip 00007ff9`6bb40770, TEB 0x8eed57b000 whose
// ProcessEnvironmentBlock (+0x60) is 0x8eed57a000 and CurrentLocale (+0x108) is 0x409.
const (
	testRip = 0x7ff96bb40770
	testTEB = 0x8eed57b000
	testPEB = 0x8eed57a000
)

func x64Target() *engine.Target {
	teb := make([]byte, 0x110)
	copy(teb[0x60:], le64(testPEB))
	copy(teb[0x108:], le64(0x409))
	return &engine.Target{
		Kind: engine.KindUserMini, Arch: cpu.ArchAMD64,
		Process: engine.ProcessInfo{ID: 0x1d2c, HasID: true},
		Threads: []engine.Thread{
			{ID: 0x3f14, TEB: testTEB, Context: &cpu.AMD64Context{
				Rip: testRip, Rsp: 0x27eb87f320, Rax: 0x1122334480000001, R10: 0, EFlags: 0x246,
			}},
			{ID: 0x2a00, TEB: testTEB + 0x2000, Context: &cpu.AMD64Context{Rip: 0x1000, Rsp: 0x2000}},
		},
		Modules: []engine.Module{
			{Name: "notepad", Base: 0x7ff60f620000, Size: 0x38000},
			{Name: "COMCTL32", Base: 0x7ff9591d0000, Size: 0x29a000},
		},
		Exception: &engine.Exception{
			ThreadID: 0x3f14, Code: 0xc0000005, Parameters: []uint64{1, 0x38},
			Context: &cpu.AMD64Context{Rip: 0x7ff9591e0010, Rsp: 0x27eb87f000},
		},
		Memory: regionMemory{{testTEB, teb}},
	}
}

func x86Target(kind engine.DumpKind) *engine.Target {
	teb := make([]byte, 0x40)
	copy(teb[0x30:], []byte{0x00, 0xf0, 0xfd, 0x7f}) // PEB 0x7ffdf000
	return &engine.Target{
		Kind: kind, Arch: cpu.ArchX86,
		Threads: []engine.Thread{
			{ID: 0xa1c, TEB: 0x7ffde000, Context: &cpu.X86Context{Eip: 0x7c90120e, Esp: 0x12f5a0, Eax: 0x80000000}},
		},
		Modules: []engine.Module{{Name: "ntdll", Base: 0x7c900000, Size: 0xb2000}},
		Memory:  regionMemory{{0x7ffde000, teb}},
	}
}

func evaluate(t *testing.T, s *Session, line string) (string, error) {
	t.Helper()
	cmd, args, ok := Lookup(line)
	if !ok || cmd.Name != "?" {
		t.Fatalf("%q does not look up the ? command", line)
	}
	res, err := cmd.Run(context.Background(), s, args)
	var b bytes.Buffer
	if res != nil {
		if werr := res.WriteText(&b); werr != nil {
			t.Fatal(werr)
		}
	}
	return b.String(), err
}

func TestEvaluateCommand(t *testing.T) {
	x64 := NewSession(x64Target())
	x86 := NewSession(x86Target(engine.KindUserMini))
	x86k := NewSession(x86Target(engine.KindKernelFull))
	x64.T[0] = 5
	tests := []struct {
		s    *Session
		line string
		want string
	}{
		// WINDBG-SPEC §3.13 output samples.
		{x64, "? 409", "Evaluate expression: 1033 = 00000000`00000409"},
		{x64, "? ffffcb0e`11386cb0", "Evaluate expression: -58213697819472 = ffffcb0e`11386cb0"},
		{x86, "? 4000", "Evaluate expression: 16384 = 00004000"},
		// MASM page examples (rip, TEB and CurrentLocale set to the page's values).
		{x64, "? @rip", "Evaluate expression: 140709230544752 = 00007ff9`6bb40770"},
		{x64, "? @rip + 8", "Evaluate expression: 140709230544760 = 00007ff9`6bb40778"},
		{x64, "? @$teb + 0x108", "Evaluate expression: 613867303176 = 0000008e`ed57b108"},
		{x64, "? poi(0000008e`ed57b108)", "Evaluate expression: 1033 = 00000000`00000409"},
		{x64, "? poi(@$teb + 0x108)", "Evaluate expression: 1033 = 00000000`00000409"},
		{x64, "? by(0000008e`ed57b108)", "Evaluate expression: 9 = 00000000`00000009"},
		{x64, "? wo(0000008e`ed57b108)", "Evaluate expression: 1033 = 00000000`00000409"},
		{x64, "? poi(@$teb + 0x108)==0x409", "Evaluate expression: 1 = 00000000`00000001"},
		{x64, "? @r10 + 0x10 + 0t10 + 0y10", "Evaluate expression: 26 = 00000000`0000001a"},
		{x64, " ? NOT(($ip = .) AND ($ip = @rip) AND (@rip =. ))", "Evaluate expression: 0 = 00000000`00000000"},
		// Glued form.
		{x64, "?1+2", "Evaluate expression: 3 = 00000000`00000003"},
		// Captures from 64-bit targets.
		{x64, "? 0x208", "Evaluate expression: 520 = 00000000`00000208"},
		{x64, "? -0x208", "Evaluate expression: -520 = ffffffff`fffffdf8"},
		{x64, "?0n-123", "Evaluate expression: -291 = ffffffff`fffffedd"},
		// Captures from 32-bit user-mode targets.
		{x86, "?320", "Evaluate expression: 800 = 00000320"},
		{x86, "?0x0 - 320", "Evaluate expression: -800 = fffffce0"},
		{x86, "?0x0 - 0x00000001", "Evaluate expression: -1 = ffffffff"},
		{x86, "? 1000 - 80808080", "Evaluate expression: -2155901056 = ffffffff`7f7f8f80"},
		{x86, "? 80808080 + 7f7f8f80", "Evaluate expression: 4294971392 = 00000001`00001000"},
		{x86, "? 00000001`00000100 - 88888888", "Evaluate expression: 2004318328 = 77777878"},
		{x86, "? 0x104 + fffffefc", "Evaluate expression: 4294967296 = 00000001`00000000"},
		// Capture from a 32-bit kernel target: constants are sign extended there.
		{x86k, "?a20f4d40-0x18", "Evaluate expression: -1576055512 = a20f4d28"},
		// Sign extension page: 32-bit registers are sign extended; the display rule then prints
		// a sign-extended 32-bit number with 8 digits on a 32-bit target.
		{x86, "? eax", "Evaluate expression: -2147483648 = 80000000"},
		{x86, "? (0x0`FFFFFFFF & eax)", "Evaluate expression: 2147483648 = 80000000"},
		{x64, "? eax", "Evaluate expression: -2147483647 = ffffffff`80000001"},
		// Session environment: pseudo-registers, modules, flags.
		{x64, "? $t0", "Evaluate expression: 5 = 00000000`00000005"},
		{x64, "? $peb", "Evaluate expression: 613867298816 = 0000008e`ed57a000"},
		{x86, "? $peb", "Evaluate expression: 2147348480 = 7ffdf000"},
		{x64, "? $tid", "Evaluate expression: 16148 = 00000000`00003f14"},
		{x64, "? $tpid", "Evaluate expression: 7468 = 00000000`00001d2c"},
		{x64, "? $exr_code", "Evaluate expression: 3221225477 = 00000000`c0000005"},
		{x64, "? $exr_param1", "Evaluate expression: 56 = 00000000`00000038"},
		{x64, "? $exr_numparams", "Evaluate expression: 2 = 00000000`00000002"},
		{x64, "? $ptrsize + $pagesize", "Evaluate expression: 4104 = 00000000`00001008"},
		{x86, "? $ptrsize", "Evaluate expression: 4 = 00000004"},
		{x64, "? $thread", "Evaluate expression: 613867302912 = 0000008e`ed57b000"},
		{x64, "? $scopeip", "Evaluate expression: 140709230544752 = 00007ff9`6bb40770"},
		{x64, "? $retreg", "Evaluate expression: 1234605617151213569 = 11223344`80000001"},
		{x86, "? $retreg64", "Evaluate expression: 2147483648 = 80000000"},
		{x64, "? $csp", "Evaluate expression: 171455279904 = 00000027`eb87f320"},
		{x64, "? notepad", "Evaluate expression: 140694796763136 = 00007ff6`0f620000"},
		{x64, "? COMCTL32+0x10", "Evaluate expression: 140708918657040 = 00007ff9`591d0010"},
		{x64, "? comctl32", "Evaluate expression: 140708918657024 = 00007ff9`591d0000"},
		// efl 0x246 has ZF set; a bare "zf" is a symbol or register, "cf" would be the number 0xcf.
		{x64, "? @zf", "Evaluate expression: 1 = 00000000`00000001"},
		{x64, "? cf", "Evaluate expression: 207 = 00000000`000000cf"},
		{x64, "? @cf", "Evaluate expression: 0 = 00000000`00000000"},
	}
	for _, tc := range tests {
		got, err := evaluate(t, tc.s, tc.line)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if got != tc.want+"\n" {
			t.Errorf("%q:\n got %q\nwant %q", tc.line, got, tc.want+"\n")
		}
	}
}

func TestEvaluateScope(t *testing.T) {
	s := NewSession(x64Target())
	s.Scope = &Scope{Context: s.Target.Exception.Context, Reason: "exception"}
	got, err := evaluate(t, s, "? $ip")
	if err != nil || got != "Evaluate expression: 140708918722576 = 00007ff9`591e0010\n" {
		t.Errorf("$ip under .ecxr: %q, %v", got, err)
	}
	s.SetThread(1)
	got, err = evaluate(t, s, "? .")
	if err != nil || got != "Evaluate expression: 4096 = 00000000`00001000\n" {
		t.Errorf(". on thread 1: %q, %v", got, err)
	}
	if _, err := s.Eval("$exr_param14"); err != nil {
		t.Errorf("$exr_param14 beyond the recorded parameters: %v", err)
	}
	if _, err := s.Eval("$exr_param15"); err == nil {
		t.Errorf("$exr_param15 evaluated; an EXCEPTION_RECORD has 15 parameters")
	}
}

func TestEvaluateErrors(t *testing.T) {
	s := NewSession(x64Target())
	tests := []struct{ line, want string }{
		{"? foo", "Couldn't resolve error at 'foo'"},
		{"? @$ea - 10*$ptrsize ", "Bad register error at '@$ea - 10*$ptrsize'"},
		{"? poi(0)", "Memory access error at ')'"},
		{"? 1+", "Numeric expression missing from '<EOL>'"},
		{"? 1/0", "Operand error at '<EOL>'"},
		{"? $t20", "Bad register error at '$t20'"},
		{"? $exr_code + $teb2", "Bad register error at '$teb2'"},
	}
	for _, tc := range tests {
		out, err := evaluate(t, s, tc.line)
		if err == nil || err.Error() != tc.want || out != "" {
			t.Errorf("%q: output %q, error %v; want error %q", tc.line, out, err, tc.want)
		}
	}

	// No exception stream: the $exr_ pseudo-registers do not exist.
	noExc := x64Target()
	noExc.Exception = nil
	if _, err := NewSession(noExc).Eval("$exr_code"); err == nil {
		t.Errorf("$exr_code without an exception evaluated")
	}
	// TEB outside the dump: $peb cannot be read.
	noMem := x64Target()
	noMem.Memory = regionMemory{}
	if _, err := NewSession(noMem).Eval("$peb"); err == nil {
		t.Errorf("$peb with the TEB missing from the dump evaluated")
	}
}

// TestEvaluateExtraCharacters: cdb prints the value and then the caret report.
func TestEvaluateExtraCharacters(t *testing.T) {
	s := NewSession(x64Target())
	out, err := evaluate(t, s, "? dd(@rcx+0x34000)")
	if out != "Evaluate expression: 221 = 00000000`000000dd\n" {
		t.Errorf("output %q", out)
	}
	var xe *ExtraCharsError
	if !errors.As(err, &xe) {
		t.Fatalf("error %v is not an ExtraCharsError", err)
	}
	if xe.Input != "? dd(@rcx+0x34000)" || xe.Col != 4 {
		t.Errorf("got %q col %d, want col 4 (the parenthesis)", xe.Input, xe.Col)
	}
}

func TestEvaluateJSON(t *testing.T) {
	s := NewSession(x64Target())
	res, err := s.Exec(context.Background(), "? -1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"value":"0xffffffffffffffff","decimal":-1}` {
		t.Errorf("JSON %s", b)
	}
}

func TestEvaluateWithoutArguments(t *testing.T) {
	s := NewSession(x64Target())
	out, err := evaluate(t, s, "?")
	if err != nil || !strings.Contains(out, "?") {
		t.Errorf("? alone: %q, %v", out, err)
	}
}

// TestSessionEvalPrefix: the d* family's use, `dd esp L10` and `dc 01398000 013a0000`.
func TestSessionEvalPrefix(t *testing.T) {
	s := NewSession(x86Target(engine.KindUserMini))
	v, rest, err := s.EvalPrefix("esp L10")
	if err != nil || v != 0x12f5a0 || rest != "L10" {
		t.Errorf("esp L10: %#x %q %v", v, rest, err)
	}
	v, rest, err = s.EvalPrefix("01398000 013a0000")
	if err != nil || v != 0x1398000 || rest != "013a0000" {
		t.Errorf("01398000 013a0000: %#x %q %v", v, rest, err)
	}
	var me *masm.Error
	if _, err := s.Eval("ntdll + nosuch"); !errors.As(err, &me) || me.Kind != masm.ErrUnresolved {
		t.Errorf("ntdll + nosuch: %v", err)
	}
}

// TestEvaluateCorpus evaluates expressions on real dumps; expected values are the oracles' own.
func TestEvaluateCorpus(t *testing.T) {
	// breakpad/minidump2.dmp (x86 XP SP2). Oracle: breakpad/expected/minidump2.dump.out — thread
	// 0xbf4 (the exception thread, current on opening) has teb 0x7ffdf000, eip 0x7c90eb94,
	// esp 0x12f320; memory region[1] starts at 0x12f31c with bytes 00000000 c0e9907c cb25807c, so
	// the dword at esp is 0x7c90e9c0; module[0] test_app.exe at 0x400000, module[1] ntdll.dll at
	// 0x7c900000; exception 0xc0000005 with information[1] = 0x45; the TEB page is not in the dump.
	s := openCorpus(t, "breakpad/minidump2.dmp")
	for _, tc := range []struct{ cmd, want string }{
		{"? eip", "Evaluate expression: 2089872276 = 7c90eb94"},
		{"? @esp", "Evaluate expression: 1241888 = 0012f320"},
		{"? poi(esp)", "Evaluate expression: 2089871808 = 7c90e9c0"},
		{"? dwo(esp+4)", "Evaluate expression: 2088773067 = 7c8025cb"},
		{"? ntdll", "Evaluate expression: 2089811968 = 7c900000"},
		{"? test_app+0x429e", "Evaluate expression: 4211358 = 0040429e"},
		{"? $teb", "Evaluate expression: 2147348480 = 7ffdf000"},
		{"? $tid", "Evaluate expression: 3060 = 00000bf4"},
		{"? $exr_code", "Evaluate expression: 3221225477 = c0000005"},
		{"? $exr_param1", "Evaluate expression: 69 = 00000045"},
	} {
		if got := run(t, s, tc.cmd); got != tc.want+"\n" {
			t.Errorf("minidump2 %s:\n got %q\nwant %q", tc.cmd, got, tc.want+"\n")
		}
	}
	if _, err := s.Eval("$peb"); err == nil {
		t.Errorf("minidump2: $peb evaluated although the TEB is not in the dump")
	}
	if _, err := s.Eval("poi(7ffdf030)"); err == nil || !strings.HasPrefix(err.Error(), "Memory access error at ") {
		t.Errorf("minidump2: poi of the missing TEB: %v", err)
	}

	// breakpad/write_av_non_canonical.dmp (x64). Oracle: CATALOG.md facts, exception 0xc0000005
	// with parameters ['0x0', '0xffffffffffffffff'].
	s = openCorpus(t, "breakpad/write_av_non_canonical.dmp")
	for _, tc := range []struct{ cmd, want string }{
		{"? $exr_code", "Evaluate expression: 3221225477 = 00000000`c0000005"},
		{"? $exr_param1", "Evaluate expression: -1 = ffffffff`ffffffff"},
		{"? $exr_numparams", "Evaluate expression: 2 = 00000000`00000002"},
	} {
		if got := run(t, s, tc.cmd); got != tc.want+"\n" {
			t.Errorf("write_av_non_canonical %s:\n got %q\nwant %q", tc.cmd, got, tc.want+"\n")
		}
	}
}
