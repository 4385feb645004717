package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// options is what the command line asks for.
type options struct {
	dump         string // -z
	commands     string // -c
	hasCommands  bool
	symPath      string // -y
	imagePath    string // -i
	poolTagFile  string // -pooltag: a pooltag.txt read before the others
	logFile      string // -logo / -loga
	logAppend    bool
	json         bool
	color        colorChoice
	verbose      bool
	version      bool
	help         bool
	helpCommands bool
	markdown     bool

	script     string   // --script FILE: run this Lua script (or bundled playbook), then end
	scriptArgs []string // the arguments after --script FILE
	scriptDirs []string // --script-dir DIR (repeatable): load the Lua files there at start
	unsafeLua  bool     // --unsafe-lua: open io, os, package and debug to scripts
	timeout    time.Duration
}

type colorChoice int

const (
	colorAuto colorChoice = iota
	colorOn
	colorOff
)

// usageError is a bad command line; main prints it with the short usage and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// ignoredOptions are cdb/WinDbg options that mean nothing for wdbg but appear in scripts and
// shortcuts, so they are accepted and ignored (WINDBG-SPEC §2.1): workspace and dialog
// suppressors, symbol-loading switches, telemetry, and the live-debugging switches (-g, -G, -o,
// -d) that make no sense for a dump.
var ignoredOptions = map[string]bool{
	"q": true, "qy": true, "qs": true, "qsy": true,
	"n": true, "s": true, "lines": true, "kqm": true, "nosqm": true,
	"g": true, "G": true, "o": true, "d": true,
	"netsyms:yes": true, "netsyms:no": true,
}

// concatenable are the one-letter options without a value that cdb lets one write together
// (`-odGg`).
const concatenable = "dgGnosv"

// liveOptions attach to or start a live process or kernel; wdbg opens dump files only.
var liveOptions = map[string]bool{
	"p": true, "pn": true, "pv": true, "pd": true, "pe": true, "k": true, "kl": true,
	"remote": true, "server": true, "premote": true,
}

// parseArgs reads a cdb-style command line: options start with '-' or '/' (or '--' for wdbg's own
// long options), letters are not case-sensitive except -g/-G, and an option's value is the next
// argument. Go's flag package cannot express -logo next to -z or '/' prefixes, hence this parser.
func parseArgs(args []string) (*options, error) {
	o := &options{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, inline, hasInline, ok := optionName(arg)
		if !ok {
			return nil, unexpectedArgument(arg)
		}
		// value returns the option's argument: after '=' in --name=value, else the next argument.
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
		switch name {
		case "z":
			if o.dump != "" {
				return nil, usagef("only one dump can be opened at a time (-z given twice)")
			}
			o.dump, err = value("a dump file name")
		case "c":
			if o.hasCommands {
				return nil, usagef("-c given twice; separate commands with ';' in one -c")
			}
			o.commands, err = value(`a command string, e.g. -c "lm;q"`)
			o.hasCommands = true
		case "y":
			o.symPath, err = value("a symbol path")
		case "i":
			o.imagePath, err = value("an image path")
		case "pooltag":
			o.poolTagFile, err = value("a pooltag.txt file")
		case "logo", "loga":
			o.logFile, err = value("a log file name")
			o.logAppend = name == "loga"
		case "json":
			o.json = true
		case "color":
			o.color = colorOn
		case "no-color":
			o.color = colorOff
		case "v":
			o.verbose = true
		case "version":
			o.version = true
		case "?", "h", "help":
			o.help = true
		case "help-commands":
			o.helpCommands = true
		case "markdown":
			o.markdown = true
		case "script":
			if o.script, err = value("a Lua script file"); err == nil {
				// Like lua FILE ARGS: everything after the script belongs to it.
				o.scriptArgs = append([]string{}, args[i+1:]...)
				i = len(args)
			}
		case "script-dir":
			var dir string
			dir, err = value("a directory of Lua scripts")
			o.scriptDirs = append(o.scriptDirs, dir)
		case "unsafe-lua":
			o.unsafeLua = true
		case "timeout":
			var d string
			if d, err = value("a duration such as 30s or 2m"); err == nil {
				o.timeout, err = time.ParseDuration(d)
				if err != nil || o.timeout <= 0 {
					err = usagef("--timeout %s: a positive duration such as 30s or 2m is expected", d)
				}
			}
		default:
			switch {
			case ignoredOptions[name]:
			case liveOptions[name]:
				return nil, usagef("%s debugs a live process or kernel; wdbg opens dump files only (-z DUMP)", arg)
			case isConcatenated(name):
				if strings.Contains(name, "v") {
					o.verbose = true
				}
			default:
				return nil, unknownOption(arg)
			}
		}
		if err != nil {
			return nil, err
		}
		if hasInline && !takesValue(name) {
			return nil, usagef("%s takes no value", arg)
		}
	}
	return o, nil
}

// optionName strips the option prefix and folds the letters' case (except -g/-G, which differ
// in cdb). It reports false for an argument that is not an option.
func optionName(arg string) (name, value string, hasValue, ok bool) {
	switch {
	case strings.HasPrefix(arg, "--") && len(arg) > 2:
		name = arg[2:]
		if k := strings.IndexByte(name, '='); k >= 0 {
			name, value, hasValue = name[:k], name[k+1:], true
		}
	case (arg[0:min(1, len(arg))] == "-" || arg[0:min(1, len(arg))] == "/") && len(arg) > 1:
		name = arg[1:]
	default:
		return "", "", false, false
	}
	if name != "g" && name != "G" && !isConcatenated(name) {
		name = strings.ToLower(name)
	}
	return name, value, hasValue, true
}

func takesValue(name string) bool {
	switch name {
	case "z", "c", "y", "i", "logo", "loga", "script", "script-dir", "timeout", "pooltag":
		return true
	}
	return false
}

// isConcatenated reports whether name is two or more one-letter options written together.
func isConcatenated(name string) bool {
	if len(name) < 2 {
		return false
	}
	for _, c := range name {
		if !strings.ContainsRune(concatenable, c) {
			return false
		}
	}
	return true
}

func unknownOption(arg string) error {
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		return usagef("unknown option %s; to open a dump, use -z %s", arg, arg)
	}
	return usagef("unknown option %s", arg)
}

func unexpectedArgument(arg string) error {
	if arg == "" {
		return usagef("unexpected empty argument")
	}
	return usagef("unexpected argument %q; to open a dump, use -z %s", arg, arg)
}
