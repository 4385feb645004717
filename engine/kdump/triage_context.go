package kdump

import (
	"fmt"

	"wdbg/engine/cpu"
)

// kdbgOffsetPrcbContext is KDDEBUGGER_DATA64.OffsetPrcbContext: where KPRCB holds a pointer to
// the CONTEXT the processor saved on entry to the bug check (FORMATS.md §1.7, §2).
const kdbgOffsetPrcbContext = 0x338

// ReadTriageVirtual reads virtual memory from the blocks a triage dump holds (VirtualBlocks).
// It returns the bytes read before the first address no block covers, and then an error naming
// that address. It is a linear scan meant for a few small reads; the engine adapter builds its
// own indexed memory from VirtualBlocks.
func (f *File) ReadTriageVirtual(p []byte, va uint64) (int, error) {
	blocks, err := f.VirtualBlocks()
	if err != nil {
		return 0, err
	}
	n := 0
	for n < len(p) {
		a := va + uint64(n)
		var hit *VirtualBlock
		for i := range blocks {
			if b := &blocks[i]; a >= b.Addr && a-b.Addr < b.Size {
				hit = b
				break
			}
		}
		if hit == nil {
			return n, fmt.Errorf("kdump: virtual address %#x is not in the triage dump", a)
		}
		in := a - hit.Addr
		chunk := int(min(uint64(len(p)-n), hit.Size-in))
		got, err := f.readFile(p[n:n+chunk], hit.Offset+int64(in))
		n += got
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TriageProcessorContext decodes the CONTEXT that KPRCB.Context points to: the registers of
// the bug-checking processor as saved when it entered the bug check (rip in KeBugCheckEx). The
// header's ContextRecord, in contrast, is the context of the fault itself. It needs the PRCB
// copy, the debugger data's OffsetPrcbContext, and a data block holding the CONTEXT. addr is
// the CONTEXT's virtual address.
func (f *File) TriageProcessorContext() (ctx cpu.Context, addr uint64, err error) {
	prcb, err := f.TriagePrcb()
	if err != nil {
		return nil, 0, err
	}
	o, ok := f.kdbgField(kdbgOffsetPrcbContext, 2)
	if !ok {
		return nil, 0, formatErr(int64(f.Triage.DebuggerDataOffset), "triage debugger data", "no OffsetPrcbContext (debugger data too short or absent)")
	}
	addr, ok = f.pointerAt(prcb, o)
	if !ok || addr == 0 {
		return nil, 0, formatErr(prcb.Offset+int64(o), "KPRCB", "no Context pointer at KPRCB+%#x", o)
	}
	b := make([]byte, contextSize(f.Arch()))
	if _, err := f.ReadTriageVirtual(b, addr); err != nil {
		return nil, addr, fmt.Errorf("kdump: KPRCB.Context %#x: %w", addr, err)
	}
	ctx, err = cpu.Decode(f.Arch(), b)
	return ctx, addr, err
}
