package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"wdbg/engine"
	"wdbg/engine/kernel"
)

// processCommands: the kernel's processes and threads (WINDBG-SPEC §3.3, §3.10).
var processCommands = []*Command{
	{
		Name: "!process", Group: "Kernel",
		Usage:   "!process [Process|PID|0|-1 [Flags [ImageName]]]",
		Summary: "show kernel processes",
		Help: "Shows the current process, the EPROCESS at an address, the process with a PID, or with 0 every " +
			"process on PsActiveProcessHead (an image name keeps only those whose 15-character ImageFileName " +
			"matches). Flags: 1 times and memory, 4 the threads one line each, 2 each thread's details as " +
			"!thread shows them, 6 also each thread's stack. The default is 3 for 0/-1, 0xF for one process.",
		Run: runProcess,
	},
	{
		Name: "!thread", Group: "Kernel",
		Usage:   "!thread [-p] [-t] [Address|-1 [Flags]]",
		Summary: "show a kernel thread",
		Help: "Shows the current thread, or the ETHREAD at Address (with -t, the thread whose id is Address): " +
			"its state, IRP list, owning process, times, stack limits, priorities and its stack. -p also " +
			"summarises the owning process. Flags: 2 wait state, 4 (with 2) the stack; the default is 6.",
		Run: runThread,
	},
}

type processArgs struct {
	target    uint64 // EPROCESS, PID, 0 (all) or ^0 (current)
	flags     uint64
	imageName string
}

func parseProcessArgs(s *Session, args string) (processArgs, error) {
	a := processArgs{target: ^uint64(0), flags: 0x3}
	f := strings.Fields(args)
	if len(f) >= 1 {
		v, err := s.Eval(f[0])
		if err != nil {
			return a, err
		}
		v = s.canonical(v)
		a.target, a.flags = v, 0xF
		if v == 0 || s.canonical(v) == s.canonical(^uint64(0)) {
			a.target, a.flags = v, 0x3
		}
	}
	if len(f) >= 2 {
		v, err := s.Eval(f[1])
		if err != nil {
			return a, err
		}
		a.flags = v
	}
	if len(f) >= 3 {
		a.imageName = f[2]
	}
	if len(f) > 3 {
		return a, &ExtraCharsError{Input: "!process " + args, Col: 9 + strings.Index(args, f[3])}
	}
	return a, nil
}

func runProcess(ctx context.Context, s *Session, args string) (Result, error) {
	r, err := s.kernelReader(ctx)
	if err != nil {
		return nil, err
	}
	a, err := parseProcessArgs(s, args)
	if err != nil {
		return nil, err
	}
	res := &processResult{}
	var procs []kernel.Process
	switch {
	case a.target == 0:
		res.All = true
		head := s.Target.Kernel.PsActiveProcessHead
		if head == 0 {
			return nil, fmt.Errorf("not available in this dump: PsActiveProcessHead is not known")
		}
		procs, err = r.Processes(head)
		if err != nil {
			res.Error = err.Error()
		}
	case s.canonical(a.target) == s.canonical(^uint64(0)):
		addr := s.currentProcessAddr(ctx)
		if addr == 0 {
			return nil, fmt.Errorf("not available in this dump: the current process is not known")
		}
		p, err := r.Process(addr)
		if err != nil {
			return nil, err
		}
		procs = []kernel.Process{p}
	default:
		p, err := s.findProcess(ctx, r, a.target)
		if err != nil {
			return nil, err
		}
		procs = []kernel.Process{p}
	}
	for _, p := range procs {
		if a.imageName != "" && !strings.EqualFold(p.ImageName, a.imageName) {
			continue
		}
		res.Processes = append(res.Processes, s.processEntry(ctx, r, p, a.flags))
	}
	return res, ctx.Err()
}

// findProcess takes v as an EPROCESS address when one can be read there, else as a process id.
func (s *Session) findProcess(ctx context.Context, r *kernel.Reader, v uint64) (kernel.Process, error) {
	if v > 0xFFFFFFFF || s.PointerSize() == 4 && v >= 0x80000000 {
		return r.Process(v)
	}
	head := s.Target.Kernel.PsActiveProcessHead
	if head == 0 {
		return kernel.Process{}, fmt.Errorf("not available in this dump: PsActiveProcessHead is not known")
	}
	procs, _ := r.Processes(head)
	for _, p := range procs {
		if p.PID == v {
			return p, nil
		}
	}
	return kernel.Process{}, fmt.Errorf("no process with id %x (0x%x) on the active process list", v, v)
}

type processResult struct {
	All       bool            `json:"all"`
	Processes []kprocessEntry `json:"processes"`
	Error     string          `json:"error,omitempty"`
}

type kprocessEntry struct {
	Address     string         `json:"address"`
	SessionID   string         `json:"session_id"`
	PID         uint64         `json:"pid"`
	ParentPID   uint64         `json:"parent_pid"`
	Peb         string         `json:"peb"`
	DirBase     string         `json:"dirbase"`
	ObjectTable string         `json:"object_table"`
	HandleCount string         `json:"handle_count"`
	Image       string         `json:"image"`
	Details     []string       `json:"details,omitempty"`
	Threads     []kthreadEntry `json:"threads,omitempty"`
	ThreadError string         `json:"thread_error,omitempty"`
	flags       uint64
	ptr         int
	addr        uint64
}

func (s *Session) processEntry(ctx context.Context, r *kernel.Reader, p kernel.Process, flags uint64) kprocessEntry {
	ptr := s.PointerSize()
	e := kprocessEntry{Address: hexString(p.Addr), PID: p.PID, ParentPID: p.ParentPID,
		Peb: fmt.Sprintf("%x", p.Peb), DirBase: fmt.Sprintf("%x", dirBaseForDisplay(p.DirBase, ptr)),
		ObjectTable: FormatPtr(p.ObjectTable, ptr), HandleCount: "unknown", Image: p.ImageName,
		SessionID: s.sessionID(r, p), flags: flags, ptr: ptr, addr: p.Addr}
	if p.HasHandleCount {
		e.HandleCount = strconv.FormatUint(uint64(p.HandleCount), 10)
	}
	if flags&1 != 0 {
		e.Details = s.processDetails(p)
	}
	// WINDBG-SPEC §3.10: 4 lists the threads one line each, 2 gives each its details, both
	// together add each thread's stack.
	if flags&6 != 0 {
		threads, err := r.Threads(p)
		if err != nil {
			e.ThreadError = err.Error()
		}
		for _, t := range threads {
			e.Threads = append(e.Threads, s.threadEntry(ctx, r, t, flags&2 != 0, flags&6 == 6))
		}
	}
	return e
}

// dirBaseForDisplay drops the PCID and flag bits of a stored CR3 value, as !process shows it.
func dirBaseForDisplay(v uint64, ptr int) uint64 {
	if ptr == 8 {
		return v &^ 0xFFF &^ (1 << 63)
	}
	return v
}

// sessionID is `!process`'s SessionId field: the number, `none` for a process without a
// session (System, smss), `?` when it cannot be read.
func (s *Session) sessionID(r *kernel.Reader, p kernel.Process) string {
	if p.Session == 0 {
		return "none"
	}
	id, ok := s.processSessionID(r, p)
	if !ok {
		return "?"
	}
	return strconv.FormatUint(uint64(id), 10)
}

// processSessionID reads MM_SESSION_SPACE.SessionId of p's session: at the kernel PDB's offset
// when loaded, else at +8 (the offset public `dt nt!_MM_SESSION_SPACE` output shows on x86 and
// x64; single source). Session space is mapped per session, so the structure is read through
// the process's own page tables, not the current process's.
func (s *Session) processSessionID(r *kernel.Reader, p kernel.Process) (uint32, bool) {
	if p.Session == 0 {
		return 0, false
	}
	off := uint64(8)
	if o, src, ok := r.Layout.Offset("_MM_SESSION_SPACE", "SessionId"); ok && src == kernel.SourcePDB {
		off = o
	}
	v, err := engine.ReadU32(s.processMemory(p), p.Session+off)
	return v, err == nil
}

// processMemory is p's own address space (its DirBase), or the current one when that cannot
// be built.
func (s *Session) processMemory(p kernel.Process) engine.Memory {
	if p.DirBase != 0 {
		if own, err := s.Target.AddressSpace(p.DirBase); err == nil {
			return own
		}
	}
	return s.Memory()
}

// processDetails are the lines flag 1 adds: what the EPROCESS holds of them.
func (s *Session) processDetails(p kernel.Process) []string {
	ptr := s.PointerSize()
	lines := []string{
		fmt.Sprintf("VadRoot %s", FormatPtr(p.VadRoot, ptr)),
		fmt.Sprintf("%-33s %s", "Token", FormatPtr(p.TokenAddr(), ptr)),
	}
	if p.CreateTime != 0 && !s.Target.DumpTime.IsZero() {
		if ct := filetimeToTime(p.CreateTime); ct.Before(s.Target.DumpTime) {
			lines = append(lines, fmt.Sprintf("%-33s %s", "ElapsedTime", hmsms(s.Target.DumpTime.Sub(ct))))
		}
	}
	if d, ok := s.tickDuration(p.UserTime); ok {
		lines = append(lines, fmt.Sprintf("%-33s %s", "UserTime", hmsms(d)))
	}
	if d, ok := s.tickDuration(p.KernelTime); ok {
		lines = append(lines, fmt.Sprintf("%-33s %s", "KernelTime", hmsms(d)))
	}
	lines = append(lines, fmt.Sprintf("%-33s %d Mb", "VirtualSize", p.VirtualSize>>20))
	if p.Job != 0 {
		lines = append(lines, fmt.Sprintf("%-33s %s", "Job", FormatPtr(p.Job, ptr)))
	}
	return lines
}

// WriteText follows !process: the header for a walk of every process, then per process the
// PROCESS block of WINDBG-SPEC §3.10 and, with flags, details and threads indented 8 spaces.
func (r *processResult) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.All {
		b.WriteString("**** NT ACTIVE PROCESS DUMP ****\n")
	}
	for _, p := range r.Processes {
		fmt.Fprintf(&b, "PROCESS %s\n", FormatPtr(p.addr, p.ptr))
		fmt.Fprintf(&b, "    SessionId: %s  Cid: %04x    Peb: %s  ParentCid: %04x\n", p.SessionID, p.PID, p.Peb, p.ParentPID)
		fmt.Fprintf(&b, "    DirBase: %s  ObjectTable: %s  HandleCount: %s.\n", p.DirBase, p.ObjectTable, p.HandleCount)
		fmt.Fprintf(&b, "    Image: %s\n", p.Image)
		for _, d := range p.Details {
			fmt.Fprintf(&b, "    %s\n", d)
		}
		if len(p.Details) > 0 || len(p.Threads) > 0 {
			b.WriteByte('\n')
		}
		for _, t := range p.Threads {
			t.write(&b, "        ")
			if t.full {
				b.WriteByte('\n')
			}
		}
		if p.ThreadError != "" {
			fmt.Fprintf(&b, "        (thread list: %s)\n", p.ThreadError)
		}
		b.WriteByte('\n')
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "(process list: %s)\n", r.Error)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
