// Package repl is wdbg's front end: it reads command lines (from -c, from standard input, or at an
// interactive readline prompt), splits them as cdb does, runs each command in the session and
// prints the results as WinDbg text or as JSON documents.
//
// Batch rules follow ../shared/spec/WINDBG-SPEC.md §2.3 and prompts §1.4. Readline is used only
// when standard input and output are both terminals; otherwise commands are read line by line and
// echoed after the prompt, so a transcript reads like a session.
package repl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"wdbg/commands"
)

// Runner runs command lines against one session.
type Runner struct {
	Session *commands.Session
	out     *Output
	// exec runs one command; Session.Exec unless a test replaces it.
	exec func(ctx context.Context, line string) (commands.Result, error)

	intr     interrupter
	catching bool // SIGINT is caught for the whole session (interactive mode)
	failed   bool // a command run in batch (-c or standard input) failed
	stopped  bool // standard output went away; stop reading commands
}

// NewRunner prepares to run commands in s, printing to out.
func NewRunner(s *commands.Session, out *Output) *Runner {
	return &Runner{Session: s, out: out, exec: s.Exec}
}

// Failed reports whether a command run in batch failed (its error was printed). Failures at the
// interactive prompt do not count: the user saw them.
func (r *Runner) Failed() bool { return r.failed }

// Done reports whether the session has ended: q ran, or standard output is gone.
func (r *Runner) Done() bool { return r.Session.Quit || r.stopped }

// RunBatch runs a -c command string. Like cdb it prints the prompt followed by the whole string
// once, then the output of each command; it stops after q.
func (r *Runner) RunBatch(ctx context.Context, cmds string) {
	r.runLine(ctx, cmds, true, true)
}

// RunLines reads commands from in line by line until end of input or q, echoing each line after
// the prompt before running it, as cdb does for a script file. Blank lines are skipped.
func (r *Runner) RunLines(ctx context.Context, in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for !r.Done() && sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		r.runLine(ctx, line, true, true)
	}
	return sc.Err()
}

// runLine runs every command of one line. echo prints the prompt and the line first (batch and
// piped input; at the terminal readline has shown them). count makes failures count for the exit
// status.
func (r *Runner) runLine(ctx context.Context, line string, echo, count bool) {
	prompt := r.Session.Prompt()
	if echo {
		r.out.Text(prompt + line + "\n")
	}
	for _, p := range Split(line) {
		// A syntax error's caret goes under the bad character of the line as it was shown.
		width := utf8.RuneCountInString(prompt) + utf8.RuneCountInString(line[:p.Offset])
		if r.runCommand(ctx, p.Text, width) && count {
			r.failed = true
		}
		if r.out.Flush() != nil {
			r.stopped = true
		}
		if r.Done() {
			break
		}
	}
	if r.out.Flush() != nil {
		r.stopped = true
	}
}

// errInterrupted replaces a command's cancellation error when the user pressed Ctrl-C.
var errInterrupted = errors.New("^C: command interrupted")

// runCommand runs one command with a context that Ctrl-C cancels, prints its result and reports
// whether it failed. The context stays live while the result is rendered: results may read the
// dump as they print, and Ctrl-C must stop a long display too.
func (r *Runner) runCommand(ctx context.Context, cmd string, promptWidth int) (failed bool) {
	if !r.catching {
		stop := r.intr.catch()
		defer stop()
	}
	cctx, end := r.intr.begin(ctx)
	defer end()
	res, err := r.exec(cctx, cmd)
	if r.out.JSON() {
		var raw json.RawMessage
		rerr := recovered(cmd, func() error {
			raw, err = encodeResult(cmd, res, err)
			return nil
		})
		if rerr != nil {
			raw, err = nil, rerr
		}
		return r.out.document(cmd, raw, r.interruption(err))
	}
	if err == nil && res != nil {
		err = recovered(cmd, func() error { return r.out.WriteResult(res) })
	}
	if err = r.interruption(err); err != nil {
		r.out.Error(err, promptWidth)
		return true
	}
	return false
}

// recovered runs fn, turning a panic into an error naming the command. Session.Exec recovers
// panics in handlers; results that render lazily can panic later, while they print.
func recovered(cmd string, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error in '%s': %v (please report this with the dump)", cmd, p)
		}
	}()
	return fn()
}

// interruption turns the cancellation error of a command stopped by Ctrl-C into the message the
// user expects; other errors pass unchanged.
func (r *Runner) interruption(err error) error {
	if err != nil && r.intr.interrupted() && errors.Is(err, context.Canceled) {
		return errInterrupted
	}
	return err
}
