package repl

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chzyer/readline"

	"wdbg/commands"
)

// InteractiveConfig configures the readline prompt. Zero values mean the process's terminal.
type InteractiveConfig struct {
	HistoryFile string // "" keeps no history
	Stdin       io.ReadCloser
	Stdout      io.Writer
	// Terminal overrides readline's terminal handling (tests drive the prompt through pipes).
	Terminal *TerminalFuncs
}

// TerminalFuncs replace readline's terminal probes.
type TerminalFuncs struct {
	IsTerminal func() bool
	MakeRaw    func() error
	ExitRaw    func() error
	Width      func() int
}

// RunInteractive reads commands at the readline prompt until q or end of input (Ctrl-D). Ctrl-C
// at the prompt discards the line; Ctrl-C while a command runs cancels that command. An empty
// line repeats the previous command line, with display commands continuing where they stopped.
func (r *Runner) RunInteractive(ctx context.Context, cfg InteractiveConfig) error {
	rl, err := readline.NewEx(r.readlineConfig(cfg))
	if err != nil {
		// No usable terminal after all: read plain lines instead.
		var in io.Reader = os.Stdin
		if cfg.Stdin != nil {
			in = cfg.Stdin
		}
		return r.RunLines(ctx, in)
	}
	defer rl.Close()

	r.catching = true
	stop := r.intr.catch()
	defer func() {
		stop()
		r.catching = false
	}()

	last := ""
	for !r.Done() {
		prompt := r.Session.Prompt()
		rl.SetPrompt(prompt)
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		r.out.LogOnly(prompt + line + "\n")
		if strings.TrimSpace(line) == "" {
			if last == "" {
				continue
			}
			line = repeatLine(last)
		} else {
			last = line
		}
		r.runLine(ctx, line, false, false)
	}
	return nil
}

func (r *Runner) readlineConfig(cfg InteractiveConfig) *readline.Config {
	rc := &readline.Config{
		Prompt:            r.Session.Prompt(),
		HistoryFile:       cfg.HistoryFile,
		HistorySearchFold: true,
		AutoComplete:      newCompleter(commands.Names()),
		InterruptPrompt:   "^C",
		EOFPrompt:         "\n", // readline's way of saying: print nothing but the newline
		Stdin:             cfg.Stdin,
		Stdout:            cfg.Stdout,
	}
	if t := cfg.Terminal; t != nil {
		rc.FuncIsTerminal = t.IsTerminal
		rc.FuncMakeRaw = t.MakeRaw
		rc.FuncExitRaw = t.ExitRaw
		rc.FuncGetWidth = t.Width
	}
	return rc
}

// HistoryFile returns the file that keeps prompt history between runs
// (os.UserConfigDir()/wdbg/history), creating its directory. It returns "" when there is no
// such place; the session then keeps history in memory only.
func HistoryFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	dir = filepath.Join(dir, "wdbg")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	return filepath.Join(dir, "history")
}

// completer completes the command word under the cursor: the first word after the last `;`.
type completer struct {
	names []string
}

func newCompleter(names []string) *completer {
	seen := map[string]bool{}
	var uniq []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			uniq = append(uniq, n)
		}
	}
	sort.Strings(uniq)
	return &completer{names: uniq}
}

// Do returns the endings of the command names that start with the word before pos (compared
// without case, as commands are looked up), and the length of that word.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	head := string(line[:pos])
	word := head[strings.LastIndexByte(head, ';')+1:]
	word = strings.TrimLeft(word, " \t")
	if strings.ContainsAny(word, " \t") {
		return nil, 0 // the cursor is in the arguments
	}
	var endings [][]rune
	for _, n := range c.names {
		if len(n) >= len(word) && strings.EqualFold(n[:len(word)], word) {
			endings = append(endings, []rune(n[len(word):]))
		}
	}
	return endings, len([]rune(word))
}
