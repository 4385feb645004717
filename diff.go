package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"wdbg/commands"
	"wdbg/engine"
	"wdbg/repl"
)

// diffUsage is the usage of `wdbg diff`.
const diffUsage = `usage: wdbg diff OLDER.dmp NEWER.dmp -c "cmd1;cmd2" [-y SYMPATH] [-i IMAGEPATH] [--json]
  Runs the commands on both dumps of one machine and prints what changed: commands that
  know how to compare their data (!poolused: the tags that grew, sorted by growth) say it as
  data, the others as a line diff of their output.
`

// runDiff is `wdbg diff OLDER NEWER [options]`: the commands of -c run on both dumps, and each
// pair of results is compared (commands.DiffResults).
func runDiff(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || strings.HasPrefix(args[0], "-") || strings.HasPrefix(args[1], "-") {
		fmt.Fprintf(stderr, "wdbg diff: two dump files come first\n%s", diffUsage)
		return exitUsage
	}
	opts, err := parseArgs(args[2:])
	if err != nil {
		fmt.Fprintf(stderr, "wdbg diff: %v\n%s", err, diffUsage)
		return exitUsage
	}
	if !opts.hasCommands || strings.TrimSpace(opts.commands) == "" {
		fmt.Fprintf(stderr, "wdbg diff: no commands given; say which with -c\n%s", diffUsage)
		return exitUsage
	}
	var sessions [2]*commands.Session
	for i, path := range args[:2] {
		t, err := engine.Open(path)
		if err != nil {
			fmt.Fprintf(stderr, "wdbg diff: Could not open dump file [%s], %v\n", path, err)
			return exitOpenFailed
		}
		defer t.Close()
		sessions[i] = commands.NewSessionWith(t, sessionOptions(opts))
	}
	out := repl.NewOutput(repl.OutputConfig{Stdout: stdout, JSON: opts.json})
	defer out.Flush()
	if warning := sameMachineWarning(sessions[0].Target, sessions[1].Target); warning != "" {
		fmt.Fprintln(stderr, "wdbg diff: "+warning)
	}
	ctx := context.Background()
	failed := false
	for _, piece := range repl.Split(opts.commands) {
		cmd := piece.Text
		if cmd == "q" || cmd == "qq" || cmd == "qd" {
			break
		}
		older, errA := sessions[0].Exec(ctx, cmd)
		newer, errB := sessions[1].Exec(ctx, cmd)
		var res commands.Result
		err := firstError(errA, errB, args[0], args[1])
		if err == nil {
			res, err = commands.DiffResults(cmd, older, newer)
		}
		if !out.JSON() {
			out.Text("diff> " + cmd + "\n")
		}
		if out.Result(cmd, res, err, 0) {
			failed = true
		}
	}
	if failed {
		return exitCommandFailed
	}
	return exitOK
}

// firstError names the dump a command failed on.
func firstError(errA, errB error, a, b string) error {
	switch {
	case errA != nil:
		return fmt.Errorf("%s: %w", a, errA)
	case errB != nil:
		return fmt.Errorf("%s: %w", b, errB)
	}
	return nil
}

// sameMachineWarning says when the two dumps are clearly not of one machine (a comparison of
// pool tags across machines answers nothing); "" when they may be.
func sameMachineWarning(a, b *engine.Target) string {
	switch {
	case a.Arch != b.Arch:
		return fmt.Sprintf("the dumps are of different architectures (%s, %s); the comparison may mean little", a.Arch, b.Arch)
	case a.System.BuildNumber != b.System.BuildNumber:
		return fmt.Sprintf("the dumps are of different Windows builds (%d, %d); the comparison may mean little", a.System.BuildNumber, b.System.BuildNumber)
	case (a.Kernel == nil) != (b.Kernel == nil):
		return "one dump is a kernel dump and the other a user-mode dump; the comparison may mean little"
	}
	return ""
}

// isDiffCommand says whether the command line asks for `wdbg diff`.
func isDiffCommand(args []string) bool { return len(args) > 0 && args[0] == "diff" }
