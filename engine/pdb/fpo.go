package pdb

import "sort"

// FPO_DATA frame types (cbFrame, FORMATS.md §8.2).
const (
	FrameFPO    = 0
	FrameTrap   = 1
	FrameTSS    = 2
	FrameNonFPO = 3
)

// FPOData is an FPO_DATA record (16 bytes, FORMATS.md §8.2): how an x86 function without a frame
// pointer lays out its stack.
type FPOData struct {
	RVA    uint32 // ulOffStart: image RVA of the function
	Size   uint32 // cbProcSize
	Locals uint32 // cdwLocals: locals, in dwords
	Params uint16 // cdwParams: parameters, in dwords
	Prolog uint8  // cbProlog: prologue bytes
	Regs   uint8  // cbRegs: callee-saved registers pushed
	HasSEH bool   // fHasSEH
	UseBP  bool   // fUseBP: EBP is set up as a frame pointer
	Frame  uint8  // cbFrame: FrameFPO, FrameTrap, FrameTSS or FrameNonFPO

	internal uint32 // ulOffStart as stored: an RVA before OMAP rearrangement
}

// FrameData flags (FORMATS.md §8.2).
const (
	FrameDataHasSEH          = 1
	FrameDataHasEH           = 2
	FrameDataIsFunctionStart = 4
)

// FrameData is a FRAMEDATA record ("new FPO", 32 bytes, FORMATS.md §8.2) with its program
// string: how to recover the caller's registers from inside a range of x86 code.
type FrameData struct {
	RVA           uint32 // RvaStart: image RVA of the range
	CodeSize      uint32
	LocalSize     uint32 // bytes
	ParamsSize    uint32 // bytes
	MaxStackSize  uint32
	Program       string // postfix program, e.g. "$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + ="; "" when none
	PrologSize    uint16
	SavedRegsSize uint16
	Flags         uint32 // FrameDataHasSEH | FrameDataHasEH | FrameDataIsFunctionStart

	internal  uint32 // RvaStart as stored: an RVA before OMAP rearrangement
	frameFunc uint32 // offset of Program in "/names"
}

const (
	fpoDataSize   = 16
	frameDataSize = 32
	// maxFrameDataNesting bounds the backward walk over nested frame data ranges.
	maxFrameDataNesting = 1024
)

// fpoTable reads the DBI's FPO stream (optional debug header [0]), sorted by internal RVA.
func (f *File) fpoTable() ([]FPOData, error) {
	return f.fpo.Get(func() ([]FPOData, error) {
		d, err := f.DBI()
		if err != nil {
			return nil, err
		}
		addr, err := f.addressMap()
		if err != nil {
			return nil, err
		}
		idx := d.DebugStream(DebugFPO)
		if idx < 0 {
			return nil, nil
		}
		s, err := f.stream(idx, "FPO data")
		if err != nil {
			return nil, err
		}
		c, err := s.cursor(0, s.Size()/fpoDataSize*fpoDataSize, "FPO_DATA")
		if err != nil {
			return nil, err
		}
		out := make([]FPOData, 0, c.remaining()/fpoDataSize)
		for c.remaining() > 0 {
			fd := FPOData{RVA: c.u32(), Size: c.u32(), Locals: c.u32(), Params: c.u16()}
			bits := c.u16()
			fd.Prolog = uint8(bits)
			fd.Regs = uint8(bits>>8) & 7
			fd.HasSEH = bits&(1<<11) != 0
			fd.UseBP = bits&(1<<12) != 0
			fd.Frame = uint8(bits >> 14)
			// Like the symbols, the records were written before any OMAP rearrangement.
			fd.internal = fd.RVA
			fd.RVA, _ = addr.toImage(fd.internal)
			out = append(out, fd)
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].internal < out[j].internal })
		return out, c.err
	})
}

// FPO returns the FPO_DATA records, sorted by RVA.
func (f *File) FPO() ([]FPOData, error) {
	t, err := f.fpoTable()
	if err != nil {
		return nil, err
	}
	out := append([]FPOData(nil), t...)
	if f.HasOMAP() {
		sort.SliceStable(out, func(i, j int) bool { return out[i].RVA < out[j].RVA })
	}
	return out, nil
}

// FPOAt returns the FPO_DATA record whose function holds an image RVA.
func (f *File) FPOAt(rva uint32) (FPOData, bool) {
	t, err := f.fpoTable()
	if err != nil {
		return FPOData{}, false
	}
	x, ok := f.internalRVA(rva)
	if !ok {
		return FPOData{}, false
	}
	i := sort.Search(len(t), func(i int) bool { return t[i].internal > x }) - 1
	if i < 0 || x-t[i].internal >= t[i].Size {
		return FPOData{}, false
	}
	return t[i], true
}

// frameDataTable reads the DBI's new FPO stream (optional debug header [9]), sorted by RVA.
func (f *File) frameDataTable() ([]FrameData, error) {
	return f.frameData.Get(func() ([]FrameData, error) {
		d, err := f.DBI()
		if err != nil {
			return nil, err
		}
		addr, err := f.addressMap()
		if err != nil {
			return nil, err
		}
		idx := d.DebugStream(DebugNewFPO)
		if idx < 0 {
			return nil, nil
		}
		s, err := f.stream(idx, "frame data")
		if err != nil {
			return nil, err
		}
		b, err := s.all("FRAMEDATA")
		if err != nil {
			return nil, err
		}
		base := int64(0)
		// Like a DEBUG_S_FRAMEDATA subsection, the array may follow a u32 relocation base
		// (LLVM DebugFrameDataSubsection reads one when the size is not a multiple of 32).
		if len(b)%frameDataSize != 0 && len(b) >= 4 {
			b, base = b[4:], 4
		}
		c := newCursor(s.w, "FRAMEDATA", b[:len(b)/frameDataSize*frameDataSize], base)
		out := make([]FrameData, 0, c.remaining()/frameDataSize)
		for c.remaining() > 0 {
			fd := FrameData{RVA: c.u32(), CodeSize: c.u32(), LocalSize: c.u32(), ParamsSize: c.u32(),
				MaxStackSize: c.u32(), frameFunc: c.u32(), PrologSize: c.u16(), SavedRegsSize: c.u16(),
				Flags: c.u32()}
			fd.internal = fd.RVA
			fd.RVA, _ = addr.toImage(fd.internal)
			out = append(out, fd)
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].internal < out[j].internal })
		return out, c.err
	})
}

// FrameDataAt returns the frame data record describing the code at an image RVA: of the nested
// ranges a function's prologue produces (one per pushed register), the innermost that holds it.
func (f *File) FrameDataAt(rva uint32) (FrameData, bool) {
	t, err := f.frameDataTable()
	if err != nil {
		return FrameData{}, false
	}
	x, ok := f.internalRVA(rva)
	if !ok {
		return FrameData{}, false
	}
	i := sort.Search(len(t), func(i int) bool { return t[i].internal > x }) - 1
	for steps := 0; i >= 0 && steps < maxFrameDataNesting; i, steps = i-1, steps+1 {
		fd := t[i]
		if x-fd.internal < fd.CodeSize {
			return f.withProgram(fd), true
		}
		if fd.Flags&FrameDataIsFunctionStart != 0 {
			break // ranges before a function's first one belong to earlier functions
		}
	}
	return FrameData{}, false
}

// FrameDataRecords returns every frame data record with its program string, sorted by RVA.
func (f *File) FrameDataRecords() ([]FrameData, error) {
	t, err := f.frameDataTable()
	if err != nil {
		return nil, err
	}
	out := make([]FrameData, len(t))
	for i, fd := range t {
		out[i] = f.withProgram(fd)
	}
	if f.HasOMAP() {
		sort.SliceStable(out, func(i, j int) bool { return out[i].RVA < out[j].RVA })
	}
	return out, nil
}

func (f *File) withProgram(fd FrameData) FrameData {
	if s, err := f.String(fd.frameFunc); err == nil {
		fd.Program = s
	}
	return fd
}
