package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Transcript files (testdata/transcripts/*.txt) hold a wdbg run and its expected standard output.
// The header is the file's first lines that start with "# ":
//
//	# wdbg -z {fixtures}/breakpad/minidump2.dmp -c "lm;q"   the command line (required, first)
//	# stdin: TEXT            a line of standard input (repeatable; default: empty input)
//	# exit: N                the expected exit status (default 0)
//	# skip: banner           compare from the first prompt (or first JSON command) on
//	# oracle: TEXT           where the expected output comes from (repeatable; not interpreted)
//
// Everything after the header is the expected output. In the command line and the output,
// {fixtures} is ../shared/fixtures, {testdata} is the repository's testdata directory, {tmp} is
// a fresh temporary directory, and {version} is wdbg's version. Run `go test -run TestTranscripts
// -update .` to rewrite the expected output from what wdbg prints now (then check the diff
// against the oracle the file's comment names).
type transcript struct {
	file       string
	header     []string
	args       []string
	stdin      string
	exit       int
	skipBanner bool
	want       string
}

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata/transcripts")
	}
	sort.Strings(files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runTranscript(t, file)
		})
	}
}

func runTranscript(t *testing.T, file string) {
	tr, err := parseTranscript(file)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"{testdata}": filepath.ToSlash(filepath.Join(repoRoot(t), "testdata")),
		"{tmp}":      filepath.ToSlash(t.TempDir()),
	}
	if strings.Contains(strings.Join(tr.args, " "), "{fixtures}") {
		vars["{fixtures}"] = filepath.ToSlash(fixturesDir(t))
	}
	args := make([]string, len(tr.args))
	for i, a := range tr.args {
		args[i] = expand(a, vars)
	}
	var stdin []byte
	if tr.stdin != "" {
		stdin = []byte(tr.stdin)
	}
	r := runWdbg(t, stdin, []string{"NO_COLOR=1"}, args...)
	got := generalize(r.stdout, vars)
	if tr.skipBanner {
		got = dropBanner(got)
	}
	if *update {
		if err := writeTranscript(file, tr.header, got); err != nil {
			t.Fatal(err)
		}
		if r.exit != tr.exit {
			t.Errorf("exit status %d, but the header says %d; fix the header by hand", r.exit, tr.exit)
		}
		return
	}
	if got != tr.want {
		t.Errorf("output differs from %s (run with -update to rewrite):\n%s\nstderr:\n%s", file, lineDiff(tr.want, got), r.stderr)
	}
	if r.exit != tr.exit {
		t.Errorf("exit status %d, want %d; stderr:\n%s", r.exit, tr.exit, r.stderr)
	}
}

func parseTranscript(file string) (*transcript, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	tr := &transcript{file: file}
	lines := strings.SplitAfter(string(data), "\n")
	n := 0
	for ; n < len(lines) && strings.HasPrefix(lines[n], "# "); n++ {
		line := strings.TrimRight(lines[n], "\r\n")
		tr.header = append(tr.header, line)
		directive := strings.TrimPrefix(line, "# ")
		switch {
		case n == 0:
			words, err := shellWords(directive)
			if err != nil || len(words) == 0 || words[0] != "wdbg" {
				return nil, fmt.Errorf("%s:1: want `# wdbg ARGS...`, got %q (%v)", file, line, err)
			}
			tr.args = words[1:]
		case strings.HasPrefix(directive, "stdin: "):
			tr.stdin += strings.TrimPrefix(directive, "stdin: ") + "\n"
		case strings.HasPrefix(directive, "exit: "):
			tr.exit, err = strconv.Atoi(strings.TrimPrefix(directive, "exit: "))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", file, n+1, err)
			}
		case directive == "skip: banner":
			tr.skipBanner = true
		case strings.HasPrefix(directive, "oracle: "):
		default:
			return nil, fmt.Errorf("%s:%d: unknown header line %q", file, n+1, line)
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no `# wdbg ...` command line at the top", file)
	}
	tr.want = strings.Join(lines[n:], "")
	return tr, nil
}

func writeTranscript(file string, header []string, output string) error {
	return os.WriteFile(file, []byte(strings.Join(header, "\n")+"\n"+output), 0o644)
}

// expand replaces the placeholders in a command-line argument.
func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

// generalize puts the placeholders back into wdbg's output, longest path first so that a
// directory inside another is replaced by its own name.
func generalize(s string, vars map[string]string) string {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(vars[keys[i]]) > len(vars[keys[j]]) })
	for _, k := range keys {
		s = strings.ReplaceAll(s, vars[k], k)
	}
	return strings.ReplaceAll(s, "wdbg version "+version+" ", "wdbg version {version} ")
}

// promptLine matches a line that starts with a session prompt (WINDBG-SPEC §1.4) or with a JSON
// document of a command (the banner's document has an empty command).
var promptLine = regexp.MustCompile(`^(\d+:\d{3}(:\w+)?> |(\d+: )?kd> |\{("schema":\d+,)?"command":"[^"])`)

// dropBanner removes everything before the first prompt, for transcripts about commands rather
// than about the banner.
func dropBanner(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if promptLine.MatchString(l) {
			return strings.Join(lines[i:], "")
		}
	}
	return s
}

// shellWords splits a command line as a POSIX shell would for the simple cases transcripts use:
// blanks separate words; "..." keeps blanks and honours \" and \\; '...' is literal.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			inWord = true
			k := strings.IndexByte(s[i+1:], '\'')
			if k < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+k])
			i += k + 1
		case c == '"':
			inWord = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf(`unterminated " in %q`, s)
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestShellWords(t *testing.T) {
	got, err := shellWords(`wdbg -z {fixtures}/a.dmp -c ".echo \"a;b\"; q" 'x y' ""`)
	want := []string{"wdbg", "-z", "{fixtures}/a.dmp", "-c", `.echo "a;b"; q`, "x y", ""}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
		t.Errorf("shellWords = %q, %v; want %q", got, err, want)
	}
	if _, err := shellWords(`-c "open`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

// lineDiff shows the first differing line with some context, then both texts' lengths.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl || i >= len(w) || i >= len(g) {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q\n(%d lines expected, %d printed)\nfull output:\n%s",
				i+1, wl, gl, len(w), len(g), got)
		}
	}
	return "(no line differs)"
}

// TestPipedCommands feeds commands through a pipe without -c: each line is echoed after the
// prompt, a failing command does not end the session, and the exit status reports the failure.
func TestPipedCommands(t *testing.T) {
	dump := fixture(t, "breakpad/minidump2.dmp")
	r := runWdbg(t, []byte(".echo one\nnosuch\n.echo two\nq\n.echo never\n"), nil, "-z", dump)
	want := "0:000> .echo one\none\n" +
		"0:000> nosuch\n       ^ Syntax error in 'nosuch'\n" +
		"0:000> .echo two\ntwo\n" +
		"0:000> q\nquit:\n"
	if !strings.HasSuffix(r.stdout, want) {
		t.Errorf("stdout does not end with\n%s\ngot:\n%s", want, r.stdout)
	}
	if r.exit != exitCommandFailed {
		t.Errorf("exit %d, want %d", r.exit, exitCommandFailed)
	}
	// End of input without q ends the session too, with success when nothing failed.
	r = runWdbg(t, []byte(".echo one\n"), nil, "-z", dump)
	if r.exit != exitOK || !strings.HasSuffix(r.stdout, "0:000> .echo one\none\n") {
		t.Errorf("exit %d, stdout:\n%s", r.exit, r.stdout)
	}
}

// TestLog checks -logo (overwrite) and -loga (append): the log holds exactly what standard output
// showed, from "Opened log file" on.
func TestLog(t *testing.T) {
	dump := fixture(t, "breakpad/minidump2.dmp")
	log := filepath.Join(t.TempDir(), "session.log")
	os.WriteFile(log, []byte("old content\n"), 0o600)
	r := runWdbg(t, []byte(".echo piped\n"), nil, "-logo", log, "-z", dump, "-c", ".echo batch; nosuch")
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != r.stdout {
		t.Errorf("log differs from stdout:\nlog:\n%s\nstdout:\n%s", data, r.stdout)
	}
	if !strings.HasPrefix(r.stdout, "Opened log file '"+log+"'\n") {
		t.Errorf("stdout does not start with the log line: %q", r.stdout[:min(80, len(r.stdout))])
	}
	for _, s := range []string{"batch\n", "Syntax error in 'nosuch'", "0:000> .echo piped\npiped\n"} {
		if !strings.Contains(string(data), s) {
			t.Errorf("log lacks %q", s)
		}
	}

	r2 := runWdbg(t, nil, nil, "-loga", log, "-z", dump, "-c", "q")
	data2, _ := os.ReadFile(log)
	if string(data2) != string(data)+r2.stdout {
		t.Errorf("-loga did not append:\n%s", data2)
	}
}

// TestJSONDocuments checks --json: every line of standard output is one JSON document with
// exactly the fields schema, command, result and error; one per command, after the banner's.
func TestJSONDocuments(t *testing.T) {
	dump := fixture(t, "breakpad/minidump2.dmp")
	r := runWdbg(t, []byte("lm\n"), nil, "--json", "-z", dump, "-c", `.echo "x;y"; $$ comment; nosuch; r eax`)
	var commands []string
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			t.Fatalf("not a JSON document: %v\n%s", err, sc.Text())
		}
		if len(doc) != 4 || string(doc["schema"]) != "1" || doc["command"] == nil || doc["result"] == nil || doc["error"] == nil {
			t.Errorf("document fields: %s", sc.Text())
		}
		var cmd string
		json.Unmarshal(doc["command"], &cmd)
		commands = append(commands, cmd)
		isErr := string(doc["error"]) != "null"
		if isErr != (cmd == "nosuch") {
			t.Errorf("error field of %q: %s", cmd, doc["error"])
		}
	}
	want := []string{"", `.echo "x;y"`, "nosuch", "r eax", "lm"}
	if strings.Join(commands, "|") != strings.Join(want, "|") {
		t.Errorf("documents for %q, want %q", commands, want)
	}
	if r.exit != exitCommandFailed {
		t.Errorf("exit %d, want %d", r.exit, exitCommandFailed)
	}
}

// TestCtrlCWhileReadingPipe: with commands coming from a pipe there is no prompt to type q at, so
// Ctrl-C between commands ends wdbg (SIGINT's default), where at a terminal it would not.
func TestCtrlCWhileReadingPipe(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to another process on Windows")
	}
	dump := fixture(t, "breakpad/minidump2.dmp")
	cmd := exec.Command(wdbgBinary(t), "-z", dump)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	// Wait until a command has run, so wdbg is idle reading the pipe.
	stdin.Write([]byte(".echo ready\n"))
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && sc.Text() != "ready" {
	}
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("wdbg ended with %v, want death by SIGINT", err)
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
			t.Errorf("wdbg ended with %v, want death by SIGINT", err)
		}
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatal("Ctrl-C did not end wdbg reading a pipe")
	}
}
