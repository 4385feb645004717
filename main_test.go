package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"wdbg/internal/corpus"

	"wdbg/commands"
)

var update = flag.Bool("update", false, "rewrite testdata/transcripts/*.txt and README.md's command reference from the current output")

var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// wdbgBinary builds the wdbg binary once per test run, so that tests run the real program:
// flags, exit statuses, signals and terminal detection included.
func wdbgBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binError = os.MkdirTemp("", "wdbg-test-")
		if binError != nil {
			return
		}
		binPath = filepath.Join(binDir, "wdbg")
		if runtime.GOOS == "windows" {
			binPath += ".exe"
		}
		// go test puts its own toolchain's bin directory first on PATH.
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binError = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

// repoRoot is the directory holding go.mod.
func repoRoot(t *testing.T) string { return corpus.RepoRoot(t) }

// fixturesDir is the shared corpus of real dumps, ../shared/fixtures beside the repository. Tests
// that need it skip when it is absent, and fail when WDBG_CORPUS_REQUIRED=1 (as .ci/run sets).
func fixturesDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "..", "shared", "fixtures")
	if _, err := os.Stat(filepath.Join(dir, "CATALOG.md")); err != nil {
		if os.Getenv("WDBG_CORPUS_REQUIRED") == "1" {
			t.Fatalf("fixtures required (WDBG_CORPUS_REQUIRED=1) but not found at %s: %v", dir, err)
		}
		t.Skipf("real-dump fixtures not found at %s; see README.md \"Real dumps\"", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// fixture is the path of one file of the corpus; a missing file is a failure, since CATALOG.md
// lists it.
func fixture(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(fixturesDir(t), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s: %v", rel, err)
	}
	return p
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	exit           int
}

// runWdbg runs the binary with args and stdin (nil: an empty, non-terminal standard input).
func runWdbg(t *testing.T, stdin []byte, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(wdbgBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	// A symbol path from the developer's environment would change banners and names.
	cmd.Env = append(os.Environ(), "_NT_SYMBOL_PATH=", "_NT_ALT_SYMBOL_PATH=")
	cmd.Env = append(cmd.Env, env...)
	err := cmd.Run()
	exit := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		exit = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), exit}
}

func TestParseArgs(t *testing.T) {
	cases := []struct {
		args []string
		want options
	}{
		{[]string{"-z", "a.dmp"}, options{dump: "a.dmp"}},
		{[]string{"/Z", "a.dmp", "/c", "lm;q"}, options{dump: "a.dmp", commands: "lm;q", hasCommands: true}},
		{[]string{"-z", "a.dmp", "-c", ""}, options{dump: "a.dmp", hasCommands: true}},
		{[]string{"-y", "srv*c:\\sym", "-i", "c:\\img", "-z", "-x.dmp"}, options{dump: "-x.dmp", symPath: "srv*c:\\sym", imagePath: "c:\\img"}},
		{[]string{"-logo", "s.log", "-z", "a"}, options{dump: "a", logFile: "s.log"}},
		{[]string{"-LOGA", "s.log", "-z", "a"}, options{dump: "a", logFile: "s.log", logAppend: true}},
		{[]string{"--json", "-json", "--no-color", "-z", "a"}, options{dump: "a", json: true, color: colorOff}},
		{[]string{"--color", "-v"}, options{color: colorOn, verbose: true}},
		{[]string{"--z=a.dmp", "--c=q"}, options{dump: "a.dmp", commands: "q", hasCommands: true}},
		{[]string{"-version"}, options{version: true}},
		{[]string{"--version"}, options{version: true}},
		{[]string{"-?"}, options{help: true}},
		{[]string{"/?"}, options{help: true}},
		{[]string{"-h"}, options{help: true}},
		{[]string{"--help"}, options{help: true}},
		{[]string{"--help-commands", "--markdown"}, options{helpCommands: true, markdown: true}},
		// Accepted and ignored (WINDBG-SPEC §2.1).
		{[]string{"-Q", "-QY", "-QS", "-QSY", "-n", "-s", "-lines", "-netsyms:yes", "-netsyms:no", "-g", "-G",
			"-o", "-kqm", "-nosqm", "-z", "a"}, options{dump: "a"}},
		{[]string{"-odGg", "-z", "a"}, options{dump: "a"}},
		{[]string{"-gv"}, options{verbose: true}},
	}
	for _, tc := range cases {
		got, err := parseArgs(tc.args)
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tc.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("parseArgs(%q) = %+v, want %+v", tc.args, *got, tc.want)
		}
	}
}

func TestParseArgsErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-z"}, "-z needs a dump file name"},
		{[]string{"-z", "a", "-c"}, "-c needs a command string"},
		{[]string{"-z", "a", "-z", "b"}, "only one dump"},
		{[]string{"-c", "a", "-c", "b"}, "-c given twice"},
		{[]string{"-p", "1234"}, "wdbg opens dump files only"},
		{[]string{"-remote", "x"}, "wdbg opens dump files only"},
		{[]string{"-frobnicate"}, "unknown option -frobnicate"},
		{[]string{"a.dmp"}, `unexpected argument "a.dmp"; to open a dump, use -z a.dmp`},
		{[]string{"--json=yes"}, "takes no value"},
		{[]string{"-"}, `unexpected argument "-"`},
	}
	for _, tc := range cases {
		_, err := parseArgs(tc.args)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseArgs(%q) error = %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
}

func TestDecideColor(t *testing.T) {
	cases := []struct {
		choice   colorChoice
		noColor  string
		terminal bool
		want     bool
	}{
		{colorAuto, "", true, true},
		{colorAuto, "", false, false},
		{colorAuto, "1", true, false},
		{colorOn, "1", false, true},
		{colorOff, "", true, false},
	}
	for _, tc := range cases {
		if got := decideColor(tc.choice, tc.noColor, tc.terminal); got != tc.want {
			t.Errorf("decideColor(%v, %q, %v) = %v", tc.choice, tc.noColor, tc.terminal, got)
		}
	}
}

// TestHelpCommands checks that the reference lists every command of the table with its usage
// and summary, under its group.
func TestHelpCommands(t *testing.T) {
	for _, markdown := range []bool{false, true} {
		var b strings.Builder
		if err := writeCommandReference(&b, markdown); err != nil {
			t.Fatal(err)
		}
		text := b.String()
		for _, c := range commands.Table() {
			usage, summary := c.Usage, c.Summary
			if markdown {
				usage, summary = mdCell(usage), mdCell(summary)
			}
			if !strings.Contains(text, usage) || !strings.Contains(text, summary) || !strings.Contains(text, c.Group) {
				t.Errorf("markdown=%v: %s (%q, %q) missing", markdown, c.Name, c.Usage, c.Summary)
			}
		}
	}
}

func TestMdCell(t *testing.T) {
	if got := mdCell("|| [n]|x\ny"); got != `\|\| [n]\|x y` {
		t.Errorf("mdCell = %q", got)
	}
}

func TestUsageExitStatus(t *testing.T) {
	r := runWdbg(t, nil, nil)
	if r.exit != exitUsage || !strings.Contains(r.stderr, "no dump file given") || r.stdout != "" {
		t.Errorf("no arguments: exit %d, stdout %q, stderr %q", r.exit, r.stdout, r.stderr)
	}
	r = runWdbg(t, nil, nil, "-frobnicate")
	if r.exit != exitUsage || !strings.Contains(r.stderr, "usage: wdbg") {
		t.Errorf("bad option: exit %d, stderr %q", r.exit, r.stderr)
	}
	r = runWdbg(t, nil, nil, "--help")
	if r.exit != exitOK || !strings.Contains(r.stdout, "Exit status:") {
		t.Errorf("--help: exit %d, stdout %q", r.exit, r.stdout)
	}
	r = runWdbg(t, nil, nil, "-version")
	if r.exit != exitOK || r.stdout != "wdbg version "+version+"\n" {
		t.Errorf("-version: exit %d, stdout %q", r.exit, r.stdout)
	}
}

// A dump that cannot be opened prints cdb's "Could not open dump file [path], ..." and exits 1.
func TestOpenFailure(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.dmp")
	r := runWdbg(t, nil, nil, "-z", missing, "-c", "q")
	if r.exit != exitOpenFailed {
		t.Errorf("exit %d, want %d", r.exit, exitOpenFailed)
	}
	if !strings.Contains(r.stdout, "Could not open dump file ["+missing+"], ") {
		t.Errorf("stdout %q", r.stdout)
	}
	if strings.Contains(r.stdout, "quit:") {
		t.Error("commands ran after the dump failed to open")
	}

	notDump := filepath.Join(t.TempDir(), "not.dmp")
	os.WriteFile(notDump, []byte("this is text, not a dump"), 0o600)
	r = runWdbg(t, nil, nil, "--json", "-z", notDump)
	if r.exit != exitOpenFailed || !strings.HasPrefix(r.stdout, `{"schema":1,"command":"","result":null,"error":"Could not open dump file [`) {
		t.Errorf("--json: exit %d, stdout %q", r.exit, r.stdout)
	}
}
