package commands

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/internal/corpus"
)

// The kernel triage dump rizin-testbins/dmp/triage_x64.dmp with test-pdb-repository as the symbol
// path. Oracles: CATALOG.md and rizin-testbins/expected/ORACLE_NOTES.md (151 drivers; bug check
// 0x1000007E and its parameters; amdppm.sys at fffff8048b580000 size 0x3b000; the fault at
// fffff8048b58334c is amdppm!WriteIoMemRawEx+0x70), and rizin's output in
// rizin_test_db_formats_dmp.txt (`dr` registers; backtrace frames 8-10 WriteIoMemRawEx+112,
// WriteGenAddrEx+107, WriteGenAddrMaybeHiddenEx+24 at sp ffff850429892120, ...2150, ...2180).
func TestKernelTriageDump(t *testing.T) {
	s := sessionWithSymbols(t, "rizin-testbins/dmp/triage_x64.dmp", filepath.Join(corpus.Dir(t), "test-pdb-repository"))
	var banner strings.Builder
	Banner(s.Target, "", "").WriteText(&banner)
	for _, want := range []string{
		"Mini Kernel Dump File: Only registers and stack trace are available\n",
		"Windows 10 Kernel Version 19041 MP (16 procs) Free x64\n",
		"PsLoadedModuleList = 0xfffff804`7c62a390\n",
		"BugCheck 1000007E, {ffffffffc0000005, fffff8048b58334c, ffff850429891ee8, ffff850429891720}\n",
	} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}
	if n := len(s.Target.Modules); n != 151 {
		t.Errorf("%d drivers, want 151", n)
	}
	if got := run(t, s, "lm m amdppm"); !strings.Contains(got, "fffff804`8b580000 fffff804`8b5bb000   amdppm ") {
		t.Errorf("lm m amdppm = %q", got)
	}
	// rizin `dr`: rip in KeBugCheckEx, rsp = TopOfStack.
	regs := run(t, s, "r")
	for _, want := range []string{"rax=ffff850429891720", "rcx=000000000000007e", "rsp=ffff850429890ee8",
		"rip=fffff8047bdf5a80", "r15=fffff8047ba00000", "efl=00040286"} {
		if !strings.Contains(regs, want) {
			t.Errorf("r lacks %s:\n%s", want, regs)
		}
	}
	if got := run(t, s, "ln fffff8048b58334c"); !strings.HasPrefix(got, "(fffff804`8b5832dc)   amdppm!WriteIoMemRawEx+0x70") {
		t.Errorf("ln fffff8048b58334c = %q", got)
	}
	run(t, s, ".cxr ffff850429891720")
	k := strings.Split(run(t, s, "k 3"), "\n")
	want := []string{
		"00 ffff8504`29892120 fffff804`8b58313f     amdppm!WriteIoMemRawEx+0x70",
		"01 ffff8504`29892150 fffff804`8b583234     amdppm!WriteGenAddrEx+0x6b",
		"02 ffff8504`29892180 fffff804`8b5a0e8f     amdppm!WriteGenAddrMaybeHiddenEx+0x18",
	}
	for i, w := range want {
		if len(k) < i+3 || !strings.HasPrefix(k[i+2], w) {
			t.Errorf("k frame %d: want %q in\n%s", i, w, strings.Join(k, "\n"))
		}
	}
}

// The triage dump's thread, process and processor blocks through !thread, !process, !pcr and
// .thread. Oracles: rizin's header dump (DirectoryTableBase 0x1ad000; the crashing thread is a
// System worker), its backtrace (outermost frame's sp ffff850429892c90 = the thread's initial
// stack) and `dr` (rip fffff8047bdf5a80 on the bug-checking processor).
func TestKernelTriageObjects(t *testing.T) {
	s := sessionWithSymbols(t, "rizin-testbins/dmp/triage_x64.dmp", filepath.Join(corpus.Dir(t), "test-pdb-repository"))
	th := run(t, s, "!thread")
	for _, want := range []string{
		"THREAD ffffc08bde9e1640  Cid 0004.",
		"RUNNING on processor 0",
		"Image:         System",
		"Stack Init ffff850429892c90 ",
	} {
		if !strings.Contains(th, want) {
			t.Errorf("!thread lacks %q:\n%s", want, th)
		}
	}
	pr := run(t, s, "!process -1 0")
	for _, want := range []string{"PROCESS ffffc08bdce94180\n", "SessionId: none  Cid: 0004", "DirBase: 1ad000 ", "Image: System\n"} {
		if !strings.Contains(pr, want) {
			t.Errorf("!process -1 0 lacks %q:\n%s", want, pr)
		}
	}
	if pcr := run(t, s, "!pcr"); !strings.Contains(pcr, "CurrentThread: ffffc08bde9e1640") {
		t.Errorf("!pcr names another current thread:\n%s", pcr)
	}
	run(t, s, ".thread ffffc08bde9e1640")
	if got := run(t, s, "r rip"); got != "rip=fffff8047bdf5a80\n" {
		t.Errorf(".thread on the running thread: r rip = %q, want the processor's rip", got)
	}
	// .bugcheck's values as pseudo-registers (WINDBG-SPEC §4 notes); $thread/$proc the current
	// ETHREAD/EPROCESS.
	for expr, want := range map[string]string{"$bug_code": "00000000`1000007e", "$bug_param4": "ffff8504`29891720",
		"$thread": "ffffc08b`de9e1640", "$proc": "ffffc08b`dce94180"} {
		if got := run(t, s, "? "+expr); !strings.Contains(got, "= "+want) {
			t.Errorf("? %s = %q, want %s", expr, got, want)
		}
	}
	if _, err := s.Exec(context.Background(), "!pte fffff8048b58334c"); err == nil || !strings.Contains(err.Error(), "not available in this dump") {
		t.Errorf("!pte on a small dump: err = %v, want 'not available in this dump'", err)
	}
}
