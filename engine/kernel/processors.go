package kernel

import (
	"fmt"

	"wdbg/engine/cpu"
)

// Processor is one CPU's KPRCB and KPCR (FORMATS.md §1.7, §5).
type Processor struct {
	Number        int // index in KiProcessorBlock
	Prcb          uint64
	Pcr           uint64 // KPRCB − offset of the KPRCB inside KPCR (x64 0x180, x86 0x120)
	CurrentThread uint64
	NextThread    uint64
	IdleThread    uint64
	Irql          uint8 // KPCR.Irql (x64 +0x50, x86 +0x24)
	HasIrql       bool
	Context       cpu.Context // see ContextSource
	ContextSource string      // "ProcessorState.ContextFrame" or "Context" (the KPRCB.Context pointer)
	ContextError  error
	VendorString  string // "GenuineIntel", "AuthenticAMD"
	MHz           uint32
	Err           error    // the KPRCB could not be read (the other fields are zero)
	Unknown       []string // fields this build's layout lacks, or that could not be read
}

// maxProcessors bounds KiProcessorBlock when the count is not given.
const maxProcessors = 2048

// Processors reads count entries of KiProcessorBlock (the array of KPRCB pointers at
// kiProcessorBlock, KDBG.KiProcessorBlock). count ≤ 0 reads up to the first NULL entry. An
// unreadable array is an error; an unreadable KPRCB is reported in that Processor's Err.
func (r *Reader) Processors(kiProcessorBlock uint64, count int) ([]Processor, error) {
	limit := count
	if limit <= 0 || limit > maxProcessors {
		limit = maxProcessors
	}
	ps := uint64(r.ptrSize())
	var out []Processor
	for i := 0; i < limit; i++ {
		slot := kiProcessorBlock + uint64(i)*ps
		prcb, err := r.readPtr(slot)
		if err != nil {
			return out, &ReadError{What: fmt.Sprintf("KiProcessorBlock[%d]", i), Addr: slot, Err: err}
		}
		if prcb == 0 {
			if count <= 0 {
				break
			}
			out = append(out, Processor{Number: i, Err: fmt.Errorf("kernel: KiProcessorBlock[%d] is NULL", i)})
			continue
		}
		out = append(out, r.Processor(i, prcb))
	}
	return out, nil
}

// Processor reads the KPRCB at prcb and its KPCR.
func (r *Reader) Processor(number int, prcb uint64) Processor {
	p := Processor{Number: number, Prcb: prcb}
	v, err := r.newView("_KPRCB", prcb, "KPRCB")
	if err != nil {
		p.Err = err
		return p
	}
	p.CurrentThread = v.ptr("CurrentThread")
	p.NextThread = v.ptr("NextThread")
	p.IdleThread = v.ptr("IdleThread")
	p.MHz = v.u32("MHz")
	if o, ok := v.off("VendorString"); ok {
		if b, ok := v.bytes(o, 12); ok {
			p.VendorString = asciiz(b)
		}
	}
	p.Context, p.ContextSource, p.ContextError = r.processorContext(v)
	p.Unknown = v.missing
	// The KPCR embeds the KPRCB: x64 as KPCR.Prcb, x86 as KPCR.PrcbData (FORMATS.md §1.7).
	inPcr, _, ok := r.Layout.Offset("_KPCR", "Prcb")
	if r.Layout.Arch() == cpu.ArchX86 {
		inPcr, _, ok = r.Layout.Offset("_KPCR", "PrcbData")
	}
	if !ok {
		p.Unknown = append(p.Unknown, "KPCR.Prcb")
		return p
	}
	p.Pcr = prcb - inPcr
	if o, _, ok := r.Layout.Offset("_KPCR", "Irql"); ok {
		var b [1]byte
		if r.readFull(b[:], p.Pcr+o) == nil {
			p.Irql, p.HasIrql = b[0], true
		}
	}
	return p
}

// processorContext is the processor's saved registers (FORMATS.md §1.7): the CONTEXT inside
// KPRCB.ProcessorState, or, when that is empty (Windows 10 bug checks leave it zero and save
// into the CONTEXT that KPRCB.Context points to), that one.
func (r *Reader) processorContext(v *view) (cpu.Context, string, error) {
	var firstErr error
	if o, _, ok := r.Layout.Offset("_KPRCB", "ProcessorState.ContextFrame"); ok {
		ctx, err := r.context(v.addr + o)
		if err == nil && (ctx.PC() != 0 || ctx.SP() != 0) {
			return ctx, "ProcessorState.ContextFrame", nil
		}
		firstErr = err
	}
	if o, _, ok := r.Layout.Offset("_KPRCB", "Context"); ok {
		if b, ok := v.bytes(o, r.ptrSize()); ok {
			if addr := leUint(b); addr != 0 {
				ctx, err := r.context(addr)
				if err == nil {
					return ctx, "Context", nil
				}
				if firstErr == nil {
					firstErr = err
				}
			}
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("kernel: KPRCB %#x holds no saved context (ProcessorState.ContextFrame is empty, Context is NULL or unknown)", v.addr)
	}
	return nil, "", firstErr
}

func leUint(b []byte) uint64 {
	var x uint64
	for i := len(b) - 1; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return x
}

// context decodes the CONTEXT record at addr (FORMATS.md §4.4).
func (r *Reader) context(addr uint64) (cpu.Context, error) {
	size := 0x2CC
	switch r.Layout.Arch() {
	case cpu.ArchAMD64:
		size = 0x4D0
	case cpu.ArchARM64:
		size = 0x390
	}
	b := make([]byte, size)
	n, err := r.Mem.ReadAt(b, addr)
	if n < size {
		// The integer and control registers come first; a short record still decodes them.
		ctx, derr := cpu.Decode(r.Layout.Arch(), b[:n])
		if derr != nil {
			if err == nil {
				err = derr
			}
			return nil, &ReadError{What: "CONTEXT", Addr: addr, Err: err}
		}
		return ctx, nil
	}
	return cpu.Decode(r.Layout.Arch(), b)
}
