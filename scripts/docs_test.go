package scripts

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wdbg/commands"
	"wdbg/engine/ksynth"
	"wdbg/internal/corpus"
)

// docExample is one ```lua block of docs/lua.md and what its leading comment lines ask for:
//
//	-- dump: kernel-pool      run on the synthetic Windows 10 kernel dump with the Leak scenario
//	                          (default: testdata/sample.dmp)
//	-- timeout: 100ms         run with --timeout
//	-- expect-error: TEXT     the block must fail with TEXT in its error
type docExample struct {
	line      int // of the opening fence in docs/lua.md
	code      string
	dump      string
	timeout   time.Duration
	expectErr string
}

// docExamples extracts the lua blocks of a Markdown text.
func docExamples(t *testing.T, text string) []docExample {
	t.Helper()
	var out []docExample
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```lua" {
			continue
		}
		ex := docExample{line: i + 1, dump: "sample"}
		var body []string
		j := i + 1
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			body = append(body, lines[j])
		}
		if j == len(lines) {
			t.Fatalf("docs/lua.md:%d: lua block not closed", ex.line)
		}
		i = j
		for _, l := range body {
			key, value, ok := strings.Cut(strings.TrimPrefix(l, "-- "), ": ")
			if !strings.HasPrefix(l, "-- ") || !ok {
				break
			}
			switch key {
			case "dump":
				ex.dump = value
			case "timeout":
				d, err := time.ParseDuration(value)
				if err != nil {
					t.Fatalf("docs/lua.md:%d: %v", ex.line, err)
				}
				ex.timeout = d
			case "expect-error":
				ex.expectErr = value
			}
		}
		ex.code = strings.Join(body, "\n") + "\n"
		out = append(out, ex)
	}
	return out
}

// TestDocExamples runs every ```lua block of docs/lua.md, so that the guide cannot drift from
// the API: a block that fails (or, when marked, does not fail as it says) fails the test.
func TestDocExamples(t *testing.T) {
	root := corpus.RepoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "lua.md"))
	if err != nil {
		t.Fatal(err)
	}
	examples := docExamples(t, string(doc))
	// The guide shows every dbg function; far fewer blocks means the extraction broke.
	if len(examples) < 15 {
		t.Fatalf("docs/lua.md: only %d lua blocks found", len(examples))
	}
	dir := t.TempDir()
	for _, ex := range examples {
		opts := Options{Timeout: ex.timeout, Register: commands.Register}
		var h *Host
		switch ex.dump {
		case "sample":
			h = sampleHost(t, opts)
		case "kernel-pool":
			h, _ = poolHost(t, ksynth.X64Win10_19041, opts)
		default:
			t.Errorf("docs/lua.md:%d: unknown dump %q", ex.line, ex.dump)
			continue
		}
		// The script commands (.scriptrun ...) of this host, for examples that run playbooks.
		for _, c := range h.Commands() {
			if err := commands.Register(c); err != nil {
				t.Fatal(err)
			}
		}
		name := filepath.Join(dir, "lua.md-line-"+itoa(ex.line)+".lua")
		if err := os.WriteFile(name, []byte(ex.code), 0o644); err != nil {
			t.Fatal(err)
		}
		run, err := h.RunFile(context.Background(), name, []string{"12", "second"})
		switch {
		case ex.expectErr == "" && err != nil:
			t.Errorf("docs/lua.md:%d: %v\n%s", ex.line, err, ex.code)
		case ex.expectErr != "" && err == nil:
			t.Errorf("docs/lua.md:%d: no error, want one with %q", ex.line, ex.expectErr)
		case ex.expectErr != "" && !strings.Contains(err.Error(), ex.expectErr):
			t.Errorf("docs/lua.md:%d: error %q, want %q", ex.line, err, ex.expectErr)
		case err == nil && testing.Verbose():
			t.Logf("docs/lua.md:%d:\n%s", ex.line, run.Output)
		}
	}
}

func itoa(n int) string {
	var b []byte
	for ; n > 0 || len(b) == 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
