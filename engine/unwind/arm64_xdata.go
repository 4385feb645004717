package unwind

import (
	"encoding/binary"
)

// ARM64 unwind data ("ARM64 exception handling", Microsoft C++ docs): a .pdata entry holds either
// the RVA of an .xdata record (flag 0), packed unwind data (flags 1 and 2), or a pointer to the
// parent entry of a chained fragment (flag 3).

// xdataARM64 is an .xdata record, or the equivalent record expanded from packed unwind data.
type xdataARM64 struct {
	rva          uint32 // where the record was read (0 for packed data)
	funcLen      uint32 // function length in bytes
	codes        []byte // unwind code bytes
	epilogInHead bool   // E bit: one epilogue at the end of the function, starting at epilogIndex
	epilogIndex  int
	scopes       []epilogScopeARM64
	hasHandler   bool
}

type epilogScopeARM64 struct {
	start uint32 // offset of the epilogue from the function start, in bytes
	index int    // first unwind code byte of the epilogue
}

// maxXdataBytes bounds an .xdata record: 2 header words, 65535 scopes and 255 code words.
const maxXdataBytes = 8 + 4*0xFFFF + 4*0xFF

// decodeXdataARM64 reads the .xdata record at rva: header word(s), epilogue scopes, unwind codes.
func decodeXdataARM64(src UnwindSource, rva uint32) (*xdataARM64, error) {
	head, err := src.ReadRVA(rva, 4)
	if err != nil {
		return nil, unwindErr(rva, ".xdata", "%v", err)
	}
	h := binary.LittleEndian.Uint32(head)
	need := 4
	if h>>22 == 0 { // Epilog Count and Code Words both 0: an extension word follows
		need = 8
	}
	full, err := src.ReadRVA(rva, need)
	if err != nil {
		return nil, unwindErr(rva, ".xdata", "%v", err)
	}
	x := &xdataARM64{rva: rva}
	size, scopes, words := parseXdataHeaderARM64(full, x)
	if int(size) > maxXdataBytes {
		return nil, unwindErr(rva, ".xdata", "record of %d bytes is too large", size)
	}
	b, err := src.ReadRVA(rva, int(size))
	if err != nil {
		return nil, unwindErr(rva, ".xdata", "%v", err)
	}
	return x, fillXdataARM64(b, x, need, scopes, words)
}

// parseXdataHeaderARM64 decodes the header: Function Length bits 0–17 (×4), Vers 18–19, X 20,
// E 21, Epilog Count 22–26, Code Words 27–31; when those two are 0 the extension word holds
// Extended Epilog Count (bits 0–15) and Extended Code Words (16–23). It returns the record size
// without handler data.
func parseXdataHeaderARM64(b []byte, x *xdataARM64) (size uint32, scopes, words uint32) {
	h := binary.LittleEndian.Uint32(b)
	x.funcLen = (h & 0x3FFFF) * 4
	x.hasHandler = h&(1<<20) != 0
	x.epilogInHead = h&(1<<21) != 0
	scopes = (h >> 22) & 0x1F
	words = (h >> 27) & 0x1F
	size = 4
	if scopes == 0 && words == 0 && len(b) >= 8 {
		ext := binary.LittleEndian.Uint32(b[4:])
		scopes, words = ext&0xFFFF, (ext>>16)&0xFF
		size = 8
	}
	if x.epilogInHead {
		x.epilogIndex = int(scopes)
		scopes = 0
	}
	size += 4*scopes + 4*words
	return size, scopes, words
}

func fillXdataARM64(b []byte, x *xdataARM64, off int, scopes, words uint32) error {
	if v := (binary.LittleEndian.Uint32(b) >> 18) & 3; v != 0 {
		return unwindErr(x.rva, ".xdata", "unknown version %d", v)
	}
	for i := uint32(0); i < scopes; i++ {
		s := binary.LittleEndian.Uint32(b[off:])
		off += 4
		sc := epilogScopeARM64{start: (s & 0x3FFFF) * 4, index: int(s >> 22)}
		if sc.index >= int(4*words) {
			return unwindErr(x.rva, ".xdata", "epilogue scope %d starts at code byte %d of %d", i, sc.index, 4*words)
		}
		x.scopes = append(x.scopes, sc)
	}
	x.codes = b[off : off+int(4*words)]
	if x.epilogInHead && x.epilogIndex >= len(x.codes) {
		return unwindErr(x.rva, ".xdata", "epilogue starts at code byte %d of %d", x.epilogIndex, len(x.codes))
	}
	return nil
}

// decodeXdataBytesARM64 decodes a record already in memory (fuzzing and tests).
func decodeXdataBytesARM64(b []byte, rva uint32) (*xdataARM64, error) {
	if len(b) < 4 {
		return nil, unwindErr(rva, ".xdata", "truncated (need 4 bytes, have %d)", len(b))
	}
	x := &xdataARM64{rva: rva}
	need := 4
	if binary.LittleEndian.Uint32(b)>>22 == 0 {
		need = 8
		if len(b) < 8 {
			return nil, unwindErr(rva, ".xdata", "truncated (need 8 bytes, have %d)", len(b))
		}
	}
	size, scopes, words := parseXdataHeaderARM64(b, x)
	if uint32(len(b)) < size {
		return nil, unwindErr(rva, ".xdata", "truncated (need %d bytes, have %d)", size, len(b))
	}
	return x, fillXdataARM64(b, x, need, scopes, words)
}

// PackedARM64 is the packed unwind data of an ARM64 .pdata entry (flag 1 or 2).
type PackedARM64 struct {
	Flag      uint8  // 1: function with prolog and epilog; 2: fragment without either
	FuncLen   uint32 // bytes
	RegF      uint8  // 0, or RegF+1 FP registers d8… saved
	RegI      uint8  // integer registers x19… saved
	H         bool   // x0–x7 homed
	CR        uint8  // 0 unchained, 1 unchained with lr saved, 2 chained with PAC, 3 chained
	FrameSize uint32 // bytes
}

// DecodePackedARM64 splits a packed .pdata word: Flag bits 0–1, Function Length 2–12 (×4), RegF
// 13–15, RegI 16–19, H 20, CR 21–22, Frame Size 23–31 (×16).
func DecodePackedARM64(w uint32) PackedARM64 {
	return PackedARM64{
		Flag:      uint8(w & 3),
		FuncLen:   ((w >> 2) & 0x7FF) * 4,
		RegF:      uint8((w >> 13) & 7),
		RegI:      uint8((w >> 16) & 0xF),
		H:         w&(1<<20) != 0,
		CR:        uint8((w >> 21) & 3),
		FrameSize: ((w >> 23) & 0x1FF) * 16,
	}
}

// arm64Op is one unwind operation, used to synthesise codes from packed data.
type arm64Op []byte

func opAlloc(bytes uint32) arm64Op {
	n := bytes / 16
	switch {
	case n < 32:
		return arm64Op{byte(n)} // alloc_s
	case n < 2048:
		return arm64Op{0xC0 | byte(n>>8), byte(n)} // alloc_m
	}
	return arm64Op{0xE0, byte(n >> 16), byte(n >> 8), byte(n)} // alloc_l
}

// Register saves: reg is the offset from x19 (or d8), off the byte offset (negative: pre-indexed).
func opSaveRegP(reg int, off int) arm64Op {
	if off < 0 {
		z := -off/8 - 1
		return arm64Op{0xCC | byte(reg>>2), byte(reg&3)<<6 | byte(z)}
	}
	return arm64Op{0xC8 | byte(reg>>2), byte(reg&3)<<6 | byte(off/8)}
}

func opSaveReg(reg int, off int) arm64Op {
	if off < 0 {
		z := -off/8 - 1
		return arm64Op{0xD4 | byte(reg>>3), byte(reg&7)<<5 | byte(z)}
	}
	return arm64Op{0xD0 | byte(reg>>2), byte(reg&3)<<6 | byte(off/8)}
}

func opSaveLRPair(reg int, off int) arm64Op {
	x := reg / 2
	return arm64Op{0xD6 | byte(x>>2), byte(x&3)<<6 | byte(off/8)}
}

func opSaveFRegP(reg int, off int) arm64Op {
	if off < 0 {
		z := -off/8 - 1
		return arm64Op{0xDA | byte(reg>>2), byte(reg&3)<<6 | byte(z)}
	}
	return arm64Op{0xD8 | byte(reg>>2), byte(reg&3)<<6 | byte(off/8)}
}

func opSaveFReg(reg int, off int) arm64Op {
	if off < 0 {
		z := -off/8 - 1
		return arm64Op{0xDE, byte(reg)<<5 | byte(z)}
	}
	return arm64Op{0xDC | byte(reg>>2), byte(reg&3)<<6 | byte(off/8)}
}

func opSaveFPLR(off int) arm64Op {
	if off < 0 {
		return arm64Op{0x80 | byte(-off/8-1)} // save_fplr_x
	}
	return arm64Op{0x40 | byte(off/8)}
}

const (
	arm64OpSetFP = 0xE1
	arm64OpNop   = 0xE3
	arm64OpEnd   = 0xE4
	arm64OpEndC  = 0xE5
	arm64OpPAC   = 0xFC
)

// expandPackedARM64 turns packed unwind data into the equivalent .xdata record, following the
// canonical prolog of the "Packed unwind data" table: [pacibsp], integer register pairs, [lr],
// FP register pairs, [home x0–x7], then the frame allocation with <x29,lr> when chained. The
// epilogue is the same sequence without set_fp and the homing nops.
func expandPackedARM64(w uint32) (*xdataARM64, error) {
	p := DecodePackedARM64(w)
	if p.Flag != 1 && p.Flag != 2 {
		return nil, unwindErr(0, "packed unwind data", "flag %d is not packed data", p.Flag)
	}
	if p.RegI > 10 {
		return nil, unwindErr(0, "packed unwind data", "RegI %d is more than the 10 registers x19–x28", p.RegI)
	}
	// Sizes in 8-byte units.
	intsz := int(p.RegI)
	if p.CR == 1 {
		intsz++ // lr
	}
	fpsz := 0
	if p.RegF != 0 {
		fpsz = int(p.RegF) + 1
	}
	savsz := intsz + fpsz
	if savsz > 0 && p.H {
		savsz += 8 // x0–x7 are homed in the save area when there is one
	}
	savsz = (savsz + 1) &^ 1
	locsz := int(p.FrameSize/8) - savsz
	if locsz < 0 {
		return nil, unwindErr(0, "packed unwind data", "frame size %d is smaller than the %d-byte save area", p.FrameSize, savsz*8)
	}

	var prolog []arm64Op // in execution order
	predec := false
	slot := 0
	if p.CR == 2 {
		prolog = append(prolog, arm64Op{arm64OpPAC})
	}
	if intsz != 0 {
		if p.RegI == 1 && p.CR == 1 {
			// x19 with lr: no pre-indexed form, so the save area is allocated first.
			prolog = append(prolog, opAlloc(uint32(savsz*8)))
			predec = true
		}
		reg := 0
		for ; reg < int(p.RegI)/2*2; reg += 2 {
			if !predec {
				prolog = append(prolog, opSaveRegP(reg, -savsz*8))
				predec = true
			} else {
				prolog = append(prolog, opSaveRegP(reg, slot*8))
			}
			slot += 2
		}
		switch {
		case p.RegI%2 == 1 && p.CR == 1:
			prolog = append(prolog, opSaveLRPair(reg, slot*8))
			slot += 2
		case p.RegI%2 == 1:
			if !predec {
				prolog = append(prolog, opSaveReg(reg, -savsz*8))
				predec = true
			} else {
				prolog = append(prolog, opSaveReg(reg, slot*8))
			}
			slot++
		case p.CR == 1: // lr alone (register 11 counted from x19 is x30)
			if !predec {
				prolog = append(prolog, opSaveReg(11, -savsz*8))
				predec = true
			} else {
				prolog = append(prolog, opSaveReg(11, slot*8))
			}
			slot++
		}
	}
	if fpsz != 0 {
		reg := 0
		for ; reg < fpsz/2*2; reg += 2 {
			if !predec {
				prolog = append(prolog, opSaveFRegP(reg, -savsz*8))
				predec = true
			} else {
				prolog = append(prolog, opSaveFRegP(reg, slot*8))
			}
			slot += 2
		}
		if fpsz%2 == 1 {
			if !predec {
				prolog = append(prolog, opSaveFReg(reg, -savsz*8))
				predec = true
			} else {
				prolog = append(prolog, opSaveFReg(reg, slot*8))
			}
			slot++
		}
	}
	homes := p.H && predec
	nopsAt := len(prolog)
	if homes {
		for i := 0; i < 4; i++ {
			prolog = append(prolog, arm64Op{arm64OpNop})
		}
	}
	setFP := false
	if locsz > 0 {
		if p.CR == 2 || p.CR == 3 {
			if locsz <= 512/8 {
				prolog = append(prolog, opSaveFPLR(-locsz*8))
			} else {
				prolog = append(prolog, opAlloc(uint32(locsz*8)), opSaveFPLR(0))
			}
			prolog = append(prolog, arm64Op{arm64OpSetFP})
			setFP = true
		} else {
			prolog = append(prolog, opAlloc(uint32(locsz*8)))
		}
	}

	x := &xdataARM64{funcLen: p.FuncLen}
	// Unwind codes run in the reverse of execution order.
	var codes []byte
	if p.Flag == 2 {
		codes = append(codes, arm64OpEndC)
	}
	for i := len(prolog) - 1; i >= 0; i-- {
		codes = append(codes, prolog[i]...)
	}
	codes = append(codes, arm64OpEnd)
	if p.Flag == 2 {
		x.codes = codes
		return x, nil // a fragment has neither prolog nor epilogue
	}
	x.epilogInHead = true
	if setFP {
		x.epilogIndex = 1 // the epilogue has no set_fp
	}
	if homes {
		// The epilogue does not home registers: it gets its own copy without the nops.
		start := len(codes)
		for i := len(prolog) - 1; i >= 0; i-- {
			if i >= nopsAt && i < nopsAt+4 {
				continue
			}
			codes = append(codes, prolog[i]...)
		}
		codes = append(codes, arm64OpEnd)
		x.epilogIndex += start
	}
	x.codes = codes
	return x, nil
}
