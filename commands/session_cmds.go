package commands

import (
	"context"
)

// sessionCommands are the commands about the session itself: quitting and echoing.
var sessionCommands = []*Command{
	{
		Name: "q", Aliases: []string{"qq", "qd"}, Group: "Session",
		Usage: "q", Summary: "end the debugging session",
		Help: "Ends the session. In batch mode the remaining commands are not run.",
		Run: func(ctx context.Context, s *Session, args string) (Result, error) {
			s.Quit = true
			return Text("quit:\n"), nil
		},
	},
	{
		Name: ".echo", Group: "Session",
		Usage: ".echo [text]", Summary: "print text",
		Help: "Prints its argument. A quoted argument may contain ';'; the quotes are not printed.",
		Run: func(ctx context.Context, s *Session, args string) (Result, error) {
			if len(args) >= 2 && args[0] == '"' && args[len(args)-1] == '"' {
				args = args[1 : len(args)-1]
			}
			return Text(args + "\n"), nil
		},
	},
}
