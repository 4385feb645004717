package pdbwrite

import (
	"fmt"
	"sort"
)

// FPO frame types, FPO_DATA.cbFrame (FORMATS.md §8.2; the FPO_DATA page of the Windows API
// reference, winnt.h: FRAME_FPO 0, FRAME_TRAP 1, FRAME_TSS 2, FRAME_NONFPO 3).
const (
	FrameFPO    = 0
	FrameTrap   = 1
	FrameTSS    = 2
	FrameNonFPO = 3
)

// FPO is one FPO_DATA record: how an x86 function's frame is laid out. The PDB keeps an array of
// them in the stream named by the DBI optional debug header's entry 0 (FORMATS.md §7.3, §8.2).
type FPO struct {
	Start  uint32 // ulOffStart: RVA of the function's first byte
	Size   uint32 // cbProcSize: bytes of code
	Locals uint32 // cdwLocals: dwords of locals
	Params uint16 // cdwParams: dwords of parameters
	Prolog uint8  // cbProlog: bytes of prolog code
	Regs   uint8  // cbRegs: callee-saved registers pushed, 0-7 (3 bits)
	HasSEH bool   // fHasSEH
	UseBP  bool   // fUseBP: EBP is set up and used as the frame pointer
	Frame  uint8  // cbFrame: FrameFPO, FrameTrap, FrameTSS or FrameNonFPO (2 bits)
}

// fpoRecordSize is sizeof(FPO_DATA) (FORMATS.md §8.2).
const fpoRecordSize = 16

// bytes encodes the record (FORMATS.md §8.2): ulOffStart u32 @0, cbProcSize u32 @4, cdwLocals
// u32 @8, cdwParams u16 @0xC, then a u16 @0xE whose bits are, from bit 0 up (the winnt.h
// bitfield declaration order, allocated from the low bit): cbProlog 8 bits, cbRegs 3, fHasSEH 1,
// fUseBP 1, reserved 1, cbFrame 2.
func (f FPO) bytes() ([]byte, error) {
	if f.Regs > 7 {
		return nil, fmt.Errorf("pdbwrite: FPO record at RVA %#x: %d saved registers do not fit cbRegs (3 bits)", f.Start, f.Regs)
	}
	if f.Frame > 3 {
		return nil, fmt.Errorf("pdbwrite: FPO record at RVA %#x: frame type %d does not fit cbFrame (2 bits)", f.Start, f.Frame)
	}
	bits := uint16(f.Prolog) | uint16(f.Regs)<<8 | uint16(f.Frame)<<14
	if f.HasSEH {
		bits |= 1 << 11
	}
	if f.UseBP {
		bits |= 1 << 12
	}
	var b buf
	b.u32(f.Start)
	b.u32(f.Size)
	b.u32(f.Locals)
	b.u16(f.Params)
	b.u16(bits)
	return b.Bytes(), nil
}

// fpoStream is the FPO_DATA array sorted by RVA (readers search it by binary search), or nil when
// there are no records.
func fpoStream(records []FPO) ([]byte, error) {
	if len(records) == 0 {
		return nil, nil
	}
	sorted := append([]FPO(nil), records...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
	var b buf
	for i, r := range sorted {
		if i > 0 && r.Start < sorted[i-1].Start+sorted[i-1].Size {
			return nil, fmt.Errorf("pdbwrite: FPO records at RVA %#x and %#x overlap", sorted[i-1].Start, r.Start)
		}
		rec, err := r.bytes()
		if err != nil {
			return nil, err
		}
		b.Write(rec)
	}
	return b.Bytes(), nil
}
