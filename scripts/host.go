// Package scripts is wdbg's Lua host: the `dbg` API over the same results the commands render,
// the sandbox scripts run in, the commands that run them (.scriptrun, .scriptload, .scriptlist,
// !lua) and the bundled playbooks, embedded in the binary (DESIGN.md "Sessions, batch and
// scripts"; WINDBG-SPEC §7).
//
// Lua is github.com/yuin/gopher-lua (Lua 5.1 in pure Go): no cgo, so wdbg still cross-compiles
// everywhere Go runs, and its states take a context, which is how Ctrl-C and --timeout stop a
// runaway script. Lua numbers are doubles, so addresses are a userdata type of their own (addr.go).
package scripts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"wdbg/commands"
)

// Options say how scripts may run.
type Options struct {
	// Unsafe opens every Lua library (io, os, package, debug) and dofile/loadfile/require, as
	// --unsafe-lua asks. Without it the sandbox has base, table, string, math and coroutine only.
	Unsafe bool
	// Timeout stops each script run (a file, !lua, a Lua command) after this long; 0 means none.
	Timeout time.Duration
	// MemoryLimit is how much the Go heap may grow while a script runs before it is stopped;
	// 0 means DefaultMemoryLimit, a negative value means no limit.
	MemoryLimit int64
	// Output, when set, receives print() output as the script runs (the session's terminal and
	// log). When nil, printed text is gathered into the run's result (tests, --json, dbg.exec).
	Output io.Writer
	// Register, when set, adds commands that scripts define with dbg.command to the session's
	// command table (main passes commands.Register).
	Register func(*commands.Command) error
}

// DefaultMemoryLimit is the heap growth a script may cause before it is stopped.
const DefaultMemoryLimit = 512 << 20

// Limits that keep a script from taking the process down with one call (memory.go checks the
// gradual growth): the largest string one library call may build, and the value and call stacks.
const (
	maxStringBytes  = 64 << 20
	maxOutputBytes  = 64 << 20
	callStackSize   = 1024
	registrySize    = 1024 * 8
	registryMaxSize = 1 << 20 // values on the Lua stack (unpack of a huge table, deep varargs)
	maxNesting      = 8       // scripts running scripts through dbg.exec
)

// Host runs Lua scripts against one session. It is not safe for concurrent use: one host per
// session, and a session runs one command at a time.
type Host struct {
	sess *commands.Session
	opts Options
	L    *lua.LState

	prompt  *lua.LTable // globals shared by every !lua line
	sinks   []*sink     // where print goes; the innermost run's sink last
	ctxs    []context.Context
	loaded  []string // files loaded with .scriptload or from a script directory, in order
	defined []*commands.Command
	lastErr error // the error of the last run, for tests

	regionStarts []uint64 // where dump memory is known to begin, for skipping holes (api_memory.go)
}

// New prepares a host for sess. The Lua state is created at once; Close releases it.
func New(sess *commands.Session, opts Options) *Host {
	h := &Host{sess: sess, opts: opts}
	h.L = lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: callStackSize,
		RegistrySize: registrySize, RegistryMaxSize: registryMaxSize, MinimizeStackMemory: true})
	h.openLibraries()
	h.registerAddr()
	h.registerAPI()
	h.prompt = h.newEnv()
	return h
}

// Close releases the Lua state.
func (h *Host) Close() { h.L.Close() }

// Session is the session the host's scripts act on.
func (h *Host) Session() *commands.Session { return h.sess }

// openLibraries opens the sandbox's libraries, or all of them with Unsafe.
func (h *Host) openLibraries() {
	libs := []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath}, {lua.CoroutineLibName, lua.OpenCoroutine},
	}
	if h.opts.Unsafe {
		libs = append(libs, []struct {
			name string
			fn   lua.LGFunction
		}{{lua.LoadLibName, lua.OpenPackage}, {lua.IoLibName, lua.OpenIo}, {lua.OsLibName, lua.OpenOs},
			{lua.DebugLibName, lua.OpenDebug}}...)
	}
	for _, lib := range libs {
		h.L.Push(h.L.NewFunction(lib.fn))
		h.L.Push(lua.LString(lib.name))
		h.L.Call(1, 0)
	}
	g := h.L.G.Global
	if !h.opts.Unsafe {
		// The base library reaches the file system through these; require and module come with
		// it in gopher-lua. _printregs dumps the VM's registers (a debugging aid of the library).
		for _, name := range []string{"dofile", "loadfile", "require", "module", "_printregs"} {
			g.RawSetString(name, lua.LNil)
		}
	}
	g.RawSetString("print", h.L.NewFunction(h.luaPrint))
	h.capStringLibrary()
}

// newEnv is a fresh global environment for one script: its own globals, falling back to the
// shared ones (libraries, dbg) for reading, so that one script's globals never leak into the next.
func (h *Host) newEnv() *lua.LTable {
	env := h.L.NewTable()
	mt := h.L.NewTable()
	mt.RawSetString("__index", h.L.G.Global)
	h.L.SetMetatable(env, mt)
	env.RawSetString("_G", env)
	return env
}

// ScriptError is a script that failed: a Lua error (with file:line), a syntax error, or a stop
// by the timeout, the memory limit or Ctrl-C. It wraps context.Canceled for Ctrl-C so that the
// prompt reports an interrupted command.
type ScriptError struct {
	Script    string
	Message   string // first line: "triage.lua:12: attempt to index a nil value"
	Traceback string
	cause     error
}

func (e *ScriptError) Error() string { return e.Message }
func (e *ScriptError) Unwrap() error { return e.cause }

// Run is the outcome of one script run.
type Run struct {
	Script string   `json:"script"`
	Args   []string `json:"args,omitempty"`
	// Output is what the script printed, when it was gathered rather than streamed.
	Output string `json:"output"`
	// Values are the script's return values, converted to JSON-able Go values.
	Values []any `json:"values,omitempty"`
	shown  []string
}

// WriteText prints the gathered output and, for !lua expressions, the returned values.
func (r *Run) WriteText(w io.Writer) error {
	if _, err := io.WriteString(w, r.Output); err != nil {
		return err
	}
	for _, v := range r.shown {
		if _, err := fmt.Fprintln(w, v); err != nil {
			return err
		}
	}
	return nil
}

// RunFile runs a Lua file (or a bundled playbook: "triage.lua", "triage") with arguments in
// the global table arg (arg[0] the script, arg[1..] its arguments, as the lua program sets it).
func (h *Host) RunFile(ctx context.Context, path string, args []string) (*Run, error) {
	src, name, err := h.source(path)
	if err != nil {
		return nil, err
	}
	env := h.newEnv()
	argt := h.L.NewTable()
	argt.RawSetInt(0, lua.LString(name))
	for i, a := range args {
		argt.RawSetInt(i+1, lua.LString(a))
	}
	env.RawSetString("arg", argt)
	var vargs []lua.LValue
	for _, a := range args {
		vargs = append(vargs, lua.LString(a))
	}
	run := &Run{Script: name, Args: args}
	return run, h.run(ctx, run, src, name, env, vargs, false)
}

// RunString runs a chunk of Lua (!lua) in the prompt's shared globals. A chunk that is an
// expression has its values printed, as the Lua prompt does with '='.
func (h *Host) RunString(ctx context.Context, code string) (*Run, error) {
	run := &Run{Script: "!lua"}
	if _, err := h.L.LoadString("return " + code); err == nil {
		return run, h.run(ctx, run, "return "+code, "!lua", h.prompt, nil, true)
	}
	return run, h.run(ctx, run, code, "!lua", h.prompt, nil, true)
}

// LoadFile runs a file's top level in an environment of its own that stays alive, so that the
// commands it defines with dbg.command keep working (.scriptload, script directories).
func (h *Host) LoadFile(ctx context.Context, path string) (*Run, error) {
	src, name, err := h.source(path)
	if err != nil {
		return nil, err
	}
	run := &Run{Script: name}
	if err := h.run(ctx, run, src, name, h.newEnv(), nil, false); err != nil {
		return run, err
	}
	if !containsString(h.loaded, name) {
		h.loaded = append(h.loaded, name)
	}
	return run, nil
}

// LoadDir loads every *.lua file of dir in name order; a missing directory is no error. Each
// file's failure is returned (joined) and does not stop the others.
func (h *Host) LoadDir(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".lua") {
			names = append(names, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		if _, err := h.LoadFile(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// UserDir is the directory whose scripts are loaded at start: $XDG_CONFIG_HOME/wdbg/scripts, else
// ~/.config/wdbg/scripts (the OS's user configuration directory elsewhere), beside triage.ini.
func UserDir() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "wdbg", "scripts")
}

// source reads a script: a file on disk, else a bundled playbook by name.
func (h *Host) source(path string) (src, name string, err error) {
	b, ferr := os.ReadFile(path)
	if ferr == nil {
		if len(b) > maxStringBytes {
			return "", "", fmt.Errorf("%s: script is larger than %d MiB", path, maxStringBytes>>20)
		}
		return string(b), path, nil
	}
	if text, bname, ok := Bundled(path); ok {
		return text, bname, nil
	}
	if errors.Is(ferr, os.ErrNotExist) {
		return "", "", fmt.Errorf("cannot open script %s: no such file and no bundled playbook of that name (see .scriptlist)", path)
	}
	return "", "", fmt.Errorf("cannot open script: %v", ferr)
}

// run compiles and calls one chunk in env with the run's context, limits and print sink. show
// keeps the returned values for printing (!lua expressions).
func (h *Host) run(ctx context.Context, run *Run, src, name string, env *lua.LTable, args []lua.LValue, show bool) (err error) {
	defer func() { h.lastErr = err }()
	if len(h.sinks) >= maxNesting {
		return fmt.Errorf("%s: scripts nested more than %d deep (a script running itself through dbg.exec?)", name, maxNesting)
	}
	fn, err := h.L.Load(strings.NewReader(src), name)
	if err != nil {
		return &ScriptError{Script: name, Message: syntaxMessage(err)}
	}
	fn.Env = env
	var values []lua.LValue
	err = h.call(ctx, name, func(out *sink) error {
		top := h.L.GetTop()
		h.L.Push(fn)
		for _, a := range args {
			h.L.Push(a)
		}
		if err := h.L.PCall(len(args), lua.MultRet, nil); err != nil {
			return err
		}
		for i := top + 1; i <= h.L.GetTop(); i++ {
			values = append(values, h.L.Get(i))
		}
		h.L.SetTop(top)
		return nil
	}, run)
	for _, v := range values {
		run.Values = append(run.Values, toGo(v, 0))
		if show {
			run.shown = append(run.shown, h.safeString(v))
		}
	}
	return err
}

// call runs body with print going to a new sink (streamed for the outermost run when Output is
// set, gathered otherwise), with the Lua state's context set to ctx plus the timeout and memory
// watch, and turns what went wrong into a ScriptError.
func (h *Host) call(ctx context.Context, name string, body func(*sink) error, run *Run) error {
	outer := len(h.sinks) == 0
	out := &sink{limit: maxOutputBytes}
	if outer && h.opts.Output != nil {
		out.w = h.opts.Output
	}
	h.sinks = append(h.sinks, out)
	defer func() { h.sinks = h.sinks[:len(h.sinks)-1] }()

	if !outer {
		// A nested run (dbg.exec of a Lua command) lives inside the outer run's context.
		ctx = h.ctxs[len(h.ctxs)-1]
	}
	rctx, stop := h.watch(ctx)
	defer stop()
	h.ctxs = append(h.ctxs, rctx)
	prev := h.L.Context()
	h.L.SetContext(rctx)
	defer func() {
		h.ctxs = h.ctxs[:len(h.ctxs)-1]
		if prev != nil {
			h.L.SetContext(prev)
		} else {
			h.L.RemoveContext()
		}
	}()

	err := body(out)
	if run != nil {
		run.Output = out.buf.String()
	}
	if err == nil {
		return nil
	}
	h.L.SetTop(0)
	return h.scriptError(name, err, rctx)
}

// scriptError explains why a run failed.
func (h *Host) scriptError(name string, err error, rctx context.Context) error {
	se := &ScriptError{Script: name, Message: err.Error()}
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		se.Message = lua.LVAsString(ae.Object)
		if se.Message == "" && ae.Object != nil {
			se.Message = ae.Object.String()
		}
		se.Traceback = ae.StackTrace
	}
	if cause := context.Cause(rctx); cause != nil && rctx.Err() != nil {
		where := strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(se.Message, rctx.Err().Error())), ":")
		if where == "" {
			where = name
		}
		var stopped *stopError
		switch {
		case errors.As(cause, &stopped):
			se.Message = fmt.Sprintf("%s: script stopped: %s", where, stopped.reason)
			se.cause = cause
		case errors.Is(cause, context.DeadlineExceeded):
			se.Message = fmt.Sprintf("%s: script stopped: the deadline passed", where)
			se.cause = cause
		default:
			se.Message = fmt.Sprintf("%s: script interrupted", where)
			se.cause = context.Canceled
		}
	}
	se.Message = strings.TrimRight(se.Message, "\n")
	return se
}

// syntaxMessage shortens gopher-lua's compile error to one line naming the file and line.
func syntaxMessage(err error) string {
	msg := err.Error()
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Cause != nil {
		msg = ae.Cause.Error()
	}
	return strings.TrimSpace(msg)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
