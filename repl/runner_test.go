package repl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"wdbg/commands"
	"wdbg/engine"
	"wdbg/engine/cpu"
)

// newTestSession is a session on a hand-built target: a user-mode x86 dump with two threads and
// no memory, enough for the prompt and the commands that do not read the dump.
func newTestSession() *commands.Session {
	t := &engine.Target{
		Path:    "test.dmp",
		Kind:    engine.KindUserMini,
		Format:  "minidump",
		Arch:    cpu.ArchX86,
		Threads: []engine.Thread{{ID: 0x10}, {ID: 0x20}},
	}
	return commands.NewSession(t)
}

type testRunner struct {
	*Runner
	stdout, log bytes.Buffer
}

func newTestRunner(cfg OutputConfig) *testRunner {
	tr := &testRunner{}
	cfg.Stdout = &tr.stdout
	if cfg.Log == nil {
		cfg.Log = &tr.log
	}
	tr.Runner = NewRunner(newTestSession(), NewOutput(cfg))
	return tr
}

// The expected transcripts below are cdb's documented behaviour: the -c string is echoed once
// after the prompt, then each command's output (WINDBG-SPEC §2.3); .echo prints its text, quoted
// text may hold `;` (-echo--echo-comment-.md); q prints "quit:" and ends the session; an unknown
// command prints "^ Syntax error in '...'" with the caret under the bad character (§1.3).
func TestRunBatch(t *testing.T) {
	tr := newTestRunner(OutputConfig{})
	tr.RunBatch(context.Background(), `.echo "a;b"; $$ note; nosuch; q; .echo never`)
	want := "" +
		"0:000> .echo \"a;b\"; $$ note; nosuch; q; .echo never\n" +
		"a;b\n" +
		strings.Repeat(" ", len("0:000> .echo \"a;b\"; $$ note; ")) + "^ Syntax error in 'nosuch'\n" +
		"quit:\n"
	if got := tr.stdout.String(); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	if !tr.Failed() {
		t.Error("Failed() = false after an unknown command in batch")
	}
	if !tr.Done() {
		t.Error("Done() = false after q")
	}
	if tr.log.String() != want {
		t.Errorf("log differs from stdout:\n%s", tr.log.String())
	}
}

func TestRunBatchWithoutQuitKeepsSession(t *testing.T) {
	tr := newTestRunner(OutputConfig{})
	tr.RunBatch(context.Background(), ".echo one")
	if tr.Done() || tr.Failed() {
		t.Fatalf("Done=%v Failed=%v after a batch without q, want both false", tr.Done(), tr.Failed())
	}
	if got, want := tr.stdout.String(), "0:000> .echo one\none\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

func TestRunLines(t *testing.T) {
	tr := newTestRunner(OutputConfig{})
	// A fake ~1s switches threads so the prompt of the following line changes.
	tr.exec = func(ctx context.Context, line string) (commands.Result, error) {
		if line == "~1s" {
			tr.Session.SetThread(1)
			return nil, nil
		}
		return tr.Session.Exec(ctx, line)
	}
	in := strings.NewReader(".echo one\r\n\n   \n~1s\nbad thing; .echo two\nq\n.echo not read\n")
	if err := tr.RunLines(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"0:000> .echo one\n" +
		"one\n" +
		"0:000> ~1s\n" +
		"0:001> bad thing; .echo two\n" +
		"       ^ Syntax error in 'bad thing'\n" +
		"two\n" +
		"0:001> q\n" +
		"quit:\n"
	if got := tr.stdout.String(); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	if !tr.Failed() {
		t.Error("Failed() = false after a failed command read from standard input")
	}
}

func TestRunLinesLongLine(t *testing.T) {
	tr := newTestRunner(OutputConfig{})
	long := strings.Repeat("x", 200000)
	if err := tr.RunLines(context.Background(), strings.NewReader(".echo "+long+"\n")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tr.stdout.String(), "\n"+long+"\n") {
		t.Error("a 200 kB line was not echoed whole")
	}
}

// TestJSON checks --json: one JSON document per command, on one line, with the result as the
// command's own JSON encoding (Text marshals as {"text": ...}, command.go) and errors as text.
func TestJSON(t *testing.T) {
	tr := newTestRunner(OutputConfig{JSON: true})
	tr.RunBatch(context.Background(), `.echo <a&b>; nosuch; q`)
	lines := strings.Split(strings.TrimSuffix(tr.stdout.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3 (one per command, no echo):\n%s", len(lines), tr.stdout.String())
	}
	type doc struct {
		Schema  int             `json:"schema"`
		Command string          `json:"command"`
		Result  json.RawMessage `json:"result"`
		Error   *string         `json:"error"`
	}
	var docs []doc
	for _, l := range lines {
		var d doc
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("line %q is not a JSON document of the expected shape: %v", l, err)
		}
		if d.Schema != JSONSchemaVersion || !strings.HasPrefix(l, `{"schema":1,"command":`) {
			t.Errorf("line %q does not start with the schema version 1 (docs/json.md)", l)
		}
		docs = append(docs, d)
	}
	var text struct{ Text string }
	if err := json.Unmarshal(docs[0].Result, &text); err != nil || docs[0].Command != ".echo <a&b>" ||
		text.Text != "<a&b>\n" || docs[0].Error != nil {
		t.Errorf("first document %s", lines[0])
	}
	if docs[1].Command != "nosuch" || string(docs[1].Result) != "null" || docs[1].Error == nil ||
		!strings.Contains(*docs[1].Error, "Syntax error in 'nosuch'") {
		t.Errorf("second document %s", lines[1])
	}
	if docs[2].Command != "q" || docs[2].Error != nil {
		t.Errorf("third document %s", lines[2])
	}
	if !tr.Failed() {
		t.Error("Failed() = false after an error in JSON mode")
	}
}

type unmarshalable struct{ C chan int }

func (unmarshalable) WriteText(w io.Writer) error { return nil }

func TestJSONEncodeFailure(t *testing.T) {
	tr := newTestRunner(OutputConfig{JSON: true})
	tr.exec = func(ctx context.Context, line string) (commands.Result, error) {
		return unmarshalable{C: make(chan int)}, nil
	}
	tr.RunBatch(context.Background(), "x")
	var d map[string]any
	if err := json.Unmarshal(tr.stdout.Bytes(), &d); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, tr.stdout.String())
	}
	if d["result"] != nil || !strings.Contains(fmt.Sprint(d["error"]), "cannot encode") {
		t.Errorf("document %s", tr.stdout.String())
	}
	if !tr.Failed() {
		t.Error("an unencodable result did not count as a failure")
	}
}

func TestColorOnlyOnTerminal(t *testing.T) {
	tr := newTestRunner(OutputConfig{Color: true})
	tr.RunBatch(context.Background(), "nosuch; .echo fine")
	out, log := tr.stdout.String(), tr.log.String()
	if !strings.Contains(out, "\x1b[") {
		t.Errorf("no colour on the terminal: %q", out)
	}
	if strings.Contains(log, "\x1b[") {
		t.Errorf("colour codes in the log: %q", log)
	}
	if !strings.Contains(out, "\nfine\n") || strings.Contains(out, "fine\x1b") {
		t.Errorf("colour leaked onto a normal result: %q", out)
	}
	plain := newTestRunner(OutputConfig{})
	plain.RunBatch(context.Background(), "nosuch; .echo fine")
	if strings.Contains(plain.stdout.String(), "\x1b[") {
		t.Errorf("colour without Color: %q", plain.stdout.String())
	}
	if plain.stdout.String() != log {
		t.Errorf("log with colour on differs from plain output:\n%q\n%q", log, plain.stdout.String())
	}
}

// A panicking command is reported and the session goes on (Session.Exec recovers it).
func TestFailingCommandDoesNotEndSession(t *testing.T) {
	tr := newTestRunner(OutputConfig{})
	tr.exec = func(ctx context.Context, line string) (commands.Result, error) {
		if line == "boom" {
			return nil, errors.New("Memory access error at 'boom'")
		}
		return tr.Session.Exec(ctx, line)
	}
	tr.RunBatch(context.Background(), "boom; .echo after")
	if !strings.Contains(tr.stdout.String(), "Memory access error at 'boom'\nafter\n") {
		t.Errorf("stdout %q", tr.stdout.String())
	}
	if !tr.Failed() || tr.Done() {
		t.Errorf("Failed=%v Done=%v, want true, false", tr.Failed(), tr.Done())
	}
}

func TestInterrupterCancelsOnlyTheRunningCommand(t *testing.T) {
	var i interrupter
	i.interrupt() // idle: nothing to cancel, nothing breaks
	ctx, end := i.begin(context.Background())
	i.interrupt()
	if ctx.Err() == nil {
		t.Fatal("the running command's context was not cancelled")
	}
	if !end() {
		t.Error("end() did not report the interruption")
	}
	ctx2, end2 := i.begin(context.Background())
	if ctx2.Err() != nil {
		t.Error("the next command starts cancelled")
	}
	if end2() {
		t.Error("an uninterrupted command reported as interrupted")
	}
}

// TestCtrlC sends SIGINT to the test process while a command waits on its context.
func TestCtrlC(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGINT cannot be sent to oneself on Windows")
	}
	tr := newTestRunner(OutputConfig{})
	started := make(chan struct{})
	tr.exec = func(ctx context.Context, line string) (commands.Result, error) {
		if line != "slow" {
			return tr.Session.Exec(ctx, line)
		}
		close(started)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("slow: %w", ctx.Err())
		case <-time.After(10 * time.Second):
			return commands.Text("not interrupted\n"), nil
		}
	}
	go func() {
		<-started
		p, _ := os.FindProcess(os.Getpid())
		p.Signal(os.Interrupt)
	}()
	tr.RunBatch(context.Background(), "slow; .echo next")
	want := "0:000> slow; .echo next\n^C: command interrupted\nnext\n"
	if got := tr.stdout.String(); got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

// lazyResult renders from its command's context, as a memory display does: it writes lines
// until the context ends (or limit lines).
type lazyResult struct {
	ctx     context.Context
	limit   int
	started chan struct{}
}

func (l lazyResult) WriteText(w io.Writer) error {
	for i := 0; i < l.limit; i++ {
		if err := l.ctx.Err(); err != nil {
			return fmt.Errorf("rendering stopped: %w", err)
		}
		fmt.Fprintf(w, "line %d\n", i)
		if i == 0 && l.started != nil {
			close(l.started)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

func (l lazyResult) MarshalJSON() ([]byte, error) {
	if err := l.ctx.Err(); err != nil {
		return nil, err
	}
	return []byte(`{"lines":3}`), nil
}

// The command's context is still live while its result renders, in text and in JSON.
func TestResultRendersInsideCommandContext(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		tr := newTestRunner(OutputConfig{JSON: asJSON})
		tr.exec = func(ctx context.Context, line string) (commands.Result, error) {
			return lazyResult{ctx: ctx, limit: 3}, nil
		}
		tr.RunBatch(context.Background(), "lazy")
		if tr.Failed() {
			t.Errorf("json=%v: rendering saw a cancelled context:\n%s", asJSON, tr.stdout.String())
		}
	}
}

// Ctrl-C while a result renders stops the rendering; what was printed stays, the error follows.
func TestCtrlCDuringRendering(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGINT cannot be sent to oneself on Windows")
	}
	tr := newTestRunner(OutputConfig{})
	started := make(chan struct{})
	tr.exec = func(ctx context.Context, line string) (commands.Result, error) {
		return lazyResult{ctx: ctx, limit: 1 << 30, started: started}, nil
	}
	go func() {
		<-started
		p, _ := os.FindProcess(os.Getpid())
		p.Signal(os.Interrupt)
	}()
	done := make(chan struct{})
	go func() {
		tr.RunBatch(context.Background(), "lazy")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Ctrl-C did not stop the rendering")
	}
	out := tr.stdout.String()
	if !strings.HasPrefix(out, "0:000> lazy\nline 0\n") || !strings.HasSuffix(out, "\n^C: command interrupted\n") {
		t.Errorf("stdout %q", out[:min(len(out), 200)])
	}
}

type panickyResult struct{}

func (panickyResult) WriteText(w io.Writer) error {
	io.WriteString(w, "partial\n")
	panic("index out of range")
}

func (panickyResult) MarshalJSON() ([]byte, error) { panic("index out of range") }

// A result that panics while it renders is reported with the command, and the session goes on.
func TestPanicWhileRendering(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		tr := newTestRunner(OutputConfig{JSON: asJSON})
		tr.exec = func(ctx context.Context, line string) (commands.Result, error) {
			if line == "boom" {
				return panickyResult{}, nil
			}
			return tr.Session.Exec(ctx, line)
		}
		tr.RunBatch(context.Background(), "boom; .echo after")
		out := tr.stdout.String()
		if !strings.Contains(out, "internal error in 'boom': index out of range") || !strings.Contains(out, "after") {
			t.Errorf("json=%v: stdout %q", asJSON, out)
		}
		if !tr.Failed() {
			t.Errorf("json=%v: a panic did not count as a failure", asJSON)
		}
	}
}
