package synth_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The writer is checked against two parsers nobody on this project wrote: breakpad's
// minidump_dump and LLVM's obj2yaml. Tests that need them skip when they are not installed.

func findTool(env string, paths ...string) string {
	for _, p := range append([]string{os.Getenv(env)}, paths...) {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

func minidumpDump(t *testing.T, b []byte) []block {
	t.Helper()
	tool := findTool("WDBG_MINIDUMP_DUMP", "/tmp/oracles/npm/node_modules/minidump/bin/linux-x64/minidump_dump")
	if tool == "" {
		t.Skip("breakpad minidump_dump not installed (set WDBG_MINIDUMP_DUMP); skipping")
	}
	path := filepath.Join(t.TempDir(), "x.dmp")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// minidump_dump exits 1 when a stream it looks for is absent, but prints the others.
	out, err := exec.Command(tool, path).Output()
	if len(out) == 0 {
		t.Fatalf("minidump_dump printed nothing: %v", err)
	}
	return parseBlocks(out)
}

func obj2yaml(t *testing.T, b []byte) string {
	t.Helper()
	tool := findTool("WDBG_OBJ2YAML", "/usr/lib/llvm-19/bin/obj2yaml")
	if tool == "" {
		t.Skip("obj2yaml not installed (set WDBG_OBJ2YAML); skipping")
	}
	path := filepath.Join(t.TempDir(), "x.dmp")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, path).CombinedOutput()
	if err != nil {
		t.Fatalf("obj2yaml: %v\n%s", err, out)
	}
	return string(out)
}

// block is one unindented heading of minidump_dump's output and the `name = value` lines below it.
type block struct {
	name   string
	fields map[string]string
}

func parseBlocks(out []byte) []block {
	var blocks []block
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if line[0] != ' ' {
			blocks = append(blocks, block{name: strings.TrimSpace(line), fields: map[string]string{}})
			continue
		}
		if len(blocks) == 0 {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		blocks[len(blocks)-1].fields[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return blocks
}

// named returns the blocks with the given heading, in output order.
func named(blocks []block, name string) []block {
	var out []block
	for _, b := range blocks {
		if b.name == name {
			out = append(out, b)
		}
	}
	return out
}

// expectFields compares the oracle's values with want (numbers compared as numbers).
func expectFields(t *testing.T, what string, b block, want map[string]string) {
	t.Helper()
	for k, w := range want {
		got, ok := b.fields[k]
		if !ok {
			t.Errorf("%s: oracle printed no %q", what, k)
			continue
		}
		if got == w {
			continue
		}
		gv, gerr := strconv.ParseUint(strings.Fields(got)[0], 0, 64)
		wv, werr := strconv.ParseUint(w, 0, 64)
		if gerr == nil && werr == nil && gv == wv {
			continue
		}
		t.Errorf("%s: %s = %q, want %q", what, k, got, w)
	}
}

func hex64(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }
