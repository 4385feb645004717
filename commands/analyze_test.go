package commands

import (
	"path/filepath"
	"strings"
	"testing"

	"wdbg/engine/analysis"
	"wdbg/internal/corpus"
)

// !analyze on corpus dumps. Facts: the exception codes and parameters in CATALOG.md; breakpad's
// ORACLE_NOTES (minidump2: write AV at 0x45 in CrashFunction; tiny-exe-fastfail:
// FAST_FAIL_FATAL_APP_EXIT; null_read_av / null_write_av: null reads and writes; stack_exhaustion:
// 0xC00000FD); symbolicator's snapshot (windows.dmp: main, main.cpp:35).
func TestAnalyzeCorpus(t *testing.T) {
	syms := func(rel string) string { return filepath.Join(corpus.Dir(t), rel) }
	for _, c := range []struct {
		dump, symPath string
		want          []string
	}{
		{"symbolicator/windows.dmp", syms("symbolic"), []string{
			"WRITE_ADDRESS:  00000045 \n", "SYMBOL_NAME:  crash!main+12d\n", "MODULE_NAME: crash\n",
			"IMAGE_NAME:  crash.exe\n", "FAULTING_SOURCE_LINE_NUMBER:  35\n", "STACK_COMMAND: ~0s; .ecxr ; kb\n",
			"FAILURE_BUCKET_ID:  NULL_POINTER_WRITE_c0000005_crash.exe!main\n", "OS_VERSION:  10.0.14393.1715\n"}},
		{"breakpad/minidump2.dmp", syms("breakpad/symbols"), []string{
			"SYMBOL_NAME:  test_app!`anonymous namespace'::CrashFunction+e\n",
			"FAILURE_BUCKET_ID:  NULL_POINTER_WRITE_c0000005_test_app.exe!`anonymous namespace'::CrashFunction\n",
			"PROCESS_NAME:  test_app.exe\n"}},
		{"breakpad/tiny-exe-fastfail.dmp", "", []string{
			"EXCEPTION_CODE_STR:  c0000409\n", "Subcode: 0x7 FAST_FAIL_FATAL_APP_EXIT",
			"FAILURE_BUCKET_ID:  FAIL_FAST_FATAL_APP_EXIT_c0000409_"}},
		{"breakpad/null_read_av.dmp", "", []string{"READ_ADDRESS:  00000000 \n", "FAILURE_BUCKET_ID:  NULL_POINTER_READ_c0000005_"}},
		{"breakpad/null_write_av.dmp", "", []string{"WRITE_ADDRESS:  00000000 \n", "FAILURE_BUCKET_ID:  NULL_POINTER_WRITE_c0000005_"}},
		{"breakpad/stack_exhaustion.dmp", "", []string{"FAILURE_BUCKET_ID:  STACK_OVERFLOW_c00000fd_"}},
		{"kdlibcpp/targetapp_minidump/target_minidump.dmp", "", []string{"FAILURE_BUCKET_ID:  BREAKPOINT_80000003_"}},
		{"kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp", "", []string{"FAILURE_BUCKET_ID:  BREAKPOINT_4000001f_"}},
	} {
		s := sessionWithSymbols(t, c.dump, c.symPath)
		got := run(t, s, "!analyze -v")
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: !analyze -v lacks %q:\n%s", c.dump, w, got)
			}
		}
		if !strings.HasSuffix(got, "Followup:     MachineOwner\n---------\n\n") {
			t.Errorf("%s: !analyze -v does not end with the Followup block", c.dump)
		}
	}
}

// A user rule that ignores CrashFunction moves the blame to its caller, main.
func TestAnalyzeUserRules(t *testing.T) {
	s := sessionWithSymbols(t, "breakpad/minidump2.dmp", filepath.Join(corpus.Dir(t), "breakpad", "symbols"))
	user, err := analysis.ParseRules("test_app!`anonymous namespace'::Crash*=ignore\ntest_app!main=AppTeam\n")
	if err != nil {
		t.Fatal(err)
	}
	s.TriageRules = analysis.DefaultRules().Merge(user)
	got := run(t, s, "!analyze")
	if !strings.Contains(got, "Probably caused by : test_app.exe ( test_app!main+50 )\n") ||
		!strings.Contains(got, "Followup:     AppTeam\n") {
		t.Errorf("!analyze with user rules:\n%s", got)
	}
}
