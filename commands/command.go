// Package commands is wdbg's WinDbg command language: the command table, argument parsing, the
// MASM expression evaluator (commands/masm) and the rendering of engine values as WinDbg's text
// (layouts in ../shared/spec/WINDBG-SPEC.md) and as JSON.
//
// A command is data: a Command entry with its names, usage, help and one handler. Each family file
// (memory.go, modules.go, registers.go, ...) declares a slice of entries; table.go gathers them.
// Handlers return a Result, never write to the terminal, and report failures as errors whose text
// is what WinDbg prints.
package commands

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"sort"
	"strings"
)

// Handler runs one command. args is the text after the command name, with surrounding blanks removed.
type Handler func(ctx context.Context, s *Session, args string) (Result, error)

// Command is one entry of the command table.
type Command struct {
	Name    string   // canonical name as typed: "lm", "!peb", ".ecxr", "dc"
	Aliases []string // other spellings that run the same handler: ".excr"
	Group   string   // section of .help and the README reference: "Memory", "Threads", ...
	Usage   string   // "lm [Options] [m Pattern]"
	Summary string   // one line for .help
	Help    string   // a paragraph or two: options and behaviour in our own words
	// Glued means options may follow the name without a blank (lmvm, ~0s, ?1+2, r@eax).
	Glued bool
	Run   Handler
}

// Result is what a command returns. Every result renders as WinDbg text; it marshals as JSON with
// encoding/json (results are plain structs with json tags, addresses as hex strings).
type Result interface {
	WriteText(w io.Writer) error
}

// Text is a result that is only text (.echo, messages). In JSON it is {"text": "..."}.
type Text string

func (t Text) WriteText(w io.Writer) error {
	_, err := io.WriteString(w, string(t))
	return err
}

func (t Text) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Text string `json:"text"`
	}{string(t)})
}

var table []*Command

func init() {
	// Family slices are gathered here, in init, because .help reads the table and a package-level
	// initialiser referring to it would be an initialisation cycle.
	for _, family := range families() {
		table = append(table, family...)
	}
	sort.SliceStable(table, func(i, j int) bool { return table[i].Group < table[j].Group })
}

// Table returns the command table (for .help, completion and generated docs).
func Table() []*Command { return table }

// Names returns every command name and alias, for tab completion.
func Names() []string {
	var names []string
	for _, c := range table {
		names = append(names, c.Name)
		names = append(names, c.Aliases...)
	}
	sort.Strings(names)
	return names
}

// Lookup splits one command (already separated from its neighbours by ';') into its table entry
// and its arguments. A name is matched case-insensitively, first as the whole first word, then as
// the longest glued name that starts the line.
func Lookup(line string) (*Command, string, bool) {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil, "", false
	}
	word := line
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		word = line[:i]
	}
	// An exact-case match wins over a case-insensitive one, so that dW and dw stay distinct.
	for _, c := range table {
		if c.Name == word || slices.Contains(c.Aliases, word) {
			return c, strings.TrimSpace(line[len(word):]), true
		}
	}
	for _, c := range table {
		if c.matches(word) {
			return c, strings.TrimSpace(line[len(word):]), true
		}
	}
	var best *Command
	bestLen := 0
	for _, c := range table {
		if !c.Glued {
			continue
		}
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			if len(n) > bestLen && len(line) >= len(n) && strings.EqualFold(line[:len(n)], n) {
				best, bestLen = c, len(n)
			}
		}
	}
	if best == nil {
		return nil, "", false
	}
	return best, strings.TrimSpace(line[bestLen:]), true
}

func (c *Command) matches(word string) bool {
	if strings.EqualFold(word, c.Name) {
		return true
	}
	for _, a := range c.Aliases {
		if strings.EqualFold(word, a) {
			return true
		}
	}
	return false
}
