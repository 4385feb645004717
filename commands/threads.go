package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// threadCommands: ~ and its selectors (WINDBG-SPEC §3.10).
var threadCommands = []*Command{
	{
		Name: "~", Group: "Threads", Glued: true,
		Usage:   "~[Thread] [s | command]",
		Summary: "list threads, switch thread (~Ns), or run a command per thread",
		Help: "`~` lists every thread: `.` marks the current thread, `#` the thread of the exception event. " +
			"Thread selectors: `.` current, `#` event thread, `*` all, N by index (decimal), `~[TID]` by OS thread id " +
			"(hex), `[expr]` by index expression. `~Ns` makes thread N current and shows its registers; " +
			"`~N command` runs the command with thread N current; `~* command` runs it for every thread.",
		Run: runThreads,
	},
}

func runThreads(ctx context.Context, s *Session, args string) (Result, error) {
	full := "~" + args
	sel, rest, err := parseThreadSelector(s, args)
	if err != nil {
		return nil, &SyntaxError{Input: full, Col: 0, Message: err.Error()}
	}
	rest = strings.TrimSpace(rest)
	switch {
	case rest == "" && !sel.all && sel.given:
		return &threadList{Threads: []threadLine{describeThread(s, sel.indexes[0])}, ptr: s.Target.PointerSize()}, nil
	case rest == "":
		var list threadList
		list.ptr = s.Target.PointerSize()
		for _, i := range sel.indexes {
			list.Threads = append(list.Threads, describeThread(s, i))
		}
		return &list, nil
	case strings.EqualFold(rest, "s"):
		if len(sel.indexes) != 1 {
			return nil, &SyntaxError{Input: full, Col: 0, Message: "Illegal thread error"}
		}
		s.SetThread(sel.indexes[0])
		return registersNow(s)
	case strings.EqualFold(rest, "f") || strings.EqualFold(rest, "u") || strings.EqualFold(rest, "n") || strings.EqualFold(rest, "m"):
		return nil, fmt.Errorf("Threads cannot be frozen, unfrozen, suspended or resumed in a dump")
	}
	// ~N command / ~* command: run the command with each selected thread current.
	if strings.HasPrefix(strings.ToLower(rest), "e ") {
		rest = strings.TrimSpace(rest[2:])
	}
	saved, savedScope := s.Thread, s.Scope
	defer func() { s.Thread, s.Scope = saved, savedScope }()
	var out perThread
	for _, i := range sel.indexes {
		if err := ctx.Err(); err != nil {
			return &out, err
		}
		s.SetThread(i)
		res, err := s.Exec(ctx, rest)
		out.Runs = append(out.Runs, perThreadRun{Thread: describeThread(s, i), Result: res, Err: errText(err), ptr: s.Target.PointerSize()})
	}
	return &out, nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

type threadSelection struct {
	indexes []int
	all     bool
	given   bool // a single thread was named explicitly (~N, ~., ~#, ~~[tid])
}

// parseThreadSelector reads the selector after `~` and returns the remaining text.
func parseThreadSelector(s *Session, args string) (threadSelection, string, error) {
	n := len(s.Target.Threads)
	all := threadSelection{all: true}
	for i := 0; i < n; i++ {
		all.indexes = append(all.indexes, i)
	}
	illegal := fmt.Errorf("Illegal thread error")
	if args == "" {
		return all, "", nil
	}
	one := func(i int, rest string) (threadSelection, string, error) {
		if i < 0 || i >= n {
			return threadSelection{}, "", illegal
		}
		return threadSelection{indexes: []int{i}, given: true}, rest, nil
	}
	switch c := args[0]; {
	case c == '*':
		return all, args[1:], nil
	case c == '.':
		return one(s.Thread, args[1:])
	case c == '#':
		if s.Target.Exception == nil {
			return threadSelection{}, "", illegal
		}
		i, ok := s.Target.ThreadByID(s.Target.Exception.ThreadID)
		if !ok {
			return threadSelection{}, "", illegal
		}
		return one(i, args[1:])
	case c == '~':
		inner, rest, ok := bracketed(args[1:])
		if !ok {
			return threadSelection{}, "", fmt.Errorf("Syntax error")
		}
		v, err := s.Eval(inner)
		if err != nil {
			return threadSelection{}, "", err
		}
		i, found := s.Target.ThreadByID(uint32(v))
		if !found {
			return threadSelection{}, "", illegal
		}
		return one(i, rest)
	case c == '[':
		inner, rest, ok := bracketed(args)
		if !ok {
			return threadSelection{}, "", fmt.Errorf("Syntax error")
		}
		v, err := s.Eval(inner)
		if err != nil {
			return threadSelection{}, "", err
		}
		return one(int(v), rest)
	case c >= '0' && c <= '9':
		j := 0
		for j < len(args) && args[j] >= '0' && args[j] <= '9' {
			j++
		}
		i, err := strconv.Atoi(args[:j]) // thread indexes are decimal (WINDBG-SPEC §3.10)
		if err != nil {
			return threadSelection{}, "", illegal
		}
		return one(i, args[j:])
	}
	return all, args, nil
}

// bracketed splits "[expr]rest" into expr and rest.
func bracketed(s string) (string, string, bool) {
	if !strings.HasPrefix(s, "[") {
		return "", "", false
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", "", false
	}
	return s[1:end], s[end+1:], true
}

// threadLine is one row of `~`: `.  0  Id: 2b14.30f8 Suspend: 1 Teb: 000000b7`5be5b000 Unfrozen "name"`.
type threadLine struct {
	Index        int    `json:"index"`
	Current      bool   `json:"current"`
	Event        bool   `json:"event"`
	ProcessID    uint32 `json:"pid"`
	ThreadID     uint32 `json:"tid"`
	SuspendCount uint32 `json:"suspend_count"`
	TEB          string `json:"teb"`
	Name         string `json:"name,omitempty"`
	teb          uint64
}

func describeThread(s *Session, i int) threadLine {
	t := &s.Target.Threads[i]
	l := threadLine{Index: i, Current: i == s.Thread, ProcessID: s.Target.Process.ID, ThreadID: t.ID,
		SuspendCount: t.SuspendCount, TEB: fmt.Sprintf("0x%x", t.TEB), Name: t.Name, teb: t.TEB}
	if x := s.Target.Exception; x != nil && x.ThreadID == t.ID {
		l.Event = true
	}
	return l
}

func (l threadLine) text(ptr int) string {
	mark := " "
	if l.Current {
		mark = "."
	} else if l.Event {
		mark = "#"
	}
	line := fmt.Sprintf("%s%3d  Id: %x.%x Suspend: %d Teb: %s Unfrozen", mark, l.Index, l.ProcessID, l.ThreadID,
		l.SuspendCount, FormatAddr(l.teb, ptr))
	if l.Name != "" {
		line += fmt.Sprintf(" %q", l.Name)
	}
	return line + "\n"
}

type threadList struct {
	Threads []threadLine `json:"threads"`
	ptr     int
}

func (r *threadList) WriteText(w io.Writer) error {
	for _, l := range r.Threads {
		if _, err := io.WriteString(w, l.text(r.ptr)); err != nil {
			return err
		}
	}
	return nil
}

type perThreadRun struct {
	Thread threadLine `json:"thread"`
	Result Result     `json:"result"`
	Err    string     `json:"error,omitempty"`
	ptr    int
}

type perThread struct {
	Runs []perThreadRun `json:"runs"`
}

func (r *perThread) WriteText(w io.Writer) error {
	for _, run := range r.Runs {
		io.WriteString(w, "\n"+run.Thread.text(run.ptr))
		if run.Result != nil {
			if err := run.Result.WriteText(w); err != nil {
				return err
			}
		}
		if run.Err != "" {
			io.WriteString(w, run.Err+"\n")
		}
	}
	return nil
}
