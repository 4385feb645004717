package scripts

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/commands"
	"wdbg/engine"
	"wdbg/engine/synth"
	"wdbg/internal/corpus"
)

// openHost opens a dump (a path under the repository or an absolute one) with a host on it.
func openHost(t testing.TB, path string, opts Options, sessOpts commands.SessionOptions) *Host {
	t.Helper()
	tg, err := engine.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { tg.Close() })
	h := New(commands.NewSessionWith(tg, sessOpts), opts)
	t.Cleanup(h.Close)
	return h
}

// sampleHost is a host on testdata/sample.dmp, written by engine/synth (its constants are the
// oracle: the writer does not share the parser's structs).
func sampleHost(t testing.TB, opts Options) *Host {
	return openHost(t, filepath.Join(corpus.RepoRoot(t), "testdata", "sample.dmp"), opts, commands.SessionOptions{})
}

// lua runs code as !lua does and returns what it printed, failing the test on error.
func runLua(t testing.TB, h *Host, code string) string {
	t.Helper()
	run, err := h.RunString(context.Background(), code)
	if err != nil {
		t.Fatalf("%s: %v", code, err)
	}
	var b strings.Builder
	run.WriteText(&b)
	return strings.TrimRight(b.String(), "\n")
}

// luaErr runs code that must fail and returns the error text.
func luaErr(t testing.TB, h *Host, code string) string {
	t.Helper()
	_, err := h.RunString(context.Background(), code)
	if err == nil {
		t.Fatalf("%s: no error", code)
	}
	return err.Error()
}

func expect(t *testing.T, h *Host, code, want string) {
	t.Helper()
	if got := runLua(t, h, code); got != want {
		t.Errorf("%s\n got %q\nwant %q", code, got, want)
	}
}

// TestAddrExactness: addresses above 2^53 survive parsing, printing and arithmetic. The expected
// values are computed here with Go's uint64 arithmetic.
func TestAddrExactness(t *testing.T) {
	h := sampleHost(t, Options{})
	const fault = uint64(0xfffff8048b58334c) // the bug check's P2 in triage_x64.dmp (CATALOG.md)
	backtick := func(v uint64) string { return fmt.Sprintf("%08x`%08x", v>>32, uint32(v)) }
	expect(t, h, "tostring(dbg.addr(\"fffff804`8b58334c\"))", backtick(fault))
	expect(t, h, "dbg.addr(\"fffff8048b58334c\"):hex()", fmt.Sprintf("0x%x", fault))
	expect(t, h, "dbg.addr(\"0xfffff8048b58334c\") == dbg.addr(\"fffff804`8b58334c\")", "true")
	expect(t, h, "dbg.addr(\"fffff804`8b58334c\") + 1", backtick(fault+1))
	expect(t, h, "dbg.addr(\"fffff804`8b58334c\") - 0x334c", backtick(fault-0x334c))
	// Across 2^53: 2^53 + 1 is not a double, but is an addr.
	p53 := uint64(1) << 53
	expect(t, h, "(dbg.addr(2^53) + 1):hex()", fmt.Sprintf("0x%x", p53+1))
	expect(t, h, "(dbg.addr(2^53) + 1 - 2):hex()", fmt.Sprintf("0x%x", p53-1))
	expect(t, h, "dbg.addr(2^53) + 1 > dbg.addr(2^53)", "true")
	expect(t, h, "(dbg.addr(\"ffffffff`ffffffff\") + 2):hex()", "0x1") // wraps as the CPU does
	expect(t, h, "dbg.addr(\"fffff804`8b58334c\"):band(0xfff):hex()", fmt.Sprintf("0x%x", fault&0xfff))
	expect(t, h, "\"at \" .. dbg.addr(0x10)", "at 00000000`00000010")
	expect(t, h, "dbg.addr(-1):hex()", "0xffffffffffffffff")
	if msg := luaErr(t, h, "return dbg.addr(2^60)"); !strings.Contains(msg, "2^53") {
		t.Errorf("a number beyond 2^53 must be refused: %s", msg)
	}
	if msg := luaErr(t, h, "return dbg.addr(1.5)"); !strings.Contains(msg, "integer") {
		t.Errorf("a fraction must be refused: %s", msg)
	}
	if msg := luaErr(t, h, "return dbg.addr(\"fffff804`8b58334c\"):tonumber()"); !strings.Contains(msg, "2^53") {
		t.Errorf(":tonumber beyond 2^53 must fail: %s", msg)
	}
	// readu64 returns an addr: the full 64 bits of a pointer-sized value. TEB.Self (x64 TEB+0x30,
	// FORMATS.md §5) holds the TEB's own address, written by engine/synth as SampleTEB1.
	expect(t, h, fmt.Sprintf("dbg.readu64(0x%x + 0x30):hex()", synth.SampleTEB1), fmt.Sprintf("0x%x", uint64(synth.SampleTEB1)))
}

func TestSandbox(t *testing.T) {
	h := sampleHost(t, Options{})
	for _, name := range []string{"io", "os", "require", "dofile", "loadfile", "package", "debug", "module"} {
		expect(t, h, "type("+name+")", "nil")
	}
	for _, name := range []string{"table", "string", "math", "coroutine", "dbg", "pcall", "loadstring"} {
		if got := runLua(t, h, "type("+name+")"); got == "nil" {
			t.Errorf("%s missing from the sandbox", name)
		}
	}
	u := sampleHost(t, Options{Unsafe: true})
	for _, name := range []string{"io", "os", "require", "dofile"} {
		if got := runLua(t, u, "type("+name+")"); got == "nil" {
			t.Errorf("--unsafe-lua: %s missing", name)
		}
	}
}
