package masm

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// fakeEnv is a small target: a few registers, modules, symbols and bytes of memory. The values
// in testdata/eval.txt were worked out by hand from these.
type fakeEnv struct {
	ptrSize   int
	registers map[string]uint64
	symbols   map[string]uint64
	memory    map[uint64]byte
}

func (f *fakeEnv) PointerSize() int { return f.ptrSize }

func (f *fakeEnv) Register(name string) (uint64, bool) {
	v, ok := f.registers[name]
	return v, ok
}

func (f *fakeEnv) Symbol(name string) (uint64, bool) {
	v, ok := f.symbols[name]
	return v, ok
}

type readError struct{ addr uint64 }

func (e *readError) Error() string { return fmt.Sprintf("no memory at %#x", e.addr) }

func (f *fakeEnv) ReadMemory(addr uint64, size int) (uint64, error) {
	var v uint64
	for i := 0; i < size; i++ {
		b, ok := f.memory[addr+uint64(i)]
		if !ok {
			return 0, &readError{addr + uint64(i)}
		}
		v |= uint64(b) << (8 * i)
	}
	return v, nil
}

func (f *fakeEnv) store(addr uint64, bytes ...byte) {
	for i, b := range bytes {
		f.memory[addr+uint64(i)] = b
	}
}

func newFakeEnv(ptrSize int) *fakeEnv {
	f := &fakeEnv{ptrSize: ptrSize, memory: map[uint64]byte{}}
	f.store(0x1000, 0x09, 0x04, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12)
	f.store(0x1008, 0xf0, 0xde, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12)
	f.store(0x1010, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	if ptrSize == 8 {
		f.store(0x2000, 0x08, 0x10, 0, 0, 0, 0, 0, 0)
		f.store(0xa5e4cff6f8, 0x00, 0x00, 0xb2, 0x30, 0xf8, 0x7f, 0, 0)
		f.registers = map[string]uint64{
			"rip": 0x7ff830b269a2, "$ip": 0x7ff830b269a2,
			"rsp": 0xa5e4cff6f8, "$csp": 0xa5e4cff6f8,
			"rax": 0x1122334480000001, "eax": 0x80000001, "ax": 0x0001, "al": 0x01, "ah": 0x03,
			"rcx": 0x1000, "rsi": 0x1, "rdx": 0x40,
			"r8": 8, "r8d": 8, "r10": 0,
			"$t0": 0x1234, "$t1": 0x80000000, "$t2": 0x22, "$t19": 0xffffffffffffffff, "$ptrsize": 8,
		}
		f.symbols = map[string]uint64{
			"ntdll": 0x7ff830ac0000, "kernel32": 0x7ff82f5a0000, "ace": 0x10000,
			"ntdll!RtlUserThreadStart": 0x7ff830b1aa40, "$t2": 0x7777,
			"ntdll!CFoo::Bar": 0x7ff830ac5000, "test_app!`anonymous namespace'::CrashFunction": 0x401000,
		}
	} else {
		f.store(0x12f5a0, 0xa0, 0x11, 0x90, 0x7c)
		f.registers = map[string]uint64{
			"eip": 0x7c90120e, "$ip": 0x7c90120e,
			"esp": 0x12f5a0, "$csp": 0x12f5a0,
			"eax": 0x80000000, "ax": 0, "al": 0, "ah": 0,
			"ebx": 0x7ffdf000, "ecx": 0xffffffff, "$ptrsize": 4,
		}
		f.symbols = map[string]uint64{"ntdll": 0x7c900000}
	}
	return f
}

// envFor maps the table's ENV column to a fake target and options.
func envFor(name string) (Env, Options, bool) {
	switch name {
	case "x64":
		return newFakeEnv(8), Options{}, true
	case "x64k":
		return newFakeEnv(8), Options{KernelMode: true}, true
	case "x86":
		return newFakeEnv(4), Options{}, true
	case "x86k":
		return newFakeEnv(4), Options{KernelMode: true}, true
	case "r10":
		return newFakeEnv(8), Options{Radix: 10}, true
	}
	return nil, Options{}, false
}

type evalCase struct {
	line    int
	env     string
	prefix  bool
	expr    string
	want    string // "0x..." or "error: ..."
	rest    string
	hasRest bool
}

func readCases(t testing.TB) []evalCase {
	t.Helper()
	f, err := os.Open("testdata/eval.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []evalCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		env, rest, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("eval.txt:%d: no expression", n)
		}
		expr, want, ok := strings.Cut(rest, " => ")
		if !ok && strings.HasPrefix(rest, "=> ") {
			expr, want, ok = "", rest[len("=> "):], true
		}
		if !ok {
			t.Fatalf("eval.txt:%d: no ' => '", n)
		}
		c := evalCase{line: n, env: env, expr: expr, want: want}
		if e, found := strings.CutSuffix(env, ",prefix"); found {
			c.env, c.prefix = e, true
			if v, r, found := strings.Cut(want, " rest "); found {
				r, err := strconv.Unquote("\"" + strings.Trim(r, "'") + "\"")
				if err != nil {
					t.Fatalf("eval.txt:%d: bad rest: %v", n, err)
				}
				c.want, c.rest, c.hasRest = v, r, true
			}
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestEvalTable(t *testing.T) {
	cases := readCases(t)
	if len(cases) < 100 {
		t.Fatalf("only %d cases read from eval.txt", len(cases))
	}
	for _, c := range cases {
		env, opts, ok := envFor(c.env)
		if !ok {
			t.Errorf("eval.txt:%d: unknown env %q", c.line, c.env)
			continue
		}
		var v uint64
		var rest string
		var err error
		if c.prefix {
			v, rest, err = opts.EvalPrefix(c.expr, env)
		} else {
			v, err = opts.Eval(c.expr, env)
		}
		got := fmt.Sprintf("%#x", v)
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != c.want {
			t.Errorf("eval.txt:%d: %s %q = %s, want %s", c.line, c.env, c.expr, got, c.want)
			continue
		}
		if c.hasRest && err == nil && rest != c.rest {
			t.Errorf("eval.txt:%d: %q rest = %q, want %q", c.line, c.expr, rest, c.rest)
		}
	}
}

// TestErrorValue checks what an *Error carries besides its text.
func TestErrorValue(t *testing.T) {
	env := newFakeEnv(8)
	_, err := Eval("1 + poi(0)", env)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *masm.Error", err)
	}
	if e.Kind != ErrMemory || e.Col != 9 || e.Addr != 0 {
		t.Errorf("got kind %v col %d addr %#x, want Memory access, 9, 0", e.Kind, e.Col, e.Addr)
	}
	var re *readError
	if !errors.As(err, &re) {
		t.Errorf("memory error does not unwrap to the Env's error: %v", err)
	}

	_, err = Eval("1 + foo", env)
	if !errors.As(err, &e) || e.Kind != ErrUnresolved || e.Col != 4 {
		t.Errorf("1 + foo: got %#v", err)
	}
}

// TestNestingLimit: deep nesting is an error, never a stack overflow; nesting below the limit works.
func TestNestingLimit(t *testing.T) {
	env := newFakeEnv(8)
	for _, expr := range []string{
		strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000),
		strings.Repeat("-", 100000) + "1",
		strings.Repeat("poi(", 100000) + "1000" + strings.Repeat(")", 100000),
		strings.Repeat("@@masm(", 10000) + "1",
	} {
		_, err := Eval(expr, env)
		var e *Error
		if !errors.As(err, &e) || e.Kind != ErrTooDeep {
			t.Errorf("%.20s...: got %v, want a nesting error", expr, err)
		}
	}
	ok := strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100)
	if v, err := Eval(ok, env); err != nil || v != 1 {
		t.Errorf("100 parentheses: %#x, %v", v, err)
	}
	neg := strings.Repeat("-", 200) + "1"
	if v, err := Eval(neg, env); err != nil || v != 1 {
		t.Errorf("200 minus signs: %#x, %v", v, err)
	}
}

// TestPrefixRestIsSuffix: the rest EvalPrefix returns is always the tail of its input, so callers
// can compute where it starts.
func TestPrefixRestIsSuffix(t *testing.T) {
	env := newFakeEnv(8)
	for _, expr := range []string{"rsp L10", "1 + 2   3", "poi(1000) L2", "ntdll", "  7  "} {
		_, rest, err := EvalPrefix(expr, env)
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		if !strings.HasSuffix(expr, rest) {
			t.Errorf("%q: rest %q is not a suffix", expr, rest)
		}
	}
}

func FuzzEval(f *testing.F) {
	for _, s := range []string{
		"1+2*3", "poi(@rsp)+8", "00007ffc`0f180771", "ntdll!RtlUserThreadStart+0x21", "0n-123",
		"((((1))))", "dwo(0) == 0x100", "@$t0 >>> 3", "not hi low by(1000)", "1 && 2", "@@masm(1)",
		"$spat(\"a\",\"b\")", "!ace", "0y101`1", "-8 >>> 2", "rsp L10", "ffffffffffffffffff",
	} {
		f.Add(s)
	}
	for _, c := range readCases(f) {
		f.Add(c.expr)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		for _, env := range []Env{newFakeEnv(8), newFakeEnv(4)} {
			_, err := Eval(expr, env)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("%q: error %T is not a *masm.Error", expr, err)
				}
				if e.Col < 0 || e.Col > len(expr) {
					t.Fatalf("%q: column %d out of range", expr, e.Col)
				}
				_ = e.Error()
			}
			_, rest, err := EvalPrefix(expr, env)
			if err == nil && !strings.HasSuffix(expr, rest) {
				t.Fatalf("%q: rest %q is not a suffix", expr, rest)
			}
		}
	})
}
