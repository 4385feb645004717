package ksynth

import (
	"sort"

	pw "wdbg/engine/internal/pdbwrite"
)

// kernelTypes are the kernel structures as PDB type records: every field the writer placed,
// at the profile's offset, named as the kernel's public symbols name it. A debugger that loads
// the PDB takes its structure offsets from these types instead of its built-in tables, as it
// would from a real ntkrnlmp.pdb; for a machine with no built-in tables (ARM64) they are the
// only source besides the KDBG block.
//
// Embedded structures (_EPROCESS.Pcb, _ETHREAD.Tcb, _KPCR.Prcb) are sized to end where the
// first field the writer placed after them begins: a bound, not the real size, which the
// writer does not know. Fields a profile leaves 0 in the optional set below are absent.
func (p *profile) kernelTypes() []pw.Struct {
	var t typeSet
	P := uint64(p.ptr)
	ptr := pw.Pointer(p.ptr, nil)
	word := pw.Unsigned(p.ptr) // ULONG_PTR-like fields (EX_FAST_REF, KAFFINITY, page counts)
	list := pw.Named("_LIST_ENTRY")

	t.add("_LIST_ENTRY", 2*P, false,
		member("Flink", 0, pw.Pointer(p.ptr, &list)), member("Blink", P, pw.Pointer(p.ptr, &list)))
	wchar := pw.WChar
	t.add("_UNICODE_STRING", 2*P, false,
		member("Length", 0, pw.UShort), member("MaximumLength", 2, pw.UShort), member("Buffer", P, pw.Pointer(p.ptr, &wchar)))
	t.add("_LARGE_INTEGER", 8, true, member("LowPart", 0, pw.ULong), member("HighPart", 4, pw.Long),
		member("QuadPart", 0, pw.Quad))
	largeInt := pw.Named("_LARGE_INTEGER")
	t.add("_CLIENT_ID", 2*P, false, member("UniqueProcess", 0, ptr), member("UniqueThread", P, ptr))
	apcProcess := 4 * P // KAPC_STATE: ApcListHead[2] (two LIST_ENTRYs), then Process
	t.add("_KAPC_STATE", apcProcess+P+8, false,
		member("ApcListHead", 0, pw.ArrayOf(list, 2)), member("Process", apcProcess, ptr))

	e := p.eprocess
	t.add("_KPROCESS", lowestOffset(e.uniqueProcessID, e.activeProcessLinks, e.createTime, e.token, e.objectTable,
		e.parentPID, e.peb, e.imageFileName, e.threadListHead, e.virtualSize, e.sectionBaseAddress), false,
		member("DirectoryTableBase", e.dirBase, word), member("ThreadListHead", e.pcbThreadListHead, list),
		member("KernelTime", e.kernelTime, pw.ULong), member("UserTime", e.userTime, pw.ULong),
		member("BasePriority", e.basePriority, pw.Char))
	t.add("_EPROCESS", e.size, false,
		member("Pcb", 0, pw.Named("_KPROCESS")), member("UniqueProcessId", e.uniqueProcessID, ptr),
		member("ActiveProcessLinks", e.activeProcessLinks, list), member("CreateTime", e.createTime, largeInt),
		member("VirtualSize", e.virtualSize, word), member("Token", e.token, word),
		member("ObjectTable", e.objectTable, pw.Pointer(p.ptr, ref("_HANDLE_TABLE"))),
		member("SectionBaseAddress", e.sectionBaseAddress, ptr),
		member("InheritedFromUniqueProcessId", e.parentPID, ptr), member("Peb", e.peb, pw.Pointer(p.ptr, ref("_PEB"))),
		member("ImageFileName", e.imageFileName, pw.ArrayOf(pw.UChar, 15)), member("PriorityClass", e.priorityClass, pw.UChar),
		member("ThreadListHead", e.threadListHead, list), member("ActiveThreads", e.activeThreads, pw.ULong),
		optional("CommitCharge", e.commitCharge, word))

	k := p.kthread
	th := p.ethread
	t.add("_KTHREAD", lowestOffset(th.createTime, th.startAddress, th.cid, th.irpList, th.win32StartAddress, th.threadListEntry), false,
		member("InitialStack", k.initialStack, ptr), member("StackLimit", k.stackLimit, ptr),
		member("StackBase", k.stackBase, ptr), member("KernelStack", k.kernelStack, ptr),
		member("TrapFrame", k.trapFrame, ptr), member("ApcState", k.apcProcess-apcProcess, pw.Named("_KAPC_STATE")),
		member("Priority", k.priority, pw.Char), member("Teb", k.teb, ptr),
		member("ContextSwitches", k.contextSwitches, pw.ULong), member("State", k.state, pw.UChar),
		member("WaitIrql", k.waitIrql, pw.UChar), member("WaitMode", k.waitMode, pw.Char),
		member("WaitTime", k.waitTime, pw.ULong), member("NextProcessor", k.nextProcessor, pw.ULong),
		member("Process", k.process, pw.Pointer(p.ptr, ref("_KPROCESS"))), member("PreviousMode", k.previousMode, pw.Char),
		member("BasePriority", k.basePriority, pw.Char), member("Affinity", k.affinity, word),
		member("WaitReason", k.waitReason, pw.UChar), member("KernelTime", k.kernelTime, pw.ULong),
		member("UserTime", k.userTime, pw.ULong), member("ThreadListEntry", k.threadListEntry, list))
	t.add("_ETHREAD", th.size, false,
		member("Tcb", 0, pw.Named("_KTHREAD")), member("CreateTime", th.createTime, largeInt),
		member("StartAddress", th.startAddress, ptr), member("Cid", th.cid, pw.Named("_CLIENT_ID")),
		member("IrpList", th.irpList, list), member("Win32StartAddress", th.win32StartAddress, ptr),
		member("ThreadListEntry", th.threadListEntry, list))

	// KPROCESSOR_STATE: x64 puts the special registers (0xF0 bytes) before the CONTEXT, x86
	// puts the CONTEXT first (the KPRCB columns of FORMATS.md §5: ProcessorState 0x100 and
	// ContextFrame 0x1F0 on x64 19041; both 0x18 on x86 7601). Other machines: CONTEXT first.
	ctxIn := uint64(0)
	if p.machine == 0x8664 {
		ctxIn = 0xF0
	}
	t.add("_CONTEXT", p.contextSize(), false)
	t.add("_KPROCESSOR_STATE", ctxIn+p.contextSize(), false, member("ContextFrame", ctxIn, pw.Named("_CONTEXT")))
	c := p.kprcb
	kthread := ref("_KTHREAD")
	t.add("_KPRCB", c.size, false,
		member("CurrentThread", c.currentThread, pw.Pointer(p.ptr, kthread)),
		member("NextThread", c.nextThread, pw.Pointer(p.ptr, kthread)),
		member("IdleThread", c.idleThread, pw.Pointer(p.ptr, kthread)),
		member("Number", c.number, pw.UShort), member("CpuType", c.cpuType, pw.Char), member("MHz", c.mhz, pw.ULong),
		member("ProcessorState", c.contextFrame-ctxIn, pw.Named("_KPROCESSOR_STATE")),
		member("Context", c.context, pw.Pointer(p.ptr, ref("_CONTEXT"))), member("DpcStack", c.dpcStack, ptr),
		optional("IsrStack", c.isrStack, ptr), member("VendorString", c.vendorString, pw.ArrayOf(pw.UChar, 13)),
		optional("KernelDirectoryTableBase", c.kernelDirectoryTableBase, pw.UQuad))

	pc := p.kpcr
	prcb := ref("_KPRCB")
	if p.is64 {
		t.add("_KPCR", pc.size, false,
			member("Self", pc.self, pw.Pointer(p.ptr, ref("_KPCR"))), member("CurrentPrcb", pc.currentPrcb, pw.Pointer(p.ptr, prcb)),
			member("Irql", pc.irql, pw.UChar), member("KdVersionBlock", pc.kdVersionBlock, ptr),
			member("Prcb", pc.prcb, pw.Named("_KPRCB")))
	} else {
		t.add("_KPCR", pc.size, false,
			member("SelfPcr", pc.self, pw.Pointer(p.ptr, ref("_KPCR"))), member("Prcb", pc.currentPrcb, pw.Pointer(p.ptr, prcb)),
			member("Irql", pc.irql, pw.UChar), member("KdVersionBlock", pc.kdVersionBlock, ptr),
			optional("Number", pc.number, pw.UChar), member("PrcbData", pc.prcb, pw.Named("_KPRCB")))
	}

	// The kernel's module list entries: KLDR_DATA_TABLE_ENTRY from Windows 10 on, the
	// LDR_DATA_TABLE_ENTRY layout before (FORMATS.md §5.1).
	ldrName := "_LDR_DATA_TABLE_ENTRY"
	if p.build >= 10240 {
		ldrName = "_KLDR_DATA_TABLE_ENTRY"
	}
	l := p.ldr
	ustr := pw.Named("_UNICODE_STRING")
	t.add(ldrName, l.size, false,
		member("InLoadOrderLinks", l.inLoadOrderLinks, list), optional("ExceptionTable", l.exceptionTable, ptr),
		optional("ExceptionTableSize", l.exceptionTableSize, pw.ULong), member("DllBase", l.dllBase, ptr),
		member("EntryPoint", l.entryPoint, ptr), member("SizeOfImage", l.sizeOfImage, pw.ULong),
		member("FullDllName", l.fullDllName, ustr), member("BaseDllName", l.baseDllName, ustr),
		member("Flags", l.flags, pw.ULong), member("LoadCount", l.loadCount, pw.UShort),
		member("CheckSum", l.checkSum, pw.ULong), member("TimeDateStamp", l.timeDateStamp, pw.ULong),
		optional("SizeOfImageNotRounded", l.sizeOfImageNotRounded, pw.ULong))

	h := p.handles
	t.add("_HANDLE_TABLE", h.size, false,
		member("NextHandleNeedingPool", h.nextHandleNeedingPool, pw.ULong), member("TableCode", h.tableCode, word),
		member("QuotaProcess", h.quotaProcess, pw.Pointer(p.ptr, ref("_EPROCESS"))),
		member("HandleTableList", h.handleTableList, list), member("UniqueProcessId", h.uniqueProcessID, ptr),
		optional("HandleCount", h.handleCount, pw.ULong))

	pb := p.peb
	t.add("_PEB", pb.sessionID+4, false,
		member("ImageBaseAddress", pb.imageBaseAddress, ptr), member("Ldr", pb.ldr, ptr),
		member("ProcessParameters", pb.processParameters, ptr), member("NumberOfProcessors", pb.numberOfProcessors, pw.ULong),
		member("OSMajorVersion", pb.osMajorVersion, pw.ULong), member("OSMinorVersion", pb.osMinorVersion, pw.ULong),
		member("OSBuildNumber", pb.osBuildNumber, pw.UShort), member("OSPlatformId", pb.osPlatformID, pw.ULong),
		member("SessionId", pb.sessionID, pw.ULong))

	// wdm.h IRP: Type @0, Size @2, then the fields the writer sets; its size without the stack
	// location that follows it (profile.go's irp comment).
	ir := p.irp
	irpSize := uint64(0x70)
	if p.is64 {
		irpSize = 0xD0
	}
	t.add("_IRP", irpSize, false,
		member("Type", 0, pw.Short), member("Size", 2, pw.UShort), member("MdlAddress", ir.mdlAddress, ptr),
		member("Flags", ir.flags, pw.ULong), member("ThreadListEntry", ir.threadListEntry, list))

	// The switch frame the writer puts at a waiting thread's KernelStack (stacks.go). ARM64 has
	// none (no facts), so no type.
	switch p.machine {
	case 0x8664:
		t.add("_KSWITCH_FRAME", 0x40, false, member("Rbp", 0x30, pw.UQuad), member("Return", 0x38, pw.UQuad))
	case 0x14C:
		t.add("_KSWITCH_FRAME", 0xC, false, member("ExceptionList", 0, ptr), member("ApcBypassDisable", 4, pw.ULong),
			member("RetAddr", 8, ptr))
	}
	p.poolDescriptorType(&t) // Windows 7's paged pool descriptors (pool_pagedpools.go)
	return t.structs
}

// contextSize is sizeof(CONTEXT) for the machine (FORMATS.md §4.4).
func (p *profile) contextSize() uint64 {
	switch p.machine {
	case 0x8664:
		return 0x4D0
	case 0x14C:
		return 0x2CC
	}
	return 0x390 // ARM64
}

// typeSet collects structures, dropping absent members.
type typeSet struct {
	structs []pw.Struct
}

// typedMember is a member that may be absent (an optional field the profile left 0).
type typedMember struct {
	m      pw.Member
	absent bool
}

func (t *typeSet) add(name string, size uint64, union bool, members ...typedMember) {
	s := pw.Struct{Name: name, Size: size, Union: union}
	for _, m := range members {
		if !m.absent {
			s.Members = append(s.Members, m.m)
		}
	}
	// Declaration order is offset order, as in a compiler's field list.
	sort.SliceStable(s.Members, func(i, j int) bool { return s.Members[i].Offset < s.Members[j].Offset })
	t.structs = append(t.structs, s)
}

func member(name string, off uint64, typ pw.Type) typedMember {
	return typedMember{m: pw.Member{Name: name, Offset: off, Type: typ}}
}

// optional is a member whose offset 0 means "not in this build" (the profile's convention for
// these fields; no such field is at offset 0 in any real layout).
func optional(name string, off uint64, typ pw.Type) typedMember {
	return typedMember{m: pw.Member{Name: name, Offset: off, Type: typ}, absent: off == 0}
}

func ref(name string) *pw.Type {
	t := pw.Named(name)
	return &t
}

// lowestOffset is the smallest of the offsets: where an embedded structure must end.
func lowestOffset(offs ...uint64) uint64 {
	lo := offs[0]
	for _, o := range offs[1:] {
		lo = min(lo, o)
	}
	return lo
}
