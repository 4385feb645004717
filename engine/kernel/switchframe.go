package kernel

import (
	"errors"
	"fmt"

	"wdbg/engine/cpu"
)

// SwitchContext is the register state a thread that is not running resumes with, from the
// switch frame its KTHREAD.KernelStack points at (FORMATS.md §8.1; the frame layouts are in
// facts.go unless the PDB has _KSWITCH_FRAME):
//
//   - x64: RIP = frame.Return, RBP = frame.Rbp, RSP = KernelStack + sizeof(frame), i.e. the
//     stack pointer right after the context-switch routine returns.
//   - x86: EIP = the return address at +8, ESP = KernelStack + 0xC. EBP is not in the frame
//     and is left 0: the unwinder must start from EIP/ESP (FPO data) rather than an EBP chain.
//
// Only the control registers are set; the rest are zero. A running thread's KernelStack is
// stale: use the processor's context for it.
func (r *Reader) SwitchContext(t Thread) (cpu.Context, error) {
	if t.KernelStack == 0 {
		return nil, fmt.Errorf("kernel: thread %#x: no KernelStack", t.Addr)
	}
	l := r.Layout
	switch l.Arch() {
	case cpu.ArchAMD64:
		retOff, _, ok1 := l.Offset("_KSWITCH_FRAME", "Return")
		rbpOff, _, ok2 := l.Offset("_KSWITCH_FRAME", "Rbp")
		size, ok3 := l.Size("_KSWITCH_FRAME")
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("kernel: _KSWITCH_FRAME layout unknown")
		}
		ret, err := r.readPtr(t.KernelStack + retOff)
		if err != nil {
			return nil, &ReadError{What: "KSWITCH_FRAME.Return", Addr: t.KernelStack + retOff, Err: err}
		}
		rbp, err := r.readPtr(t.KernelStack + rbpOff)
		if err != nil {
			return nil, &ReadError{What: "KSWITCH_FRAME.Rbp", Addr: t.KernelStack + rbpOff, Err: err}
		}
		// CONTEXT_AMD64 | CONTEXT_CONTROL | CONTEXT_INTEGER (FORMATS.md §4.4).
		return &cpu.AMD64Context{ContextFlags: 0x00100003, Rip: ret, Rsp: t.KernelStack + size, Rbp: rbp}, nil
	case cpu.ArchX86:
		retOff, _, ok1 := l.Offset("_KSWITCH_FRAME", "RetAddr")
		size, ok2 := l.Size("_KSWITCH_FRAME")
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("kernel: _KSWITCH_FRAME layout unknown")
		}
		ret, err := r.readU32(t.KernelStack + retOff)
		if err != nil {
			return nil, &ReadError{What: "switch frame return address", Addr: t.KernelStack + retOff, Err: err}
		}
		return &cpu.X86Context{ContextFlags: 0x00010003, Eip: ret, Esp: uint32(t.KernelStack + size)}, nil
	case cpu.ArchARM64:
		return nil, ErrNoARM64SwitchFrame
	}
	return nil, fmt.Errorf("kernel: no switch frame layout for %s", l.Arch())
}

// ErrNoARM64SwitchFrame: where an ARM64 kernel saves the registers of a thread that is not
// running is not known (FORMATS.md §9 items 8 and 10 list the switch frame and ARM64 layouts as
// gaps), so such a thread's stack cannot be walked; the threads running on a processor can.
var ErrNoARM64SwitchFrame = errors.New("not available: this thread is not running, and the ARM64 switch frame that holds its saved registers has no known layout (FORMATS.md §9); only the stacks of the threads running on a processor can be walked")
