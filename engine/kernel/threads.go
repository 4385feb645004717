package kernel

// Thread is an ETHREAD (its KTHREAD is at offset 0; FORMATS.md §5).
type Thread struct {
	Addr              uint64
	Process           uint64 // owning process: KTHREAD.Process, else ApcState.Process
	ApcProcess        uint64 // the process the thread is attached to: KTHREAD.ApcState.Process
	PID, TID          uint64 // Cid
	Teb               uint64
	Win32Thread       uint64
	StartAddress      uint64
	Win32StartAddress uint64
	State             uint8 // see StateName
	WaitReason        uint8 // see WaitReasonName
	WaitMode          uint8 // 0 KernelMode, 1 UserMode
	WaitIrql          uint8
	Priority          int8
	BasePriority      int8
	ContextSwitches   uint32
	WaitTime          uint32 // tick count when the wait began
	KernelTime        uint32 // clock ticks; see TicksToDuration
	UserTime          uint32
	SuspendCount      uint8
	InitialStack      uint64
	StackLimit        uint64
	StackBase         uint64
	KernelStack       uint64
	TrapFrame         uint64
	NextProcessor     uint32
	IRPs              []IRPInfo
	IRPError          error    // the IRP list broke (IRPs holds those read before)
	Unknown           []string // fields this build's layout lacks, or that could not be read
}

// IRPInfo is one IRP queued on a thread (ETHREAD.IrpList → IRP.ThreadListEntry). Offsets are
// the public wdm.h IRP layout (facts.go) unless the PDB has _IRP.
type IRPInfo struct {
	Addr       uint64
	Type       uint16 // 6 = IO_TYPE_IRP
	Size       uint16
	Flags      uint32
	MdlAddress uint64
}

// maxIRPs bounds one thread's IRP list.
const maxIRPs = 4096

// Threads walks a process's thread list: EPROCESS.ThreadListHead → ETHREAD.ThreadListEntry.
// On a broken list the threads read so far are returned with the error.
func (r *Reader) Threads(p Process) ([]Thread, error) {
	if p.ThreadListHead == 0 {
		return nil, &ReadError{What: "thread list (EPROCESS.ThreadListHead offset unknown for this build)", Addr: p.Addr}
	}
	links, _, ok := r.Layout.Offset("_ETHREAD", "ThreadListEntry")
	if !ok {
		return nil, &ReadError{What: "thread list (ETHREAD.ThreadListEntry offset unknown for this build)", Addr: p.Addr}
	}
	var out []Thread
	err := r.walkList("ThreadListHead", p.ThreadListHead, func(link uint64) error {
		t, err := r.Thread(link - links)
		if err != nil {
			return err
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// Thread reads the ETHREAD at addr, with its IRP list.
func (r *Reader) Thread(addr uint64) (Thread, error) {
	et, err := r.newView("_ETHREAD", addr, "ETHREAD")
	if err != nil {
		return Thread{}, err
	}
	if err := checkObjectType(et.buf, addr, dispatcherThread, "thread"); err != nil {
		return Thread{}, err
	}
	// KTHREAD is ETHREAD.Tcb at offset 0: the same bytes, another structure's offsets.
	kt := &view{r: r, name: "_KTHREAD", addr: addr, buf: et.buf}
	t := Thread{Addr: addr}
	t.ApcProcess = kt.ptr("ApcState.Process")
	t.Process = kt.ptr("Process")
	if t.Process == 0 {
		t.Process = t.ApcProcess
	}
	t.PID = et.ptr("Cid.UniqueProcess")
	t.TID = et.ptr("Cid.UniqueThread")
	t.Teb = kt.ptr("Teb")
	t.Win32Thread = kt.ptr("Win32Thread")
	t.StartAddress = et.ptr("StartAddress")
	t.Win32StartAddress = et.ptr("Win32StartAddress")
	t.State = kt.u8("State")
	t.WaitReason = kt.u8("WaitReason")
	t.WaitMode = kt.u8("WaitMode")
	t.WaitIrql = kt.u8("WaitIrql")
	t.Priority = int8(kt.u8("Priority"))
	t.BasePriority = int8(kt.u8("BasePriority"))
	t.ContextSwitches = kt.u32("ContextSwitches")
	t.WaitTime = kt.u32("WaitTime")
	t.KernelTime = kt.u32("KernelTime")
	t.UserTime = kt.u32("UserTime")
	t.SuspendCount = kt.u8("SuspendCount")
	t.InitialStack = kt.ptr("InitialStack")
	t.StackLimit = kt.ptr("StackLimit")
	t.StackBase = kt.ptr("StackBase")
	t.KernelStack = kt.ptr("KernelStack")
	t.TrapFrame = kt.ptr("TrapFrame")
	// Windows 10 splits the ULONG into NextProcessorNumber:31 and SharedReadyQueue:1.
	t.NextProcessor = kt.u32("NextProcessor") & 0x7FFFFFFF
	t.Unknown = append(kt.missing, et.missing...)
	if head := et.addrOf("IrpList"); head != 0 {
		t.IRPs, t.IRPError = r.irps(head)
	} else {
		t.Unknown = append(t.Unknown, "IrpList")
	}
	return t, nil
}

// irps walks ETHREAD.IrpList.
func (r *Reader) irps(head uint64) ([]IRPInfo, error) {
	links, _, _ := r.Layout.Offset("_IRP", "ThreadListEntry")
	var out []IRPInfo
	err := r.walkList("IrpList", head, func(link uint64) error {
		if len(out) >= maxIRPs {
			return &ListError{List: "IrpList", Head: head, Entry: link, Msg: "too many IRPs"}
		}
		v, err := r.newView("_IRP", link-links, "IRP")
		if err != nil {
			return err
		}
		out = append(out, IRPInfo{Addr: link - links, Type: v.u16("Type"), Size: v.u16("Size"),
			Flags: v.u32("Flags"), MdlAddress: v.ptr("MdlAddress")})
		return nil
	})
	return out, err
}
