package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"wdbg/scripts"
)

// triageUsage is the usage of `wdbg triage`.
const triageUsage = `usage: wdbg triage [--json] [-j N] [--script FILE] [-y SYMPATH] [-i IMAGEPATH]
                   [--timeout D] [--unsafe-lua] DIR|FILE...
  Runs a playbook (default: the bundled triage.lua) over every dump, N at a time (default: the
  number of CPUs). Folders are searched recursively for files that start like a dump (MDMP,
  PAGEDUMP, PAGEDU64); files named on the command line are always taken.
  Prints one line per dump in the order of the input (--json: one JSON object per dump), then
  the FAILURE_BUCKET_IDs with the number of dumps in each. The output depends only on the dumps
  and the symbols, never on -j. A dump that cannot be opened, whose playbook fails or that runs
  longer than --timeout (default 5m per dump) is reported on its line and the others go on.
  A progress line is drawn on standard error when it is a terminal.
  The playbook returns a table: bucket (FAILURE_BUCKET_ID), summary (one line) and any other
  fields, which --json carries in "result"; a playbook that returns none is summed up by the
  last line it printed.
Exit status: 0 every dump was triaged; 1 no dump was found, or none could be opened;
2 bad command line; 3 at least one dump failed (the others are reported).
`

// defaultTriageTimeout bounds one dump's open and playbook, so that one pathological dump cannot
// hold a worker for ever.
const defaultTriageTimeout = 5 * time.Minute

// triageOptions is what `wdbg triage` was asked for.
type triageOptions struct {
	json      bool
	jobs      int
	script    string
	symPath   string
	imagePath string
	timeout   time.Duration
	unsafeLua bool
	inputs    []string
}

// isTriageCommand says whether the command line asks for `wdbg triage`.
func isTriageCommand(args []string) bool { return len(args) > 0 && args[0] == "triage" }

// parseTriageArgs reads the options of `wdbg triage`. Unlike the session's parser, arguments that
// are not options are the dumps and folders to triage, and --script takes one value only.
func parseTriageArgs(args []string) (*triageOptions, bool, error) {
	o := &triageOptions{jobs: runtime.NumCPU(), script: "triage.lua", timeout: defaultTriageTimeout}
	onlyInputs := false
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if onlyInputs || arg == "-" || !strings.HasPrefix(arg, "-") {
			o.inputs = append(o.inputs, arg)
			continue
		}
		if arg == "--" {
			onlyInputs = true
			continue
		}
		name, inline, hasInline := strings.TrimLeft(arg, "-"), "", false
		if k := strings.IndexByte(name, '='); k >= 0 {
			name, inline, hasInline = name[:k], name[k+1:], true
		}
		value := func(what string) (string, error) {
			if hasInline {
				return inline, nil
			}
			if i+1 >= len(args) {
				return "", usagef("%s needs %s", arg, what)
			}
			i++
			return args[i], nil
		}
		var err error
		switch strings.ToLower(name) {
		case "json":
			o.json = true
		case "j", "jobs":
			var v string
			if v, err = value("a number of workers"); err == nil {
				o.jobs, err = strconv.Atoi(v)
				if err != nil || o.jobs < 1 {
					err = usagef("%s %s: a number of workers of 1 or more is expected", arg, v)
				}
			}
		case "script":
			o.script, err = value("a Lua playbook (a file, or a bundled name such as triage)")
		case "y":
			o.symPath, err = value("a symbol path")
		case "i":
			o.imagePath, err = value("an image path")
		case "timeout":
			var v string
			if v, err = value("a duration such as 30s or 2m"); err == nil {
				o.timeout, err = time.ParseDuration(v)
				if err != nil || o.timeout <= 0 {
					err = usagef("--timeout %s: a positive duration such as 30s or 2m is expected", v)
				}
			}
		case "unsafe-lua":
			o.unsafeLua = true
		case "h", "help", "?":
			return nil, true, nil
		default:
			// -j4 as make and go accept it.
			if n, convErr := strconv.Atoi(strings.TrimPrefix(name, "j")); strings.HasPrefix(name, "j") && convErr == nil {
				if n < 1 {
					return nil, false, usagef("%s: a number of workers of 1 or more is expected", arg)
				}
				o.jobs = n
				continue
			}
			err = usagef("unknown option %s", arg)
		}
		if err != nil {
			return nil, false, err
		}
	}
	if len(o.inputs) == 0 {
		return nil, false, usagef("no dumps given; name dump files or folders")
	}
	if _, statErr := os.Stat(o.script); statErr != nil {
		if _, _, ok := scripts.Bundled(o.script); !ok {
			return nil, false, usagef("--script %s: no such file and no bundled playbook of that name", o.script)
		}
	}
	return o, false, nil
}

// runTriage is `wdbg triage`: it finds the dumps, runs the playbook over them in parallel and
// prints the lines, then the bucket table.
func runTriage(args []string, stdout, stderr io.Writer) int {
	opts, help, err := parseTriageArgs(args)
	if help {
		fmt.Fprint(stdout, triageUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "wdbg triage: %v\n%s", err, triageUsage)
		return exitUsage
	}
	dumps, err := findDumps(opts.inputs)
	if err != nil {
		fmt.Fprintf(stderr, "wdbg triage: %v\n", err)
		return exitOpenFailed
	}

	// Workers share nothing but read-only configuration: the session options (symbol path and
	// the !analyze rules, read once here) are copied into each dump's session. Long pool scans
	// would draw their own progress line over ours, so they draw none.
	so := sessionOptions(&options{symPath: opts.symPath, imagePath: opts.imagePath})
	so.Store.Progress, so.ScanProgress = nil, nil

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tr := &triager{
		session: so,
		script:  opts.script,
		timeout: opts.timeout,
		scripts: scripts.Options{
			Unsafe: opts.unsafeLua,
			// The memory watch measures the whole process's heap, which every worker grows.
			MemoryLimit: scripts.DefaultMemoryLimit * int64(opts.jobs),
			// Register stays nil: the command table is global and workers must not write it;
			// commands that a playbook defines live in its own host only.
		},
	}
	rep := newTriageReport(stdout, opts.json, dumps)
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		rep.progress = &triageProgress{w: stderr, total: len(dumps)}
	}
	tr.run(ctx, dumps, opts.jobs, rep)
	rep.finish()

	switch {
	case rep.opened == 0:
		fmt.Fprintf(stderr, "wdbg triage: none of the %d dumps could be opened\n", len(dumps))
		return exitOpenFailed
	case rep.failed > 0:
		return exitCommandFailed
	}
	return exitOK
}
