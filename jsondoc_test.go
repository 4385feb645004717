package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/commands"
	"wdbg/engine/ksynth"
	"wdbg/repl"
)

// docs/json.md's result reference is generated from real --json output: the command lines below
// run in the wdbg binary on a user dump (testdata/sample.dmp), the real kernel triage dump of the
// corpus and a synthetic kernel dump with pool (engine/ksynth), and the shape of every result
// (jsondoc_shape_test.go) goes between the markers. TestJSONReference fails when the file is
// stale or a command of the table has no documented shape; `make jsondoc` (-update) rewrites it.

const (
	jsonDocFile  = "docs/json.md"
	jsonDocBegin = "<!-- results:begin -->\n"
	jsonDocEnd   = "<!-- results:end -->"
)

// jsonDocLine is one command line to run; variant names a result of a different shape from the
// same command (a kernel dump's !analyze, !analyze -show, .cxr without an address), "" for the
// command's usual result. Lines of one command and variant merge into one shape.
type jsonDocLine struct {
	line, variant string
}

// jsonDocRun is one dump and the lines run on it, in order (some change the session's state).
type jsonDocRun struct {
	name  string // as the reference names the dump
	args  []string
	lines []jsonDocLine
	hide  string // a temporary directory, left out of the lines the reference shows
}

// textOnlyCommands are commands of the table whose every result is {"text": ...} or none, and
// that the runs below do not exercise; each says why. A command missing from both the runs and
// this list fails the test.
var textOnlyCommands = map[string]string{}

func userDumpLines(script string) []jsonDocLine {
	lines := plainLines(".scriptload "+script,
		".lastevent", ".exr -1", "!analyze -v", "!analyze", "kb", "kv 3", "k", ".frame", ".frame /r 0",
		"~", "r", "? 1+2", "lm", "lmv m ntdll", "!peb", "!teb",
		"u", "ub", "uu", "db rsp L20", "d", "dw rsp L8", "dW rsp L8", "dd rsp L8", "dc rsp L8",
		"dq rsp L4", "dp rsp L4", "da 7ff71a2b0000 L10", "du 7ff71a2b0000 L10", "dds rsp L4",
		"dqs rsp L4", "dps rsp L4", "ln rip", "x ntdll!*", "vertarget", ".time", "||", "|",
		".effmach", ".sympath", ".exepath", ".reload", ".echo hello", ".help lm", ".help",
		".scriptlist", "!lua 1+1", ".scriptrun triage", ".ecxr")
	return append(lines, jsonDocLine{"r rip,rsp", "named registers"}, jsonDocLine{"r $t0 = 5", "r $tN = Value"},
		jsonDocLine{"~*k", "~* command"}, jsonDocLine{"~0s", "~Ns"})
}

func triageDumpLines() []jsonDocLine {
	lines := plainLines(".bugcheck", "k", "kb", "r", "lm", "!process", "!process 0 0", "!thread",
		"!pcr", "!prcb", "~", "dps @rsp L4", "u @rip L2", "ub @rip L2", "uu @rip L2", "!pool @rsp", "!poolfind Leak", ".reload", "vertarget")
	return append(lines, jsonDocLine{"!analyze -v", "kernel dump"}, jsonDocLine{"!analyze", "kernel dump"},
		jsonDocLine{"!analyze -show 7e", "-show"}, jsonDocLine{"!analyze -show 1000007e c0000005 fffff8048b58334c", "-show"},
		jsonDocLine{".trap", "no address"}, jsonDocLine{".cxr", "no address"},
		jsonDocLine{".thread", ""}, jsonDocLine{".process", ""})
}

func synthDumpLines(m *ksynth.Manifest) []jsonDocLine {
	pool := m.Pool
	lines := plainLines(".bugcheck", "k", "kv", "!irql", "!pcr 1", "!prcb 1", "!pte @rip", "!vtop 0 @rip",
		fmt.Sprintf("!vtop %x @rip", m.DirectoryTableBase),
		"!process 0 7 spoolsv.exe", "!process 0 0", fmt.Sprintf("!thread %x", m.CrashThread), "!thread",
		fmt.Sprintf("!pool %x", pool.Blocks[0].Header+16), fmt.Sprintf("!pool %x 3", pool.Blocks[1].Header+16),
		fmt.Sprintf("dt nt!_EPROCESS %x", m.Processes[0].Address), "dt -r _KPCR Prcb",
		"!poolfind Leak", "!poolfind -tag \"Proc\" -nonpaged", "!poolused", "!poolused 4", "!poolused 1 Leak",
		"!vm", "!pooltag Leak", "!pooltag 0x6b61654c", "ln @rip", "x nt!Ke*", "lm", "~", ".frame /r 1",
		fmt.Sprintf(".trap %x", m.TrapFrame))
	lines = append(lines, jsonDocLine{"!analyze -v", "kernel dump"}, jsonDocLine{"!analyze", "kernel dump"},
		jsonDocLine{fmt.Sprintf(".thread %x", m.CrashThread), ""},
		jsonDocLine{fmt.Sprintf(".process /r /p %x", m.Processes[3].Address), ""})
	if m.PTE.L1TF != nil {
		lines = append(lines, jsonDocLine{fmt.Sprintf("!pte %x", m.PTE.L1TF.VA), "L1TF-swizzled transition PTE"})
	}
	if s := m.Pool.Session; s != nil && len(s.Processes) > 0 {
		// Session pool is read through the address space of a process of the session.
		lines = append(lines, jsonDocLine{fmt.Sprintf(".process /r /p %x", s.Processes[0]), "session process"},
			jsonDocLine{"!poolused 8", "session pool"})
	}
	return lines
}

func plainLines(lines ...string) []jsonDocLine {
	var out []jsonDocLine
	for _, l := range lines {
		out = append(out, jsonDocLine{line: l})
	}
	return out
}

func TestJSONReference(t *testing.T) {
	// A script that defines a command, for .scriptload and .scriptlist.
	script := filepath.Join(t.TempDir(), "hello.lua")
	if err := os.WriteFile(script, []byte(`dbg.command("!hello", function(args) print("hello") end)`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := []jsonDocRun{{name: "user", args: []string{"-z", "testdata/sample.dmp"},
		lines: append(userDumpLines(script), jsonDocLine{line: ".symfix"}, jsonDocLine{line: "q"}),
		hide:  filepath.Dir(script) + string(filepath.Separator)}} // .symfix last: it points the session at the network symbol server
	triage := fixture(t, "rizin-testbins/dmp/triage_x64.dmp")
	runs = append(runs, jsonDocRun{name: "kernel triage",
		args:  []string{"-z", triage, "-y", fixture(t, "test-pdb-repository")},
		lines: triageDumpLines()})
	path, syms, manifest := writeSynthKernelDump(t)
	runs = append(runs, jsonDocRun{name: "kernel synthetic", args: []string{"-z", path, "-y", syms},
		lines: synthDumpLines(manifest)})

	ref := newJSONReference()
	for _, run := range runs {
		collectJSONShapes(t, ref, run)
	}
	var missing []string
	for _, c := range commands.Table() {
		_, seen := ref.commands[c.Name]
		_, exempt := textOnlyCommands[c.Name]
		if !seen && !exempt {
			missing = append(missing, c.Name)
		}
		if seen && exempt {
			t.Errorf("%s is in textOnlyCommands but the runs document it; drop it from the list", c.Name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("no documented JSON shape for %s: add a command line to jsondoc_test.go's runs, or the "+
			"command to textOnlyCommands with the reason", strings.Join(missing, ", "))
	}
	if t.Failed() {
		return
	}
	var b strings.Builder
	ref.write(&b, textOnlyCommands)
	checkGeneratedSection(t, jsonDocFile, jsonDocBegin, jsonDocEnd, b.String(), "make jsondoc")
}

// writeSynthKernelDump builds engine/ksynth's x64 dump with the Leak pool scenario, as the pool
// tests do (commands/pool_synth_test.go), with its kernel PDB in a symbol store.
func writeSynthKernelDump(t *testing.T) (dump, symbols string, m *ksynth.Manifest) {
	t.Helper()
	mc := ksynth.X64Win10_19041
	d, err := ksynth.Build(ksynth.Spec{Machine: mc, Storage: ksynth.RunList, Pool: ksynth.LeakScenario(mc)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dump = filepath.Join(dir, "MEMORY.DMP")
	if err := d.WriteFile(dump); err != nil {
		t.Fatal(err)
	}
	symbols = filepath.Join(dir, "sym")
	if _, err := d.WriteSymbols(symbols); err != nil {
		t.Fatal(err)
	}
	return dump, symbols, d.Manifest()
}

// collectJSONShapes runs one dump's lines with --json and adds every result to ref. Every line
// must succeed: the list names only lines that work on that dump.
func collectJSONShapes(t *testing.T, ref *jsonReference, run jsonDocRun) {
	t.Helper()
	var cmds []string
	for _, l := range run.lines {
		cmds = append(cmds, l.line)
	}
	args := append([]string{"--json"}, run.args...)
	args = append(args, "-c", strings.Join(cmds, "; "))
	r := runWdbg(t, nil, nil, args...)
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<26)
	i := -1 // the banner's document comes first
	for sc.Scan() {
		var doc struct {
			Schema  int             `json:"schema"`
			Command string          `json:"command"`
			Result  json.RawMessage `json:"result"`
			Error   *string         `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			t.Fatalf("%s: not a JSON document: %v\n%.300s", run.name, err, sc.Text())
		}
		if doc.Schema != repl.JSONSchemaVersion {
			t.Errorf("%s: document of %q has schema %d", run.name, doc.Command, doc.Schema)
		}
		var line jsonDocLine
		if i >= 0 {
			if i >= len(run.lines) {
				t.Fatalf("%s: more documents than command lines: %.300s", run.name, sc.Text())
			}
			line = run.lines[i]
		}
		i++
		if doc.Command != line.line {
			t.Fatalf("%s: document for %q, want %q", run.name, doc.Command, line.line)
		}
		if doc.Error != nil {
			t.Errorf("%s: %q failed: %s", run.name, line.line, *doc.Error)
			continue
		}
		name := "(banner)"
		if line.line != "" {
			c, _, ok := commands.Lookup(line.line)
			if !ok {
				t.Fatalf("%s: %q is not a command", run.name, line.line)
			}
			name = c.Name
		}
		shown := line.line
		if run.hide != "" {
			shown = strings.ReplaceAll(shown, run.hide, "")
		}
		if err := ref.add(name, line.variant, shown, run.name, doc.Result); err != nil {
			t.Errorf("%s: %q: %v", run.name, line.line, err)
		}
	}
	if i != len(run.lines) {
		t.Errorf("%s: %d documents for %d command lines; stderr:\n%s", run.name, i, len(run.lines), r.stderr)
	}
}

// checkGeneratedSection compares the text between a file's markers with want, and rewrites it
// with -update.
func checkGeneratedSection(t *testing.T, file, begin, end, want, remedy string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	b := strings.Index(text, begin)
	e := strings.Index(text, end)
	if b < 0 || e < b {
		t.Fatalf("%s lacks the %q ... %q markers", file, strings.TrimSpace(begin), end)
	}
	current := text[b+len(begin) : e]
	if current == want {
		return
	}
	if *update {
		if err := os.WriteFile(file, []byte(text[:b+len(begin)]+want+text[e:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date; run `%s`.\n%s", file, remedy, lineDiff(want, current))
}
