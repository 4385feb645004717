package pdb

import (
	"fmt"
	"sort"
)

// moduleData is what one module's symbol stream gives: its procedures and its line table, both
// sorted by internal RVA. A damaged symbol or line part keeps what was decoded before the damage
// and its error, so that one does not hide the other.
type moduleData struct {
	procs    []Function
	byRecOff map[uint32]int // procedure record offset → index into procs
	lines    []lineEntry
	procsErr error
	linesErr error
}

// CV_SIGNATURE_C13: the u32 that starts a module symbol stream (FORMATS.md §7.3).
const cvSignatureC13 = 4

// module returns module i's decoded symbol stream, reading it on first use.
func (f *File) module(i int) (*moduleData, error) {
	f.modMu.Lock()
	l, ok := f.modules[i]
	if !ok {
		l = &lazy[*moduleData]{}
		f.modules[i] = l
	}
	f.modMu.Unlock()
	return l.Get(func() (*moduleData, error) { return f.readModule(i) })
}

func (f *File) readModule(i int) (*moduleData, error) {
	d, err := f.DBI()
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(d.Modules) {
		return nil, dbiWhere.errorf(dbiHeaderSize, "module info", "module %d does not exist (%d modules)", i, len(d.Modules))
	}
	mod := d.Modules[i]
	md := &moduleData{}
	if mod.SymStream < 0 {
		return md, nil // stripped: nothing but the module's name
	}
	addr, err := f.addressMap()
	if err != nil {
		return nil, err
	}
	s, err := f.stream(mod.SymStream, fmt.Sprintf("module %d symbols", i))
	if err != nil {
		return nil, err
	}
	if err := f.spend(s.w, s.Size(), "module symbols"); err != nil {
		return nil, err
	}
	symEnd := int64(mod.SymByteSize)
	c13Off := symEnd + int64(mod.C11ByteSize)
	c13End := c13Off + int64(mod.C13ByteSize)
	if symEnd < 4 && symEnd != 0 || c13End > s.Size() {
		return nil, s.w.errorf(0, "module symbols", "%d bytes of symbols, %d of C11 and %d of C13 lines in a stream of %d bytes (module info %d)", mod.SymByteSize, mod.C11ByteSize, mod.C13ByteSize, s.Size(), i)
	}
	if symEnd > 0 {
		c, err := s.cursor(0, 4, "module symbols")
		if err != nil {
			return nil, err
		}
		if sig := c.u32(); sig != cvSignatureC13 {
			return nil, s.w.errorf(0, "module symbols", "signature %d, want %d (C13)", sig, cvSignatureC13)
		}
		b, err := s.view(4, symEnd-4, "module symbols")
		if err != nil {
			return nil, err
		}
		md.procs, md.procsErr = readProcs(s.w, b, 4, addr, i)
		md.byRecOff = make(map[uint32]int, len(md.procs))
		for k, fn := range md.procs {
			md.byRecOff[fn.recOff] = k
		}
	}
	if mod.C13ByteSize > 0 {
		b, err := s.view(c13Off, int64(mod.C13ByteSize), "C13 lines")
		if err != nil {
			return nil, err
		}
		md.lines, md.linesErr = readC13Lines(s.w, b, c13Off, addr)
	}
	return md, nil
}

// Function is a procedure symbol (S_GPROC32, S_LPROC32 and their _ID and DPC variants) of a
// module symbol stream: its name, range and frame description.
type Function struct {
	Name       string // undecorated, without parameters: "ns::Class::Method"
	RVA        uint32 // image RVA of the first byte
	Size       uint32 // CodeSize, in bytes
	Section    uint16 // PDB section:offset of the first byte
	Offset     uint32
	Kind       uint16 // S_GPROC32, S_LPROC32, S_GPROC32_ID, ...
	Module     int    // index into DBI.Modules
	TypeIndex  uint32 // the function's type (TPI) or id (IPI, for the _ID kinds)
	DebugStart uint32 // offset of the end of the prologue
	DebugEnd   uint32 // offset of the start of the epilogue
	Flags      uint8  // CV_PROCFLAGS
	Frame      *FrameProc

	internal uint32 // internal RVA (before OMAP)
	recOff   uint32 // offset of the record in its module stream
}

// FrameProc is S_FRAMEPROC (cvinfo.h FRAMEPROCSYM): the function's frame layout.
type FrameProc struct {
	FrameSize               uint32 // bytes of locals
	PaddingSize             uint32
	PaddingOffset           uint32
	SavedRegsSize           uint32 // bytes of callee-saved registers
	ExceptionHandlerOffset  uint32
	ExceptionHandlerSection uint16
	Flags                   uint32 // bit 14 (0x4000) set: locals are addressed from EBP ...
}

// readProcs collects the procedures of a module's symbol records. b holds the records; base is
// their offset in the stream.
func readProcs(w where, b []byte, base int64, addr *addressMap, module int) ([]Function, error) {
	var procs []Function
	cur := -1         // the procedure whose scope we are in, an index into procs
	var curEnd uint32 // the offset of its S_END
	err := walkRecords(w, "module symbols", b, base, func(off int64, kind uint16, rec []byte) bool {
		switch {
		case isProc(kind):
			// PROCSYM32: Parent @4, End @8, Next @0xC, CodeSize @0x10, DbgStart @0x14,
			// DbgEnd @0x18, FunctionType @0x1C, CodeOffset @0x20, Segment @0x24, Flags @0x26,
			// Name @0x27 (llvm.org/docs/PDB/CodeViewSymbols, cvinfo.h PROCSYM32).
			c := newCursor(w, "procedure", rec, off)
			c.skip(recordHeaderSize + 4)
			end := c.u32()
			c.u32()
			fn := Function{Kind: kind, Module: module, recOff: uint32(off)}
			fn.Size, fn.DebugStart, fn.DebugEnd, fn.TypeIndex = c.u32(), c.u32(), c.u32(), c.u32()
			fn.Offset, fn.Section, fn.Flags = c.u32(), c.u16(), c.u8()
			fn.Name = c.cstring()
			if c.err != nil {
				return true // a malformed procedure is skipped, not fatal to the module
			}
			in, ok := addr.internalRVA(fn.Section, fn.Offset)
			if !ok {
				return true
			}
			fn.internal = in
			fn.RVA, _ = addr.toImage(in)
			procs = append(procs, fn)
			cur, curEnd = len(procs)-1, end
		case kind == S_FRAMEPROC && cur >= 0 && uint32(off) < curEnd && procs[cur].Frame == nil:
			c := newCursor(w, "S_FRAMEPROC", rec, off)
			c.skip(recordHeaderSize)
			fp := &FrameProc{FrameSize: c.u32(), PaddingSize: c.u32(), PaddingOffset: c.u32(),
				SavedRegsSize: c.u32(), ExceptionHandlerOffset: c.u32(), ExceptionHandlerSection: c.u16(),
				Flags: c.u32()}
			if c.err == nil {
				procs[cur].Frame = fp
			}
		}
		return true
	})
	sort.SliceStable(procs, func(i, j int) bool { return procs[i].internal < procs[j].internal })
	return procs, err
}

// findProc returns the index of the procedure of procs (sorted by internal RVA) that contains
// internal RVA x, or -1.
func findProc(procs []Function, x uint32) int {
	i := sort.Search(len(procs), func(i int) bool { return procs[i].internal > x }) - 1
	if i < 0 {
		return -1
	}
	// Procedures do not overlap, but several can start at one address (folded duplicates) and
	// one may be empty: take the first of those starting where the found one does that holds x.
	k := i
	for k > 0 && procs[k-1].internal == procs[i].internal {
		k--
	}
	for j := k; j <= i; j++ {
		if x-procs[j].internal < procs[j].Size {
			return j
		}
	}
	return -1
}
