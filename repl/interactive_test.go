package repl

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"wdbg/commands"
)

func TestCompleter(t *testing.T) {
	c := newCompleter([]string{"lm", "lm", ".ecxr", ".echo", ".excr", "dc", "dd", "db", "r", "~"})
	cases := []struct {
		line    string
		endings []string
		length  int
	}{
		{"l", []string{"m"}, 1},
		{"LM", []string{""}, 2}, // names match without case, as Lookup does
		{".ec", []string{"ho", "xr"}, 3},
		{"d", []string{"b", "c", "d"}, 1},
		{"lm t", nil, 0}, // in the arguments: nothing to complete
		{"r; .ex", []string{"cr"}, 3},
		{"r;  d", []string{"b", "c", "d"}, 1},
		{"zz", nil, 2},
	}
	for _, tc := range cases {
		got, n := c.Do([]rune(tc.line), len([]rune(tc.line)))
		var endings []string
		for _, g := range got {
			endings = append(endings, string(g))
		}
		if !reflect.DeepEqual(endings, tc.endings) || n != tc.length {
			t.Errorf("Do(%q) = %q, %d; want %q, %d", tc.line, endings, n, tc.endings, tc.length)
		}
	}
	// The cursor, not the end of the line, bounds the word.
	if got, n := c.Do([]rune("dc 1000"), 1); len(got) != 3 || n != 1 {
		t.Errorf("Do at column 1 = %q, %d", got, n)
	}
}

// The real table's names complete too: every name completes to itself from its first letter.
func TestCompleterCoversTable(t *testing.T) {
	c := newCompleter(commands.Names())
	for _, name := range commands.Names() {
		got, _ := c.Do([]rune(name[:1]), 1)
		found := false
		for _, g := range got {
			if name[:1]+string(g) == name {
				found = true
			}
		}
		if !found {
			t.Errorf("%q is not offered after %q", name, name[:1])
		}
	}
}

func TestHistoryFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("os.UserConfigDir reads XDG_CONFIG_HOME only on Linux")
	}
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	got := HistoryFile()
	if want := filepath.Join(dir, "wdbg", "history"); got != want {
		t.Fatalf("HistoryFile() = %q, want %q", got, want)
	}
	if fi, err := os.Stat(filepath.Dir(got)); err != nil || !fi.IsDir() {
		t.Errorf("directory not created: %v", err)
	}

	// A config directory that cannot be created means no history file, not an error.
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o600)
	t.Setenv("XDG_CONFIG_HOME", blocker)
	if got := HistoryFile(); got != "" {
		t.Errorf("HistoryFile() under a file = %q, want \"\"", got)
	}
}

func TestRepeatLine(t *testing.T) {
	cases := map[string]string{
		"dc 1000":       "dc",
		"DC 1000 L4":    "DC",
		"dd":            "dd",
		"r eax":         "r eax",
		"dc 1000; r":    "dc 1000; r",
		"lm t n":        "lm t n",
		"nosuch 1":      "nosuch 1",
		".echo dc 1000": ".echo dc 1000",
	}
	for last, want := range cases {
		if got := repeatLine(last); got != want {
			t.Errorf("repeatLine(%q) = %q, want %q", last, got, want)
		}
	}
}

// pipeTerminal lets a test type at the readline prompt through a pipe: readline is told the pipe
// is a terminal already in raw mode.
func pipeTerminal() *TerminalFuncs {
	return &TerminalFuncs{
		IsTerminal: func() bool { return true },
		MakeRaw:    func() error { return nil },
		ExitRaw:    func() error { return nil },
		Width:      func() int { return 80 },
	}
}

// syncBuffer is a bytes.Buffer safe for readline's writer goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestInteractive types lines at the prompt: a command, an empty line (repeats it), Ctrl-C on a
// half-typed line (discarded), a thread switch (the prompt follows it), then q. It checks the
// command output, the log (prompt and typed line, as the terminal showed them) and the history
// file kept for the next run.
func TestInteractive(t *testing.T) {
	tr := newTestRunner(OutputConfig{})
	tr.exec = func(ctx context.Context, line string) (commands.Result, error) {
		if line == "~1s" {
			tr.Session.SetThread(1)
			return nil, nil
		}
		return tr.Session.Exec(ctx, line)
	}
	history := filepath.Join(t.TempDir(), "history")
	stdinR, stdinW := io.Pipe()
	var screen syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- tr.RunInteractive(context.Background(), InteractiveConfig{
			HistoryFile: history, Stdin: stdinR, Stdout: &screen, Terminal: pipeTerminal(),
		})
	}()
	// The pipe hands over each write only when readline reads it, so keys arrive in order.
	for _, keys := range []string{".echo hi\r", "\r", "half typed\x03", "~1s\r", "q\r"} {
		if _, err := stdinW.Write([]byte(keys)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the prompt did not end after q")
	}
	stdinW.Close()

	if got, want := tr.stdout.String(), "hi\nhi\nquit:\n"; got != want {
		t.Errorf("command output %q, want %q", got, want)
	}
	if got, want := tr.log.String(), "0:000> .echo hi\nhi\n0:000> \nhi\n0:000> ~1s\n0:001> q\nquit:\n"; got != want {
		t.Errorf("log %q, want %q", got, want)
	}
	if !strings.Contains(screen.String(), "0:001> ") {
		t.Errorf("the prompt did not follow the thread switch; screen: %q", screen.String())
	}
	if tr.Failed() {
		t.Error("Failed() = true in an interactive session")
	}
	data, err := os.ReadFile(history)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), ".echo hi\n~1s\nq\n"; got != want {
		t.Errorf("history file %q, want %q", got, want)
	}
}

// End of input at the prompt (Ctrl-D) ends the session without q.
func TestInteractiveEOF(t *testing.T) {
	tr := newTestRunner(OutputConfig{})
	done := make(chan error, 1)
	go func() {
		done <- tr.RunInteractive(context.Background(), InteractiveConfig{
			Stdin: io.NopCloser(strings.NewReader(".echo x\r\x04")), Stdout: io.Discard, Terminal: pipeTerminal(),
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ctrl-D did not end the session")
	}
	if got := tr.stdout.String(); got != "x\n" {
		t.Errorf("output %q", got)
	}
}
