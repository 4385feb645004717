package ksynth

// Processes: EPROCESS objects on the PsActiveProcessHead list (FORMATS.md §5.1 "Process
// list"), each with a HANDLE_TABLE, a token (EX_FAST_REF) and, for user processes, a PEB in
// their own address space.

type process struct {
	name      string
	pid, ppid uint64
	addr      uint64
	peb       uint64
	pebPFN    uint64
	imageBase uint64
	dtb       uint64
	created   uint64
	threads   []*thread
	facts     *Process
}

// processDefs: System, then user processes created after boot; seconds is the creation time
// after boot (negative: before the dump, counted from the crash).
var processDefs = []struct {
	name      string
	pid, ppid uint64
	seconds   int64
	handles   uint32
}{
	{"System", 4, 0, 0, 2345},
	{"smss.exe", 0x174, 4, 2, 53},
	{"csrss.exe", 0x1f0, 0x1e8, 5, 612},
	{"spoolsv.exe", 0x8a0, 0x2a4, 20, 431},
	{"notepad.exe", 0x1a2c, 0x1100, -600, 187},
}

// bootTime is the FILETIME of the boot.
func (b *builder) bootTime() uint64 { return systemTime - systemUpTime }

func (b *builder) buildProcesses() error {
	e := b.p.eprocess
	tables := b.global("HandleTableListHead", 2*uint64(b.p.ptr))
	var tableLinks []uint64
	idle, err := b.newProcess("Idle", 0, 0, 0, 0)
	if err != nil {
		return err
	}
	b.idleProc = idle
	for i, d := range processDefs {
		created := b.bootTime() + uint64(d.seconds)*10_000_000
		if d.seconds < 0 {
			created = systemTime - uint64(-d.seconds)*10_000_000
		}
		pr, err := b.newProcess(d.name, d.pid, d.ppid, created, i)
		if err != nil {
			return err
		}
		// HANDLE_TABLE (§5 _HANDLE_TABLE): a zeroed level-0 table page, the owner, and the
		// "next handle needing pool" value (4 per handle slot).
		h := b.p.handles
		ht, err := b.allocObject(h.size)
		if err != nil {
			return err
		}
		page, err := b.alloc(pageSize, pageSize)
		if err != nil {
			return err
		}
		b.ptr(ht+h.tableCode, page)
		if pr.pid != 4 {
			b.ptr(ht+h.quotaProcess, pr.addr)
		}
		b.ptr(ht+h.uniqueProcessID, pr.pid)
		next := (d.handles + 1) * 4
		b.u32(ht+h.nextHandleNeedingPool, next)
		pr.facts.NextHandleNeedingPool = next
		if h.handleCount != 0 {
			b.u32(ht+h.handleCount, d.handles)
			pr.facts.HandleCount = d.handles
		}
		tableLinks = append(tableLinks, ht+h.handleTableList)
		b.ptr(pr.addr+e.objectTable, ht)
		pr.facts.ObjectTable = ht
		b.processes = append(b.processes, pr)
	}
	b.linkList(tables, tableLinks)
	head := b.global("PsActiveProcessHead", 2*uint64(b.p.ptr))
	var links []uint64
	for _, pr := range b.processes {
		links = append(links, pr.addr+e.activeProcessLinks)
	}
	b.linkList(head, links)
	b.m.PsActiveProcessHead = head
	return nil
}

// newProcess allocates and fills an EPROCESS; threads and the directory table base come later.
func (b *builder) newProcess(name string, pid, ppid, created uint64, index int) (*process, error) {
	e := b.p.eprocess
	addr, err := b.allocObject(e.size)
	if err != nil {
		return nil, err
	}
	pr := &process{name: name, pid: pid, ppid: ppid, addr: addr, created: created}
	// Pcb.Header.Type: a DISPATCHER_HEADER's first byte is the object type, 3 for a process
	// (the public KOBJECTS enumeration), which debuggers check before trusting an address.
	b.u8(addr, dispatcherProcess)
	b.ptr(addr+e.uniqueProcessID, pid)
	b.ptr(addr+e.parentPID, ppid)
	b.u64(addr+e.createTime, created)
	name15 := make([]byte, 15) // ImageFileName: 15 bytes, NUL padded (§5.1)
	copy(name15, name)
	b.write(addr+e.imageFileName, name15)
	b.u8(addr+e.priorityClass, 2) // PROCESS_PRIORITY_CLASS_NORMAL
	base := uint8(8)
	if pid == 0 {
		base = 0
	}
	b.u8(addr+e.basePriority, base)
	kt, ut := uint32(0), uint32(0)
	if pid != 0 {
		kt, ut = uint32(40+index*17), uint32(index*9)
	}
	b.u32(addr+e.kernelTime, kt)
	b.u32(addr+e.userTime, ut)
	// Token: an EX_FAST_REF, the object pointer with a reference count in the low bits
	// (4 bits on x64, 3 on x86).
	tok, err := b.allocObject(0x40)
	if err != nil {
		return nil, err
	}
	ref := tok | 0xa
	if !b.p.is64 {
		ref = tok | 0x5
	}
	b.ptr(addr+e.token, ref)
	pr.facts = &Process{Address: addr, PID: pid, ParentPID: ppid, ImageFileName: name, CreateTime: created,
		Token: ref, TokenObject: tok, KernelTime: kt, UserTime: ut, BasePriority: base}
	if e.commitCharge != 0 {
		// CommitCharge: pages of private commit, a distinct number per process so that a
		// reader using the wrong offset or unit is caught.
		pr.facts.CommitCharge = 0x180 + uint64(index)*0x2c7
		b.ptr(addr+e.commitCharge, pr.facts.CommitCharge)
	}
	if pid > 4 {
		// A user process: its PEB (§5 _PEB) in a frame mapped later into its own space.
		pr.peb = b.p.pebBase + uint64(index)*0x100000
		if !b.p.is64 {
			pr.peb = b.p.pebBase + uint64(index)*0x3000
		}
		pr.imageBase = b.p.imageBase + uint64(index)*b.p.imageStep
		pfn, err := b.mem.alloc()
		if err != nil {
			return nil, err
		}
		pr.pebPFN = pfn
		pb, pl := pfn*pageSize+pr.peb%pageSize, b.p.peb
		putPtr := func(off, v uint64) {
			if b.p.is64 {
				b.mem.putU64(pb+off, v)
			} else {
				b.mem.write(pb+off, le32(uint32(v)))
			}
		}
		putPtr(pl.imageBaseAddress, pr.imageBase)
		b.mem.write(pb+pl.numberOfProcessors, le32(uint32(b.spec.Processors)))
		b.mem.write(pb+pl.osMajorVersion, le32(b.p.osMajor))
		b.mem.write(pb+pl.osMinorVersion, le32(b.p.osMinor))
		b.mem.write(pb+pl.osBuildNumber, le32(b.p.build)[:2])
		b.mem.write(pb+pl.osPlatformID, le32(2))
		b.mem.write(pb+pl.sessionID, le32(1))
		b.ptr(addr+e.peb, pr.peb)
		b.ptr(addr+e.sectionBaseAddress, pr.imageBase)
		b.ptr(addr+e.virtualSize, 0x2000000+uint64(index)*0x100000)
		pr.facts.Peb, pr.facts.ImageBase = pr.peb, pr.imageBase
		pr.facts.PebPhysical = pb
	}
	return pr, nil
}

func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

// buildUserSpaces gives every user process its own page-table root sharing the kernel half
// (FORMATS.md §3.1 "Which CR3") and maps its PEB there; System and Idle use the kernel's.
// It runs after every kernel mapping is in place, so that the copied kernel entries are final.
func (b *builder) buildUserSpaces() error {
	e := b.p.eprocess
	all := append([]*process{b.idleProc}, b.processes...)
	for _, pr := range all {
		dtb := b.kernel.root
		if pr.peb != 0 {
			var pdpt uint64
			if !b.p.is64 && b.p.pae {
				pdpt = b.pdptNext
				b.pdptNext += 0x20
			}
			s, err := b.kernel.cloneKernelHalf(pdpt, b.p.selfIndex)
			if err != nil {
				return err
			}
			if err := s.map4K(pr.peb&^(pageSize-1), pr.pebPFN, leafUser); err != nil {
				return err
			}
			dtb = s.root
		}
		pr.dtb = dtb
		b.ptr(pr.addr+e.dirBase, dtb)
		pr.facts.DirectoryTableBase = dtb
	}
	for _, pr := range b.processes {
		b.m.Processes = append(b.m.Processes, *pr.facts)
	}
	b.m.IdleProcess = *b.idleProc.facts
	return nil
}

// Dispatcher object types of the public KOBJECTS enumeration (DISPATCHER_HEADER.Type @0).
const (
	dispatcherProcess = 3
	dispatcherThread  = 6
)
