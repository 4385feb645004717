package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"wdbg/engine"
)

// targetCommands describe the target and the session: vertarget, .time, ||, |, .help.
var targetCommands = []*Command{
	{
		Name: "vertarget", Group: "Target",
		Usage: "vertarget", Summary: "show the target's OS version, build and times",
		Help: "Prints the system block of the opening banner: OS and processor line, product and suite, build lab, " +
			"debug session time, system and process uptime, and the process's kernel and user CPU time.",
		Run: func(ctx context.Context, s *Session, args string) (Result, error) {
			return &timesResult{System: newSystemBlock(s.Target), identity: true}, nil
		},
	},
	{
		Name: ".time", Group: "Target",
		Usage: ".time", Summary: "show the debug session time and uptimes",
		Help: "Prints when the dump was written (in the dump's own time zone when it records one, else UTC), the " +
			"system and process uptime, and the process's kernel and user CPU time when the dump has them.",
		Run: func(ctx context.Context, s *Session, args string) (Result, error) {
			return &timesResult{System: newSystemBlock(s.Target)}, nil
		},
	},
	{
		Name: "||", Group: "Target", Glued: true,
		Usage: "||", Summary: "list the open dumps (systems)",
		Help: "Lists each open dump with its index, kind and path; `.` marks the current one.",
		Run: func(ctx context.Context, s *Session, args string) (Result, error) {
			return &systemsResult{Systems: []systemEntry{{Index: 0, Current: true, Kind: systemKind(s.Target), Path: s.Target.Path}}}, nil
		},
	},
	{
		Name: "|", Group: "Target", Glued: true,
		Usage: "|", Summary: "show the process being debugged",
		Help: "Shows the dump's process: index, process id, state (always `examine` for a dump) and the main image path.",
		Run: func(ctx context.Context, s *Session, args string) (Result, error) {
			if s.Target.Kind.IsKernel() {
				return nil, fmt.Errorf("The | command is not available in kernel mode")
			}
			p := processEntry{ID: s.Target.Process.ID}
			if len(s.Target.Modules) > 0 {
				p.Name = s.Target.Modules[0].Path
			}
			return &p, nil
		},
	},
	{
		Name: ".help", Group: "Session",
		Usage: ".help [command]", Summary: "list the commands, or describe one",
		Help: "Without an argument, lists every command by group with a one-line summary. With a command name, " +
			"prints its usage and description.",
		Run: runHelp,
	},
}

type timesResult struct {
	System   systemBlock `json:"system"`
	identity bool
}

func (r *timesResult) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.identity {
		r.System.writeIdentity(&b)
	}
	r.System.writeTimes(&b, true)
	_, err := io.WriteString(w, b.String())
	return err
}

// systemKind is the kind column of || (WINDBG-SPEC §2.5).
func systemKind(t *engine.Target) string {
	prefix := ""
	if t.PointerSize() == 8 {
		prefix = "64-bit "
	}
	switch t.Kind {
	case engine.KindUserMini, engine.KindUserFull:
		return prefix + "User mini dump"
	case engine.KindKernelSmall:
		return prefix + "Kernel triage dump"
	case engine.KindKernelBitmap:
		return prefix + "Kernel bitmap dump"
	case engine.KindKernelFull:
		return prefix + "Complete memory dump"
	case engine.KindKernel:
		return prefix + "Kernel summary dump"
	}
	return prefix + "dump"
}

type systemEntry struct {
	Index   int    `json:"index"`
	Current bool   `json:"current"`
	Kind    string `json:"kind"`
	Path    string `json:"path"`
}

type systemsResult struct {
	Systems []systemEntry `json:"systems"`
}

func (r *systemsResult) WriteText(w io.Writer) error {
	for _, e := range r.Systems {
		mark := " "
		if e.Current {
			mark = "."
		}
		if _, err := fmt.Fprintf(w, "%s%3d %s: %s\n", mark, e.Index, e.Kind, e.Path); err != nil {
			return err
		}
	}
	return nil
}

type processEntry struct {
	ID   uint32 `json:"pid"`
	Name string `json:"name"`
}

func (p *processEntry) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, ".  0\tid: %x\texamine\tname: %s\n", p.ID, p.Name)
	return err
}

type helpResult struct {
	Commands []helpEntry `json:"commands"`
	detail   bool
}

type helpEntry struct {
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
	Group   string   `json:"group"`
	Usage   string   `json:"usage"`
	Summary string   `json:"summary"`
	Help    string   `json:"help,omitempty"`
}

func runHelp(ctx context.Context, s *Session, args string) (Result, error) {
	if args != "" {
		c, _, ok := Lookup(args)
		if !ok {
			return nil, fmt.Errorf("No help for '%s': not a command. Type .help for the list.", args)
		}
		return &helpResult{Commands: []helpEntry{entryOf(c, true)}, detail: true}, nil
	}
	r := &helpResult{}
	for _, c := range Table() {
		r.Commands = append(r.Commands, entryOf(c, false))
	}
	return r, nil
}

func entryOf(c *Command, withHelp bool) helpEntry {
	e := helpEntry{Name: c.Name, Aliases: c.Aliases, Group: c.Group, Usage: c.Usage, Summary: c.Summary}
	if withHelp {
		e.Help = c.Help
	}
	return e
}

func (r *helpResult) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.detail {
		e := r.Commands[0]
		fmt.Fprintf(&b, "%s\n    %s\n", e.Usage, e.Summary)
		if len(e.Aliases) > 0 {
			fmt.Fprintf(&b, "    Also spelled: %s\n", strings.Join(e.Aliases, ", "))
		}
		if e.Help != "" {
			fmt.Fprintf(&b, "\n%s\n", wrap(e.Help, 100, "    "))
		}
	} else {
		group := ""
		for _, e := range r.Commands {
			if e.Group != group {
				group = e.Group
				fmt.Fprintf(&b, "%s:\n", group)
			}
			fmt.Fprintf(&b, "  %-28s %s\n", e.Usage, e.Summary)
		}
		b.WriteString("\nType .help COMMAND for details.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap breaks text into lines no longer than width, each starting with indent.
func wrap(text string, width int, indent string) string {
	var out strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			out.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	out.WriteString(line)
	return out.String()
}
