package commands

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/cpu"
	"wdbg/internal/corpus"
)

// !analyze on the kernel triage dump rizin-testbins/dmp/triage_x64.dmp with test-pdb-repository.
// Oracles: rizin's header dump in rizin-testbins/expected/rizin_test_db_formats_dmp.txt (bug check
// 0x1000007e SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M, P1 ffffffffc0000005, P2 fffff8048b58334c,
// P3 ffff850429891ee8, P4 ffff850429891720) and its backtrace (frames 8-10: pc fffff8048b58334c
// sp ffff850429892120 amdppm.WriteIoMemRawEx+112, pc fffff8048b58313f sp ffff850429892150
// WriteGenAddrEx+107, pc fffff8048b583234 sp ffff850429892180 WriteGenAddrMaybeHiddenEx+24);
// ORACLE_NOTES.md (cdb: faulting module amdppm.sys); layouts from WINDBG-SPEC §3.1.2/§3.1.5 and
// the public 0x7E capture quoted in the spec's sources (EXCEPTION_RECORD/CONTEXT headers,
// `STACK_COMMAND:  .cxr 0x... ; kb`, AV_ bucket for c0000005).
func TestAnalyzeKernelTriage(t *testing.T) {
	s := sessionWithSymbols(t, "rizin-testbins/dmp/triage_x64.dmp", filepath.Join(corpus.Dir(t), "test-pdb-repository"))
	got := run(t, s, "!analyze -v")
	for _, want := range []string{
		"*                        Bugcheck Analysis                                    *\n",
		"\nSYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M (1000007e)\n", // rizin's name for 0x1000007e
		"\nArg1: ffffffffc0000005, ",                           // rizin BugCheckParameter1..4
		"\nArg2: fffff8048b58334c, ",
		"\nArg3: ffff850429891ee8, ",
		"\nArg4: ffff850429891720, ",
		"\nBUGCHECK_P4: ffff850429891720\n",
		// The exception record P3 names; c0000005 is the access violation (WINDBG-SPEC §5).
		"EXCEPTION_RECORD:  ffff850429891ee8 -- (.exr 0xffff850429891ee8)\n",
		"   ExceptionCode: c0000005 (Access violation)\n",
		"EXCEPTION_CODE_STR:  c0000005\n",
		// The context record P4 names: rip/rsp are rizin's frame 8.
		"CONTEXT:  ffff850429891720 -- (.cxr 0xffff850429891720)\n",
		"rip=fffff8048b58334c rsp=ffff850429892120 ",
		"amdppm!WriteIoMemRawEx+0x70:\n",
		"Resetting default scope\n",
		// rizin frames 8-10, in the kb layout without frame numbers.
		"STACK_TEXT:  \nffff8504`29892120 fffff804`8b58313f     : ",
		" : amdppm!WriteIoMemRawEx+0x70\nffff8504`29892150 fffff804`8b583234     : ",
		" : amdppm!WriteGenAddrEx+0x6b\nffff8504`29892180 ",
		" : amdppm!WriteGenAddrMaybeHiddenEx+0x18\n",
		"\nSYMBOL_NAME:  amdppm!WriteIoMemRawEx+70\n", // rizin +112
		"\nMODULE_NAME: amdppm\n",
		"\nIMAGE_NAME:  amdppm.sys\n", // cdb in ORACLE_NOTES.md: faulting module amdppm.sys
		"\nSTACK_COMMAND:  .cxr 0xffff850429891720 ; kb\n",
		"\nBUCKET_ID_FUNC_OFFSET:  70\n",
		"\nFAILURE_BUCKET_ID:  AV_amdppm!WriteIoMemRawEx\n",
		"\nOSPLATFORM_TYPE:  x64\n",
		"\nOSNAME:  Windows 10\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("!analyze -v lacks %q", want)
		}
	}
	if !strings.HasSuffix(got, "Followup:     MachineOwner\n---------\n\n") {
		t.Errorf("!analyze -v does not end with the Followup block:\n%s", got)
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
	// "Resetting default scope": the processor's own registers are current again (rizin `dr`
	// rip, in KeBugCheckEx).
	if regs := run(t, s, "r rip"); regs != "rip=fffff8047bdf5a80\n" {
		t.Errorf("after !analyze -v: %q", regs)
	}

	short := run(t, s, "!analyze")
	for _, want := range []string{
		"Use !analyze -v to get detailed debugging information.\n\n",
		"BugCheck 1000007E, {ffffffffc0000005, fffff8048b58334c, ffff850429891ee8, ffff850429891720}\n\n",
		"Probably caused by : amdppm.sys ( amdppm!WriteIoMemRawEx+70 )\n\n",
		"Followup:     MachineOwner\n---------\n",
	} {
		if !strings.Contains(short, want) {
			t.Errorf("!analyze lacks %q:\n%s", want, short)
		}
	}

	// .bugcheck: public captures print `Bugcheck code 0000009F` and backticked 64-bit arguments.
	if got := run(t, s, ".bugcheck"); got != "Bugcheck code 1000007E\nArguments ffffffff`c0000005 fffff804`8b58334c ffff8504`29891ee8 ffff8504`29891720\n" {
		t.Errorf(".bugcheck = %q", got)
	}

	// JSON carries the same fields.
	res, err := s.Exec(context.Background(), "!analyze -v")
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"failure_bucket_id":"AV_amdppm!WriteIoMemRawEx"`, `"bugcheck_code":"1000007e"`,
		`"context_record":"ffff850429891720"`, `"image_name":"amdppm.sys"`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON lacks %s: %s", want, js)
		}
	}
}

// !analyze -show: the §3.1.2 example's 0xD1 arguments, and the unknown-code text of §3.1.2.
func TestAnalyzeShow(t *testing.T) {
	s := sessionWithSymbols(t, "rizin-testbins/dmp/triage_x64.dmp", "")
	got := run(t, s, "!analyze -show d1 8 2 0 fffff8024e50c688")
	for _, want := range []string{"DRIVER_IRQL_NOT_LESS_OR_EQUAL (d1)\n", "Arguments:\n",
		"Arg1: 0000000000000008, memory referenced\n", "Arg4: fffff8024e50c688, "} {
		if !strings.Contains(got, want) {
			t.Errorf("!analyze -show d1 lacks %q:\n%s", want, got)
		}
	}
	// Unknown codes: bare ArgN lines. (On this 64-bit target the MASM evaluator sign-extends the
	// 32-bit number e144c418, as it does kernel addresses.)
	got = run(t, s, "!analyze -show c0000218 e144c418")
	if !strings.HasPrefix(got, "Unknown bugcheck code (c0000218)\nUnknown bugcheck description\nArguments:\nArg1: ffffffffe144c418\nArg2: 0000000000000000\n") {
		t.Errorf("!analyze -show c0000218 = %q", got)
	}
	if _, err := s.Exec(context.Background(), "!analyze -show"); err == nil {
		t.Error("!analyze -show without a code was accepted")
	}
}

// .bugcheck is a kernel command: a process dump has none.
func TestBugcheckUserDump(t *testing.T) {
	s := sessionWithSymbols(t, "breakpad/minidump2.dmp", "")
	if _, err := s.Exec(context.Background(), ".bugcheck"); err == nil {
		t.Error(".bugcheck on a process dump succeeded")
	}
}

// A 0x1000008E bug check on a made-up target: P3 names a KTRAP_FRAME (x64: Rip @0x168, Rsp @0x180,
// engine/analysis/trapframe.go). The TRAP_FRAME section prints the two notes of WINDBG-SPEC §1.3,
// the registers without the segment line, and `Resetting default scope`; .trap then gives the
// same registers.
func TestAnalyzeKernelTrapFrame(t *testing.T) {
	const trapAt, drvBase = 0xffff800000003000, 0xfffff80010000000
	tf := make([]byte, 0x190)
	le := binary.LittleEndian
	le.PutUint64(tf[0x30:], 0x1111)
	le.PutUint64(tf[0x168:], drvBase+0x1234)
	le.PutUint16(tf[0x170:], 0x10)
	le.PutUint32(tf[0x178:], 0x10286)
	le.PutUint64(tf[0x180:], 0xffff800000005000)
	tgt := &engine.Target{Kind: engine.KindKernelSmall, Arch: cpu.ArchAMD64, Path: "/x/MEMORY.DMP",
		Memory:  fakeMemory{{trapAt, tf}},
		Kernel:  &engine.KernelInfo{BugCheck: engine.BugCheck{Code: 0x1000008E, Parameters: [4]uint64{0xc0000005, drvBase + 0x1234, trapAt, 0}}},
		Modules: []engine.Module{{Base: drvBase, Size: 0x10000, Name: "drv", ImageName: "drv.sys"}},
		System:  engine.SystemInfo{MajorVersion: 10, BuildNumber: 19041, NumberOfProcessors: 1},
		Threads: []engine.Thread{{Context: &cpu.AMD64Context{Rip: drvBase + 0x10}}},
	}
	s := NewSession(tgt)
	got := run(t, s, "!analyze -v")
	for _, want := range []string{
		"KERNEL_MODE_EXCEPTION_NOT_HANDLED_M (1000008e)\n",
		"Arg3: ffff800000003000, address of the trap frame\n",
		"FILE_IN_CAB:  MEMORY.DMP\n",
		"TRAP_FRAME:  ffff800000003000 -- (.trap 0xffff800000003000)\nNOTE: The trap frame does not contain all registers.\nSome register values may be zeroed or incorrect.\nrax=0000000000001111 rbx=0000000000000000 ",
		"rip=fffff80010001234 rsp=ffff800000005000 ",
		"STACK_COMMAND:  .trap 0xffff800000003000 ; kb\n",
		"SYMBOL_NAME:  drv+1234\n",
		"FAILURE_BUCKET_ID:  AV_drv!unknown_function\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("!analyze -v lacks %q", want)
		}
	}
	if strings.Contains(got, "cs=0010") {
		t.Error("the trap frame section shows a segment line")
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
	if got := run(t, s, ".trap ffff800000003000"); !strings.HasPrefix(got, "NOTE: The trap frame") || !strings.Contains(got, "rip=fffff80010001234") {
		t.Errorf(".trap = %q", got)
	}
	if got := run(t, s, "r rip"); got != "rip=fffff80010001234\n" {
		t.Errorf("after .trap: %q", got)
	}
	run(t, s, ".trap")
	if got := run(t, s, "r rip"); got != "rip=fffff80010000010\n" {
		t.Errorf("after .trap without address: %q", got)
	}
}
