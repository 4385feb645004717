package commands

import (
	"context"
	"fmt"
)

// The display-memory family (WINDBG-SPEC §3.6): d, db, dw, dW, dd, dc, dq, dp, da, du, dds, dqs, dps.
// This file holds the command table and the dispatch; memory_args.go parses options and ranges,
// memory_dump.go renders the value kinds and memory_string.go renders da/du.

// displayFormat is the layout of one d* kind.
type displayFormat struct {
	name     string
	unit     int    // bytes per value (or per character for da/du); 0 means the pointer size
	perLine  int    // values (characters for da/du) per line without /c
	defCount uint64 // units shown when the range is only an address; 0 means 128 bytes' worth
	ascii    bool   // an ASCII column after the values (db, dW, dc)
	symbols  bool   // the symbol of each value after it (dds, dqs, dps)
	text     bool   // a quoted string (da, du)
}

// displayFormats are the kinds this family implements. Defaults follow the d* and dds/dps/dqs
// reference pages: 128 bytes for the value kinds. da/du print 32 characters a line and stop after
// 384 characters without a count: public captures of WinDbg show both (see stringDefaultChars).
var displayFormats = map[string]displayFormat{
	"db":  {name: "db", unit: 1, perLine: 16, ascii: true},
	"dw":  {name: "dw", unit: 2, perLine: 8},
	"dW":  {name: "dW", unit: 2, perLine: 8, ascii: true},
	"dd":  {name: "dd", unit: 4, perLine: 4},
	"dc":  {name: "dc", unit: 4, perLine: 4, ascii: true},
	"dq":  {name: "dq", unit: 8, perLine: 2},
	"dp":  {name: "dp", unit: 0, perLine: 0},
	"dds": {name: "dds", unit: 4, perLine: 1, symbols: true},
	"dqs": {name: "dqs", unit: 8, perLine: 1, symbols: true},
	"dps": {name: "dps", unit: 0, perLine: 1, symbols: true},
	"da":  {name: "da", unit: 1, perLine: stringCharsPerLine, defCount: stringDefaultChars, text: true},
	"du":  {name: "du", unit: 2, perLine: stringCharsPerLine, defCount: stringDefaultChars, text: true},
}

// resolve fills in what depends on the effective pointer size: dp is dd or dq, dps is dds or dqs.
func (f displayFormat) resolve(ptrSize int) displayFormat {
	if f.unit == 0 {
		f.unit = ptrSize
	}
	if f.perLine == 0 { // dp: dd's or dq's geometry
		f.perLine = 16 / f.unit
	}
	if f.defCount == 0 {
		f.defCount = uint64(128 / f.unit)
	}
	return f
}

// displayKindOf is the kind a bare `d` repeats: the last d* kind this family ran, else db.
func displayKindOf(s *Session) string {
	if s.Display.Set {
		if _, ok := displayFormats[s.Display.Kind]; ok {
			return s.Display.Kind
		}
	}
	return "db"
}

func displayCommand(name, summary, help string) *Command {
	return &Command{
		Name: name, Group: "Memory",
		Usage:   name + " [/c Columns] [Address [L[?|-]Count | EndAddress]]",
		Summary: summary,
		Help: help + " The range is an address alone (the kind's default length), `Address L Count` (count in " +
			"units of the kind; `L?` lifts the 256 MB limit, `L-` makes the range end at Address) or " +
			"`Address EndAddress` (inclusive). Without a range the display continues where the previous d* " +
			"command stopped, or starts at the current instruction. Unreadable memory shows as question marks.",
		Run: func(ctx context.Context, s *Session, args string) (Result, error) {
			return runDisplay(ctx, s, name, args)
		},
	}
}

var memoryCommands = []*Command{
	displayCommand("d", "display memory in the format of the last d* command",
		"Repeats the format of the most recent display command (db when there was none)."),
	displayCommand("db", "display bytes and ASCII",
		"Shows 16 bytes a line, a hyphen between the eighth and ninth, then the bytes as ASCII with a dot for "+
			"each unprintable byte. The default length is 128 bytes."),
	displayCommand("dw", "display 16-bit words",
		"Shows 8 words a line. The default length is 64 words."),
	displayCommand("dW", "display 16-bit words and ASCII",
		"Shows 8 words a line followed by their bytes as ASCII. The default length is 64 words."),
	displayCommand("dd", "display 32-bit double words",
		"Shows 4 double words a line. The default length is 32 double words."),
	displayCommand("dc", "display double words and ASCII",
		"Shows 4 double words a line followed by their bytes as ASCII. The default length is 32 double words."),
	displayCommand("dq", "display 64-bit quad words",
		"Shows 2 quad words a line, each split by a backtick. The default length is 16 quad words."),
	displayCommand("dp", "display pointer-sized values",
		"Same as dd on 32-bit targets and dq on 64-bit ones (after .effmach, the effective machine's width)."),
	displayCommand("da", "display an ASCII string",
		"Shows the characters up to the first NUL or the end of the range, 32 a line inside quotes, with a dot "+
			"for each unprintable character. Without a count it stops after 384 characters; /c sets the "+
			"characters per line."),
	displayCommand("du", "display a UTF-16 string",
		"Like da for 16-bit characters: up to the first NUL or the end of the range, 32 a line."),
	displayCommand("dds", "display double words with their symbols",
		"Shows one double word a line followed by the module (and, later, symbol) it points into."),
	displayCommand("dqs", "display quad words with their symbols",
		"Shows one quad word a line followed by the module (and, later, symbol) it points into."),
	displayCommand("dps", "display pointers with their symbols",
		"Same as dds on 32-bit targets and dqs on 64-bit ones."),
}

// runDisplay parses one d* command and builds its result. The session's display state is updated
// so that the next d* without a range continues after the last unit shown.
func runDisplay(ctx context.Context, s *Session, name, args string) (Result, error) {
	kind := name
	if name == "d" {
		kind = displayKindOf(s)
	}
	f := displayFormats[kind].resolve(s.PointerSize())
	line := commandLine(name, args)
	a, err := parseDisplayArgs(s, f, line, len(line)-len(args), args)
	if err != nil {
		return nil, err
	}
	if !a.hasRange {
		start, err := continuationAddress(s)
		if err != nil {
			return nil, err
		}
		a.start, a.count = start, f.defCount
	}
	columns := f.perLine
	if a.columns > 0 {
		columns = a.columns
	}
	ptr := s.PointerSize()
	if f.text {
		chars, terminated, err := scanString(ctx, s.Memory(), f.unit, a.start, a.count)
		if err != nil {
			return nil, err
		}
		res := &StringDump{Kind: kind, Start: a.start, Chars: chars, Terminated: terminated, Unit: f.unit,
			Columns: columns, PtrSize: ptr, mem: s.Memory(), ctx: ctx}
		s.Display = DisplayState{Kind: kind, Next: res.next(), Set: true}
		return res, nil
	}
	res := &MemoryDump{Kind: kind, Start: a.start, Count: a.count, Unit: f.unit, Columns: columns,
		PtrSize: ptr, ASCII: f.ascii, Symbols: f.symbols, mem: s.Memory(), ctx: ctx}
	if f.symbols {
		res.symbolize = s.Symbolize
	}
	s.Display = DisplayState{Kind: kind, Next: a.start + a.count*uint64(f.unit), Set: true}
	return res, nil
}

// continuationAddress is where a d* without a range starts: after the previous display, or at the
// current instruction the first time.
func continuationAddress(s *Session) (uint64, error) {
	if s.Display.Set {
		return s.Display.Next, nil
	}
	if c := s.Context(); c != nil {
		return c.PC(), nil
	}
	// Our wording: WinDbg always has a current instruction in a dump with threads.
	return 0, fmt.Errorf("No current instruction to display from; give an address")
}

// commandLine rebuilds the command as typed (name and arguments) for error reports.
func commandLine(name, args string) string {
	if args == "" {
		return name
	}
	return name + " " + args
}
