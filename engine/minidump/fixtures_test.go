package minidump

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// fixturesDir finds ../shared/fixtures beside the repository root (the directory holding
// go.mod). Corpus tests skip when it is absent, and fail when WDBG_CORPUS_REQUIRED=1.
func fixturesDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	fixtures := filepath.Join(dir, "..", "shared", "fixtures")
	if _, err := os.Stat(fixtures); err != nil {
		if os.Getenv("WDBG_CORPUS_REQUIRED") == "1" {
			t.Fatalf("corpus required (WDBG_CORPUS_REQUIRED=1) but %s is missing", fixtures)
		}
		t.Skipf("corpus not present at %s", fixtures)
	}
	return fixtures
}

// fixture returns the path of one fixture file, failing when the corpus is there but the file
// is not.
func fixture(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(fixturesDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s: %v", rel, err)
	}
	return p
}

func openFixture(t testing.TB, rel string) *File {
	t.Helper()
	f, err := Open(fixture(t, rel))
	if err != nil {
		t.Fatalf("Open(%s): %v", rel, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// The user-mode dumps of the corpus (CATALOG.md), with the number of streams the CATALOG
// lists for each.
var corpusDumps = []string{
	"breakpad/minidump2.dmp",
	"breakpad/minidump_32bit_crash_addr.dmp",
	"breakpad/null_read_av.dmp",
	"breakpad/null_write_av.dmp",
	"breakpad/stack_exhaustion.dmp",
	"breakpad/tiny-exe-fastfail.dmp",
	"breakpad/tiny-exe-with-cet-xsave.dmp",
	"breakpad/write_av_non_canonical.dmp",
	"kdlibcpp/targetapp_minidump/target_minidump.dmp",
	"kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp",
	"kdlibcpp/targetapp_stacktest_x64_release_v1/targetapp_stacktest_x64_release.dmp",
	"kdlibcpp/targetapp_test_cv_allreg_amd64/targetapp_test_cv_allreg_amd64.dmp",
	"lldb/fizzbuzz_no_heap.dmp",
	"lldb/sigsegv.dmp",
	"symbolicator/windows.dmp",
}

// bpRecord is one block of breakpad's minidump_dump output: a title line ("MDRawThread"), its
// "  key = value" fields, and for "Memory"/"Stack" blocks the hex line that follows.
type bpRecord struct {
	Title  string
	Fields map[string]string
	Hex    string
}

var bpField = regexp.MustCompile(`^\s+(\S+(?: \S+)*?)\s+= (.*)$`)

// parseBreakpadDump reads minidump_dump's text (the format of breakpad/expected/minidump2.dump.out).
func parseBreakpadDump(r io.Reader) []bpRecord {
	var recs []bpRecord
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
		case strings.HasPrefix(line, "0x") && len(recs) > 0 && (recs[len(recs)-1].Title == "Memory" || recs[len(recs)-1].Title == "Stack"):
			recs[len(recs)-1].Hex = strings.TrimPrefix(line, "0x")
		case !strings.HasPrefix(line, " "):
			recs = append(recs, bpRecord{Title: line, Fields: map[string]string{}})
		case len(recs) > 0:
			if m := bpField.FindStringSubmatch(line); m != nil {
				recs[len(recs)-1].Fields[m[1]] = m[2]
			}
		}
	}
	return recs
}

// byTitle returns the records with the given title, in order.
func byTitle(recs []bpRecord, title string) []bpRecord {
	var out []bpRecord
	for _, r := range recs {
		if r.Title == title {
			out = append(out, r)
		}
	}
	return out
}

// num parses a field's leading number ("0x45d35f73 2007-02-14 19:13:55" → 0x45d35f73).
func (r bpRecord) num(t testing.TB, key string) uint64 {
	t.Helper()
	v, ok := r.Fields[key]
	if !ok {
		t.Fatalf("%s: no field %q", r.Title, key)
	}
	tok := strings.Fields(v)[0]
	n, err := strconv.ParseUint(tok, 0, 64)
	if err != nil {
		// Signed decimal values such as time_zone.daylight_bias = -60.
		i, ierr := strconv.ParseInt(tok, 10, 64)
		if ierr != nil {
			t.Fatalf("%s.%s = %q: %v", r.Title, key, v, err)
		}
		n = uint64(i)
	}
	return n
}

// str parses a quoted string field ("(code_file) = "c:\test_app.exe"").
func (r bpRecord) str(t testing.TB, key string) string {
	t.Helper()
	v, ok := r.Fields[key]
	if !ok {
		t.Fatalf("%s: no field %q", r.Title, key)
	}
	return strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
}
