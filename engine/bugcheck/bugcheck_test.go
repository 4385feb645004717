package bugcheck

import (
	"strings"
	"testing"
)

// Every code of WINDBG-SPEC §4's table, with the name the table gives (typed here from the spec,
// not from catalog.txt).
var spec4 = map[uint32]string{
	0x01: "APC_INDEX_MISMATCH", 0x0A: "IRQL_NOT_LESS_OR_EQUAL", 0x0C: "MAXIMUM_WAIT_OBJECTS_EXCEEDED",
	0x18: "REFERENCE_BY_POINTER", 0x19: "BAD_POOL_HEADER", 0x1A: "MEMORY_MANAGEMENT",
	0x1E: "KMODE_EXCEPTION_NOT_HANDLED", 0x20: "KERNEL_APC_PENDING_DURING_EXIT", 0x24: "NTFS_FILE_SYSTEM",
	0x3B: "SYSTEM_SERVICE_EXCEPTION", 0x3D: "INTERRUPT_EXCEPTION_NOT_HANDLED",
	0x44: "MULTIPLE_IRP_COMPLETE_REQUESTS", 0x4E: "PFN_LIST_CORRUPT", 0x50: "PAGE_FAULT_IN_NONPAGED_AREA",
	0x54: "LM_SERVER_INTERNAL_ERROR", 0x7A: "KERNEL_DATA_INPAGE_ERROR", 0x7B: "INACCESSIBLE_BOOT_DEVICE",
	0x7E: "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED", 0x7F: "UNEXPECTED_KERNEL_MODE_TRAP",
	0x8E: "KERNEL_MODE_EXCEPTION_NOT_HANDLED", 0x9C: "MACHINE_CHECK_EXCEPTION", 0x9F: "DRIVER_POWER_STATE_FAILURE",
	0xA0: "INTERNAL_POWER_ERROR", 0xBE: "ATTEMPTED_WRITE_TO_READONLY_MEMORY",
	0xC1: "SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION", 0xC2: "BAD_POOL_CALLER",
	0xC4: "DRIVER_VERIFIER_DETECTED_VIOLATION", 0xC5: "DRIVER_CORRUPTED_EXPOOL",
	0xCB: "DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS", 0xCE: "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS",
	0xD1: "DRIVER_IRQL_NOT_LESS_OR_EQUAL", 0xD5: "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL",
	0xE2: "MANUALLY_INITIATED_CRASH", 0xEA: "THREAD_STUCK_IN_DEVICE_DRIVER", 0xEF: "CRITICAL_PROCESS_DIED",
	0xF4: "CRITICAL_OBJECT_TERMINATION", 0xF7: "DRIVER_OVERRAN_STACK_BUFFER",
	0xFC: "ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY", 0x101: "CLOCK_WATCHDOG_TIMEOUT",
	0x109: "CRITICAL_STRUCTURE_CORRUPTION", 0x116: "VIDEO_TDR_FAILURE", 0x117: "VIDEO_TDR_TIMEOUT_DETECTED",
	0x124: "WHEA_UNCORRECTABLE_ERROR", 0x133: "DPC_WATCHDOG_VIOLATION", 0x139: "KERNEL_SECURITY_CHECK_FAILURE",
	0x13A: "KERNEL_MODE_HEAP_CORRUPTION", 0x144: "BUGCODE_USB3_DRIVER", 0x14F: "PDC_WATCHDOG_TIMEOUT",
	0x154: "UNEXPECTED_STORE_EXCEPTION", 0x19C: "WIN32K_POWER_WATCHDOG_TIMEOUT",
	0xC000021A: "WINLOGON_FATAL_ERROR", 0xDEADDEAD: "MANUALLY_INITIATED_CRASH1",
}

func TestSpecCodes(t *testing.T) {
	for code, name := range spec4 {
		e, ok := Lookup(code)
		if !ok || e.Name != name {
			t.Errorf("Lookup(%#x) = %q, %v; want %q (WINDBG-SPEC §4)", code, e.Name, ok, name)
			continue
		}
		if e.Code != code || e.Description == "" {
			t.Errorf("%#x: code %#x, description %q", code, e.Code, e.Description)
		}
	}
	// rizin names 0x1C8 MANUALLY_INITIATED_POWER_BUTTON_HOLD for triage_arm64.dmp
	// (rizin-testbins/expected/rizin_test_db_formats_dmp.txt).
	if e, _ := Lookup(0x1C8); e.Name != "MANUALLY_INITIATED_POWER_BUTTON_HOLD" {
		t.Errorf("0x1c8 = %q", e.Name)
	}
}

// The "_M" variants (§4: 0x1000007E / 0x1000008E); rizin prints 0x1000007e as
// SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M for triage_x64.dmp.
func TestMVariant(t *testing.T) {
	e, ok := Lookup(0x1000007E)
	if !ok || e.Name != "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M" || e.Code != 0x1000007E {
		t.Fatalf("Lookup(0x1000007E) = %+v, %v", e, ok)
	}
	if e.Title() != "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M (1000007e)" {
		t.Errorf("title %q", e.Title())
	}
	if e.Hints.ContextRecord != 4 || e.Hints.ExceptionRecord != 3 || e.Hints.ExceptionCode != 1 {
		t.Errorf("0x1000007E hints %+v: want context P4, record P3, code P1 (§4 0x7E row)", e.Hints)
	}
	if e, _ := Lookup(0x1000008E); e.Name != "KERNEL_MODE_EXCEPTION_NOT_HANDLED_M" || e.Hints.TrapFrame != 3 {
		t.Errorf("0x1000008E = %q, trap P%d", e.Name, e.Hints.TrapFrame)
	}
	if Base(0x1000007E) != 0x7E || Base(0xDEADDEAD) != 0xDEADDEAD {
		t.Errorf("Base: %#x %#x", Base(0x1000007E), Base(0xDEADDEAD))
	}
	// 0xDEADDEAD has the 0x10000000 bit too but is a code of its own.
	if e, _ := Lookup(0xDEADDEAD); e.Name != "MANUALLY_INITIATED_CRASH1" {
		t.Errorf("0xDEADDEAD = %q", e.Name)
	}
}

// Unknown codes: WINDBG-SPEC §3.1.2 `Unknown bugcheck code (c0000218)` / `Unknown bugcheck description`.
func TestUnknown(t *testing.T) {
	e, ok := Lookup(0xC0000218)
	if ok || e.Known() {
		t.Fatal("0xC0000218 should be unknown")
	}
	if e.Title() != "Unknown bugcheck code (c0000218)" || e.About() != "Unknown bugcheck description" {
		t.Errorf("%q / %q", e.Title(), e.About())
	}
	if e.ParamText(0, [4]uint64{}) != "" {
		t.Error("unknown code has parameter text")
	}
	if e, ok := Lookup(0x10000999); ok {
		t.Errorf("0x10000999 (no base entry) = %q", e.Name)
	}
}

// Parameter meanings, subtypes and hints from §4's rows.
func TestParams(t *testing.T) {
	d1, _ := Lookup(0xD1)
	p := [4]uint64{8, 2, 1, 0xfffff8024e50c688}
	if got := d1.AccessKind(p); got != "WRITE" {
		t.Errorf("0xD1 P3=1 access = %q", got)
	}
	if d1.Hints.Memory != 1 || d1.Hints.FaultingIP != 4 {
		t.Errorf("0xD1 hints %+v", d1.Hints)
	}
	if got := d1.AccessKind([4]uint64{0, 2, 8, 0}); got != "EXECUTE" {
		t.Errorf("0xD1 P3=8 access = %q", got)
	}
	// 0x50 P2: 0 read, 2 write, 0x10 execute; P3 faulting IP.
	pf, _ := Lookup(0x50)
	if pf.AccessKind([4]uint64{0, 2, 0, 0}) != "WRITE" || pf.AccessKind([4]uint64{0, 0x10, 0, 0}) != "EXECUTE" || pf.Hints.FaultingIP != 3 {
		t.Errorf("0x50 access/ip wrong: %+v", pf.Hints)
	}
	// 0x139: P1 type 3 = LIST_ENTRY corruption, P2 trap frame, P3 exception record.
	k, _ := Lookup(0x139)
	if !strings.Contains(k.ParamText(0, [4]uint64{3}), "LIST_ENTRY") || k.Hints.TrapFrame != 2 || k.Hints.ExceptionRecord != 3 {
		t.Errorf("0x139: %q %+v", k.ParamText(0, [4]uint64{3}), k.Hints)
	}
	// 0x9F subtype 3: P3 nt!_TRIAGE_9F_POWER, P4 the blocked IRP; another subtype keeps the generic text.
	pw, _ := Lookup(0x9F)
	if !strings.Contains(pw.ParamText(2, [4]uint64{3}), "TRIAGE_9F_POWER") || !strings.Contains(pw.ParamText(3, [4]uint64{3}), "IRP") {
		t.Errorf("0x9F/3: %q, %q", pw.ParamText(2, [4]uint64{3}), pw.ParamText(3, [4]uint64{3}))
	}
	if pw.ParamText(2, [4]uint64{1}) != pw.Params[2] {
		t.Errorf("0x9F/1 P3 = %q", pw.ParamText(2, [4]uint64{1}))
	}
	// 0x3B: context record in P3 (§4).
	if s, _ := Lookup(0x3B); s.Hints.ContextRecord != 3 || s.Hints.ExceptionCode != 1 {
		t.Errorf("0x3B hints %+v", s.Hints)
	}
	if len(Codes()) < len(spec4) {
		t.Errorf("Codes() has %d entries", len(Codes()))
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{
		"P1 text before any code",
		"[0xZZ] NAME",
		"[0x1] A\n[0x1] B",
		"[0x1] A\nP5 nothing",
		"[0x1] A\nhint frob=P1",
		"[0x1] A\nhint access=P1:0=SIDEWAYS",
		"[0x1] A\nP1=0x3 P2 subtype without select",
		"[0x1] A\nwhat is this",
	} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(catalogText[:2000])
	f.Add("[0x1] A\nP1=0x3 P2 x\nhint select=P1 access=P2:*=READ")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := Parse(text)
		if err != nil {
			return
		}
		for _, e := range m {
			for i := 0; i < 4; i++ {
				e.ParamText(i, [4]uint64{1, 2, 3, 4})
			}
			e.AccessKind([4]uint64{})
		}
	})
}
