package scripts

import (
	"context"
	"strings"
	"testing"

	"wdbg/commands"
	"wdbg/engine/synth"
	"wdbg/internal/corpus"
)

// playbook runs a bundled playbook and returns its output.
func playbook(t *testing.T, h *Host, name string, args ...string) string {
	t.Helper()
	run, err := h.RunFile(context.Background(), name, args)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return run.Output
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, out)
		}
	}
}

// The playbooks' transcripts are checked for the facts the oracles give, not compared with
// their own earlier output: engine/synth's constants for sample.dmp, CATALOG.md and
// rizin-testbins/expected/ORACLE_NOTES.md for the corpus dumps.

func TestPlaybookTriage(t *testing.T) {
	out := playbook(t, sampleHost(t, Options{}), "triage.lua")
	mustContain(t, "triage sample", out, "WHAT\n", "WHERE\n", "WHO\n",
		"exception 0xc0000005 at 00007ffd`8a41a2c1", // SampleCrashIP
		"module: ContosoLW9K.dll", "process: spoolsv.exe", "(id 2f10) Contoso render worker",
		"\nVERDICT: ")
	if !strings.Contains(out, "VERDICT: NULL_POINTER_READ") {
		t.Errorf("triage sample: the fault reads address 0x18 (a NULL pointer read):\n%s", out)
	}

	dir := corpus.Dir(t)
	k := openHost(t, corpus.Path(t, "rizin-testbins/dmp/triage_x64.dmp"), Options{},
		commands.SessionOptions{SymbolPath: dir + "/test-pdb-repository"})
	out = playbook(t, k, "triage")
	mustContain(t, "triage kernel", out,
		"bug check 0x1000007e (ffffffff`c0000005, fffff804`8b58334c", // ORACLE_NOTES / CATALOG
		"module: amdppm.sys", "kernel-small dump, x64", "VERDICT: ")

	u := openHost(t, corpus.Path(t, "lldb/sigsegv.dmp"), Options{}, commands.SessionOptions{})
	out = playbook(t, u, "triage")
	mustContain(t, "triage sigsegv", out, "exception 0xc0000005 at 00007ff7`a13110d9", "write to", "VERDICT: ")
}

func TestPlaybookSpooler(t *testing.T) {
	out := playbook(t, sampleHost(t, Options{}), "spooler.lua")
	mustContain(t, "spooler sample", out,
		"Faulting module: ContosoLW9K.dll",
		`Driver: C:\Windows\System32\spool\drivers\x64\3\ContosoLW9K.dll  00007ffd`+"`"+`8a400000`,
		"version 3.1.0.42",
		"(id 2f10): stack 000000a1`2b7fc000 - 000000a1`2b800000 (from the TEB)", // crashing stack base +0x200000, limit -0x4000
		"utf16 "+synth.SamplePrinterName)
	// A kernel dump has no TEB for the faulting processor's thread: the playbook says so and ends.
	k := openHost(t, corpus.Path(t, "rizin-testbins/dmp/triage_x64.dmp"), Options{}, commands.SessionOptions{})
	out = playbook(t, k, "spooler")
	mustContain(t, "spooler kernel", out, "Faulting module: amdppm.sys")
}

func TestPlaybookDrivers(t *testing.T) {
	out := playbook(t, sampleHost(t, Options{}), "drivers")
	// Of the sample's five modules only the Contoso driver has a version that is not the OS's
	// (engine/synth: 3.1.0.42 against 10.0.19041.2364 on build 19045).
	mustContain(t, "drivers sample", out, "1 third-party modules of 5, oldest first:\n",
		"ContosoLW9K          00007ffd`8a400000  2017-11-29 04:49:59 ContosoLW9K.dll  (version 3.1.0.42)")

	dir := corpus.Dir(t)
	k := openHost(t, corpus.Path(t, "rizin-testbins/dmp/triage_x64.dmp"), Options{},
		commands.SessionOptions{SymbolPath: dir + "/test-pdb-repository"})
	out = playbook(t, k, "drivers")
	mustContain(t, "drivers kernel", out, "of 151, oldest first")
	// amdppm.sys is in the store: its version resource names Microsoft, so it is not listed.
	if strings.Contains(out, "amdppm") {
		t.Errorf("amdppm (CompanyName Microsoft Corporation) listed as third-party:\n%s", out)
	}
	// Oldest first.
	var last string
	for _, line := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		date := f[2] + " " + f[3]
		if f[2] == "no" {
			continue
		}
		if date < last {
			t.Errorf("not oldest first: %s after %s", date, last)
		}
		last = date
	}
}

func TestScriptCommands(t *testing.T) {
	h := sampleHost(t, Options{Register: commands.Register})
	for _, c := range h.Commands() {
		if err := commands.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	s := h.Session()
	exec := func(cmd string) string {
		t.Helper()
		res, err := s.Exec(context.Background(), cmd)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		var b strings.Builder
		res.WriteText(&b)
		return b.String()
	}
	dir := t.TempDir()
	path := dir + "/printers.lua"
	writeFile(t, path, `dbg.command("!printers", function(args)
		local te = dbg.teb()
		for _, s in ipairs(dbg.strings(te.stack_limit, te.stack_base, 5)) do
			if s.text:find(args, 1, true) then print(s.text) end
		end
	end, "printer names on the stack")`)
	mustContain(t, ".scriptload", exec(".scriptload "+path), "Loaded script")
	mustContain(t, "!printers", exec("!printers PRINTSRV"), synth.SamplePrinterName)
	mustContain(t, ".scriptlist", exec(".scriptlist"), "triage.lua", "spooler.lua", "drivers.lua", "!printers", path)
	mustContain(t, ".scriptrun", exec(`.scriptrun spooler "5"`), synth.SamplePrinterName)
	mustContain(t, "!lua", exec("!lua dbg.addr(\"fffff804`8b58334c\") + 1"), "fffff804`8b58334d")
	// dbg.exec of a Lua command returns its printed text, without printing.
	mustContain(t, "exec of a Lua command", exec(`!lua select(2, dbg.exec("!printers LaserWriter"))`), synth.SamplePrinterName)
	// The !lua prompt keeps its globals between lines; scripts do not see them.
	exec("!lua shared_value = 42")
	mustContain(t, "!lua globals", exec("!lua shared_value"), "42")
	writeFile(t, dir+"/g.lua", "print(shared_value)")
	mustContain(t, "script globals", exec(".scriptrun "+dir+"/g.lua"), "nil")
	// .help lists the registered commands.
	mustContain(t, ".help", exec(".help"), "!printers", ".scriptrun")
	// A failing command reports its error and the session goes on.
	if _, err := s.Exec(context.Background(), "!lua error('bad')"); err == nil || !strings.Contains(err.Error(), "!lua:1: bad") {
		t.Errorf("!lua error: %v", err)
	}
	// A script cannot replace a built-in command.
	if _, err := s.Exec(context.Background(), `!lua dbg.command("k", print)`); err == nil || !strings.Contains(err.Error(), "already a command") {
		t.Errorf("replacing k: %v", err)
	}
}
