package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// triageRun runs `wdbg triage ARGS` in this process (so that -race sees the workers) with a
// clean symbol environment.
func triageRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("_NT_SYMBOL_PATH", "")
	t.Setenv("_NT_ALT_SYMBOL_PATH", "")
	t.Setenv("WDBG_TRIAGE_INI", filepath.Join(t.TempDir(), "none.ini"))
	var out, errOut bytes.Buffer
	code = runTriage(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// catalogDump is a dump listed in CATALOG.md, with the facts column read from its headers.
type catalogDump struct {
	path, facts string
	broken      bool // the oracle column says "negative test: must be rejected gracefully"
}

// catalogDumps lists the dumps of the corpus from CATALOG.md (rows whose facts start with the
// minidump or kernel dump signature), independently of findDumps.
func catalogDumps(t *testing.T, dir string) map[string]catalogDump {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(dir, "CATALOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	dumps := map[string]catalogDump{}
	for _, line := range strings.Split(string(text), "\n") {
		cols := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| ") || len(cols) < 7 {
			continue
		}
		path, facts := strings.TrimPrefix(cols[0], "| "), cols[5]
		if strings.HasPrefix(facts, "MDMP") || strings.HasPrefix(facts, "PAGEDU") {
			dumps[path] = catalogDump{path: path, facts: facts, broken: strings.Contains(cols[6], "negative test")}
		}
	}
	if len(dumps) < 10 {
		t.Fatalf("CATALOG.md lists only %d dumps; is the table format changed?", len(dumps))
	}
	return dumps
}

// triageLine is one dump's line of the text report.
type triageLine struct{ dump, status, detail string }

// parseTriageText splits the text report into the dump lines and the bucket table rows.
func parseTriageText(t *testing.T, out, prefix string) ([]triageLine, map[string]int, []string) {
	t.Helper()
	parts := strings.SplitN(out, "\n\n", 2)
	if len(parts) != 2 {
		t.Fatalf("no blank line before the bucket table:\n%s", out)
	}
	var lines []triageLine
	for _, l := range strings.Split(parts[0], "\n") {
		f := regexp.MustCompile(`^(\S+)\s+(\(no bucket\)|\S+)(?:  (.*))?$`).FindStringSubmatch(l)
		if f == nil {
			t.Fatalf("bad dump line %q", l)
		}
		lines = append(lines, triageLine{strings.TrimPrefix(f[1], prefix), f[2], f[3]})
	}
	table := map[string]int{}
	var order []string
	rows := strings.Split(strings.TrimRight(parts[1], "\n"), "\n")
	for _, r := range rows[2:] { // the "N dumps: ..." line, then the header
		f := strings.Fields(r)
		n, err := strconv.Atoi(f[0])
		if err != nil || len(f) < 2 {
			t.Fatalf("bad table row %q", r)
		}
		name := strings.Join(f[1:], " ")
		table[name] = n
		order = append(order, name)
	}
	return lines, table, order
}

func TestTriageCorpus(t *testing.T) {
	dir := fixturesDir(t)
	catalog := catalogDumps(t, dir)
	out, stderr, code := triageRun(t, "-j", "2", dir)
	if code != exitCommandFailed {
		t.Errorf("exit status %d, want %d: the corpus holds deliberately broken dumps", code, exitCommandFailed)
	}
	if stderr != "" {
		t.Errorf("stderr is not a terminal, yet something was written there: %q", stderr)
	}
	lines, table, order := parseTriageText(t, out, dir+string(filepath.Separator))

	// Every dump of the catalogue gets exactly one line, in path order (the input order for a
	// folder); nothing else gets one.
	var want []string
	for p := range catalog {
		want = append(want, p)
	}
	sort.Strings(want)
	var got []string
	for _, l := range lines {
		got = append(got, filepath.ToSlash(l.dump))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("dump lines:\n%s\nwant (CATALOG.md):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The broken dumps fail at open and the others still run.
	counts := map[string]int{}
	for _, l := range lines {
		c := catalog[filepath.ToSlash(l.dump)]
		switch {
		case c.broken && l.status != "FAILED(open)":
			t.Errorf("%s is a negative test (CATALOG.md) but its line is %q", l.dump, l.status)
		case !c.broken && strings.HasPrefix(l.status, "FAILED"):
			t.Errorf("%s failed: %s %s", l.dump, l.status, l.detail)
		}
		switch {
		case strings.HasPrefix(l.status, "FAILED"):
			counts[failedRow]++
		default:
			counts[l.status]++ // a bucket, or "(no bucket)"
		}
		if l.detail == "" {
			t.Errorf("%s: empty summary", l.dump)
		}
	}
	// The table counts what the lines say, most dumps first, then by name, with the rows for
	// dumps without a bucket last.
	if len(table) != len(counts) {
		t.Errorf("table %v, lines count %v", table, counts)
	}
	for b, n := range counts {
		if table[b] != n {
			t.Errorf("bucket %s: table says %d, %d lines have it", b, table[b], n)
		}
	}
	for i := 1; i < len(order); i++ {
		a, b := order[i-1], order[i]
		special := func(s string) bool { return s == noBucketRow || s == failedRow }
		if !special(a) && !special(b) && (table[a] < table[b] || table[a] == table[b] && a > b) {
			t.Errorf("table rows out of order: %s (%d) before %s (%d)", a, table[a], b, table[b])
		}
		if special(a) && !special(b) {
			t.Errorf("row %s before the bucket %s", a, b)
		}
	}

	// Results are a pure function of the dumps: one worker prints the same bytes.
	out1, _, code1 := triageRun(t, "-j", "1", dir)
	if out1 != out || code1 != code {
		t.Errorf("-j 1 and -j 2 differ (exit %d, %d):\n%s\n---\n%s", code1, code, out1, out)
	}
}

// TestTriageBuckets checks the buckets against facts the catalogue records for each dump (its
// exception code and parameters, read from the dump's headers by the corpus tooling), and
// against `wdbg -z X -c "!analyze -v;q"`. The latter is the same !analyze code path: triage.lua
// asks dbg.analyze(), which runs `!analyze -v`, so that comparison checks the plumbing
// (playbook table, report), not the analysis; the CATALOG facts are the independent part.
func TestTriageBuckets(t *testing.T) {
	dir := fixturesDir(t)
	catalog := catalogDumps(t, dir)
	out, _, _ := triageRun(t, "-j", "2", dir)
	lines, _, _ := parseTriageText(t, out, dir+string(filepath.Separator))
	exc := regexp.MustCompile(`exc 0x([0-9a-f]+) @ 0x[0-9a-f]+ params \[([^\]]*)\]`)
	for _, l := range lines {
		c := catalog[filepath.ToSlash(l.dump)]
		if c.broken {
			continue
		}
		m := exc.FindStringSubmatch(c.facts)
		if m == nil {
			continue
		}
		// FAILURE_BUCKET_ID of a user-mode exception carries its code in hex (WINDBG-SPEC §3.x:
		// INVALID_POINTER_READ_c0000005_monero-wallet-gui.exe!Unknown).
		code := m[1]
		if !strings.Contains(l.status, "_"+code+"_") {
			t.Errorf("%s: bucket %s lacks the exception code %s (CATALOG.md)", l.dump, l.status, code)
		}
		if code == "c0000005" {
			// Access violation parameters: [0] 0 read, 1 write; [1] the address. An address in
			// the first page is a NULL pointer dereference, one far above it an invalid pointer.
			var params []uint64
			for _, p := range strings.Split(m[2], ", ") {
				v, _ := strconv.ParseUint(strings.Trim(p, "'0x"), 16, 64)
				params = append(params, v)
			}
			kind := map[uint64]string{0: "READ", 1: "WRITE"}[params[0]]
			class := "INVALID_POINTER_"
			if params[1] < 0x1000 {
				class = "NULL_POINTER_"
			}
			if want := class + kind + "_c0000005_"; !strings.HasPrefix(l.status, want) {
				t.Errorf("%s: bucket %s, want %s... (CATALOG.md params %s)", l.dump, l.status, want, m[2])
			}
		}
	}

	// Each bucket equals what `!analyze -v` prints as FAILURE_BUCKET_ID for the dump.
	bucketLine := regexp.MustCompile(`(?m)^FAILURE_BUCKET_ID:\s+(\S+)`)
	for _, l := range lines {
		if strings.HasPrefix(l.status, "FAILED") {
			continue
		}
		res := runWdbg(t, nil, nil, "-z", filepath.Join(dir, l.dump), "-c", "!analyze -v;q")
		want := noBucketRow
		if m := bucketLine.FindStringSubmatch(res.stdout); m != nil {
			want = m[1]
		}
		if l.status != want {
			t.Errorf("%s: triage bucket %s, !analyze -v says %s", l.dump, l.status, want)
		}
	}

	// With its PDBs the kernel dump's bucket names the function: rizin's backtrace
	// (rizin-testbins/expected/rizin_test_db_formats_dmp.txt, frame 8) puts the faulting address
	// at pdb.amdppm.WriteIoMemRawEx+112, and the bug check's first parameter c0000005 (CATALOG.md)
	// makes it an access violation (AV_).
	kernel := fixture(t, "rizin-testbins/dmp/triage_x64.dmp")
	out, _, code := triageRun(t, "-y", filepath.Join(dir, "test-pdb-repository"), kernel)
	if code != exitOK || !strings.Contains(out, "  AV_amdppm!WriteIoMemRawEx  bug check 0x1000007e (") {
		t.Errorf("kernel dump with symbols (exit %d):\n%s", code, out)
	}

	// Four sessions fetching the same PDBs at once through a downstream cache: each copy is
	// written to a temporary file and renamed into place, so every session reads a whole file
	// and no temporary file is left behind.
	cache := t.TempDir()
	sympath := "srv*" + cache + "*" + filepath.Join(dir, "test-pdb-repository")
	out, _, code = triageRun(t, "-j", "4", "-y", sympath, kernel, kernel, kernel, kernel)
	if n := strings.Count(out, "  AV_amdppm!WriteIoMemRawEx  "); code != exitOK || n != 4 {
		t.Errorf("four sessions on one cache: exit %d, %d of 4 lines with the symbol bucket:\n%s", code, n, out)
	}
	filepath.WalkDir(cache, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".wdbg-") {
			t.Errorf("temporary file left in the symbol cache: %s", p)
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(cache, "amdppm.pdb", "1C19FDDB27BB3399D9B45973EFEAFCF31", "amdppm.pdb")); err != nil {
		t.Errorf("the cache did not receive amdppm.pdb: %v", err)
	}
}

func TestTriageJSON(t *testing.T) {
	dir := fixturesDir(t)
	text, _, _ := triageRun(t, "-j", "2", dir)
	lines, table, _ := parseTriageText(t, text, dir+string(filepath.Separator))
	out, _, code := triageRun(t, "--json", "-j", "2", dir)
	if code != exitCommandFailed {
		t.Errorf("exit status %d, want %d", code, exitCommandFailed)
	}
	docs := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(docs) != len(lines)+1 {
		t.Fatalf("%d JSON lines for %d dumps (want one per dump and the bucket summary)", len(docs), len(lines))
	}
	for i, doc := range docs[:len(lines)] {
		var r dumpResult
		if err := json.Unmarshal([]byte(doc), &r); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, doc)
		}
		l := lines[i]
		if rel, _ := filepath.Rel(dir, r.Dump); rel != l.dump {
			t.Errorf("line %d is %s, the text report's is %s", i+1, r.Dump, l.dump)
		}
		switch {
		case r.Status == "failed":
			if r.Error == nil || "FAILED("+r.Error.Stage+")" != l.status || r.Error.Message != l.detail {
				t.Errorf("%s: JSON error %+v, text %q %q", l.dump, r.Error, l.status, l.detail)
			}
		case r.Status != "ok" || r.Error != nil:
			t.Errorf("%s: status %q error %+v", l.dump, r.Status, r.Error)
		case r.Bucket != strings.TrimPrefix(l.status, noBucketRow) || r.Summary != l.detail:
			t.Errorf("%s: JSON bucket %q summary %q, text %q %q", l.dump, r.Bucket, r.Summary, l.status, l.detail)
		case !strings.Contains(r.Output, "VERDICT: "):
			t.Errorf("%s: the printed report is missing from output: %q", l.dump, r.Output)
		}
		if res, ok := r.Result.(map[string]any); r.Status == "ok" && (!ok || res["bucket"] != r.Bucket) {
			t.Errorf("%s: result %#v does not carry the bucket", l.dump, r.Result)
		}
	}
	var sum bucketSummary
	if err := json.Unmarshal([]byte(docs[len(docs)-1]), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Dumps != len(lines) || sum.Failed != table[failedRow] || sum.NoBucket != table[noBucketRow] ||
		sum.Bucketed != len(lines)-sum.Failed-sum.NoBucket {
		t.Errorf("summary %+v, text table %v", sum, table)
	}
	for _, b := range sum.Buckets {
		if table[b.Bucket] != b.Count {
			t.Errorf("JSON bucket %s: %d, text table %d", b.Bucket, b.Count, table[b.Bucket])
		}
	}
}

// TestTriageBrokenPlaybook: a playbook that fails or runs too long on one dump is reported on
// that dump's line and the others go on; one that returns nothing is summed up by its last line.
func TestTriageBrokenPlaybook(t *testing.T) {
	x86 := fixture(t, "lldb/fizzbuzz_no_heap.dmp") // CATALOG.md: x86
	x64 := fixture(t, "lldb/sigsegv.dmp")          // CATALOG.md: AMD64
	script := func(code string) string {
		p := filepath.Join(t.TempDir(), "play.lua")
		if err := os.WriteFile(p, []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	boom := script(`if dbg.target().arch == "x86" then error("boom") end
return {bucket = "B_" .. dbg.target().arch, summary = "fine"}`)
	// hasLine says whether out has the line of dump with this status and detail (a prefix).
	hasLine := func(out, dump, status, detail string) bool {
		rest := `$`
		if detail != "" {
			rest = regexp.QuoteMeta("  " + detail)
		}
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(dump) + ` +` + regexp.QuoteMeta(status) + rest)
		return re.MatchString(out)
	}
	out, _, code := triageRun(t, "--script", boom, x86, x64)
	if code != exitCommandFailed || !hasLine(out, x86, "FAILED(script)", boom+":1: boom") ||
		!hasLine(out, x64, "B_x64", "fine\n") {
		t.Errorf("failing playbook (exit %d):\n%s", code, out)
	}

	loop := script(`if dbg.target().arch == "x86" then while true do end end
return {bucket = "B"}`)
	out, _, code = triageRun(t, "--timeout", "300ms", "-j", "2", "--script", loop, x86, x64)
	if code != exitCommandFailed || !hasLine(out, x86, "FAILED(timeout)", "stopped after 300ms") ||
		!hasLine(out, x64, "B", "") {
		t.Errorf("runaway playbook (exit %d):\n%s", code, out)
	}

	plain := script(`print("first") print("the last line") print("")`)
	out, _, code = triageRun(t, "--script", plain, x64)
	if code != exitOK || !hasLine(out, x64, "(no bucket)", "the last line\n") {
		t.Errorf("playbook without a table (exit %d):\n%s", code, out)
	}
}

func TestTriageExitStatus(t *testing.T) {
	dir := fixturesDir(t)
	empty := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"all good", []string{filepath.Join(dir, "lldb")}, exitOK},
		{"some broken", []string{filepath.Join(dir, "lldb", "sigsegv.dmp"), filepath.Join(dir, "rust-minidump")}, exitCommandFailed},
		{"none opens", []string{filepath.Join(dir, "rust-minidump")}, exitOpenFailed},
		{"no dump in folder", []string{empty}, exitOpenFailed},
		{"missing file", []string{filepath.Join(empty, "nope.dmp")}, exitOpenFailed},
		{"no input", nil, exitUsage},
		{"bad -j", []string{"-j", "0", empty}, exitUsage},
		{"unknown option", []string{"--frobnicate", empty}, exitUsage},
		{"unknown playbook", []string{"--script", "no-such-playbook", empty}, exitUsage},
		{"bad timeout", []string{"--timeout", "soon", empty}, exitUsage},
	} {
		_, stderr, code := triageRun(t, tc.args...)
		if code != tc.want {
			t.Errorf("%s: exit %d, want %d (stderr %q)", tc.name, code, tc.want, stderr)
		}
		if code != exitOK && code != exitCommandFailed && stderr == "" {
			t.Errorf("%s: exit %d with nothing on stderr", tc.name, code)
		}
	}
	// Through the binary: main dispatches `wdbg triage`, and -h prints the usage.
	res := runWdbg(t, nil, nil, "triage", "-j2", filepath.Join(dir, "lldb", "sigsegv.dmp"), filepath.Join(dir, "rust-minidump"))
	if res.exit != exitCommandFailed || !strings.Contains(res.stdout, "FAILED(open)") || res.stderr != "" {
		t.Errorf("wdbg triage: exit %d\nstdout:\n%s\nstderr:\n%s", res.exit, res.stdout, res.stderr)
	}
	if res := runWdbg(t, nil, nil, "triage", "--help"); res.exit != exitOK || !strings.Contains(res.stdout, "Exit status:") {
		t.Errorf("wdbg triage --help: exit %d\n%s", res.exit, res.stdout)
	}
}

// TestTriageProgress: the progress line says done/total and the current file, and is cleared
// before each result line and at the end.
func TestTriageProgress(t *testing.T) {
	var out, errOut bytes.Buffer
	rep := newTriageReport(&out, false, []string{"a.dmp", "b.dmp"})
	rep.progress = &triageProgress{w: &errOut, total: 2}
	rep.started("a.dmp")
	rep.add(&dumpResult{Dump: "a.dmp", Status: "ok", Bucket: "X", Summary: "s"})
	rep.started("b.dmp")
	rep.add(&dumpResult{Dump: "b.dmp", Status: "ok", Bucket: "X", Summary: "s"})
	rep.finish()
	p := errOut.String()
	for _, want := range []string{"] 0/2 a.dmp", "[##########..........] 1/2 b.dmp", "] 2/2 b.dmp"} {
		if !strings.Contains(p, want) {
			t.Errorf("progress lacks %q: %q", want, p)
		}
	}
	if !strings.HasSuffix(p, "\r\033[K") || strings.Contains(out.String(), "\033") {
		t.Errorf("progress not cleared at the end, or escapes in stdout: %q / %q", p, out.String())
	}
	if !strings.Contains(out.String(), "     2  X\n") {
		t.Errorf("table:\n%s", out.String())
	}
}
