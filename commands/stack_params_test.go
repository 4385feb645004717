package commands

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"wdbg/internal/corpus"
)

// kp on kdlibcpp's WOW64 dump with targetapp.pdb. kdlibcpp/ORACLE_NOTES.md (DbgEng-verified):
// the current frame has 3 typed params, a == 0.8f and b == 10; frame 1 has a == 10 and b == 0.8f;
// lines frame0..3 are targetapp.cpp 129, 144, 172, 185 (the inline-stack test's lines, which this
// debug build has as real frames: stackTestClass::stackMethod, stackTestRun2, stackTestRun1,
// stackTestRun).
func TestKpWOW64(t *testing.T) {
	s := sessionWithSymbols(t, "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp",
		filepath.Join(corpus.Dir(t), "kdlibcpp", "targetapp_stacktest_wow64"))
	run(t, s, ".effmach x86")
	run(t, s, ".ecxr")
	lines := strings.Split(run(t, s, "kp 4"), "\n")[2:]
	want := []struct {
		fn, params string
		line       int
	}{
		{"targetapp!stackTestClass::stackMethod", "(class stackTestClass * this = 0x", 129},
		{"targetapp!stackTestRun2", "(int a = 0n10, double b = 0.800000011920929, ", 144},
		{"targetapp!stackTestRun1", "(int a = 0n10, ", 172},
		{"targetapp!stackTestRun", "(void)", 185},
	}
	for i, w := range want {
		l := lines[i]
		if !strings.Contains(l, " "+w.fn+w.params) || !strings.HasSuffix(l, "targetapp.cpp @ "+strconv.Itoa(w.line)+"]") {
			t.Errorf("frame %d = %q, want %s%s... line %d", i, l, w.fn, w.params, w.line)
		}
	}
	if !strings.Contains(lines[0], ", double a = 0.800000011920929, int b = 0n10)+0x2d") {
		t.Errorf("frame 0 params: %q", lines[0])
	}
	perLine := run(t, s, "kP 1")
	if !strings.Contains(perLine, "stackMethod(\n\t\t\tclass stackTestClass * this = 0x") {
		t.Errorf("kP 1 = %q", perLine)
	}
}
