// Package stack walks a thread's stack in a target: it hands the unwinders of engine/unwind the
// unwind data each module has (x64/ARM64 function tables from the image in the dump or on disk,
// and Breakpad STACK CFI rows for modules whose image is missing; x86 FPO and frame data from the
// PDB or Breakpad STACK WIN records) and names every frame with engine/symbols. It never prints.
package stack

import (
	"context"
	"sync"

	"wdbg/engine"
	"wdbg/engine/breakpadsym"
	"wdbg/engine/cpu"
	"wdbg/engine/pdb"
	"wdbg/engine/pe"
	"wdbg/engine/symbols"
	"wdbg/engine/unwind"
)

// Frame is one frame of a walked stack, with the symbol of its instruction pointer.
type Frame struct {
	unwind.Frame
	Symbol    symbols.Symbol // the frame's code location
	HasSymbol bool           // false when the instruction pointer is in no module
	// Inline marks a function the compiler inlined into the next physical frame (inline.go):
	// it shares that frame's registers and has no stack pointer or return address of its own.
	Inline bool
}

// Walker walks stacks of one target; it caches each module's unwind data.
type Walker struct {
	target  *engine.Target
	syms    *symbols.Resolver
	modules []unwind.Module
}

// NewWalker prepares a walker; module unwind data loads on first use.
func NewWalker(t *engine.Target, r *symbols.Resolver) *Walker {
	w := &Walker{target: t, syms: r}
	for i := range t.Modules {
		m := &t.Modules[i]
		src := &lazySource{walker: w, index: i}
		w.modules = append(w.modules, unwind.Module{Base: m.Base, Size: uint64(m.Size), Name: m.Name,
			Unwind: src, X86: src, CFI: src})
	}
	return w
}

// Walk unwinds from the registers in c for at most max frames (0 = unwind.DefaultMaxFrames),
// as the architecture arch (x86 for the 32-bit view of a WOW64 thread).
func (w *Walker) Walk(ctx context.Context, arch cpu.Arch, c cpu.Context, max int) []Frame {
	if max <= 0 {
		max = unwind.DefaultMaxFrames
	}
	raw := unwind.Walk(ctx, arch, c, w.target.Memory, w.modules, max)
	frames := make([]Frame, len(raw))
	for i, f := range raw {
		frames[i].Frame = f
		addr := f.InstructionPointer
		// A caller frame's instruction pointer is a return address: name the call instruction
		// before it for source lines, but keep the displacement of the return address itself,
		// as WinDbg prints it.
		if sym, ok := w.syms.Lookup(ctx, addr); ok {
			frames[i].Symbol, frames[i].HasSymbol = sym, true
			if i > 0 && addr > 0 {
				if before, ok := w.syms.Lookup(ctx, addr-1); ok {
					frames[i].Symbol.File, frames[i].Symbol.Line = before.File, before.Line
				}
			}
		}
	}
	return frames
}

// lazySource is one module's unwind data, found on first use.
type lazySource struct {
	walker *Walker
	index  int

	once  sync.Once
	table *unwind.FunctionTable
	image *pe.File
	pdb   *pdb.File
	sym   *breakpadsym.File
}

func (s *lazySource) load() {
	s.once.Do(func() {
		ctx := context.Background()
		w := s.walker
		s.pdb = w.syms.PDB(ctx, s.index)
		s.sym = w.syms.BreakpadFile(ctx, s.index)
		s.image = w.syms.Image(ctx, s.index)
		if s.image == nil {
			return
		}
		arch := cpu.ArchX86
		switch s.image.Machine {
		case 0x8664:
			arch = cpu.ArchAMD64
		case 0xaa64:
			arch = cpu.ArchARM64
		}
		var pdata []byte
		if arch != cpu.ArchX86 {
			// Data directory 3 is the exception directory (.pdata).
			if dir := s.image.Directory(3); dir.Size > 0 {
				if b, err := s.image.ReadRVA(dir.VirtualAddress, int(dir.Size)); err == nil {
					entry := 12
					if arch == cpu.ArchARM64 {
						entry = 8
					}
					pdata = b[:len(b)/entry*entry]
				}
			}
		}
		if t, err := unwind.NewFunctionTable(arch, pdata, s.image.ReadRVA); err == nil {
			s.table = t
		}
	})
}

// RuntimeFunction implements unwind.UnwindSource.
func (s *lazySource) RuntimeFunction(rva uint32) (unwind.RuntimeFunction, bool) {
	s.load()
	if s.table == nil {
		return unwind.RuntimeFunction{}, false
	}
	return s.table.RuntimeFunction(rva)
}

// HasFunctionTable implements unwind.TableProber: without an image (or with an image whose
// .pdata could not be read) the walker must not take every address for a leaf function, and
// goes on to the module's CFI.
func (s *lazySource) HasFunctionTable() bool {
	s.load()
	return s.table != nil && s.table.Len() > 0
}

// CFIRow implements unwind.CFISource from the module's Breakpad .sym file.
func (s *lazySource) CFIRow(rva uint32) (unwind.CFIRow, bool) {
	s.load()
	return SymCFI{s.sym}.CFIRow(rva)
}

// SymCFI adapts a Breakpad symbol file's STACK CFI records to unwind.CFISource; a nil File has
// no rows.
type SymCFI struct{ File *breakpadsym.File }

// CFIRow implements unwind.CFISource with breakpadsym.File.CFIAt.
func (c SymCFI) CFIRow(rva uint32) (unwind.CFIRow, bool) {
	if c.File == nil {
		return unwind.CFIRow{}, false
	}
	row, ok := c.File.CFIAt(uint64(rva))
	if !ok || row.Addr > 0xFFFFFFFF {
		return unwind.CFIRow{}, false
	}
	out := unwind.CFIRow{Start: uint32(row.Addr), Size: uint32(min(row.Size, 0xFFFFFFFF)),
		Rules: make([]unwind.CFIRule, len(row.Rules))}
	for i, r := range row.Rules {
		out.Rules[i] = unwind.CFIRule{Register: r.Register, Expr: r.Expr}
	}
	return out, true
}

// ReadRVA implements unwind.UnwindSource.
func (s *lazySource) ReadRVA(rva uint32, n int) ([]byte, error) {
	s.load()
	if s.image == nil {
		return nil, &engine.ReadError{Addr: s.walker.target.Modules[s.index].Base + uint64(rva)}
	}
	return s.image.ReadRVA(rva, n)
}

// X86Frame implements unwind.X86FrameInfo from the PDB (frame data before FPO, as the newer
// record describes the code more exactly) or the Breakpad STACK WIN records.
func (s *lazySource) X86Frame(rva uint32) (unwind.X86Frame, bool) {
	s.load()
	if s.pdb != nil {
		if fd, ok := s.pdb.FrameDataAt(rva); ok {
			return unwind.X86Frame{Kind: unwind.X86FrameData, Start: fd.RVA, Size: fd.CodeSize,
				PrologSize: uint32(fd.PrologSize), ParamsSize: fd.ParamsSize, SavedRegsSize: uint32(fd.SavedRegsSize),
				LocalsSize: fd.LocalSize, MaxStackSize: fd.MaxStackSize, HasSEH: fd.Flags&pdb.FrameDataHasSEH != 0,
				Program: fd.Program}, true
		}
		if f, ok := s.pdb.FPOAt(rva); ok {
			return unwind.X86Frame{Kind: unwind.X86FrameFPO, Start: f.RVA, Size: f.Size, PrologSize: uint32(f.Prolog),
				ParamsSize: uint32(f.Params) * 4, SavedRegsSize: uint32(f.Regs) * 4, LocalsSize: f.Locals * 4,
				FrameType: f.Frame, UsesBP: f.UseBP, HasSEH: f.HasSEH}, true
		}
	}
	if s.sym != nil {
		if sw := s.sym.StackWinAt(uint64(rva)); sw != nil {
			f := unwind.X86Frame{Kind: unwind.X86FrameFPO, Start: uint32(sw.RVA), Size: uint32(sw.CodeSize),
				PrologSize: sw.PrologSize, ParamsSize: sw.ParamSize, SavedRegsSize: sw.SavedRegSize,
				LocalsSize: sw.LocalSize, MaxStackSize: sw.MaxStackSize, UsesBP: sw.AllocatesBasePointer}
			if sw.HasProgram {
				f.Kind, f.Program = unwind.X86FrameData, sw.Program
			}
			return f, true
		}
	}
	return unwind.X86Frame{}, false
}
