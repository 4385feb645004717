package repl

import (
	"strings"

	"wdbg/commands"
)

// continuingCommands are the commands that, repeated by an empty line, go on from where they
// stopped instead of showing the same thing again: cdb's ENTER after `dd esp` shows the next
// block (WINDBG-SPEC §1.4: ENTER repeats the previous command; §3.6: a display command without an
// address continues after the previous one). Running the bare name gets that behaviour from the
// commands themselves, which remember where they stopped (Session.Display).
var continuingCommands = map[string]bool{
	"d": true, "db": true, "dw": true, "dW": true, "dd": true, "dD": true, "df": true, "dq": true,
	"dp": true, "dc": true, "da": true, "du": true, "dyb": true, "dyd": true,
	"dps": true, "dqs": true, "dds": true,
	"u": true,
}

// repeatLine is the line an empty input runs: the previous line, or the bare name of a display
// command when the previous line was a single one.
func repeatLine(last string) string {
	pieces := Split(last)
	if len(pieces) != 1 {
		return last
	}
	cmd, _, ok := commands.Lookup(pieces[0].Text)
	if !ok || !continuingCommands[cmd.Name] {
		return last
	}
	// Keep the name as typed (it may be an alias).
	name := pieces[0].Text
	if i := strings.IndexAny(name, " \t"); i >= 0 {
		name = name[:i]
	}
	if !strings.EqualFold(name, cmd.Name) && !isAlias(cmd, name) {
		// A glued form such as "dc@esp": the name is a prefix of the word.
		name = cmd.Name
	}
	return name
}

func isAlias(cmd *commands.Command, name string) bool {
	for _, a := range cmd.Aliases {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}
