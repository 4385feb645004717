package commands

import (
	"errors"
	"fmt"
	"strings"

	"wdbg/commands/masm"
)

// Options and address ranges of the d* family (WINDBG-SPEC §3.6; address-and-address-range-syntax:
// `Addr`, `Addr L Count`, `Addr L? Count`, `Addr L- Count`, `Addr EndAddr` with an inclusive end).

// rangeLimit is the debugger's sanity limit on a range given without `L?`: 256 MB. WinDbg answers
// a larger range with "^ Range error in '<command>'", the caret under the end of the range
// (public captures: `db @$ip L0xffffffff`, `kb rsp+0x28`).
const rangeLimit = 256 << 20

// maxColumns bounds /c so that one line stays a sane size.
const maxColumns = 0x1000

type displayArgs struct {
	columns  int
	hasRange bool
	start    uint64
	count    uint64 // units of the kind
}

// parseDisplayArgs reads `[/c N] [range]`. line is the whole command and base is where args
// starts in it, so that errors point into the line the user typed.
func parseDisplayArgs(s *Session, f displayFormat, line string, base int, args string) (displayArgs, error) {
	var a displayArgs
	pos := 0 // offset in args of the unparsed rest
	for {
		pos = skipBlanks(args, pos)
		if pos >= len(args) || args[pos] != '/' {
			break
		}
		end := tokenEnd(args, pos)
		opt := args[pos:end]
		switch {
		case len(opt) >= 2 && (opt[1] == 'c' || opt[1] == 'C'):
			valText, valPos := opt[2:], pos+2
			if valText == "" {
				valPos = skipBlanks(args, end)
				end = tokenEnd(args, valPos)
				valText = args[valPos:end]
			}
			if valText == "" {
				return a, &SyntaxError{Input: line, Col: base + valPos}
			}
			n, err := s.Eval(valText)
			if err != nil {
				return a, rebase(err, line, base+valPos)
			}
			if n == 0 || n > maxColumns {
				return a, &RangeError{Input: line, Col: base + end - 1}
			}
			a.columns = int(n)
		case len(opt) >= 2 && (opt[1] == 'p' || opt[1] == 'P'):
			// Our wording: physical-address display needs a kernel dump's physical memory.
			return a, fmt.Errorf("Physical memory display (%s) is not supported for this target", opt)
		default:
			return a, &SyntaxError{Input: line, Col: base + pos}
		}
		pos = end
	}
	text := strings.TrimRight(args[pos:], " \t")
	if text == "" {
		return a, nil
	}
	a.hasRange = true
	addr, rest, err := s.EvalPrefix(text)
	if err != nil {
		return a, rebase(err, line, base+pos)
	}
	restPos := base + pos + len(text) - len(rest) // where rest starts in line
	lastCol := base + pos + len(text) - 1         // the range's last character: the caret's place
	unit := uint64(f.unit)
	a.start = addr
	switch {
	case rest == "":
		a.count = f.defCount
		return a, nil
	case rest[0] == 'L' || rest[0] == 'l':
		countText := rest[1:]
		unlimited, backwards := false, false
		if strings.HasPrefix(countText, "?") {
			unlimited, countText = true, countText[1:]
		} else if strings.HasPrefix(countText, "-") {
			backwards, countText = true, countText[1:]
		}
		trimmed := strings.TrimLeft(countText, " \t")
		countPos := restPos + len(rest) - len(trimmed)
		if trimmed == "" {
			return a, &SyntaxError{Input: line, Col: countPos}
		}
		n, err := s.Eval(trimmed)
		if err != nil {
			return a, rebase(err, line, countPos)
		}
		if n > ^uint64(0)/unit || (!unlimited && n*unit > rangeLimit) {
			return a, &RangeError{Input: line, Col: lastCol}
		}
		a.count = n
		if backwards {
			a.start = addr - n*unit
		}
		return a, nil
	default:
		end, err := s.Eval(rest)
		if err != nil {
			return a, rebase(err, line, restPos)
		}
		if end < addr || end-addr >= rangeLimit {
			return a, &RangeError{Input: line, Col: lastCol}
		}
		// The end address is inclusive: `db 1000 1007` is 8 bytes, `dd 1000 1007` two dwords.
		a.count = (end-addr)/unit + 1
		return a, nil
	}
}

// rebase makes an expression error point into the whole command line. Text left after a complete
// expression becomes WinDbg's caret report "^ Extra character error in '<command>'"; the other
// evaluator errors quote the expression themselves and pass through.
func rebase(err error, line string, offset int) error {
	var me *masm.Error
	if errors.As(err, &me) && me.Kind == masm.ErrExtraChars {
		return &ExtraCharsError{Input: line, Col: offset + me.Col}
	}
	var se *SyntaxError
	if errors.As(err, &se) {
		return &SyntaxError{Input: line, Col: offset + se.Col}
	}
	return err
}

func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func tokenEnd(s string, i int) int {
	for i < len(s) && s[i] != ' ' && s[i] != '\t' {
		i++
	}
	return i
}
