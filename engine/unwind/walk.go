package unwind

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"wdbg/engine/cpu"
)

// DefaultMaxFrames is the frame limit when Walk is given none (WinDbg's .kframes default is 256
// too).
const DefaultMaxFrames = 256

// Walk unwinds a thread's stack from initial (the thread context, or the exception context after
// .ecxr), youngest frame first. arch is the architecture to unwind (x86 for the 32-bit side of a
// WOW64 thread); modules are the target's images with whatever unwind data is known for them.
//
// The walk stops at maxFrames (DefaultMaxFrames when <= 0), when the context is cancelled, when a
// return address is 0 or not canonical, when the stack pointer does not grow, or when a frame
// repeats; the last frame's Stop says which.
func Walk(ctx context.Context, arch cpu.Arch, initial cpu.Context, mem Memory, modules []Module, maxFrames int) []Frame {
	if maxFrames <= 0 {
		maxFrames = DefaultMaxFrames
	}
	regs := FromContext(initial)
	if arch == cpu.ArchUnknown {
		arch = regs.Arch
	}
	w := newWalker(arch, mem, modules)
	first := Frame{
		InstructionPointer: regs.PC(),
		StackPointer:       regs.SP(),
		FramePointer:       regs.FP(),
		Regs:               regs,
		Trust:              TrustContext,
		Interrupted:        true,
		Module:             w.moduleIndex(regs.PC()),
	}
	if initial == nil || regs.Arch != arch || w.ptr == 0 {
		first.Stop = fmt.Sprintf("no %s register context to unwind", arch)
		return []Frame{first}
	}
	frames := []Frame{first}
	seen := map[[2]uint64]bool{{first.InstructionPointer, first.StackPointer}: true}
	for {
		callee := &frames[len(frames)-1]
		if ctx != nil && ctx.Err() != nil {
			callee.Stop = "walk cancelled"
			break
		}
		var calleeOfCallee *Frame
		if len(frames) >= 2 {
			calleeOfCallee = &frames[len(frames)-2]
		}
		c, stop := w.step(callee, calleeOfCallee)
		if c == nil {
			w.finishLast(callee)
			callee.Stop = stop
			break
		}
		caller := w.frameFrom(c)
		w.link(callee, c, &caller)
		if len(frames) >= maxFrames {
			// The caller was found only to give the last frame its RetAddr and arguments.
			callee.Stop = fmt.Sprintf("stopped after %d frames", maxFrames)
			break
		}
		key := [2]uint64{caller.InstructionPointer, caller.StackPointer}
		if seen[key] {
			callee.Stop = fmt.Sprintf("frame %#x / %#x repeats", key[0], key[1])
			break
		}
		seen[key] = true
		frames = append(frames, caller)
		if c.final != "" {
			frames[len(frames)-1].Stop = c.final
			w.finishLast(&frames[len(frames)-1])
			break
		}
	}
	return frames
}

// link records on the callee what finding its caller taught: the return address, the
// arguments above it, the frame record or machine frame used, and notes about the callee.
func (w *walker) link(callee *Frame, c *candidate, caller *Frame) {
	callee.ReturnAddress = caller.InstructionPointer
	callee.Note = joinNotes(callee.Note, c.calleeNote)
	callee.X86 = c.x86
	callee.FunctionBegin = c.functionBegin
	callee.MachineFrame = c.machineFrame
	callee.TrapFrame = c.trapFrame
	if w.arch == cpu.ArchX86 && c.raSlot != 0 {
		callee.FramePointer = c.raSlot - 4 // ChildEBP: the EBP a standard frame would have
	}
	if c.trapFrame != 0 && w.arch == cpu.ArchX86 {
		// The caller's stack pointer is the interrupted one, past the KTRAP_FRAME: the words
		// kb shows for a trap handler are the ones above its ChildEBP, as for an EBP frame.
		w.readArgs(callee, callee.FramePointer+8)
		return
	}
	w.readArgs(callee, caller.StackPointer)
}

// walker holds what one walk needs: memory, the modules sorted by base, the pointer size.
type walker struct {
	arch  cpu.Arch
	ptr   int
	mem   Memory
	mods  []Module
	order []int // indexes into mods sorted by Base
}

func newWalker(arch cpu.Arch, mem Memory, mods []Module) *walker {
	w := &walker{arch: arch, mem: mem, mods: mods}
	switch arch {
	case cpu.ArchAMD64, cpu.ArchARM64:
		w.ptr = 8
	case cpu.ArchX86:
		w.ptr = 4
	}
	w.order = make([]int, len(mods))
	for i := range w.order {
		w.order[i] = i
	}
	sort.SliceStable(w.order, func(a, b int) bool { return mods[w.order[a]].Base < mods[w.order[b]].Base })
	return w
}

// moduleIndex is the index of the module holding addr, -1 if none.
func (w *walker) moduleIndex(addr uint64) int {
	i := sort.Search(len(w.order), func(i int) bool { return w.mods[w.order[i]].Base > addr }) - 1
	if i < 0 {
		return -1
	}
	if m := &w.mods[w.order[i]]; m.contains(addr) {
		return w.order[i]
	}
	return -1
}

func (w *walker) module(addr uint64) *Module {
	if i := w.moduleIndex(addr); i >= 0 {
		return &w.mods[i]
	}
	return nil
}

// candidate is one unwinder's proposal for the caller frame.
type candidate struct {
	regs          Registers
	trust         Trust
	note          string // about the caller: how it was found, what was guessed
	calleeNote    string // about the callee: "in prolog", "in epilogue", "leaf function"
	raSlot        uint64 // x86: where the return address was read, 0 if unknown
	x86           *X86Frame
	functionBegin uint32
	machineFrame  uint64
	trapFrame     uint64 // the KTRAP_FRAME the caller's registers came from (x86 FRAME_TRAP, ARM64 code 0xE8)
	interrupted   bool
	final         string // set when the caller is the last frame (e.g. its own caller is 0)
}

// method is one way of finding the caller; nil, nil means "does not apply".
type method func(callee, calleeOfCallee *Frame) (*candidate, error)

// step tries the unwinders of the architecture in order of trust and returns the first caller
// frame that passes the sanity checks, or why there is none.
func (w *walker) step(callee, calleeOfCallee *Frame) (*candidate, string) {
	var methods []method
	switch w.arch {
	case cpu.ArchAMD64:
		methods = []method{w.unwindInfo, w.cfi, w.leafGuessX64, w.scanMethod}
	case cpu.ArchARM64:
		methods = []method{w.unwindInfo, w.cfi, w.framePointerARM64, w.scanMethod}
	case cpu.ArchX86:
		methods = []method{w.frameRecordX86, w.framePointerX86, w.scanMethod}
	}
	var why []string
	for _, m := range methods {
		c, err := m(callee, calleeOfCallee)
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		if c == nil {
			continue
		}
		if c.regs.PC() == 0 {
			if c.trust == TrustScan {
				continue
			}
			return nil, "return address is 0 (end of the stack)"
		}
		if reason := w.implausible(callee, c); reason != "" {
			why = append(why, fmt.Sprintf("%s: %s", c.trust, reason))
			continue
		}
		if len(why) > 0 {
			c.note = joinNotes(strings.Join(why, "; "), c.note)
		}
		return c, ""
	}
	if len(why) == 0 {
		return nil, "no way to find the caller"
	}
	return nil, strings.Join(why, "; ")
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// implausible says why a proposed caller cannot be right, or "".
func (w *walker) implausible(callee *Frame, c *candidate) string {
	ip, sp := c.regs.PC(), c.regs.SP()
	if !w.canonical(ip) {
		return fmt.Sprintf("return address %#x is not a valid address", ip)
	}
	if c.machineFrame == 0 && c.trapFrame == 0 && sp <= callee.StackPointer && !w.leafReturn(callee, c) {
		return fmt.Sprintf("stack pointer %#x does not grow past %#x", sp, callee.StackPointer)
	}
	if len(w.mods) > 0 && w.moduleIndex(ip) < 0 && c.trust != TrustUnwindInfo && c.trust != TrustCFI && c.trust != TrustFPO {
		return fmt.Sprintf("return address %#x is in no module", ip)
	}
	return ""
}

// leafReturn reports whether a caller at the callee's own stack pointer is an ARM64 return from
// a function that has moved no stack: a leaf (or a function stopped before its prolog) returns
// through lr, so its caller's sp is its own. Only an interrupted frame — frame 0, or one restored
// from a trap, machine or context frame — can be stopped there with its return address still in
// lr; every other frame is at a return address, past a call that its prolog preceded. The pc must
// change, so that an unwind that makes no progress still stops the walk.
func (w *walker) leafReturn(callee *Frame, c *candidate) bool {
	return w.arch == cpu.ArchARM64 && callee.Interrupted && c.regs.SP() == callee.StackPointer &&
		c.regs.PC() != callee.InstructionPointer
}

// canonical reports whether addr can be an instruction address of the architecture.
func (w *walker) canonical(addr uint64) bool {
	switch w.arch {
	case cpu.ArchX86:
		return addr <= 0xFFFFFFFF
	case cpu.ArchAMD64, cpu.ArchARM64:
		top := addr >> 47
		return top == 0 || top == 1<<17-1
	}
	return false
}

// frameFrom turns an accepted candidate into the caller Frame.
func (w *walker) frameFrom(c *candidate) Frame {
	f := Frame{
		InstructionPointer: c.regs.PC(),
		StackPointer:       c.regs.SP(),
		FramePointer:       c.regs.FP(),
		Regs:               c.regs,
		Trust:              c.trust,
		Note:               c.note,
		Interrupted:        c.interrupted,
		Module:             w.moduleIndex(c.regs.PC()),
	}
	if f.Module < 0 && len(w.mods) > 0 {
		f.Note = joinNotes(f.Note, "address in no known module")
	}
	return f
}

// readArgs fills the kb "Args to Child" of a frame from its caller's stack pointer.
func (w *walker) readArgs(f *Frame, at uint64) {
	f.ArgsValid = 0
	for i := range f.Args {
		v, err := readPtr(w.mem, at+uint64(i*w.ptr), w.ptr)
		if err != nil {
			break
		}
		f.Args[i] = v
		f.ArgsValid = i + 1
	}
}

// finishLast gives the last frame its x86 arguments from EBP+8, as WinDbg prints them even when
// the walk cannot go further.
func (w *walker) finishLast(f *Frame) {
	if w.arch == cpu.ArchX86 && f.ArgsValid == 0 && f.FramePointer != 0 {
		w.readArgs(f, f.FramePointer+8)
	}
}
