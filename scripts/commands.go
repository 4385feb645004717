package scripts

import (
	"context"
	"fmt"
	"io"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"wdbg/commands"
)

// Commands are the script commands this host answers: .scriptrun, .scriptload, .scriptlist and
// !lua. main adds them to the command table with commands.Register.
func (h *Host) Commands() []*commands.Command {
	return []*commands.Command{
		{
			Name: ".scriptrun", Group: "Scripts", Usage: ".scriptrun File [Arguments]",
			Summary: "run a Lua script or a bundled playbook",
			Help: "Runs a Lua file with its arguments in the table `arg` (`arg[0]` is the script) and as `...`. " +
				"A name that is not a file names a bundled playbook (`.scriptrun triage`); `.scriptlist` lists them. " +
				"The script runs in the sandbox (base, table, string, math, coroutine) unless wdbg was started with " +
				"--unsafe-lua, under --timeout if given; Ctrl-C stops it. Arguments are separated by blanks; " +
				"double quotes keep blanks in one.",
			Run: h.runScriptRun,
		},
		{
			Name: ".scriptload", Group: "Scripts", Usage: ".scriptload File",
			Summary: "load a Lua file that defines commands",
			Help: "Runs a Lua file's top level once and keeps its globals, so that the commands it defines with " +
				"`dbg.command(\"!name\", function(args) ... end)` stay available. Loading the same file again " +
				"replaces its commands. Files in the user script directory and in --script-dir are loaded at start.",
			Run: h.runScriptLoad,
		},
		{
			Name: ".scriptlist", Group: "Scripts", Usage: ".scriptlist",
			Summary: "list bundled playbooks, loaded scripts and the commands scripts defined",
			Run:     h.runScriptList,
		},
		{
			Name: "!lua", Group: "Scripts", Usage: "!lua Code",
			Summary: "run a line of Lua",
			Help: "Runs Lua code in globals shared by every `!lua` line of the session; an expression's values are " +
				"printed (`!lua dbg.addr(\"@rip\") + 0x10`). The `dbg` table is the debugger's API; the bundled playbooks (`.scriptlist`) show it in use.",
			Run: h.runLua,
		},
	}
}

func (h *Host) runScriptRun(ctx context.Context, s *commands.Session, args string) (commands.Result, error) {
	words, err := SplitArgs(args)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("usage: .scriptrun File [Arguments]")
	}
	return result(h.RunFile(ctx, words[0], words[1:]))
}

func (h *Host) runScriptLoad(ctx context.Context, s *commands.Session, args string) (commands.Result, error) {
	words, err := SplitArgs(args)
	if err != nil {
		return nil, err
	}
	if len(words) != 1 {
		return nil, fmt.Errorf("usage: .scriptload File")
	}
	run, err := h.LoadFile(ctx, words[0])
	if err != nil {
		return result(run, err)
	}
	run.shown = append(run.shown, fmt.Sprintf("Loaded script %s", run.Script))
	return run, nil
}

func (h *Host) runLua(ctx context.Context, s *commands.Session, args string) (commands.Result, error) {
	if strings.TrimSpace(args) == "" {
		return nil, fmt.Errorf("usage: !lua Code")
	}
	return result(h.RunString(ctx, args))
}

// result returns a failed run's printed output along with its error, so that what the script
// printed before failing is not lost (the runner prints the error after it).
func result(run *Run, err error) (commands.Result, error) {
	if err != nil {
		if run != nil && run.Output != "" {
			return nil, fmt.Errorf("%s%w", run.Output, err)
		}
		return nil, err
	}
	return run, nil
}

// scriptList is .scriptlist's result.
type scriptList struct {
	Bundled  []bundledEntry `json:"bundled"`
	Loaded   []string       `json:"loaded"`
	Commands []string       `json:"commands"`
}

type bundledEntry struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (l *scriptList) WriteText(w io.Writer) error {
	fmt.Fprintln(w, "Bundled playbooks (.scriptrun NAME):")
	for _, b := range l.Bundled {
		fmt.Fprintf(w, "    %-14s %s\n", b.Name, b.Description)
	}
	if len(l.Loaded) > 0 {
		fmt.Fprintln(w, "Loaded scripts:")
		for _, n := range l.Loaded {
			fmt.Fprintf(w, "    %s\n", n)
		}
	}
	if len(l.Commands) > 0 {
		fmt.Fprintln(w, "Commands defined by scripts:")
		for _, n := range l.Commands {
			fmt.Fprintf(w, "    %s\n", n)
		}
	}
	return nil
}

func (h *Host) runScriptList(ctx context.Context, s *commands.Session, args string) (commands.Result, error) {
	l := &scriptList{Loaded: append([]string{}, h.loaded...), Commands: []string{}}
	for _, b := range BundledList() {
		l.Bundled = append(l.Bundled, bundledEntry(b))
	}
	for _, c := range h.defined {
		l.Commands = append(l.Commands, c.Name)
	}
	return l, nil
}

// Defined are the commands scripts have defined with dbg.command, in order.
func (h *Host) Defined() []*commands.Command { return append([]*commands.Command{}, h.defined...) }

// apiCommand is dbg.command(name, fn, [summary]): a new command that calls fn with the text after
// its name; what fn prints is the command's output, and a value it returns is printed too.
func (h *Host) apiCommand(L *lua.LState) int {
	name := strings.TrimSpace(L.CheckString(1))
	fn := L.CheckFunction(2)
	summary := L.OptString(3, "")
	if name == "" || strings.ContainsAny(name, " \t;") {
		L.ArgError(1, "a command name without blanks or ';' expected")
	}
	source := "a script"
	if dbgInfo, ok := L.GetStack(1); ok {
		if _, err := L.GetInfo("S", dbgInfo, lua.LNil); err == nil {
			source = dbgInfo.Source
		}
	}
	if summary == "" {
		summary = "defined by " + source
	}
	cmd := &commands.Command{Name: name, Group: "Scripts", Usage: name + " [Arguments]", Summary: summary,
		Help: "A command defined in Lua by " + source + " with dbg.command.",
		Run: func(ctx context.Context, s *commands.Session, args string) (commands.Result, error) {
			return result(h.callCommand(ctx, name, fn, args))
		}}
	if h.opts.Register != nil {
		if err := h.opts.Register(cmd); err != nil {
			L.RaiseError("dbg.command: %v", err)
		}
	}
	replaced := false
	for i, c := range h.defined {
		if strings.EqualFold(c.Name, name) {
			h.defined[i], replaced = cmd, true
		}
	}
	if !replaced {
		h.defined = append(h.defined, cmd)
	}
	return 0
}

// Command finds a command defined by a script, by name.
func (h *Host) Command(name string) (*commands.Command, bool) {
	for _, c := range h.defined {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return nil, false
}

// callCommand runs a dbg.command function with the argument text.
func (h *Host) callCommand(ctx context.Context, name string, fn *lua.LFunction, args string) (*Run, error) {
	run := &Run{Script: name}
	var values []lua.LValue
	err := h.call(ctx, name, func(*sink) error {
		top := h.L.GetTop()
		h.L.Push(fn)
		h.L.Push(lua.LString(args))
		if err := h.L.PCall(1, lua.MultRet, nil); err != nil {
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
		if v != lua.LNil {
			run.shown = append(run.shown, h.safeString(v))
		}
	}
	return run, err
}

// safeString is tostring(v) for a value after its script has ended: a __tostring that fails
// gives the plain form instead of an error.
func (h *Host) safeString(v lua.LValue) string {
	if ud, ok := v.(*lua.LUserData); ok {
		if a, ok := ud.Value.(addr); ok {
			return h.formatAddr(uint64(a))
		}
	}
	if err := h.L.CallByParam(lua.P{Fn: h.L.GetGlobal("tostring"), NRet: 1, Protect: true}, v); err != nil {
		return v.String()
	}
	s := h.L.Get(-1)
	h.L.Pop(1)
	return lua.LVAsString(s)
}

// SplitArgs splits a script's argument text on blanks; double quotes keep blanks in one
// argument ("a b" is one), and \" is a quote inside them.
func SplitArgs(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(s) && s[i+1] == '"':
			cur.WriteByte('"')
			i++
		case c == '"':
			inQuote, have = !inQuote, true
		case !inQuote && (c == ' ' || c == '\t'):
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if have {
		out = append(out, cur.String())
	}
	return out, nil
}

// Reference is the script commands for the command reference (.help, --help-commands, README)
// before any dump is open; a session's host replaces them with working ones (commands.Register
// replaces registered commands of the same name).
func Reference() []*commands.Command {
	cmds := (&Host{}).Commands()
	for _, c := range cmds {
		c.Run = func(ctx context.Context, s *commands.Session, args string) (commands.Result, error) {
			return nil, fmt.Errorf("scripts are not available: no dump is open")
		}
	}
	return cmds
}
