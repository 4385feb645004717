package kernel

import (
	"errors"
	"testing"

	"wdbg/engine/cpu"
)

// Offsets of Windows 10 19041 x64, typed here from FORMATS.md §5 independently of the
// generated tables, so that a transcription error in layouts/x64.txt fails these tests.
const (
	epDirBase      = 0x28  // _EPROCESS Pcb.DirectoryTableBase
	epKernelTime   = 0x37c // Pcb.KernelTime
	epUserTime     = 0x380 // Pcb.UserTime
	epPID          = 0x440 // UniqueProcessId
	epLinks        = 0x448 // ActiveProcessLinks
	epFlags        = 0x464
	epCreateTime   = 0x468
	epVirtualSize  = 0x498
	epToken        = 0x4b8
	epJob          = 0x510
	epParentPID    = 0x540 // InheritedFromUniqueProcessId
	epPeb          = 0x550
	epObjectTable  = 0x570
	epWow64        = 0x580 // WoW64Process
	epImageName    = 0x5a8 // ImageFileName
	epThreadList   = 0x5e0 // ThreadListHead
	epActive       = 0x5f0 // ActiveThreads
	epExitStatus   = 0x7d4
	epVadRoot      = 0x7d8
	epSize         = 0xa40
	ktInitialStack = 0x28
	ktStackLimit   = 0x30
	ktStackBase    = 0x38
	ktKernelStack  = 0x58
	ktTrapFrame    = 0x90
	ktApcProcess   = 0xb8 // ApcState.Process
	ktPriority     = 0xc3
	ktTeb          = 0xf0
	ktCtxSwitches  = 0x154
	ktState        = 0x184
	ktWaitIrql     = 0x186
	ktWaitMode     = 0x187
	ktWaitTime     = 0x1b4
	ktWin32Thread  = 0x1c8
	ktNextProc     = 0x218
	ktProcess      = 0x220
	ktBasePriority = 0x233
	ktWaitReason   = 0x283
	ktSuspendCount = 0x284
	ktKernelTime   = 0x28c
	ktUserTime     = 0x2dc
	etStartAddress = 0x450
	etCidProcess   = 0x478
	etCidThread    = 0x480
	etIrpList      = 0x4b0
	etWin32Start   = 0x4d0
	etThreadLinks  = 0x4e8 // _ETHREAD ThreadListEntry
	etSize         = 0x898
	ldrDllBase     = 0x30 // _KLDR_DATA_TABLE_ENTRY
	ldrSizeOfImage = 0x40
	ldrFullName    = 0x48
	ldrBaseName    = 0x58
	ldrCheckSum    = 0x78
	ldrTimeStamp   = 0x9c
	ldrSize        = 0xa0
)

const (
	psHead  = 0xfffff80000100000 // nt!PsActiveProcessHead
	lmHead  = 0xfffff80000100100 // nt!PsLoadedModuleList
	proc0   = 0xffffa00000010000
	thread0 = 0xffffa00000200000
)

func layout19041(t *testing.T) *Layout {
	t.Helper()
	l, err := BuiltinLayout(cpu.ArchAMD64, 19041)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// buildProcesses19041 lays out three EPROCESSes on the active process list.
func buildProcesses19041(m *fakeMem) []uint64 {
	m.alloc(psHead, 0x200)
	names := []string{"System", "smss.exe", "averyveryverylongname.exe"}
	var addrs, links []uint64
	for i, name := range names {
		a := proc0 + uint64(i)*0x1000
		m.alloc(a, epSize)
		m.u8(a, dispatcherProcess)
		m.u64(a+epPID, uint64(4+i*100))
		m.u64(a+epParentPID, uint64(i*4))
		m.u64(a+epDirBase, 0x1ad000+uint64(i)*0x1000)
		m.u64(a+epPeb, 0x7ff000+uint64(i))
		m.u64(a+epObjectTable, 0xffffb00000000000+uint64(i))
		m.u64(a+epToken, 0xffffb10000000000+uint64(i)*0x100+0xD) // EX_FAST_REF: 0xD refs
		m.put(a+epImageName, []byte(name)[:min(len(name), 15)])
		m.u64(a+epCreateTime, 132583451020698648+uint64(i))
		m.u64(a+epVadRoot, 0xffffb20000000000+uint64(i))
		m.u64(a+epJob, uint64(i)*0x10)
		m.u64(a+epWow64, uint64(i)*0x20)
		m.u32(a+epKernelTime, uint32(10+i))
		m.u32(a+epUserTime, uint32(20+i))
		m.u32(a+epActive, uint32(1+i))
		m.u64(a+epVirtualSize, 0x100000*uint64(i+1))
		m.u32(a+epFlags, 0x14000000+uint32(i))
		m.u32(a+epExitStatus, 0x103)
		m.link(a + epThreadList) // empty thread list
		addrs = append(addrs, a)
		links = append(links, a+epLinks)
	}
	m.link(psHead, links...)
	return addrs
}

func TestProcessList19041x64(t *testing.T) {
	m := newFakeMem(8)
	addrs := buildProcesses19041(m)
	r := &Reader{Mem: m, Layout: layout19041(t)}
	ps, err := r.Processes(psHead)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 {
		t.Fatalf("%d processes, want 3", len(ps))
	}
	for i, p := range ps {
		a := addrs[i]
		for _, c := range []struct {
			name      string
			got, want uint64
		}{
			{"Addr", p.Addr, a},
			{"PID", p.PID, uint64(4 + i*100)},
			{"ParentPID", p.ParentPID, uint64(i * 4)},
			{"DirBase", p.DirBase, 0x1ad000 + uint64(i)*0x1000},
			{"Peb", p.Peb, 0x7ff000 + uint64(i)},
			{"ObjectTable", p.ObjectTable, 0xffffb00000000000 + uint64(i)},
			{"Token", p.Token, 0xffffb10000000000 + uint64(i)*0x100 + 0xD},
			{"TokenAddr (4 low bits masked on x64)", p.TokenAddr(), 0xffffb10000000000 + uint64(i)*0x100},
			{"CreateTime", p.CreateTime, 132583451020698648 + uint64(i)},
			{"VadRoot", p.VadRoot, 0xffffb20000000000 + uint64(i)},
			{"Job", p.Job, uint64(i) * 0x10},
			{"Wow64Process", p.Wow64Process, uint64(i) * 0x20},
			{"KernelTime", uint64(p.KernelTime), uint64(10 + i)},
			{"UserTime", uint64(p.UserTime), uint64(20 + i)},
			{"ActiveThreads", uint64(p.ActiveThreads), uint64(1 + i)},
			{"VirtualSize", p.VirtualSize, 0x100000 * uint64(i+1)},
			{"Flags", uint64(p.Flags), 0x14000000 + uint64(i)},
			{"ExitStatus", uint64(p.ExitStatus), 0x103},
			{"ThreadListHead", p.ThreadListHead, a + epThreadList},
		} {
			if c.got != c.want {
				t.Errorf("process %d %s = %#x, want %#x", i, c.name, c.got, c.want)
			}
		}
		if len(p.Unknown) != 0 {
			t.Errorf("process %d: unknown fields %v", i, p.Unknown)
		}
		// 19041 has no _HANDLE_TABLE.HandleCount (FORMATS.md §5: "-" after 7601).
		if p.HasHandleCount {
			t.Errorf("process %d: HandleCount claimed on 19041", i)
		}
	}
	if ps[0].ImageName != "System" || ps[2].ImageName != "averyveryverylo" {
		t.Errorf("image names %q, %q (ImageFileName holds 15 bytes)", ps[0].ImageName, ps[2].ImageName)
	}
}

func TestThreadList19041x64(t *testing.T) {
	m := newFakeMem(8)
	addrs := buildProcesses19041(m)
	var links []uint64
	for i := range 2 {
		a := thread0 + uint64(i)*0x1000
		m.alloc(a, etSize)
		m.u8(a, dispatcherThread)
		m.u64(a+ktInitialStack, 0xffff850000006000+uint64(i))
		m.u64(a+ktStackLimit, 0xffff850000000000)
		m.u64(a+ktStackBase, 0xffff850000006000)
		m.u64(a+ktKernelStack, 0xffff850000005000+uint64(i)*0x100000)
		m.u64(a+ktTrapFrame, 0xffff850000005e00)
		m.u64(a+ktApcProcess, addrs[1])
		m.u64(a+ktProcess, addrs[1])
		m.u8(a+ktPriority, 9)
		m.u64(a+ktTeb, 0x3f000+uint64(i))
		m.u32(a+ktCtxSwitches, 1000+uint32(i))
		m.u8(a+ktState, 5)
		m.u8(a+ktWaitIrql, 0)
		m.u8(a+ktWaitMode, 1)
		m.u32(a+ktWaitTime, 777)
		m.u64(a+ktWin32Thread, 0xffffc00000000000)
		m.u32(a+ktNextProc, 0x80000003) // SharedReadyQueue bit set, processor 3
		m.u8(a+ktBasePriority, 8)
		m.u8(a+ktWaitReason, 6) // UserRequest
		m.u8(a+ktSuspendCount, 1)
		m.u32(a+ktKernelTime, 55)
		m.u32(a+ktUserTime, 66)
		m.u64(a+etStartAddress, 0x7ff700001000)
		m.u64(a+etCidProcess, 104)
		m.u64(a+etCidThread, 200+uint64(i))
		m.u64(a+etWin32Start, 0x7ff700002000)
		links = append(links, a+etThreadLinks)
	}
	m.link(addrs[1]+epThreadList, links...)
	// One IRP on thread 0 (IRP.ThreadListEntry @0x20, Type @0, Size @2, MdlAddress @8,
	// Flags @0x10: public wdm.h IRP layout).
	const irp = 0xffffd00000000000
	m.alloc(irp, 0xd0)
	m.u16(irp, 6)
	m.u16(irp+2, 0x118)
	m.u64(irp+8, 0xffffd10000000000)
	m.u32(irp+0x10, 0x60000)
	m.link(thread0+etIrpList, irp+0x20)
	m.link(thread0 + 0x1000 + etIrpList)
	// Thread 0's switch frame at KernelStack: Rbp @0x30, Return @0x38, size 0x40.
	m.alloc(0xffff850000005000, 0x40)
	m.u64(0xffff850000005030, 0xffff850000005f00)
	m.u64(0xffff850000005038, 0xfffff80000401234)

	r := &Reader{Mem: m, Layout: layout19041(t)}
	p, err := r.Process(addrs[1])
	if err != nil {
		t.Fatal(err)
	}
	ts, err := r.Threads(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 {
		t.Fatalf("%d threads, want 2", len(ts))
	}
	th := ts[0]
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"Addr", th.Addr, thread0},
		{"Process", th.Process, addrs[1]},
		{"ApcProcess", th.ApcProcess, addrs[1]},
		{"PID", th.PID, 104},
		{"TID", th.TID, 200},
		{"Teb", th.Teb, 0x3f000},
		{"Win32Thread", th.Win32Thread, 0xffffc00000000000},
		{"StartAddress", th.StartAddress, 0x7ff700001000},
		{"Win32StartAddress", th.Win32StartAddress, 0x7ff700002000},
		{"State", uint64(th.State), 5},
		{"WaitReason", uint64(th.WaitReason), 6},
		{"WaitMode", uint64(th.WaitMode), 1},
		{"Priority", uint64(th.Priority), 9},
		{"BasePriority", uint64(th.BasePriority), 8},
		{"ContextSwitches", uint64(th.ContextSwitches), 1000},
		{"WaitTime", uint64(th.WaitTime), 777},
		{"KernelTime", uint64(th.KernelTime), 55},
		{"UserTime", uint64(th.UserTime), 66},
		{"SuspendCount", uint64(th.SuspendCount), 1},
		{"InitialStack", th.InitialStack, 0xffff850000006000},
		{"StackLimit", th.StackLimit, 0xffff850000000000},
		{"StackBase", th.StackBase, 0xffff850000006000},
		{"KernelStack", th.KernelStack, 0xffff850000005000},
		{"TrapFrame", th.TrapFrame, 0xffff850000005e00},
		{"NextProcessor", uint64(th.NextProcessor), 3},
		{"thread 1 TID", ts[1].TID, 201},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
	if StateName(th.State) != "Waiting" || WaitReasonName(th.WaitReason) != "UserRequest" {
		t.Errorf("names %s/%s (FORMATS.md §5.1: 5 Waiting, 6 UserRequest)", StateName(th.State), WaitReasonName(th.WaitReason))
	}
	if len(th.Unknown) != 0 {
		t.Errorf("unknown fields %v", th.Unknown)
	}
	if th.IRPError != nil || len(th.IRPs) != 1 {
		t.Fatalf("IRPs %+v, %v", th.IRPs, th.IRPError)
	}
	if got := th.IRPs[0]; got != (IRPInfo{Addr: irp, Type: 6, Size: 0x118, Flags: 0x60000, MdlAddress: 0xffffd10000000000}) {
		t.Errorf("IRP %+v", got)
	}
	if len(ts[1].IRPs) != 0 || ts[1].IRPError != nil {
		t.Errorf("thread 1 IRPs %+v %v", ts[1].IRPs, ts[1].IRPError)
	}

	ctx, err := r.SwitchContext(th)
	if err != nil {
		t.Fatal(err)
	}
	if ctx.PC() != 0xfffff80000401234 || ctx.SP() != 0xffff850000005040 || ctx.FP() != 0xffff850000005f00 {
		t.Errorf("switch context pc %#x sp %#x fp %#x", ctx.PC(), ctx.SP(), ctx.FP())
	}
	if _, err := r.SwitchContext(ts[1]); err == nil {
		t.Error("thread 1's KernelStack is unmapped, yet SwitchContext succeeded")
	}
}

func TestModuleList19041x64(t *testing.T) {
	m := newFakeMem(8)
	m.alloc(lmHead, 0x10)
	mods := []struct {
		full, base string
		dll        uint64
		size, ts   uint32
	}{
		{`\SystemRoot\system32\ntoskrnl.exe`, "ntoskrnl.exe", 0xfffff8047ba00000, 0x1046000, 0x5f3e0b7c},
		{`\SystemRoot\system32\hal.dll`, "hal.dll", 0xfffff8047b800000, 0x6000, 0x12345678},
		{`\SystemRoot\System32\drivers\amdppm.sys`, "amdppm.sys", 0xfffff8048b580000, 0x3b000, 0xc9c03000},
	}
	var links []uint64
	for i, mod := range mods {
		e := 0xffffe00000000000 + uint64(i)*0x1000
		m.alloc(e, ldrSize)
		m.u64(e+ldrDllBase, mod.dll)
		m.u32(e+ldrSizeOfImage, mod.size)
		m.u32(e+ldrTimeStamp, mod.ts)
		m.u32(e+ldrCheckSum, 0xabc+uint32(i))
		m.unicode(e+ldrFullName, e+0x400, mod.full)
		m.unicode(e+ldrBaseName, e+0x800, mod.base)
		links = append(links, e)
	}
	m.link(lmHead, links...)
	r := &Reader{Mem: m, Layout: layout19041(t)}
	got, err := r.LoadedModules(lmHead)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d modules", len(got))
	}
	for i, mod := range mods {
		g := got[i]
		if g.FullName != mod.full || g.BaseName != mod.base || g.Base != mod.dll || g.Size != mod.size ||
			g.TimeDateStamp != mod.ts || g.CheckSum != 0xabc+uint32(i) || g.NameError != nil || len(g.Unknown) != 0 {
			t.Errorf("module %d: %+v", i, g)
		}
	}
}

func TestListLoop(t *testing.T) {
	m := newFakeMem(8)
	addrs := buildProcesses19041(m)
	// Process 2's Flink goes back to process 1 instead of the head.
	m.u64(addrs[2]+epLinks, addrs[1]+epLinks)
	r := &Reader{Mem: m, Layout: layout19041(t)}
	ps, err := r.Processes(psHead)
	var le *ListError
	if !errors.As(err, &le) {
		t.Fatalf("error %v, want a *ListError", err)
	}
	if len(ps) != 3 || le.Entry != addrs[2]+epLinks {
		t.Errorf("%d processes before the break at %#x (%v); want 3, broken at process 2's links", len(ps), le.Entry, err)
	}
}

func TestListUnreadableFlink(t *testing.T) {
	m := newFakeMem(8)
	addrs := buildProcesses19041(m)
	m.u64(addrs[1]+epLinks, 0xffff999900000000) // not mapped
	r := &Reader{Mem: m, Layout: layout19041(t)}
	ps, err := r.Processes(psHead)
	var le *ListError
	if !errors.As(err, &le) || le.Entry != addrs[1]+epLinks {
		t.Fatalf("error %v, want a *ListError at process 1's links", err)
	}
	if len(ps) != 2 || ps[1].ImageName != "smss.exe" {
		t.Errorf("partial answer: %d processes", len(ps))
	}
	// The head itself unreadable: no processes and an error.
	if ps, err := r.Processes(0xfffff80000900000); err == nil || len(ps) != 0 {
		t.Errorf("unreadable head: %d processes, %v", len(ps), err)
	}
}

// endlessMem is a list that never returns to its head: entry x links to x+16 and back.
type endlessMem struct{}

func (endlessMem) ReadAt(p []byte, addr uint64) (int, error) {
	for i := range p {
		a := addr + uint64(i)
		word := a &^ 7
		v := word + 16 // Flink of the entry at word
		if word%16 == 8 {
			v = word - 8 - 16 // Blink of the entry at word-8
		}
		p[i] = byte(v >> (8 * (a & 7)))
	}
	return len(p), nil
}

func TestListCap(t *testing.T) {
	r := &Reader{Mem: endlessMem{}, Layout: layout19041(t)}
	n := 0
	err := r.walkList("endless", 0x10000, func(uint64) error { n++; return nil })
	var le *ListError
	if !errors.As(err, &le) || n != MaxListEntries {
		t.Errorf("visited %d entries, error %v; want the cap %d and a *ListError", n, err, MaxListEntries)
	}
}
