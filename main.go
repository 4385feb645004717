// Command wdbg is a WinDbg-compatible debugger for Windows crash dumps.
//
//	wdbg -z DUMP [-c "cmd1;cmd2;q"] [-y SYMPATH] [-i IMAGEPATH] [-logo FILE] [--json]
//
// main.go only reads the command line and wires the parts together: the engine opens the dump,
// commands renders it, repl runs the session. See README.md for usage and exit statuses.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"wdbg/engine/analysis"
	"wdbg/engine/pooltag"
	"wdbg/engine/symstore"

	"github.com/fatih/color"
	"golang.org/x/term"

	"wdbg/commands"
	"wdbg/engine"
	"wdbg/repl"
	"wdbg/scripts"
)

// version is set at build time with -ldflags "-X main.version=..." for releases.
var version = "0.1.0-dev"

// Exit statuses (README.md "Exit status").
const (
	exitOK            = 0
	exitOpenFailed    = 1 // the dump could not be opened
	exitUsage         = 2 // bad command line, or the log file could not be opened
	exitCommandFailed = 3 // a command run in batch (-c or standard input) failed
)

func init() {
	// The script commands are in the table from the start, so that .help, --help-commands and the
	// README reference list them; startScripts replaces them with the session's working ones.
	for _, c := range scripts.Reference() {
		commands.Register(c)
	}
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if isDiffCommand(args) {
		return runDiff(args[1:], os.Stdout, os.Stderr)
	}
	if isTriageCommand(args) {
		return runTriage(args[1:], os.Stdout, os.Stderr)
	}
	opts, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wdbg: %v\n%s", err, shortUsage)
		return exitUsage
	}
	switch {
	case opts.help:
		fmt.Print(longUsage)
		return exitOK
	case opts.version:
		fmt.Printf("wdbg version %s\n", version)
		return exitOK
	case opts.helpCommands:
		if err := writeCommandReference(os.Stdout, opts.markdown); err != nil {
			return exitUsage
		}
		return exitOK
	case opts.dump == "":
		fmt.Fprintf(os.Stderr, "wdbg: no dump file given; open one with -z DUMP\n%s", shortUsage)
		return exitUsage
	}

	stdoutTerminal := term.IsTerminal(int(os.Stdout.Fd()))
	interactive := stdoutTerminal && term.IsTerminal(int(os.Stdin.Fd()))
	useColor := decideColor(opts.color, os.Getenv("NO_COLOR"), stdoutTerminal)
	color.NoColor = !useColor // decided once, here (STYLE.md habit 3)
	var stdout io.Writer = os.Stdout
	if useColor {
		stdout = color.Output // translates colour codes on Windows consoles
	}

	var logFile *os.File
	if opts.logFile != "" {
		flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
		if opts.logAppend {
			flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
		}
		logFile, err = os.OpenFile(opts.logFile, flags, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "wdbg: cannot open the log file: %v\n", err)
			return exitUsage
		}
		defer logFile.Close()
	}
	outCfg := repl.OutputConfig{Stdout: stdout, JSON: opts.json, Color: useColor}
	if logFile != nil {
		outCfg.Log = logFile
	}
	out := repl.NewOutput(outCfg)
	defer out.Flush()

	if logFile != nil {
		out.Text(fmt.Sprintf("Opened log file '%s'\n", opts.logFile))
	}
	// Our own product line, never Microsoft's, then two blank lines as cdb leaves before the
	// banner (WINDBG-SPEC §2.2 items 2-3). A --script run prints only what the script prints.
	quiet := opts.script != "" && !opts.hasCommands
	if !quiet {
		out.Text(fmt.Sprintf("wdbg version %s - a WinDbg-compatible dump debugger\n\n\n", version))
	}

	start := time.Now()
	target, err := engine.Open(opts.dump)
	if err != nil {
		msg := fmt.Sprintf("Could not open dump file [%s], %v", opts.dump, err)
		if out.JSON() {
			out.Result("", nil, errors.New(msg), 0)
		} else {
			out.Text(msg + "\n")
		}
		return exitOpenFailed
	}
	defer target.Close()
	if opts.verbose {
		fmt.Fprintf(os.Stderr, "wdbg: opened %s in %v: %d threads, %d modules, %d streams\n",
			opts.dump, time.Since(start).Round(time.Microsecond), len(target.Threads), len(target.Modules), len(target.Streams))
	}

	session := commands.NewSessionWith(target, sessionOptions(opts))
	if !quiet {
		out.Result("", commands.Banner(target, session.Symbols.Path().Raw, opts.imagePath), nil, 0)
	}
	out.Flush()

	ctx := context.Background()
	host := startScripts(ctx, session, opts, out)
	defer host.Close()

	runner := repl.NewRunner(session, out)
	if opts.hasCommands {
		runner.RunBatch(ctx, opts.commands)
	}
	if opts.script != "" && !runner.Done() {
		// The script ends the session, as a batch ending in q does; Ctrl-C stops it.
		sctx, stop := signal.NotifyContext(ctx, os.Interrupt)
		run, err := host.RunFile(sctx, opts.script, opts.scriptArgs)
		stop()
		var res commands.Result
		if run != nil && err == nil {
			res = run
		}
		failed := out.Result("--script "+opts.script, res, err, 0)
		out.Flush()
		if failed || runner.Failed() {
			return exitCommandFailed
		}
		return exitOK
	}
	if !runner.Done() {
		err = nil
		if interactive {
			err = runner.RunInteractive(ctx, repl.InteractiveConfig{HistoryFile: repl.HistoryFile()})
		} else {
			err = runner.RunLines(ctx, os.Stdin)
		}
		if err != nil {
			out.Flush()
			fmt.Fprintf(os.Stderr, "wdbg: reading commands: %v\n", err)
			return exitCommandFailed
		}
	}
	if runner.Failed() {
		return exitCommandFailed
	}
	return exitOK
}

// startScripts creates the session's Lua host, adds its commands to the command table and loads
// the user's script directory and every --script-dir. A script that fails to load is reported
// and the session goes on.
func startScripts(ctx context.Context, session *commands.Session, opts *options, out *repl.Output) *scripts.Host {
	so := scripts.Options{Unsafe: opts.unsafeLua, Timeout: opts.timeout, Register: commands.Register}
	if !out.JSON() {
		so.Output = out // print() streams to the terminal and the log while the script runs
	}
	host := scripts.New(session, so)
	for _, c := range host.Commands() {
		if err := commands.Register(c); err != nil {
			fmt.Fprintf(os.Stderr, "wdbg: %v\n", err)
		}
	}
	dirs := append([]string{scripts.UserDir()}, opts.scriptDirs...)
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		if err := host.LoadDir(ctx, dir); err != nil {
			out.Error(fmt.Errorf("loading scripts from %s: %w", dir, err), 0)
		}
	}
	out.Flush()
	return host
}

// decideColor applies --color/--no-color, then NO_COLOR (https://no-color.org), then whether
// standard output is a terminal.
func decideColor(choice colorChoice, noColorEnv string, stdoutTerminal bool) bool {
	switch choice {
	case colorOn:
		return true
	case colorOff:
		return false
	}
	return noColorEnv == "" && stdoutTerminal
}

const shortUsage = `usage: wdbg -z DUMP [-c "cmd1;cmd2;q"] [-y SYMPATH] [-i IMAGEPATH] [-logo FILE] [--json]
       wdbg -z DUMP [options] --script FILE.lua [ARGS...]
       wdbg triage [--json] [-j N] [--script FILE] [-y SYMPATH] DIR|FILE...
       wdbg diff OLDER.dmp NEWER.dmp -c "CMDS" [-y SYMPATH] [--json]
       wdbg --help | --version | --help-commands [--markdown]
`

const longUsage = `wdbg - a WinDbg-compatible debugger for Windows crash dumps

usage: wdbg -z DUMP [options]
       wdbg triage [options] DIR|FILE...   triage many dumps in parallel (wdbg triage --help)
       wdbg diff OLDER NEWER -c "CMDS"     what changed between two dumps of one machine

Options (as cdb: letters are not case-sensitive, '/' may replace '-'):
  -z DUMP            open this crash dump (required)
  -c "CMDS"          run these commands first; ';' separates them, q ends the session.
                     Without q, the session goes on at the prompt (terminal) or reads
                     further commands from standard input (pipe or file)
  -y SYMPATH         symbol search path (srv*CACHE*URL;DIR;...)
  -i IMAGEPATH       executable image search path
  -pooltag FILE      a pooltag.txt whose tag descriptions come first (then $WDBG_POOLTAG,
                     WinDbg's triage\pooltag.txt places, ~/.local/share/wdbg/pooltag.txt,
                     and wdbg's own list)
  -logo FILE         write the session to FILE as well (-loga appends)
  --json             print each command's result as one JSON document per line:
                     {"schema": 1, "command": "...", "result": {...}, "error": null}
                     (shapes in docs/json.md)
  --color, --no-color
                     colour error messages (default: on a terminal unless NO_COLOR is set)
  --script FILE [ARGS...]
                     run a Lua script (or a bundled playbook: triage, spooler, drivers, leak)
                     with ARGS, print only its output and end; everything after FILE is
                     passed to the script, so put --script last
  --script-dir DIR   load the Lua files in DIR at start (their dbg.command definitions
                     become commands); the user directory ~/.config/wdbg/scripts
                     ($XDG_CONFIG_HOME/wdbg/scripts) is always loaded
  --unsafe-lua       give scripts io, os, package, debug, dofile, loadfile and require
                     (by default they see base, table, string, math and coroutine only)
  --timeout DURATION stop any script that runs longer (30s, 2m); Ctrl-C stops one too
  -v                 report how long opening the dump took
  --version          print the version and exit
  --help-commands    print the command reference (--markdown for README form)
  -?, -h, --help     print this help

Accepted and ignored for cdb compatibility: -Q -QY -QS -QSY -n -s -lines -netsyms:yes|no
-g -G -o -d -kqm -nosqm.

With standard input and output on a terminal, wdbg prompts with line editing, history
(kept between runs) and tab completion of command names; an empty line repeats the last
command; Ctrl-C stops the running command. Otherwise commands are read line by line from
standard input and echoed after the prompt.

Exit status: 0 success; 1 the dump could not be opened; 2 bad command line or log file;
3 a command run from -c or standard input failed.
`

// sessionOptions turns the command line into the session's symbol and image paths: -y, else the
// environment's _NT_ALT_SYMBOL_PATH and _NT_SYMBOL_PATH; -i split on ';'. Symbol downloads show a
// progress line on standard error when it is a terminal.
func sessionOptions(opts *options) commands.SessionOptions {
	so := commands.SessionOptions{SymbolPath: opts.symPath}
	if so.SymbolPath == "" {
		so.SymbolPath = symstore.EnvironmentPath(os.Getenv)
	}
	for _, dir := range strings.Split(opts.imagePath, ";") {
		if dir = strings.TrimSpace(dir); dir != "" {
			so.ImagePath = append(so.ImagePath, dir)
		}
	}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		so.Store.Progress = newProgressLine(os.Stderr).show
		so.ScanProgress = os.Stderr
	}
	so.TriageRules = triageRules()
	so.PoolTags = poolTags(opts.poolTagFile)
	return so
}

// poolTagCache keeps the pool tag lists loaded once per run: `wdbg triage` and `wdbg diff`
// open several sessions, from several goroutines, with the same options.
var (
	poolTagMu    sync.Mutex
	poolTagCache = map[string]*pooltag.Database{}
)

// poolTags reads the pool tag descriptions for !poolused, !pool and !pooltag: the -pooltag file,
// $WDBG_POOLTAG, the pooltag.txt files where WinDbg keeps them, then wdbg's own list
// (engine/pooltag.SearchPaths). A -pooltag file that cannot be read, and malformed lines, are
// reported on stderr; the session goes on with what could be read.
func poolTags(explicit string) *pooltag.Database {
	poolTagMu.Lock()
	defer poolTagMu.Unlock()
	if db, ok := poolTagCache[explicit]; ok {
		return db
	}
	db, rep, err := pooltag.LoadCandidates(pooltag.SearchPaths(explicit, pooltag.SystemEnv()))
	if err != nil {
		fmt.Fprintf(os.Stderr, "wdbg: -pooltag: %v\n", err)
	}
	for _, f := range rep.ReadFiles() {
		for _, e := range f.Errors {
			fmt.Fprintf(os.Stderr, "wdbg: %v (line skipped)\n", e)
		}
	}
	poolTagCache[explicit] = db
	return db
}

// triageRules are the bundled !analyze rules with the user's triage.ini in front of them:
// $WDBG_TRIAGE_INI, else triage.ini in the user configuration directory (~/.config/wdbg). A file
// that cannot be parsed is reported on stderr and left out.
func triageRules() *analysis.Rules {
	rules := analysis.DefaultRules()
	path := os.Getenv("WDBG_TRIAGE_INI")
	if path == "" {
		if dir, err := os.UserConfigDir(); err == nil {
			path = filepath.Join(dir, "wdbg", "triage.ini")
		}
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return rules
	}
	user, err := analysis.ParseRules(string(text))
	if err != nil {
		fmt.Fprintf(os.Stderr, "wdbg: %s: %v (using the bundled rules only)\n", path, err)
		return rules
	}
	return rules.Merge(user)
}
