package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"wdbg/engine"
	"wdbg/engine/cpu"
	"wdbg/engine/kernel"
)

// KernelState is what a kernel session keeps besides the processor: the implicit thread and
// process that .thread and .process set (0 = the processor's own), and the structure reader.
type KernelState struct {
	ImplicitThread  uint64
	ImplicitProcess uint64
	reader          *kernel.Reader
	typed           bool // the reader's layout has the kernel PDB's types
}

var errNotKernel = errors.New("this command needs a kernel dump")

// kernelReader reads kernel structures with the best layout at hand: the kernel PDB's types when
// the symbol path has ntkrnlmp.pdb, else the KDBG offsets and the built-in per-build tables.
func (s *Session) kernelReader(ctx context.Context) (*kernel.Reader, error) {
	if s.Target.Kernel == nil {
		return nil, errNotKernel
	}
	ks := &s.KernelState
	if ks.reader != nil && (ks.typed || s.Symbols == nil) {
		ks.reader.Mem = s.Memory()
		return ks.reader, nil
	}
	r, err := s.Target.KernelReader()
	if err != nil {
		return nil, err
	}
	if s.Symbols != nil {
		if i, ok := s.Symbols.ModuleByName("nt"); ok {
			if p := s.Symbols.PDB(ctx, i); p != nil {
				r.Layout = r.Layout.WithTypes(kernel.PDBTypes(p))
				ks.typed = true
			}
		}
	}
	r.Mem = s.Memory()
	ks.reader = r
	return r, nil
}

// currentThreadAddr is the ETHREAD the session looks at: .thread's choice, else the one running
// on the current processor.
func (s *Session) currentThreadAddr() uint64 {
	if s.KernelState.ImplicitThread != 0 {
		return s.KernelState.ImplicitThread
	}
	k := s.Target.Kernel
	if s.Thread < len(k.Processors) {
		return k.Processors[s.Thread].CurrentThread
	}
	if s.Thread == k.Processor {
		return k.CurrentThread
	}
	return 0
}

// currentProcessAddr is the EPROCESS of the session: .process's choice, else the current
// thread's process.
func (s *Session) currentProcessAddr(ctx context.Context) uint64 {
	if s.KernelState.ImplicitProcess != 0 {
		return s.KernelState.ImplicitProcess
	}
	k := s.Target.Kernel
	th := s.currentThreadAddr()
	if th == k.CurrentThread && k.CurrentProcess != 0 {
		return k.CurrentProcess
	}
	if r, err := s.kernelReader(ctx); err == nil && th != 0 {
		if t, err := r.Thread(th); err == nil {
			return t.Process
		}
	}
	return 0
}

// threadContext is the register context of a kernel thread: the processor's when the thread is
// running on one, else what its last context switch saved on its kernel stack.
func (s *Session) threadContext(r *kernel.Reader, t kernel.Thread) (cpu.Context, error) {
	k := s.Target.Kernel
	for i, p := range k.Processors {
		if p.CurrentThread == t.Addr && i < len(s.Target.Threads) {
			th := s.Target.Threads[i]
			return th.Context, th.ContextError
		}
	}
	if t.Addr == k.CurrentThread && k.Processor < len(s.Target.Threads) {
		th := s.Target.Threads[k.Processor]
		return th.Context, th.ContextError
	}
	return r.SwitchContext(t)
}

// runningOn is the processor a thread runs on, or -1.
func (s *Session) runningOn(addr uint64) int {
	k := s.Target.Kernel
	for i, p := range k.Processors {
		if p.CurrentThread == addr {
			return i
		}
	}
	if addr != 0 && addr == k.CurrentThread {
		return k.Processor
	}
	return -1
}

// tickDuration converts clock ticks with the kernel's KeTimeIncrement (100 ns units, the u32
// variable the KDBG points at); ok is false when it cannot be read.
func (s *Session) tickDuration(ticks uint32) (time.Duration, bool) {
	k := s.Target.Kernel
	if k.Debugger == nil || k.Debugger.KeTimeIncrement == 0 {
		return 0, false
	}
	inc, err := engine.ReadU32(s.Memory(), k.Debugger.KeTimeIncrement)
	if err != nil || inc == 0 {
		return 0, false
	}
	return kernel.TicksToDuration(uint64(ticks), inc), true
}

// tickCount is the interrupt tick count at the time of the dump (KUSER_SHARED_DATA.TickCountQuad,
// FORMATS.md §5.1).
func (s *Session) tickCount() (uint64, bool) {
	addr := uint64(0xFFFFF78000000320)
	if s.PointerSize() == 4 {
		addr = 0xFFDF0320
	}
	v, err := engine.ReadU64(s.Memory(), addr)
	return v, err == nil
}

// hmsms prints a duration as WinDbg's thread times: 00:00:00.015.
func hmsms(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// filetimeToTime converts a FILETIME (100 ns since 1601) to a time.
func filetimeToTime(ft uint64) time.Time {
	const epochDiff = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	if ft < epochDiff {
		return time.Time{}
	}
	ns := (ft - epochDiff) * 100
	return time.Unix(int64(ns/1e9), int64(ns%1e9)).UTC()
}
