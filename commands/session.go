package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"wdbg/engine"
	"wdbg/engine/analysis"
	"wdbg/engine/cpu"
	"wdbg/engine/pooltag"
	"wdbg/engine/stack"
	"wdbg/engine/symbols"
	"wdbg/engine/symstore"
)

// Session is the state one debugging session keeps between commands: the target, the current
// thread and register scope, and what the previous display command left behind.
type Session struct {
	Target *engine.Target

	// Thread is the index of the current thread in Target.Threads.
	Thread int
	// Scope, when set by .ecxr or .cxr, overrides the current thread's own registers.
	Scope *Scope
	// EffMach is the effective machine set by .effmach; ArchUnknown means the target's own.
	EffMach cpu.Arch

	// T holds the user pseudo-registers $t0..$t19.
	T [20]uint64

	// Display remembers the last d* command so that a bare `d` or `dc` continues after it.
	Display DisplayState
	// Unassemble remembers where a bare `u` goes on; a change of thread or context resets it.
	Unassemble UnassembleState

	// Quit is set by q; the loop ends the session after the current command.
	Quit bool

	// Symbols names addresses (PDB, Breakpad, exports, module+offset) along the symbol path.
	Symbols *symbols.Resolver
	// ImagePath lists the directories searched for module images (-i, .exepath).
	ImagePath []string
	// TriageRules choose !analyze's faulting frame (nil: the bundled rules).
	TriageRules *analysis.Rules
	// Frame is the current stack frame (.frame); a change of thread or context resets it.
	Frame  int
	walker *stack.Walker

	// KernelState is the implicit thread and process of a kernel session (.thread, .process).
	KernelState KernelState

	// PoolTags describes pool tags for !poolused and !pool (pooltag.txt files, then our list).
	PoolTags *pooltag.Database
	// ScanProgress is where long scans (!poolfind) draw a progress line; nil draws none.
	ScanProgress io.Writer
}

// SessionOptions are what a session is started with besides the dump.
type SessionOptions struct {
	SymbolPath  string          // as -y gives it ("" = none)
	TriageRules *analysis.Rules // !analyze's rules (nil: the bundled ones)
	ImagePath   []string        // directories with images (-i)
	Store       symstore.Options
	PoolTags    *pooltag.Database // pool tag descriptions (nil: the built-in list only)
	// ScanProgress is where long scans draw a progress line (a terminal's stderr); nil: none.
	ScanProgress io.Writer
}

// Scope is a register context chosen by a context command rather than the thread's own.
type Scope struct {
	Context cpu.Context
	Reason  string // "exception" for .ecxr, "cxr" for .cxr ADDR
}

// DisplayState is what the d* family carries from one command to the next.
type DisplayState struct {
	Kind string // last kind used: "db", "dc", ...
	Next uint64 // address after the last displayed unit
	Set  bool
}

// NewSession starts a session on an opened target, with the event thread current as WinDbg does.
func NewSession(t *engine.Target) *Session {
	return NewSessionWith(t, SessionOptions{})
}

// NewSessionWith starts a session with a symbol path and image path.
func NewSessionWith(t *engine.Target, opts SessionOptions) *Session {
	s := &Session{Target: t, ImagePath: opts.ImagePath, TriageRules: opts.TriageRules, PoolTags: opts.PoolTags,
		ScanProgress: opts.ScanProgress}
	if s.PoolTags == nil {
		s.PoolTags = pooltag.NewDatabase(pooltag.Builtin())
	}
	s.Symbols = symbols.New(t, symbols.Options{Path: symstore.ParsePath(opts.SymbolPath),
		ImagePath: opts.ImagePath, Store: opts.Store})
	if t.Kernel != nil && t.Kernel.Processor < len(t.Threads) {
		s.Thread = t.Kernel.Processor
	}
	if t.Exception != nil && t.Kernel == nil {
		if i, ok := t.ThreadByID(t.Exception.ThreadID); ok {
			s.Thread = i
		}
	}
	return s
}

// Arch is the effective architecture: .effmach's choice, or the target's.
func (s *Session) Arch() cpu.Arch {
	if s.EffMach != cpu.ArchUnknown {
		return s.EffMach
	}
	return s.Target.Arch
}

// PointerSize is the effective pointer width in bytes.
func (s *Session) PointerSize() int { return s.Arch().PointerSize() }

// CurrentThread returns the current thread, or nil for a dump without threads.
func (s *Session) CurrentThread() *engine.Thread {
	if s.Thread < 0 || s.Thread >= len(s.Target.Threads) {
		return nil
	}
	return &s.Target.Threads[s.Thread]
}

// Context is the register context commands use: the scope set by .ecxr/.cxr, else the current
// thread's; after `.effmach x86` on a WOW64 dump, the thread's x86 view of it. It is nil when there
// is none.
func (s *Session) Context() cpu.Context {
	var c cpu.Context
	var teb uint64
	if t := s.CurrentThread(); t != nil {
		c, teb = t.Context, t.TEB
	}
	if s.Scope != nil {
		c = s.Scope.Context
	}
	if c == nil {
		return nil
	}
	x, err := s.EffectiveContext(c, teb)
	if err != nil {
		return nil
	}
	return x
}

// SetThread makes thread index i current and drops any .ecxr/.cxr scope, as a thread switch does
// in WinDbg.
func (s *Session) SetThread(i int) {
	s.Thread = i
	s.SetScope(nil)
}

// SetScope sets (or, with nil, clears) the .ecxr/.cxr register scope. A bare `u` then starts at the
// new instruction pointer, as it does after any context change in WinDbg.
func (s *Session) SetScope(sc *Scope) {
	s.Scope = sc
	s.Unassemble = UnassembleState{}
	s.Frame = 0
}

// Prompt is the prompt WinDbg shows for this session: 0:000> , 0:000:x86> , 3: kd> .
func (s *Session) Prompt() string {
	if s.Target.Kind.IsKernel() {
		if s.Target.System.NumberOfProcessors > 1 {
			return fmt.Sprintf("%d: kd> ", s.Thread)
		}
		return "kd> "
	}
	if s.EffMach != cpu.ArchUnknown && s.EffMach != s.Target.Arch {
		return fmt.Sprintf("0:%03d:%s> ", s.Thread, s.EffMach)
	}
	return fmt.Sprintf("0:%03d> ", s.Thread)
}

// Exec runs one command line (a single command: the caller splits on ';'). A panic inside a handler
// is recovered and returned as an error naming the command, so one broken command never ends the
// session.
func (s *Session) Exec(ctx context.Context, line string) (res Result, err error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil, nil
	}
	cmd, args, ok := Lookup(line)
	if !ok {
		if strings.HasPrefix(line, "!") {
			// An extension command nobody exports (WINDBG-SPEC §1.3; the gallery line of modern
			// dbgeng before it is not printed).
			name := strings.Fields(line[1:])
			if len(name) > 0 {
				return nil, fmt.Errorf("No export %s found", name[0])
			}
		}
		return nil, &SyntaxError{Input: line, Col: 0}
	}
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("internal error in '%s': %v (please report this with the dump)", line, r)
		}
	}()
	return cmd.Run(ctx, s, args)
}

// The caret errors: WinDbg prints a caret under the offending character of the command, then
// "<kind> in '<command>'". Col is the offset in Input of that character; the printer adds the width
// of the prompt the command was typed after.

// SyntaxError is "^ Syntax error in '...'" (or another caret message set in Message, such as
// "Illegal thread error").
type SyntaxError struct {
	Input   string
	Col     int
	Message string // "Syntax error" when empty
}

// RangeError is "^ Range error in '...'": a range over the display limit, or malformed.
type RangeError struct {
	Input string
	Col   int
}

// ExtraCharsError is "^ Extra character error in '...'": text after a complete argument.
type ExtraCharsError struct {
	Input string
	Col   int
}

func (e *SyntaxError) caret() (int, string, string) {
	msg := e.Message
	if msg == "" {
		msg = "Syntax error"
	}
	return e.Col, msg, e.Input
}
func (e *RangeError) caret() (int, string, string) { return e.Col, "Range error", e.Input }
func (e *ExtraCharsError) caret() (int, string, string) {
	return e.Col, "Extra character error", e.Input
}

func (e *SyntaxError) Error() string     { return caretText(e, 0) }
func (e *RangeError) Error() string      { return caretText(e, 0) }
func (e *ExtraCharsError) Error() string { return caretText(e, 0) }

type caretError interface {
	caret() (col int, message, input string)
}

func caretText(e caretError, indent int) string {
	col, msg, input := e.caret()
	return fmt.Sprintf("%s^ %s in '%s'", strings.Repeat(" ", indent+col), msg, input)
}

// WriteError renders a command error as WinDbg prints it. promptWidth is the width of the prompt
// the command was typed after, so that a syntax error's caret lines up under the bad character.
func WriteError(w io.Writer, err error, promptWidth int) {
	text := err.Error()
	var ce caretError
	if errors.As(err, &ce) {
		text = caretText(ce, promptWidth)
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	io.WriteString(w, text)
}
