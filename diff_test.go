package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// The same dump against itself changes nothing; the sample dump against a kernel dump warns
// and shows the differing lines, and --json gives one document per command.
func TestDiffSubcommand(t *testing.T) {
	sample := "testdata/sample.dmp"
	r := runWdbg(t, nil, nil, "diff", sample, sample, "-c", "lm;vertarget")
	if r.exit != exitOK || !strings.Contains(r.stdout, "lm: same output for both dumps") ||
		!strings.Contains(r.stdout, "vertarget: same output for both dumps") || r.stderr != "" {
		t.Fatalf("self diff: exit %d\n%s\nstderr: %s", r.exit, r.stdout, r.stderr)
	}
	triage := fixture(t, "rizin-testbins/dmp/triage_x64.dmp")
	r = runWdbg(t, nil, nil, "diff", sample, triage, "-c", "lm", "--json")
	if r.exit != exitOK || !strings.Contains(r.stderr, "different Windows builds (19045, 19041)") {
		t.Fatalf("exit %d, stderr %q", r.exit, r.stderr)
	}
	var doc struct {
		Command string
		Result  struct {
			Lines []struct{ Op, Text string }
		}
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	var minus, plus bool
	for _, l := range doc.Result.Lines {
		// spoolsv is the sample's main module (engine/synth); nt the kernel dump's first driver.
		minus = minus || l.Op == "-" && strings.Contains(l.Text, "spoolsv")
		plus = plus || l.Op == "+" && strings.Contains(l.Text, " nt ")
	}
	if doc.Command != "lm" || !minus || !plus {
		t.Errorf("lm diff lacks the sample's spoolsv (-) or the kernel's nt (+): %s", r.stdout)
	}
	for _, bad := range [][]string{{"diff"}, {"diff", sample}, {"diff", sample, sample}, {"diff", "-c", "lm", sample}} {
		if r := runWdbg(t, nil, nil, bad...); r.exit != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, r.exit, exitUsage)
		}
	}
	if r := runWdbg(t, nil, nil, "diff", sample, "missing.dmp", "-c", "lm"); r.exit != exitOpenFailed {
		t.Errorf("missing dump: exit %d", r.exit)
	}
}
