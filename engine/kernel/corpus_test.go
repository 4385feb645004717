package kernel

import (
	"testing"

	"wdbg/engine/cpu"
	"wdbg/engine/kdbg"
	"wdbg/engine/kdump"
	"wdbg/engine/pdb"
	"wdbg/internal/corpus"
)

const triageX64 = "rizin-testbins/dmp/triage_x64.dmp"

// triageMem is the triage dump's virtual memory (its blocks, FORMATS.md §1.6).
type triageMem struct{ f *kdump.File }

func (m triageMem) ReadAt(p []byte, a uint64) (int, error) { return m.f.ReadTriageVirtual(p, a) }

func openTriage(t *testing.T) (*kdump.File, *Reader, *kdbg.Data) {
	t.Helper()
	f, err := kdump.Open(corpus.Path(t, triageX64))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	// rizin's header dump: MinorVersion 0x4a61 = build 19041, machine 0x8664.
	if f.Header.MinorVersion != 19041 || f.Arch() != cpu.ArchAMD64 {
		t.Fatalf("build %d %s", f.Header.MinorVersion, f.Arch())
	}
	l, err := BuiltinLayout(cpu.ArchAMD64, f.Header.MinorVersion)
	if err != nil {
		t.Fatal(err)
	}
	db, err := f.TriageDebuggerData()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.Bytes(db)
	if err != nil {
		t.Fatal(err)
	}
	d, err := kdbg.Decode(raw, 8)
	if err != nil {
		t.Fatal(err)
	}
	return f, &Reader{Mem: triageMem{f}, Layout: l}, d
}

// TestTriageThreadAndProcess reads the bug-checking thread's ETHREAD and its EPROCESS with the
// built-in 19041 table (no KDBG offsets, no PDB) and checks them against facts known from
// elsewhere.
func TestTriageThreadAndProcess(t *testing.T) {
	f, r, _ := openTriage(t)
	tb, err := f.TriageThread()
	if err != nil || !tb.HasVA {
		t.Fatalf("triage ETHREAD block: %+v %v", tb, err)
	}
	pb, err := f.TriageProcess()
	if err != nil || !pb.HasVA {
		t.Fatalf("triage EPROCESS block: %+v %v", pb, err)
	}
	th, err := r.Thread(tb.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(th.Unknown) != 0 {
		t.Errorf("unknown thread fields %v", th.Unknown)
	}
	// KTHREAD.Process (0x220, our table) equals the EPROCESS copy's address, which kdump
	// derives from another field (ApcState.Process, through the dump's KDBG offset).
	if th.Process != pb.Addr {
		t.Errorf("KTHREAD.Process %#x; the triage EPROCESS block is at %#x", th.Process, pb.Addr)
	}
	// rizin's backtrace (expected/rizin_test_db_formats_dmp.txt): the thread is a system
	// worker (ExpWorkerThread+261 at 0xfffff8047bc25975 called by PspSystemThreadStartup and
	// KiStartSystemThread), so it belongs to the System process, PID 4, and its start address
	// is nt!ExpWorkerThread = 0xfffff8047bc25975 - 261.
	const expWorkerThread uint64 = 0xfffff8047bc25975 - 261
	if th.PID != 4 {
		t.Errorf("Cid.UniqueProcess %d; a system worker thread is in System (PID 4)", th.PID)
	}
	if th.StartAddress != expWorkerThread || th.Win32StartAddress != expWorkerThread {
		t.Errorf("StartAddress %#x Win32StartAddress %#x; rizin puts ExpWorkerThread at %#x", th.StartAddress, th.Win32StartAddress, expWorkerThread)
	}
	if th.TID == 0 || th.TID%4 != 0 {
		t.Errorf("Cid.UniqueThread %#x is not a handle-like id", th.TID)
	}
	// The bug-checking thread is running (KTHREAD.State 2).
	if StateName(th.State) != "Running" {
		t.Errorf("State %d (%s); the bug-checking thread runs", th.State, StateName(th.State))
	}
	// Stack bounds: rizin's first frame has rsp 0xffff850429890ee8 and its last frame
	// (KiStartSystemThread's caller, the bottom of the stack) sp 0xffff850429892c90, which is
	// where a new system thread's InitialStack points.
	if th.InitialStack != 0xffff850429892c90 {
		t.Errorf("InitialStack %#x; rizin's outermost frame sp is 0xffff850429892c90", th.InitialStack)
	}
	if !(th.StackLimit < 0xffff850429890ee8 && th.InitialStack <= th.StackBase && th.StackBase-th.StackLimit == 0x6000) {
		t.Errorf("stack [%#x, %#x): must hold rsp 0xffff850429890ee8 and span the 24 KB x64 kernel stack", th.StackLimit, th.StackBase)
	}
	if th.Teb != 0 {
		t.Errorf("a system thread has no TEB: %#x", th.Teb)
	}

	p, err := r.Process(th.Process)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Unknown) != 0 {
		t.Errorf("unknown process fields %v", p.Unknown)
	}
	if p.ImageName != "System" || p.PID != 4 || p.ParentPID != 0 || p.Peb != 0 {
		t.Errorf("process %q PID %d parent %d Peb %#x; want System, 4, 0, no PEB", p.ImageName, p.PID, p.ParentPID, p.Peb)
	}
	// The header's DirectoryTableBase (rizin: 0x1ad000) is the CR3 of the address space the
	// crash happened in: System's, since the thread runs in it.
	if p.DirBase != f.Header.DirectoryTableBase || p.DirBase != 0x1ad000 {
		t.Errorf("DirBase %#x; the dump header (rizin) says 0x1ad000", p.DirBase)
	}
	if p.ThreadListHead != pb.Addr+0x5e0 || p.ActiveThreads == 0 {
		t.Errorf("ThreadListHead %#x ActiveThreads %d", p.ThreadListHead, p.ActiveThreads)
	}
}

// TestTriageProcessors reads KiProcessorBlock: the triage dump holds every KPRCB as a data
// block (16 processors, rizin: NumberProcessors 0x10).
func TestTriageProcessors(t *testing.T) {
	f, r, d := openTriage(t)
	ps, err := r.Processors(d.KiProcessorBlock, int(f.Header.NumberProcessors))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 16 {
		t.Fatalf("%d processors; rizin's header says 16", len(ps))
	}
	tb, _ := f.TriageThread()
	cb, _ := f.TriagePrcb()
	idle := 0
	for _, p := range ps {
		if p.Err != nil || p.ContextError != nil {
			t.Errorf("processor %d: %v / %v", p.Number, p.Err, p.ContextError)
			continue
		}
		// The crashing driver is amdppm.sys (CATALOG, ORACLE_NOTES): an AMD processor.
		if p.VendorString != "AuthenticAMD" || p.MHz == 0 {
			t.Errorf("processor %d vendor %q MHz %d", p.Number, p.VendorString, p.MHz)
		}
		if p.Pcr != p.Prcb-0x180 { // FORMATS.md §1.7
			t.Errorf("processor %d KPCR %#x", p.Number, p.Pcr)
		}
		if p.CurrentThread == p.IdleThread {
			idle++
		}
	}
	if idle == 0 || idle == 16 {
		t.Errorf("%d idle processors; some but not all should be idle", idle)
	}
	// Processor 0 is the bug-checking one: its KPRCB is the triage PRCB copy, its current
	// thread the triage ETHREAD, and its saved context equals rizin's `dr` output.
	p0 := ps[0]
	if p0.Prcb != cb.Addr || p0.CurrentThread != tb.Addr {
		t.Errorf("processor 0 KPRCB %#x thread %#x; triage PRCB %#x thread %#x", p0.Prcb, p0.CurrentThread, cb.Addr, tb.Addr)
	}
	c, ok := p0.Context.(*cpu.AMD64Context)
	if !ok {
		t.Fatalf("context %T", p0.Context)
	}
	for _, v := range []struct {
		name      string
		got, want uint64
	}{
		{"rip", c.Rip, 0xfffff8047bdf5a80}, {"rsp", c.Rsp, 0xffff850429890ee8}, {"rbp", c.Rbp, 0xffff850429892c10},
		{"rax", c.Rax, 0xffff850429891720}, {"rcx", c.Rcx, 0x7e}, {"rdx", c.Rdx, 0xffffffffc0000005},
		{"rbx", c.Rbx, 0xfffff8047ba82b68}, {"r8", c.R8, 0xfffff8048b58334c}, {"r15", c.R15, 0xfffff8047ba00000},
	} {
		if v.got != v.want {
			t.Errorf("processor 0 %s = %#x; rizin dr says %#x", v.name, v.got, v.want)
		}
	}
}

// TestPDBTypesIRP checks the PDB adapter, nested paths included, on amdppm.pdb (a WDK-built
// driver PDB that carries the public _IRP type), and the wdm.h IRP facts against it.
func TestPDBTypesIRP(t *testing.T) {
	f, err := pdb.Open(corpus.Path(t, "test-pdb-repository/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ts := PDBTypes(f)
	l := layout19041(t).WithTypes(ts)
	for _, field := range []string{"Type", "Size", "MdlAddress", "Flags", "ThreadListEntry"} {
		fact, _ := codeFact(cpu.ArchAMD64, "_IRP", field)
		off, src, ok := l.Offset("_IRP", field)
		if !ok || src != SourcePDB || off != fact {
			t.Errorf("_IRP.%s: PDB %#x (%s, %v), fact %#x", field, off, src, ok, fact)
		}
	}
	// IoGetCurrentIrpStackLocation reads Irp->Tail.Overlay.CurrentStackLocation, the well-known
	// [rcx+0B8h] of x64 drivers; sizeof(IRP) is 0xD0 on x64.
	if off, ok := ts.FieldOffset("_IRP", "Tail.Overlay.CurrentStackLocation"); !ok || off != 0xB8 {
		t.Errorf("_IRP.Tail.Overlay.CurrentStackLocation %#x %v; want 0xb8", off, ok)
	}
	if n, ok := ts.StructSize("_IRP"); !ok || n != 0xD0 {
		t.Errorf("sizeof _IRP %#x %v", n, ok)
	}
	if _, ok := ts.FieldOffset("_IRP", "Tail.NoSuchField"); ok {
		t.Error("a missing nested field was found")
	}
	if _, ok := ts.FieldOffset("_NO_SUCH_TYPE", "X"); ok {
		t.Error("a missing type was found")
	}
	// Fields the PDB lacks fall through to the table.
	if _, src, _ := l.Offset("_EPROCESS", "UniqueProcessId"); src != SourceTable {
		t.Errorf("_EPROCESS from %s; this PDB has no _EPROCESS", src)
	}
}
