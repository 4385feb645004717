package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"wdbg/engine"
	"wdbg/engine/kernel"
)

// kernelContextCommands: the implicit thread and process, and the per-processor blocks
// (WINDBG-SPEC §3.10).
var kernelContextCommands = []*Command{
	{
		Name: ".thread", Group: "Kernel",
		Usage:   ".thread [/p [/r]] [Address]",
		Summary: "use a kernel thread's registers",
		Help: "Makes the ETHREAD at Address the implicit thread: registers and stacks come from the processor " +
			"it runs on, or from what its last context switch saved on its kernel stack. /p also makes its " +
			"process the implicit process. Without an address returns to the processor's own thread.",
		Run: runDotThread,
	},
	{
		Name: ".process", Group: "Kernel",
		Usage:   ".process [/p] [/r] [Address]",
		Summary: "use a kernel process's address space",
		Help: "Makes the EPROCESS at Address the implicit process: user-mode addresses then translate through " +
			"its page tables (DirBase). Without an address returns to the current thread's process. A dump " +
			"holds only the pages it was written with, so other processes' user memory is often absent.",
		Run: runDotProcess,
	},
	{
		Name: "!pcr", Group: "Kernel",
		Usage: "!pcr [Processor]", Summary: "show a processor's control region",
		Help: "Shows the KPCR of the current processor, or of Processor: its address, IRQL and the threads " +
			"the processor's KPRCB names.",
		Run: runPcr,
	},
	{
		Name: "!prcb", Group: "Kernel",
		Usage: "!prcb [Processor]", Summary: "show a processor's control block",
		Help: "Shows the KPRCB of the current processor, or of Processor: current, next and idle threads.",
		Run:  runPrcb,
	},
	{
		Name: "!irql", Group: "Kernel",
		Usage: "!irql [Processor]", Summary: "show a processor's saved IRQL",
		Help: "Shows the IRQL saved in the processor's KPCR when the dump was written.",
		Run:  runIrql,
	},
}

func runDotThread(ctx context.Context, s *Session, args string) (Result, error) {
	r, err := s.kernelReader(ctx)
	if err != nil {
		return nil, err
	}
	withProcess := false
	var rest []string
	for _, f := range strings.Fields(args) {
		switch strings.ToLower(f) {
		case "/p":
			withProcess = true
		case "/r", "/w", "/P":
		default:
			rest = append(rest, f)
		}
	}
	if len(rest) == 0 {
		s.KernelState.ImplicitThread = 0
		s.SetScope(nil)
		return Text(fmt.Sprintf("Implicit thread is now %s\n", FormatAddr(s.currentThreadAddr(), s.PointerSize()))), nil
	}
	addr, err := s.Eval(strings.Join(rest, " "))
	if err != nil {
		return nil, err
	}
	addr = s.canonical(addr)
	t, err := r.Thread(addr)
	if err != nil {
		return nil, err
	}
	c, err := s.threadContext(r, t)
	if err != nil {
		return nil, fmt.Errorf("Unable to get the context of thread %s: %v", FormatAddr(addr, s.PointerSize()), err)
	}
	s.KernelState.ImplicitThread = addr
	s.SetScope(&Scope{Context: c, Reason: "thread"})
	var b strings.Builder
	if withProcess && t.Process != 0 {
		if err := s.setImplicitProcess(ctx, t.Process); err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "Implicit process is now %s\n", FormatAddr(t.Process, s.PointerSize()))
	}
	fmt.Fprintf(&b, "Implicit thread is now %s\n", FormatAddr(addr, s.PointerSize()))
	return Text(b.String()), nil
}

func runDotProcess(ctx context.Context, s *Session, args string) (Result, error) {
	if _, err := s.kernelReader(ctx); err != nil {
		return nil, err
	}
	var rest []string
	for _, f := range strings.Fields(args) {
		if !strings.HasPrefix(f, "/") {
			rest = append(rest, f)
		}
	}
	if len(rest) == 0 {
		if err := s.setImplicitProcess(ctx, 0); err != nil {
			return nil, err
		}
		return Text(fmt.Sprintf("Implicit process is now %s\n", FormatAddr(s.currentProcessAddr(ctx), s.PointerSize()))), nil
	}
	addr, err := s.Eval(strings.Join(rest, " "))
	if err != nil {
		return nil, err
	}
	addr = s.canonical(addr)
	if err := s.setImplicitProcess(ctx, addr); err != nil {
		return nil, err
	}
	return Text(fmt.Sprintf("Implicit process is now %s\n", FormatAddr(addr, s.PointerSize()))), nil
}

// setImplicitProcess switches the address space memory reads translate through to the process's
// DirBase (0: back to the dump's own).
func (s *Session) setImplicitProcess(ctx context.Context, addr uint64) error {
	var mem engine.Memory = s.Target.Memory
	if addr != 0 {
		r, err := s.kernelReader(ctx)
		if err != nil {
			return err
		}
		p, err := r.Process(addr)
		if err != nil {
			return err
		}
		tr, err := s.Target.AddressSpace(p.DirBase)
		if err != nil {
			return err
		}
		mem = tr
	}
	s.KernelState.ImplicitProcess = addr
	if s.Symbols != nil {
		s.Symbols.SetRawMemory(mem)
	}
	s.Display = DisplayState{}
	return nil
}

// processorArg is the processor a !pcr-style command names: the argument, or the current one.
func (s *Session) processorArg(ctx context.Context, args string) (kernel.Processor, error) {
	k := s.Target.Kernel
	if k == nil {
		return kernel.Processor{}, errNotKernel
	}
	n := s.Thread
	if strings.TrimSpace(args) != "" {
		v, err := s.Eval(args)
		if err != nil {
			return kernel.Processor{}, err
		}
		n = int(v)
	}
	if len(k.Processors) == 0 && n == k.Processor && k.CurrentPrcb != 0 {
		// A small dump copies the bug-checking processor's KPRCB and nothing of the others.
		if r, err := s.Target.KernelReader(); err == nil {
			p := r.Processor(n, k.CurrentPrcb)
			return p, p.Err
		}
	}
	if n < 0 || n >= len(k.Processors) {
		if len(k.Processors) == 0 {
			return kernel.Processor{}, fmt.Errorf("not available in this dump: the processor blocks (KiProcessorBlock) are not in it")
		}
		return kernel.Processor{}, fmt.Errorf("processor %d does not exist (the dump has %d)", n, len(k.Processors))
	}
	p := k.Processors[n]
	if p.Err != nil {
		return p, p.Err
	}
	// The processors were read at open with the built-in tables and KDBG offsets; the kernel
	// PDB's types may know more (an ARM64 kernel's KPCR.Irql has no other source).
	if r, err := s.kernelReader(ctx); err == nil && s.KernelState.typed {
		if q := r.Processor(n, p.Prcb); q.Err == nil {
			p = q
		}
	}
	return p, nil
}

type processorResult struct {
	Kind          string `json:"kind"` // "pcr", "prcb", "irql"
	Number        int    `json:"processor"`
	Pcr           string `json:"kpcr"`
	Prcb          string `json:"kprcb"`
	Irql          *uint8 `json:"irql,omitempty"`
	CurrentThread string `json:"current_thread"`
	NextThread    string `json:"next_thread"`
	IdleThread    string `json:"idle_thread"`
	Vendor        string `json:"vendor,omitempty"`
	MHz           uint32 `json:"mhz,omitempty"`
	p             kernel.Processor
	ptr           int
}

func (s *Session) processorResult(kind string, p kernel.Processor) *processorResult {
	r := &processorResult{Kind: kind, Number: p.Number, Pcr: hexString(p.Pcr), Prcb: hexString(p.Prcb),
		CurrentThread: hexString(p.CurrentThread), NextThread: hexString(p.NextThread), IdleThread: hexString(p.IdleThread),
		Vendor: p.VendorString, MHz: p.MHz, p: p, ptr: s.PointerSize()}
	if p.HasIrql {
		irql := p.Irql
		r.Irql = &irql
	}
	return r
}

func runPcr(ctx context.Context, s *Session, args string) (Result, error) {
	p, err := s.processorArg(ctx, args)
	if err != nil {
		return nil, err
	}
	return s.processorResult("pcr", p), nil
}

func runPrcb(ctx context.Context, s *Session, args string) (Result, error) {
	p, err := s.processorArg(ctx, args)
	if err != nil {
		return nil, err
	}
	return s.processorResult("prcb", p), nil
}

func runIrql(ctx context.Context, s *Session, args string) (Result, error) {
	p, err := s.processorArg(ctx, args)
	if err != nil {
		return nil, err
	}
	if !p.HasIrql {
		return nil, fmt.Errorf("not available in this dump: processor %d's KPCR IRQL could not be read", p.Number)
	}
	return s.processorResult("irql", p), nil
}

// irqlName names an IRQL as the kernel headers define the levels: x64 uses 0-15, x86 0-31.
func irqlName(irql uint8, ptr int) string {
	switch irql {
	case 0:
		return "PASSIVE_LEVEL"
	case 1:
		return "APC_LEVEL"
	case 2:
		return "DISPATCH_LEVEL"
	}
	if ptr == 8 {
		switch irql {
		case 13:
			return "CLOCK_LEVEL"
		case 14:
			return "IPI_LEVEL"
		case 15:
			return "HIGH_LEVEL"
		}
	} else {
		switch irql {
		case 27:
			return "PROFILE_LEVEL"
		case 28:
			return "CLOCK2_LEVEL"
		case 29:
			return "IPI_LEVEL"
		case 30:
			return "POWER_LEVEL"
		case 31:
			return "HIGH_LEVEL"
		}
	}
	return "device IRQL"
}

func (r *processorResult) WriteText(w io.Writer) error {
	var b strings.Builder
	ptr := r.ptr
	switch r.Kind {
	case "irql":
		fmt.Fprintf(&b, "Debugger saved IRQL for processor 0x%x -- %d (%s)\n", r.Number, *r.Irql, irqlName(*r.Irql, ptr))
	case "pcr":
		fmt.Fprintf(&b, "KPCR for Processor %d at %s:\n", r.Number, FormatPtr(r.p.Pcr, ptr))
		fmt.Fprintf(&b, "%20s: %s\n", "Prcb", FormatPtr(r.p.Prcb, ptr))
		if r.Irql != nil {
			fmt.Fprintf(&b, "%20s: %s\n", "Irql", FormatPtr(uint64(*r.Irql), ptr))
		}
		fmt.Fprintf(&b, "%20s: %s\n", "CurrentThread", FormatPtr(r.p.CurrentThread, ptr))
		fmt.Fprintf(&b, "%20s: %s\n", "NextThread", FormatPtr(r.p.NextThread, ptr))
		fmt.Fprintf(&b, "%20s: %s\n", "IdleThread", FormatPtr(r.p.IdleThread, ptr))
	case "prcb":
		fmt.Fprintf(&b, "PRCB for Processor %d at %s:\n", r.Number, FormatPtr(r.p.Prcb, ptr))
		if r.Irql != nil {
			fmt.Fprintf(&b, "Current IRQL -- %d\n", *r.Irql)
		}
		fmt.Fprintf(&b, "Threads--  Current %s Next %s Idle %s\n", FormatPtr(r.p.CurrentThread, ptr),
			FormatPtr(r.p.NextThread, ptr), FormatPtr(r.p.IdleThread, ptr))
		fmt.Fprintf(&b, "Processor Index %d\n", r.Number)
		if r.Vendor != "" {
			fmt.Fprintf(&b, "Vendor %s, %d MHz\n", r.Vendor, r.MHz)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
