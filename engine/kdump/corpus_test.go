package kdump

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"wdbg/engine/cpu"
	"wdbg/internal/corpus"
)

const triageX64 = "rizin-testbins/dmp/triage_x64.dmp"

// rizinBlock returns the "key : value" lines of one section ("DUMP_HEADER64:",
// "TRIAGE_DUMP64:") of rizin's expected output for the triage_x64 test, and the "reg = value"
// register lines that follow it (rizin test/db/formats/dmp/dmp, copied to
// rizin-testbins/expected/rizin_test_db_formats_dmp.txt).
func rizinExpected(t *testing.T) (sections map[string]map[string]uint64, regs map[string]uint64) {
	t.Helper()
	path := filepath.Join(corpus.Dir(t), "rizin-testbins", "expected", "rizin_test_db_formats_dmp.txt")
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sections = map[string]map[string]uint64{}
	regs = map[string]uint64{}
	inTest, section := false, ""
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "NAME="):
			inTest = line == "NAME=: Triage Dump Debug x64"
			section = ""
			continue
		case !inTest:
			continue
		case strings.HasSuffix(line, ":") && !strings.HasPrefix(line, " "):
			section = strings.TrimSuffix(line, ":")
			sections[section] = map[string]uint64{}
			continue
		}
		if k, v, ok := strings.Cut(line, " : "); ok && section != "" {
			if f := strings.Fields(v); len(f) > 0 {
				n, err := strconv.ParseUint(strings.TrimPrefix(f[0], "0x"), 16, 64)
				if err == nil {
					sections[section][strings.TrimSpace(k)] = n
				}
			}
			continue
		}
		if k, v, ok := strings.Cut(line, " = "); ok && !strings.Contains(k, " ") {
			n, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64)
			if err == nil {
				regs[k] = n
			}
		}
	}
	if len(sections["DUMP_HEADER64"]) < 10 || len(sections["TRIAGE_DUMP64"]) < 20 || len(regs) < 18 {
		t.Fatalf("could not parse rizin's expected output: %d header, %d triage fields, %d registers",
			len(sections["DUMP_HEADER64"]), len(sections["TRIAGE_DUMP64"]), len(regs))
	}
	return sections, regs
}

func openTriage(t testing.TB) *File {
	t.Helper()
	f, err := Open(corpus.Path(t, triageX64))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestTriageCatalogFacts checks the header against CATALOG.md's row for triage_x64.dmp.
func TestTriageCatalogFacts(t *testing.T) {
	f := openTriage(t)
	h := f.Header
	// CATALOG.md: PAGEDU64; MachineImageType 0x8664; ver 0xf/19041; CPUs 16; DumpType 4;
	// BugCheck 0x1000007e [...]; DTB 0x1ad000; PsLoadedModuleList 0xfffff8047c62a390;
	// KdDebuggerDataBlock 0xfffff8047c600b20.
	if !h.Is64 || h.MachineImageType != 0x8664 || f.Arch() != cpu.ArchAMD64 {
		t.Errorf("Is64 %v machine %#x arch %v", h.Is64, h.MachineImageType, f.Arch())
	}
	if h.MajorVersion != 0xf || h.MinorVersion != 19041 || h.NumberProcessors != 16 {
		t.Errorf("version %#x/%d processors %d", h.MajorVersion, h.MinorVersion, h.NumberProcessors)
	}
	if h.DumpType != DumpTypeTriage || f.Triage == nil || f.Storage != StorageNone {
		t.Errorf("DumpType %v triage %v storage %v", h.DumpType, f.Triage != nil, f.Storage)
	}
	wantParams := [4]uint64{0xffffffffc0000005, 0xfffff8048b58334c, 0xffff850429891ee8, 0xffff850429891720}
	if h.BugCheckCode != 0x1000007e || h.BugCheckParameters != wantParams {
		t.Errorf("bug check %#x %#x", h.BugCheckCode, h.BugCheckParameters)
	}
	if h.DirectoryTableBase != 0x1ad000 || h.PsLoadedModuleList != 0xfffff8047c62a390 || h.KdDebuggerDataBlock != 0xfffff8047c600b20 {
		t.Errorf("DTB %#x PsLoadedModuleList %#x KdDebuggerDataBlock %#x", h.DirectoryTableBase, h.PsLoadedModuleList, h.KdDebuggerDataBlock)
	}
	// The bytes at 0x88 are the 'PAGE' fill pattern (seen with xxd): no run list.
	if h.PhysicalMemoryBlock != nil {
		t.Errorf("PhysicalMemoryBlock = %+v, want absent", h.PhysicalMemoryBlock)
	}
	if !f.TriageValid() {
		t.Error("TriageValid = false")
	}
	var buf [8]byte
	_, err := f.ReadPhysical(buf[:], 0x1ad000)
	if pe, ok := err.(*PhysicalError); !ok || pe.Addr != 0x1ad000 || !strings.Contains(pe.Error(), "triage") {
		t.Errorf("ReadPhysical on a triage dump: %v", err)
	}
}

// TestTriageMatchesRizin compares every field rizin's `iH` prints and its `dr` registers.
func TestTriageMatchesRizin(t *testing.T) {
	sections, regs := rizinExpected(t)
	f := openTriage(t)
	h, tr := f.Header, f.Triage
	got := map[string]uint64{
		"MajorVersion": uint64(h.MajorVersion), "MinorVersion": uint64(h.MinorVersion),
		"DirectoryTableBase": h.DirectoryTableBase, "PfnDataBase": h.PfnDataBase,
		"PsLoadedModuleList": h.PsLoadedModuleList, "PsActiveProcessHead": h.PsActiveProcessHead,
		"MachineImageType": uint64(h.MachineImageType), "NumberProcessors": uint64(h.NumberProcessors),
		"BugCheckCode": uint64(h.BugCheckCode), "BugCheckParameter1": h.BugCheckParameters[0],
		"BugCheckParameter2": h.BugCheckParameters[1], "BugCheckParameter3": h.BugCheckParameters[2],
		"BugCheckParameter4": h.BugCheckParameters[3], "KdDebuggerDataBlock": h.KdDebuggerDataBlock,
		"SecondaryDataState": uint64(h.SecondaryDataState), "ProductType": uint64(h.ProductType),
		"SuiteMask": uint64(h.SuiteMask),
	}
	compareFields(t, "DUMP_HEADER64", sections["DUMP_HEADER64"], got)
	got = map[string]uint64{
		"ServicePackBuild": uint64(tr.ServicePackBuild), "SizeOfDump": uint64(tr.SizeOfDump),
		"ValidOffset": uint64(tr.ValidOffset), "ContextOffset": uint64(tr.ContextOffset),
		"ExceptionOffset": uint64(tr.ExceptionOffset), "MmOffset": uint64(tr.MmOffset),
		"UnloadedDriversOffset": uint64(tr.UnloadedDriversOffset), "PrcbOffset": uint64(tr.PrcbOffset),
		"ProcessOffset": uint64(tr.ProcessOffset), "ThreadOffset": uint64(tr.ThreadOffset),
		"CallStackOffset": uint64(tr.CallStackOffset), "SizeOfCallStack": uint64(tr.SizeOfCallStack),
		"DriverListOffset": uint64(tr.DriverListOffset), "DriverCount": uint64(tr.DriverCount),
		"StringPoolOffset": uint64(tr.StringPoolOffset), "StringPoolSize": uint64(tr.StringPoolSize),
		"BrokenDriverOffset": uint64(tr.BrokenDriverOffset), "TriageOptions": uint64(tr.TriageOptions),
		"TopOfStack": tr.TopOfStack, "BStoreOffset": uint64(tr.BStoreOffset),
		"SizeOfBStore": uint64(tr.SizeOfBStore), "LimitOfBStore": tr.LimitOfBStore,
		"DataPageAddress": tr.DataPageAddress, "DataPageOffset": uint64(tr.DataPageOffset),
		"DataPageSize": uint64(tr.DataPageSize), "DebuggerDataOffset": uint64(tr.DebuggerDataOffset),
		"DebuggerDataSize": uint64(tr.DebuggerDataSize), "DataBlocksOffset": uint64(tr.DataBlocksOffset),
		"DataBlocksCount": uint64(tr.DataBlocksCount),
	}
	compareFields(t, "TRIAGE_DUMP64", sections["TRIAGE_DUMP64"], got)

	// rizin's `dr` shows the bug-checking processor's saved context (rip in KeBugCheckEx,
	// rsp = TopOfStack): the CONTEXT KPRCB.Context points to.
	ctx, addr, err := f.TriageProcessorContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("KPRCB.Context at %#x", addr)
	{
		c := ctx.(*cpu.AMD64Context)
		for name, want := range regs {
			var v uint64
			switch name {
			case "mxcsr":
				v = uint64(c.MxCsr)
			case "rflags":
				v = uint64(c.EFlags)
			default:
				var ok bool
				if v, ok = ctx.Register(name); !ok {
					t.Errorf("register %s unknown", name)
					continue
				}
			}
			if v != want {
				t.Errorf("%s = %#x, rizin says %#x", name, v, want)
			}
		}
	}
}

// TestTriageFaultContext checks the header's CONTEXT (also at ContextOffset): the context of
// the fault. Oracles: its rip is the faulting address of bug check parameter 2
// (CATALOG.md), and rip/rsp are rizin's backtrace frame 8
// (amdppm.WriteIoMemRawEx, 0xfffff8048b58334c sp 0xffff850429892120).
func TestTriageFaultContext(t *testing.T) {
	f := openTriage(t)
	for _, get := range []func() (cpu.Context, error){f.Context, f.TriageContext} {
		ctx, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if ctx.PC() != 0xfffff8048b58334c || ctx.SP() != 0xffff850429892120 {
			t.Errorf("pc %#x sp %#x", ctx.PC(), ctx.SP())
		}
	}
	e, err := f.TriageException()
	if err != nil {
		t.Fatal(err)
	}
	// The record at ExceptionOffset (0xF00, the header's own) is the bug check's breakpoint in
	// KeBugCheckEx: its address is rizin's frame 0 pc (0xfffff8047bdf5a80).
	if e.ExceptionAddress != 0xfffff8047bdf5a80 {
		t.Errorf("exception %#x at %#x", e.ExceptionCode, e.ExceptionAddress)
	}
	if e != nil && *e != f.Header.Exception {
		t.Errorf("triage exception %+v differs from the header's %+v", *e, f.Header.Exception)
	}
}

func compareFields(t *testing.T, section string, want, got map[string]uint64) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s.%s: rizin prints it but the test does not check it", section, k)
			continue
		}
		if g != w {
			t.Errorf("%s.%s = %#x, rizin says %#x", section, k, g, w)
		}
	}
}

// TestTriageDrivers checks the driver list against ORACLE_NOTES.md (cdb-checked: 151 modules,
// amdppm.sys at 0xFFFFF8048B580000 size 0x3B000) and CATALOG.md (amdppm.sys ts 0xc9c03000
// SizeOfImage 0x3b000 in the symbol store copy).
func TestTriageDrivers(t *testing.T) {
	f := openTriage(t)
	drivers, err := f.TriageDrivers()
	if err != nil {
		t.Fatal(err)
	}
	if len(drivers) != 151 {
		t.Errorf("%d drivers, want 151", len(drivers))
	}
	var amd *Driver
	for i := range drivers {
		if strings.HasSuffix(strings.ToLower(drivers[i].Name), `\amdppm.sys`) {
			amd = &drivers[i]
		}
	}
	if amd == nil {
		t.Fatal("amdppm.sys not in the driver list")
	}
	if amd.DllBase != 0xFFFFF8048B580000 || amd.SizeOfImage != 0x3B000 || amd.TimeDateStamp != 0xc9c03000 {
		t.Errorf("amdppm.sys base %#x size %#x timestamp %#x", amd.DllBase, amd.SizeOfImage, amd.TimeDateStamp)
	}
	// The faulting address (bug check parameter 2) lies inside amdppm.sys.
	if p := f.Header.BugCheckParameters[1]; p < amd.DllBase || p >= amd.DllBase+uint64(amd.SizeOfImage) {
		t.Errorf("fault address %#x outside amdppm.sys", p)
	}
	// The first entry is the kernel itself: its base is the r15 value rizin shows
	// (0xfffff8047ba00000, KiSystemStartup's image base) and the PE's name.
	if !strings.HasSuffix(drivers[0].Name, `\ntoskrnl.exe`) || drivers[0].DllBase != 0xfffff8047ba00000 {
		t.Errorf("first driver %q at %#x", drivers[0].Name, drivers[0].DllBase)
	}
}

// TestTriageVirtualBlocks checks that the stack block covers every stack pointer of rizin's
// backtrace (expected/rizin_test_db_formats_dmp.txt, frames 0-36) and that the debugger data
// block at KdDebuggerDataBlock starts with a KDBG header (OwnerTag 'KDBG' at +0x10, FORMATS.md §2).
func TestTriageVirtualBlocks(t *testing.T) {
	f := openTriage(t)
	blocks, err := f.VirtualBlocks()
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) < int(f.Triage.DataBlocksCount) {
		t.Errorf("%d virtual blocks for %d data blocks", len(blocks), f.Triage.DataBlocksCount)
	}
	for _, sp := range []uint64{0xffff850429890ee8, 0xffff850429892120, 0xffff850429892c90} {
		var b [8]byte
		if _, err := f.ReadTriageVirtual(b[:], sp); err != nil {
			t.Errorf("stack at %#x: %v", sp, err)
		}
	}
	// The ETHREAD, EPROCESS and KPRCB copies get addresses through the debugger data's offsets
	// (KPRCB.CurrentThread, KTHREAD.ApcState.Process, KiProcessorBlock[Number]).
	for name, get := range map[string]func() (TriageBlock, error){"thread": f.TriageThread, "process": f.TriageProcess, "prcb": f.TriagePrcb} {
		if b, err := get(); err != nil || !b.HasVA || b.Addr < 0xffff800000000000 {
			t.Errorf("%s copy: %+v %v", name, b, err)
		}
	}
	var tag [4]byte
	if _, err := f.ReadTriageVirtual(tag[:], f.Header.KdDebuggerDataBlock+0x10); err != nil || string(tag[:]) != "KDBG" {
		t.Errorf("KDBG tag %q, %v", tag, err)
	}
	if _, err := f.ReadTriageVirtual(tag[:], 0x1000); err == nil {
		t.Error("read at 0x1000 succeeded")
	}
	un, err := f.TriageUnloadedDrivers()
	if err != nil {
		t.Fatal(err)
	}
	// Names as the bytes at 0x20d0 show them (xxd of the fixture).
	var names []string
	for _, u := range un {
		names = append(names, u.Name)
		if u.EndAddress <= u.StartAddress {
			t.Errorf("unloaded %s: %#x-%#x", u.Name, u.StartAddress, u.EndAddress)
		}
	}
	if strings.Join(names, ",") != "dam.sys,WdBoot.sys,hwpolicy.sys,mcupdate.dll" {
		t.Errorf("unloaded drivers %q", names)
	}
}
