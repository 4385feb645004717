package pdb

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"wdbg/internal/corpus"
)

// Sentry's symbolic reads crash.pdb in its own tests; its insta snapshots (CATALOG.md, E4) are
// the oracle here: test_objects__pdb_symbols.snap lists the public code symbols by address,
// test_objects__pdb_functions.snap the first functions with their address, size and lines.

func readSnapshot(t *testing.T, rel string) []string {
	t.Helper()
	fh, err := os.Open(corpus.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var lines []string
	sc := bufio.NewScanner(fh)
	dashes := 0
	for sc.Scan() {
		if dashes < 2 { // the YAML header between two "---" lines
			if sc.Text() == "---" {
				dashes++
			}
			continue
		}
		lines = append(lines, sc.Text())
	}
	return lines
}

func TestSymbolicPublics(t *testing.T) {
	f, err := Open(corpus.Path(t, "symbolic/crash.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pubs, err := f.Publics()
	if err != nil {
		t.Fatal(err)
	}
	// symbolic lists the publics that are code, one per address.
	names := map[uint32][]string{}
	var addrs []uint32
	for _, p := range pubs {
		if !p.IsFunction() {
			continue
		}
		if _, ok := names[p.RVA]; !ok {
			addrs = append(addrs, p.RVA)
		}
		names[p.RVA] = append(names[p.RVA], p.Name)
	}
	snap := readSnapshot(t, "symbolic/snapshots/test_objects__pdb_symbols.snap")
	if len(snap) != len(addrs) {
		t.Errorf("%d code publics at distinct addresses, the snapshot has %d", len(addrs), len(snap))
	}
	for i, line := range snap {
		fields := strings.Fields(line)
		addr, err := strconv.ParseUint(fields[0], 16, 32)
		if err != nil {
			t.Fatalf("snapshot line %q", line)
		}
		if i < len(addrs) && uint32(addr) != addrs[i] {
			t.Errorf("public %d at %x, the snapshot has %x", i, addrs[i], addr)
		}
		// Folded functions share an address; the snapshot names one of them.
		found := false
		for _, n := range names[uint32(addr)] {
			found = found || n == fields[1]
		}
		if !found {
			t.Errorf("%x %s: publics there are %v", addr, fields[1], names[uint32(addr)])
		}
		p, disp, ok := f.PublicAt(uint32(addr))
		if !ok || p.RVA != uint32(addr) || disp != 0 || !p.IsFunction() {
			t.Errorf("PublicAt(%x) = %+v +%x %v", addr, p, disp, ok)
		}
	}
}

var (
	snapFunction = regexp.MustCompile(`^> 0x([0-9a-f]+): (.*) \(0x([0-9a-f]+)\)$`)
	snapLine     = regexp.MustCompile(`^  0x([0-9a-f]+): ([^:]+):(\d+) \((.*)\)$`)
)

func TestSymbolicFunctions(t *testing.T) {
	f, err := Open(corpus.Path(t, "symbolic/crash.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type want struct {
		addr, size uint32
		name       string
		lines      []string
	}
	var funcs []want
	for _, line := range readSnapshot(t, "symbolic/snapshots/test_objects__pdb_functions.snap") {
		// Only top-level functions and their own lines: inlinees are indented further.
		if m := snapFunction.FindStringSubmatch(line); m != nil {
			a, _ := strconv.ParseUint(m[1], 16, 32)
			s, _ := strconv.ParseUint(m[3], 16, 32)
			funcs = append(funcs, want{addr: uint32(a), size: uint32(s), name: m[2]})
		} else if m := snapLine.FindStringSubmatch(line); m != nil && len(funcs) > 0 {
			fn := &funcs[len(funcs)-1]
			fn.lines = append(fn.lines, m[1]+" "+m[4]+`\`+m[2]+":"+m[3])
		}
	}
	if len(funcs) != 10 {
		t.Fatalf("read %d functions from the snapshot, want 10", len(funcs))
	}
	for _, w := range funcs {
		fn, disp, ok := f.FunctionAt(w.addr)
		if !ok || disp != 0 || fn.RVA != w.addr || fn.Size != w.size {
			t.Errorf("FunctionAt(%x) = %x size %x +%x %v, want size %x", w.addr, fn.RVA, fn.Size, disp, ok, w.size)
			continue
		}
		// symbolic appends the parameter list from the type records; the record has the rest.
		if !strings.HasPrefix(w.name, fn.Name+"(") {
			t.Errorf("%x: name %q, snapshot %q", w.addr, fn.Name, w.name)
		}
		rows, err := f.LinesOf(fn)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			if r.Size > 0 { // symbolic leaves out empty rows
				got = append(got, strconv.FormatUint(uint64(r.RVA), 16)+" "+r.File+":"+strconv.Itoa(r.Line))
			}
		}
		if strings.Join(got, "\n") != strings.Join(w.lines, "\n") {
			t.Errorf("%x %s lines:\n got %q\nwant %q", w.addr, fn.Name, got, w.lines)
		}
	}
}
