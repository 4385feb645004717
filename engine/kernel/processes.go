package kernel

// Process is an EPROCESS (FORMATS.md §5, §5.1). Pointer-sized values are zero-extended on x86.
type Process struct {
	Addr           uint64
	PID            uint64 // UniqueProcessId
	ParentPID      uint64 // InheritedFromUniqueProcessId
	Peb            uint64
	DirBase        uint64 // Pcb.DirectoryTableBase (CR3 as stored; !process masks it for display)
	ObjectTable    uint64
	HandleCount    uint32 // _HANDLE_TABLE.HandleCount (Windows 7 only in the tables)
	HasHandleCount bool
	ImageName      string // ImageFileName: 15 bytes, NUL padded
	CreateTime     uint64 // FILETIME
	ExitTime       uint64 // FILETIME
	VadRoot        uint64 // the pointer-sized word at EPROCESS.VadRoot: the root node on Windows 8+
	Token          uint64 // EX_FAST_REF as stored: see TokenAddr
	Job            uint64
	Wow64Process   uint64 // non-zero for a 32-bit process on 64-bit Windows
	Session        uint64 // EPROCESS.Session (MM_SESSION_SPACE); the session id is not read
	KernelTime     uint32 // Pcb.KernelTime, clock ticks
	UserTime       uint32 // Pcb.UserTime, clock ticks
	ThreadListHead uint64 // address of EPROCESS.ThreadListHead
	ActiveThreads  uint32
	VirtualSize    uint64
	Flags          uint32
	ExitStatus     uint32 // NTSTATUS

	arch64  bool
	Unknown []string // fields this build's layout lacks, or that could not be read
}

// TokenAddr is the TOKEN address: Token with the EX_FAST_REF reference count masked off
// (4 low bits on x64, 3 on x86).
func (p Process) TokenAddr() uint64 {
	if p.arch64 {
		return p.Token &^ 0xF
	}
	return p.Token &^ 0x7
}

// Processes walks the active process list from its head (the address of
// nt!PsActiveProcessHead) through EPROCESS.ActiveProcessLinks. On a broken list the processes
// read so far are returned with the error.
func (r *Reader) Processes(head uint64) ([]Process, error) {
	links, _, ok := r.Layout.Offset("_EPROCESS", "ActiveProcessLinks")
	if !ok {
		return nil, &ReadError{What: "process list (EPROCESS.ActiveProcessLinks offset unknown for this build)", Addr: head}
	}
	var out []Process
	err := r.walkList("PsActiveProcessHead", head, func(link uint64) error {
		p, err := r.Process(link - links)
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// Process reads the EPROCESS at addr. It fails only when the structure is unreadable; single
// fields that are not are listed in Unknown.
func (r *Reader) Process(addr uint64) (Process, error) {
	v, err := r.newView("_EPROCESS", addr, "EPROCESS")
	if err != nil {
		return Process{}, err
	}
	if err := checkObjectType(v.buf, addr, dispatcherProcess, "process"); err != nil {
		return Process{}, err
	}
	p := Process{Addr: addr, arch64: r.ptrSize() == 8}
	p.PID = v.ptr("UniqueProcessId")
	p.ParentPID = v.ptr("InheritedFromUniqueProcessId")
	p.Peb = v.ptr("Peb")
	p.DirBase = v.ptr("Pcb.DirectoryTableBase")
	p.ObjectTable = v.ptr("ObjectTable")
	if o, ok := v.off("ImageFileName"); ok {
		if b, ok := v.bytes(o, 15); ok {
			p.ImageName = asciiz(b)
		} else {
			v.missing = append(v.missing, "ImageFileName (unreadable)")
		}
	}
	p.CreateTime = v.u64("CreateTime")
	p.ExitTime = v.u64("ExitTime")
	p.VadRoot = v.ptr("VadRoot")
	p.Token = v.ptr("Token")
	p.Job = v.ptr("Job")
	p.Wow64Process = v.ptr("WoW64Process", "Wow64Process")
	p.Session = v.ptr("Session")
	p.KernelTime = v.u32("Pcb.KernelTime")
	p.UserTime = v.u32("Pcb.UserTime")
	p.ThreadListHead = v.addrOf("ThreadListHead")
	p.ActiveThreads = v.u32("ActiveThreads")
	p.VirtualSize = v.ptr("VirtualSize")
	p.Flags = v.u32("Flags")
	p.ExitStatus = v.u32("ExitStatus")
	p.Unknown = v.missing
	p.HandleCount, p.HasHandleCount = r.handleCount(p.ObjectTable)
	return p, nil
}

// handleCount reads _HANDLE_TABLE.HandleCount when this build's layout has it (the §5 tables
// have it for Windows 7 only; later kernels dropped the field).
func (r *Reader) handleCount(table uint64) (uint32, bool) {
	if table == 0 {
		return 0, false
	}
	o, _, ok := r.Layout.Offset("_HANDLE_TABLE", "HandleCount")
	if !ok {
		return 0, false
	}
	n, err := r.readU32(table + o)
	return n, err == nil
}
