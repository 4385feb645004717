package commands

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"wdbg/engine/cpu"
	"wdbg/engine/kernel"
)

func runThread(ctx context.Context, s *Session, args string) (Result, error) {
	r, err := s.kernelReader(ctx)
	if err != nil {
		return nil, err
	}
	var withProcess, byTID bool
	var rest []string
	for _, f := range strings.Fields(args) {
		switch f {
		case "-p":
			withProcess = true
		case "-t":
			byTID = true
		default:
			rest = append(rest, f)
		}
	}
	addr := s.currentThreadAddr()
	flags := uint64(0x6)
	if len(rest) >= 1 {
		v, err := s.Eval(rest[0])
		if err != nil {
			return nil, err
		}
		if s.canonical(v) != s.canonical(^uint64(0)) {
			addr = s.canonical(v)
		}
	}
	if len(rest) >= 2 {
		if flags, err = s.Eval(rest[1]); err != nil {
			return nil, err
		}
	}
	if byTID {
		t, err := s.findThreadByID(r, addr)
		if err != nil {
			return nil, err
		}
		addr = t.Addr
	}
	if addr == 0 {
		return nil, fmt.Errorf("not available in this dump: the current thread is not known")
	}
	t, err := r.Thread(addr)
	if err != nil {
		return nil, err
	}
	res := &threadResult{Thread: s.threadEntry(ctx, r, t, true, flags&0x6 == 0x6)}
	if withProcess && t.Process != 0 {
		if p, err := r.Process(t.Process); err == nil {
			pe := s.processEntry(ctx, r, p, 0)
			res.Process = &pe
		}
	}
	return res, ctx.Err()
}

func (s *Session) findThreadByID(r *kernel.Reader, tid uint64) (kernel.Thread, error) {
	head := s.Target.Kernel.PsActiveProcessHead
	if head == 0 {
		return kernel.Thread{}, fmt.Errorf("not available in this dump: PsActiveProcessHead is not known")
	}
	procs, _ := r.Processes(head)
	for _, p := range procs {
		threads, _ := r.Threads(p)
		for _, t := range threads {
			if t.TID == tid {
				return t, nil
			}
		}
	}
	return kernel.Thread{}, fmt.Errorf("no thread with id %x", tid)
}

type threadResult struct {
	Thread  kthreadEntry   `json:"thread"`
	Process *kprocessEntry `json:"process,omitempty"`
}

func (r *threadResult) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Process != nil {
		(&processResult{Processes: []kprocessEntry{*r.Process}}).WriteText(&b)
	}
	r.Thread.write(&b, "")
	_, err := w.Write([]byte(b.String()))
	return err
}

// kthreadEntry is one thread as !thread shows it; the one-line form (!process flag 4 without 2)
// uses only the header.
type kthreadEntry struct {
	Address           string   `json:"address"`
	PID               uint64   `json:"pid"`
	TID               uint64   `json:"tid"`
	Teb               string   `json:"teb"`
	Win32Thread       string   `json:"win32thread"`
	State             string   `json:"state"`
	WaitReason        string   `json:"wait_reason,omitempty"`
	Processor         int      `json:"running_on"` // -1 when not running
	IRPs              []string `json:"irps,omitempty"`
	Process           string   `json:"process"`
	Image             string   `json:"image"`
	Details           []string `json:"details,omitempty"`
	Stack             []string `json:"stack,omitempty"`
	StackError        string   `json:"stack_error,omitempty"`
	Unknown           []string `json:"unknown_fields,omitempty"`
	full, withStack   bool
	addr, teb, win32t uint64
	ptr               int
}

func (s *Session) threadEntry(ctx context.Context, r *kernel.Reader, t kernel.Thread, full, withStack bool) kthreadEntry {
	ptr := s.PointerSize()
	e := kthreadEntry{Address: hexString(t.Addr), PID: t.PID, TID: t.TID, Teb: FormatPtr(t.Teb, ptr),
		Win32Thread: FormatPtr(t.Win32Thread, ptr), State: kernel.StateName(t.State), Processor: -1,
		Process: hexString(t.Process), full: full, withStack: withStack, addr: t.Addr, teb: t.Teb,
		win32t: t.Win32Thread, ptr: ptr, Unknown: t.Unknown}
	if p := s.runningOn(t.Addr); p >= 0 {
		e.Processor = p
	}
	if t.State == 5 { // Waiting
		e.WaitReason = kernel.WaitReasonName(t.WaitReason)
	}
	if !full {
		return e
	}
	for _, irp := range t.IRPs {
		e.IRPs = append(e.IRPs, fmt.Sprintf("%s: (%04x,%04x) Flags: %08x  Mdl: %s", FormatPtr(irp.Addr, ptr),
			irp.Type, irp.Size, irp.Flags, FormatPtr(irp.MdlAddress, 4)))
	}
	if t.Process != 0 {
		if p, err := r.Process(t.Process); err == nil {
			e.Image = p.ImageName
		}
	}
	e.Details = s.threadDetails(r, t, e.Image)
	if withStack {
		c, err := s.threadContext(r, t)
		if err == nil && c != nil {
			e.Stack, err = s.stackText(ctx, c)
		}
		if err != nil {
			e.StackError = err.Error()
		}
	}
	return e
}

// threadDetails are the lines between the header and the stack (WINDBG-SPEC §3.3), those the
// dump can answer.
func (s *Session) threadDetails(r *kernel.Reader, t kernel.Thread, image string) []string {
	ptr := s.PointerSize()
	var l []string
	l = append(l, fmt.Sprintf("%-25s %-22s Image:         %s", "Owning Process", FormatPtr(t.Process, ptr), image))
	if t.ApcProcess != 0 && t.ApcProcess != t.Process {
		attached := ""
		if p, err := r.Process(t.ApcProcess); err == nil {
			attached = p.ImageName
		}
		l = append(l, fmt.Sprintf("%-25s %-22s Image:         %s", "Attached Process", FormatPtr(t.ApcProcess, ptr), attached))
	} else {
		l = append(l, fmt.Sprintf("%-25s %-14s Image:         N/A", "Attached Process", "N/A"))
	}
	ticks := "Ticks: ?"
	if now, ok := s.tickCount(); ok && now >= uint64(t.WaitTime) {
		n := now - uint64(t.WaitTime)
		ticks = fmt.Sprintf("Ticks: %d", n)
		if d, ok := s.tickDuration(uint32(n)); ok && n != 0 {
			ticks += " (" + dhmsms(d) + ")"
		}
	}
	l = append(l, fmt.Sprintf("%-25s %-14d %s", "Wait Start TickCount", t.WaitTime, ticks))
	l = append(l, fmt.Sprintf("%-25s %-14d", "Context Switch Count", t.ContextSwitches))
	if d, ok := s.tickDuration(t.UserTime); ok {
		l = append(l, fmt.Sprintf("%-25s %s", "UserTime", hmsms(d)))
	}
	if d, ok := s.tickDuration(t.KernelTime); ok {
		l = append(l, fmt.Sprintf("%-25s %s", "KernelTime", hmsms(d)))
	}
	if t.StartAddress != 0 {
		l = append(l, fmt.Sprintf("Start Address %s", s.symbolOrHex(t.StartAddress)))
	}
	if t.Win32StartAddress != 0 {
		l = append(l, fmt.Sprintf("Win32 Start Address %s", s.symbolOrHex(t.Win32StartAddress)))
	}
	l = append(l, fmt.Sprintf("Stack Init %s Current %s", FormatPtr(t.InitialStack, ptr), FormatPtr(t.KernelStack, ptr)))
	l = append(l, fmt.Sprintf("Base %s Limit %s Call 0", FormatPtr(t.StackBase, ptr), FormatPtr(t.StackLimit, ptr)))
	l = append(l, fmt.Sprintf("Priority %d BasePriority %d", t.Priority, t.BasePriority))
	return l
}

// symbolOrHex is `nt!PspSystemThreadStartup (0xfffff800...)` when the address has a name, else
// the bare 0x-address (WINDBG-SPEC §3.3).
func (s *Session) symbolOrHex(addr uint64) string {
	if sym, ok := s.Lookup(addr); ok && sym.Module != nil {
		return fmt.Sprintf("%s (0x%s)", sym.String(), FormatPtr(addr, s.PointerSize()))
	}
	return "0x" + FormatPtr(addr, s.PointerSize())
}

// dhmsms is the Ticks suffix of !thread: d:hh:mm:ss.mmm.
func dhmsms(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%d:%02d:%02d:%02d.%03d", ms/86400000, ms/3600000%24, ms/60000%60, ms/1000%60, ms%1000)
}

// write prints the thread: the header line, and for the full form the IRP list, the detail lines
// and the stack, each line after prefix.
func (e kthreadEntry) write(b *strings.Builder, prefix string) {
	state := strings.ToUpper(e.State)
	switch {
	case e.Processor >= 0:
		state = fmt.Sprintf("RUNNING on processor %d", e.Processor)
	case e.WaitReason != "":
		state = fmt.Sprintf("WAIT: (%s)", e.WaitReason)
	}
	fmt.Fprintf(b, "%sTHREAD %s  Cid %04x.%04x  Teb: %s Win32Thread: %s %s\n", prefix, FormatPtr(e.addr, e.ptr),
		e.PID, e.TID, e.Teb, e.Win32Thread, state)
	if !e.full {
		return
	}
	if len(e.IRPs) > 0 {
		fmt.Fprintf(b, "%sIRP List:\n", prefix)
		for _, irp := range e.IRPs {
			fmt.Fprintf(b, "%s    %s\n", prefix, irp)
		}
	}
	for _, d := range e.Details {
		fmt.Fprintf(b, "%s%s\n", prefix, d)
	}
	for _, line := range e.Stack {
		fmt.Fprintf(b, "%s%s\n", prefix, line)
	}
	if e.StackError != "" {
		fmt.Fprintf(b, "%s(stack: %s)\n", prefix, e.StackError)
	}
}

// stackText walks the stack from context c and renders it in the kv layout without the frame
// number column, as !thread and !process show stacks.
func (s *Session) stackText(ctx context.Context, c cpu.Context) ([]string, error) {
	savedScope, savedFrame, savedU := s.Scope, s.Frame, s.Unassemble
	s.Scope = &Scope{Context: c, Reason: "thread"}
	defer func() { s.Scope, s.Frame, s.Unassemble = savedScope, savedFrame, savedU }()
	res, err := runK(ctx, s, "v")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := res.WriteText(&buf); err != nil {
		return nil, err
	}
	var lines []string
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		if strings.HasPrefix(line, "  ***") {
			continue
		}
		// Drop the frame-number column (" # " in the header, "NN " in the rows).
		if len(line) > 3 && (strings.HasPrefix(line, " # ") || isHex(line[:2]) && line[2] == ' ') {
			line = line[3:]
		}
		lines = append(lines, line)
	}
	return lines, nil
}
