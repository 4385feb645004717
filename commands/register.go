package commands

import (
	"fmt"
	"sort"
	"strings"
)

// Commands added after start (the Lua host's .scriptrun, !lua, and what scripts define with
// dbg.command) join the same table as the built-in ones, so that Lookup, .help, completion and
// the generated reference see them. registered remembers which entries came this way: only those
// may be replaced, so that a script cannot take over a built-in command such as k.
var registered = map[*Command]bool{}

// Register adds c to the command table, or replaces an earlier registered command of the same
// name. It refuses a command without a name or handler, and one whose name or alias is already a
// built-in command's. It is not safe to call while another goroutine runs commands: main
// registers at start, and scripts register from the session's own goroutine.
func Register(c *Command) error {
	if c == nil || strings.TrimSpace(c.Name) == "" || c.Run == nil {
		return fmt.Errorf("a command needs a name and a handler")
	}
	if strings.ContainsAny(c.Name, " \t;") {
		return fmt.Errorf("command name %q contains a blank or ';'", c.Name)
	}
	names := append([]string{c.Name}, c.Aliases...)
	replace := -1
	for i, old := range table {
		for _, n := range names {
			if !old.matches(n) {
				continue
			}
			if !registered[old] || !strings.EqualFold(old.Name, c.Name) {
				return fmt.Errorf("%s is already a command", n)
			}
			replace = i
		}
	}
	if c.Group == "" {
		c.Group = "Scripts"
	}
	if replace >= 0 {
		delete(registered, table[replace])
		table[replace] = c
	} else {
		table = append(table, c)
	}
	registered[c] = true
	sort.SliceStable(table, func(i, j int) bool { return table[i].Group < table[j].Group })
	return nil
}
