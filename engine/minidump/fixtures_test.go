package minidump

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"wdbg/internal/corpus"
)

// fixturesDir is the shared corpus (internal/corpus).
func fixturesDir(t testing.TB) string { return corpus.Dir(t) }

// fixture is one corpus file.
func fixture(t testing.TB, rel string) string { return corpus.Path(t, rel) }

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
var corpusDumps = corpus.UserDumps

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
