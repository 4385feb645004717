package commands

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"wdbg/internal/corpus"

	"wdbg/engine"
)

// corpusDir is the shared corpus (internal/corpus).
func corpusDir(t testing.TB) string { return corpus.Dir(t) }

// openCorpus opens a fixture dump and starts a session on it.
func openCorpus(t testing.TB, rel string) *Session {
	t.Helper()
	tgt, err := engine.Open(filepath.Join(corpusDir(t), rel))
	if err != nil {
		t.Fatalf("open %s: %v", rel, err)
	}
	t.Cleanup(func() { tgt.Close() })
	return NewSession(tgt)
}

// run executes one command and returns its text, failing the test on error.
func run(t testing.TB, s *Session, cmd string) string {
	t.Helper()
	res, err := s.Exec(context.Background(), cmd)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	var b strings.Builder
	if res != nil {
		if err := res.WriteText(&b); err != nil {
			t.Fatalf("%s: render: %v", cmd, err)
		}
	}
	return b.String()
}

// breakpadRecords reads the "MDRawX" blocks of breakpad's minidump_dump output (the oracle file
// breakpad/expected/minidump2.dump.out) as field maps.
func breakpadRecords(t testing.TB, path, kind string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]string
	var cur map[string]string
	field := regexp.MustCompile(`^\s+(\S+)\s+= (.*)$`)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == kind:
			cur = map[string]string{}
			out = append(out, cur)
		case cur != nil && field.MatchString(line):
			m := field.FindStringSubmatch(line)
			cur[m[1]] = m[2]
		case cur != nil && strings.TrimSpace(line) == "":
			cur = nil
		}
	}
	return out
}

func hexField(t testing.TB, rec map[string]string, name string) uint64 {
	t.Helper()
	v := strings.Fields(rec[name])
	if len(v) == 0 {
		t.Fatalf("oracle record lacks %s: %v", name, rec)
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(v[0], "0x"), 16, 64)
	if err != nil {
		t.Fatalf("oracle field %s=%q: %v", name, rec[name], err)
	}
	return n
}

// TestLmAgainstBreakpad checks `lm` and `lm t n` on minidump2.dmp against the module records that
// breakpad's minidump_dump printed for the same file.
func TestLmAgainstBreakpad(t *testing.T) {
	s := openCorpus(t, "breakpad/minidump2.dmp")
	oracle := breakpadRecords(t, filepath.Join(corpusDir(t), "breakpad/expected/minidump2.dump.out"), "MDRawModule")
	if len(oracle) != 13 {
		t.Fatalf("oracle has %d modules, want 13 (ORACLE_NOTES.md)", len(oracle))
	}
	lm := strings.Split(strings.TrimRight(run(t, s, "lm"), "\n"), "\n")
	if lm[0] != "start    end        module name" {
		t.Errorf("x86 lm header = %q", lm[0])
	}
	tn := run(t, s, "lm t n")
	for _, rec := range oracle {
		base := hexField(t, rec, "base_of_image")
		size := hexField(t, rec, "size_of_image")
		ts := hexField(t, rec, "time_date_stamp")
		path := strings.Trim(rec["(code_file)"], `"`)
		image := path[strings.LastIndex(path, `\`)+1:]
		name := strings.TrimSuffix(image, filepath.Ext(image))
		want := FormatAddr(base, 4) + " " + FormatAddr(base+size, 4) + "   " + padRight(name, 8) + "   (deferred)"
		if !containsLinePrefix(lm, want) {
			t.Errorf("lm lacks a line starting %q", want)
		}
		// The oracle prints the timestamp as hex and as a UTC date (2007-02-14 19:13:48).
		stamp := strings.Fields(rec["time_date_stamp"])
		wantStamp := strings.ToUpper(strings.TrimPrefix(stamp[0], "0x"))
		wantStamp = strings.Repeat("0", 8-len(wantStamp)) + wantStamp
		if !strings.Contains(tn, "("+wantStamp+")") || !strings.Contains(tn, " "+image+" ") {
			t.Errorf("lm t n lacks %s with timestamp %s", image, wantStamp)
		}
		_ = ts
	}
	if !strings.Contains(tn, "test_app test_app.exe Wed Feb 14 19:13:48 2007 (45D35F6C)") {
		t.Errorf("lm t n line for test_app differs:\n%s", tn)
	}
	if got := run(t, s, "lm m kernel*"); strings.Count(got, "\n") != 2 || !strings.Contains(got, "kernel32") {
		t.Errorf("lm m kernel* = %q, want the header and kernel32 only", got)
	}
	v := run(t, s, "lmvm ntdll")
	// ntdll's version 5.1.2600.2180: file_version 0x50001:0xa280884 in the oracle.
	for _, want := range []string{"Image path: C:\\WINDOWS\\system32\\ntdll.dll", "CheckSum:         000AF2F7",
		"ImageSize:        000B0000", "File version:     5.1.2600.2180", "File OS:          40004 NT Win32",
		"File type:        2.0 Dll"} {
		if !strings.Contains(v, want) {
			t.Errorf("lmvm ntdll lacks %q:\n%s", want, v)
		}
	}
}

func padRight(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

func containsLinePrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// TestThreadsAndRegistersAgainstBreakpad checks `~`, `~1s` and `r` against breakpad's thread and
// x86 context records for minidump2.dmp.
func TestThreadsAndRegistersAgainstBreakpad(t *testing.T) {
	s := openCorpus(t, "breakpad/minidump2.dmp")
	dump := filepath.Join(corpusDir(t), "breakpad/expected/minidump2.dump.out")
	threads := breakpadRecords(t, dump, "MDRawThread")
	contexts := breakpadRecords(t, dump, "MDRawContextX86")
	if len(threads) != 2 || len(contexts) < 2 {
		t.Fatalf("oracle: %d threads, %d contexts", len(threads), len(contexts))
	}
	list := run(t, s, "~")
	for i, th := range threads {
		tid := hexField(t, th, "thread_id")
		teb := hexField(t, th, "teb")
		want := fmt.Sprintf("%3d  Id: %x.%x Suspend: 0 Teb: %08x Unfrozen", i, s.Target.Process.ID, tid, teb)
		if !strings.Contains(list, want) {
			t.Errorf("~ lacks %q:\n%s", want, list)
		}
	}
	// The exception happened on thread 0xbf4 (ORACLE_NOTES: tid 3060), so thread 0 is current and
	// the event thread.
	if !strings.HasPrefix(list, ".  0") {
		t.Errorf("thread 0 should be current:\n%s", list)
	}
	for i, ctxRec := range contexts[:2] {
		out := run(t, s, fmt.Sprintf("~%ds", i))
		for _, reg := range []string{"eax", "ebx", "ecx", "edx", "esi", "edi", "eip", "esp", "ebp"} {
			want := fmt.Sprintf("%s=%08x", reg, hexField(t, ctxRec, reg))
			if !strings.Contains(out, want) {
				t.Errorf("~%ds: registers lack %s:\n%s", i, want, out)
			}
		}
		if got := run(t, s, "r eip"); got != fmt.Sprintf("eip=%08x\n", hexField(t, ctxRec, "eip")) {
			t.Errorf("~%ds; r eip = %q", i, got)
		}
		efl := hexField(t, ctxRec, "eflags")
		if !strings.Contains(out, fmt.Sprintf("efl=%08x", efl)) {
			t.Errorf("~%ds: efl=%08x missing:\n%s", i, efl, out)
		}
	}
	if p := run(t, s, "~1s"); !strings.HasPrefix(s.Prompt(), "0:001>") || p == "" {
		t.Errorf("prompt after ~1s = %q", s.Prompt())
	}
}

// TestUnknownCommands checks WinDbg's texts for commands nobody implements (WINDBG-SPEC §1.3).
func TestUnknownCommands(t *testing.T) {
	s := openCorpus(t, "breakpad/minidump2.dmp")
	for cmd, want := range map[string]string{
		"!nosuchext -v": "No export nosuchext found",
		"foo":           "^ Syntax error in 'foo'",
		"~9s":           "^ Illegal thread error in '~9s'",
	} {
		_, err := s.Exec(context.Background(), cmd)
		if err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %q", cmd, err, want)
		}
	}
	// The session goes on after a failed command.
	if got := run(t, s, "? 1"); got != "Evaluate expression: 1 = 00000001\n" {
		t.Errorf("? 1 after errors = %q", got)
	}
}
