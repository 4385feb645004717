package scripts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTimeoutStopsRunawayLoop(t *testing.T) {
	h := sampleHost(t, Options{Timeout: 200 * time.Millisecond})
	start := time.Now()
	msg := luaErr(t, h, "local n = 0 while true do n = n + 1 end")
	if !strings.Contains(msg, "--timeout") || !strings.Contains(msg, "!lua:1:") {
		t.Errorf("timeout message: %q", msg)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stopped after %v", d)
	}
	// The session and the host go on.
	expect(t, h, "dbg.thread()", "1")
}

func TestCancelStopsScript(t *testing.T) {
	h := sampleHost(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := h.RunString(ctx, "while true do end")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Ctrl-C: got %v, want an error wrapping context.Canceled", err)
	}
	// A Go function's long work stops too: a search over a large unreadable range.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := h.RunString(ctx2, "dbg.search(0, 0x100000000, 'x')"); !errors.Is(err, context.Canceled) {
		t.Errorf("search under a cancelled context: %v", err)
	}
}

func TestMemoryLimit(t *testing.T) {
	h := sampleHost(t, Options{MemoryLimit: 32 << 20, Timeout: time.Minute})
	for _, code := range []string{
		"local t = {} for i = 1, 1e9 do t[i] = {i} end",
		"local s = 'x' while true do s = s .. s end",
	} {
		msg := luaErr(t, h, code)
		if !strings.Contains(msg, "more than 32 MiB of memory") {
			t.Errorf("%s: %q", code, msg)
		}
	}
	// One-step allocations are capped on their own.
	if msg := luaErr(t, h, "return string.rep('x', 1e12)"); !strings.Contains(msg, "larger than") {
		t.Errorf("string.rep: %q", msg)
	}
	if msg := luaErr(t, h, "return string.format('%999999999d', 1)"); !strings.Contains(msg, "width or precision") {
		t.Errorf("string.format: %q", msg)
	}
	if msg := luaErr(t, h, "return dbg.read(0, 2^40)"); !strings.Contains(msg, "size must be") {
		t.Errorf("dbg.read: %q", msg)
	}
	if msg := luaErr(t, h, "local function f() return 1 + f() end return f()"); !strings.Contains(msg, "stack overflow") {
		t.Errorf("recursion: %q", msg)
	}
	expect(t, h, "1 + 1", "2")
}

func TestErrorsNameFileAndLine(t *testing.T) {
	h := sampleHost(t, Options{})
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.lua")
	os.WriteFile(path, []byte("local x = 1\nprint('before')\nlocal y = nil + x\n"), 0o644)
	run, err := h.RunFile(context.Background(), path, nil)
	if err == nil || !strings.HasPrefix(err.Error(), path+":3:") {
		t.Fatalf("runtime error: %v", err)
	}
	if run == nil || run.Output != "before\n" {
		t.Errorf("output before the error: %+v", run)
	}
	// An error raised inside a dbg function names the script line that called it.
	os.WriteFile(path, []byte("\n\ndbg.setthread(99)\n"), 0o644)
	if _, err := h.RunFile(context.Background(), path, nil); err == nil || !strings.HasPrefix(err.Error(), path+":3:") ||
		!strings.Contains(err.Error(), "no thread 99") {
		t.Errorf("API error: %v", err)
	}
	os.WriteFile(path, []byte("print('a')\nif then\n"), 0o644)
	if _, err := h.RunFile(context.Background(), path, nil); err == nil || !strings.Contains(err.Error(), "line:2") {
		t.Errorf("syntax error: %v", err)
	}
	if _, err := h.RunFile(context.Background(), filepath.Join(dir, "missing.lua"), nil); err == nil ||
		!strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	expect(t, h, "dbg.thread()", "1")
}

// TestBadInputNoPanic: wrong arguments to every kind of function give Lua errors or nil+message,
// never a Go panic out of the host.
func TestBadInputNoPanic(t *testing.T) {
	h := sampleHost(t, Options{})
	bad := []string{
		"dbg.read()", "dbg.read('zz!zz', 1)", "dbg.read(0, -1)", "dbg.addr({})", "dbg.addr(0/0)",
		"dbg.search(0, 10, '')", "dbg.search(0, 10, {300})", "dbg.search(0, 2^40, 'x')", "dbg.strings(0, 2^40)",
		"dbg.setthread(-1)", "dbg.stack(5)", "dbg.teb(7)", "dbg.readstr(0, 0)", "dbg.readwstr(0, 2^30)",
		"dbg.command('a b', print)", "dbg.command('!x')", "dbg.exec()", "dbg.pool.find()",
		"dbg.addr(1) + {}", "dbg.addr(1) < 2", "dbg.addr(1) / 0", "dbg.addr(1) % 0", "string.format('%', 1)",
		"dbg.printf('%d', 'x')", "error(setmetatable({}, {__tostring = function() error('x') end}))",
		"coroutine.wrap(function() dbg.setthread(77) end)()", "dbg.json(dbg)",
		"return setmetatable({}, {__tostring = function() error('boom') end})",
	}
	for _, code := range bad {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s: panic %v", code, p)
				}
			}()
			h.RunString(context.Background(), code)
		}()
	}
	expect(t, h, "dbg.thread()", "1")
}

func TestSplitArgs(t *testing.T) {
	got, err := SplitArgs(`a "b c"  d\x "e \"q\""`)
	want := []string{"a", "b c", `d\x`, `e "q"`}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q %v", got, err)
	}
	if _, err := SplitArgs(`"open`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
