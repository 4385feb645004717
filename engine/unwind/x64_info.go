package unwind

import (
	"encoding/binary"
	"fmt"
)

// UNWIND_INFO flags and UNWIND_CODE operations (FORMATS.md §8.1).
const (
	UnwFlagEHandler  = 1
	UnwFlagUHandler  = 2
	UnwFlagChainInfo = 4

	UwopPushNonvol    = 0
	UwopAllocLarge    = 1
	UwopAllocSmall    = 2
	UwopSetFPReg      = 3
	UwopSaveNonvol    = 4
	UwopSaveNonvolFar = 5
	UwopEpilog        = 6 // version 2 only
	UwopSpareCode     = 7
	UwopSaveXMM128    = 8
	UwopSaveXMM128Far = 9
	UwopPushMachFrame = 10
)

// unwindChainLimit bounds the chained or indirect entries followed for one frame.
const unwindChainLimit = 32

// UnwindInfoX64 is a decoded UNWIND_INFO (FORMATS.md §8.1), e.g. for `.fnent`.
type UnwindInfoX64 struct {
	RVA           uint32
	Version       uint8
	Flags         uint8
	SizeOfProlog  uint8
	FrameRegister uint8 // 0 when the function has no frame register
	FrameOffset   uint8 // scaled by 16 when used
	CountOfCodes  uint8 // slots, as stored
	Codes         []UnwindCodeX64
	// Chained is the parent entry when Flags has UnwFlagChainInfo.
	Chained *RuntimeFunction
	// HandlerRVA is the exception handler when Flags has UnwFlagEHandler or UnwFlagUHandler.
	HandlerRVA uint32

	slots []uint16 // the raw code slots, for version 2 epilogue descriptors
}

// UnwindCodeX64 is one unwind operation with its extra slots folded into Operand.
type UnwindCodeX64 struct {
	Slot       int   // index of the operation's first slot
	CodeOffset uint8 // prolog offset of the end of the instruction
	Op         uint8
	OpInfo     uint8
	// Operand is the allocation size in bytes (ALLOC_*), the save offset in bytes from the
	// establisher frame (SAVE_*), or the second slot (EPILOG).
	Operand uint32
}

// Slots is how many 16-bit slots the operation occupies.
func (c UnwindCodeX64) Slots() int { return x64OpSlots(c.Op, c.OpInfo) }

func x64OpSlots(op, info uint8) int {
	switch op {
	case UwopAllocLarge:
		if info == 0 {
			return 2
		}
		return 3
	case UwopSaveNonvol, UwopSaveXMM128, UwopEpilog:
		return 2
	case UwopSaveNonvolFar, UwopSaveXMM128Far, UwopSpareCode:
		return 3
	}
	return 1
}

// UnwindFormatError reports unwind data that cannot be decoded: the RVA of the record and what was
// wrong with it.
type UnwindFormatError struct {
	RVA  uint32
	What string
	Msg  string
}

func (e *UnwindFormatError) Error() string {
	return fmt.Sprintf("unwind: %s at RVA %#x: %s", e.What, e.RVA, e.Msg)
}

func unwindErr(rva uint32, what, format string, args ...any) error {
	return &UnwindFormatError{RVA: rva, What: what, Msg: fmt.Sprintf(format, args...)}
}

// DecodeUnwindInfoX64 reads and decodes the UNWIND_INFO at rva.
func DecodeUnwindInfoX64(src UnwindSource, rva uint32) (*UnwindInfoX64, error) {
	head, err := src.ReadRVA(rva, 4)
	if err != nil {
		return nil, unwindErr(rva, "UNWIND_INFO", "%v", err)
	}
	n := x64UnwindInfoSize(head)
	b, err := src.ReadRVA(rva, n)
	if err != nil {
		return nil, unwindErr(rva, "UNWIND_INFO", "%v", err)
	}
	return decodeUnwindInfoX64(b, rva)
}

// x64UnwindInfoSize is the size of the record whose first four bytes are head: the header, the
// code slots padded to an even count, then a chained RUNTIME_FUNCTION (12 bytes) or a handler RVA.
func x64UnwindInfoSize(head []byte) int {
	flags := head[0] >> 3
	n := 4 + 2*((int(head[2])+1)&^1)
	switch {
	case flags&UnwFlagChainInfo != 0:
		n += 12
	case flags&(UnwFlagEHandler|UnwFlagUHandler) != 0:
		n += 4
	}
	return n
}

// decodeUnwindInfoX64 decodes one UNWIND_INFO record; b must hold at least the header.
func decodeUnwindInfoX64(b []byte, rva uint32) (*UnwindInfoX64, error) {
	if len(b) < 4 {
		return nil, unwindErr(rva, "UNWIND_INFO", "truncated (need 4 bytes, have %d)", len(b))
	}
	if need := x64UnwindInfoSize(b); len(b) < need {
		return nil, unwindErr(rva, "UNWIND_INFO", "truncated (need %d bytes, have %d)", need, len(b))
	}
	ui := &UnwindInfoX64{
		RVA:           rva,
		Version:       b[0] & 7,
		Flags:         b[0] >> 3,
		SizeOfProlog:  b[1],
		CountOfCodes:  b[2],
		FrameRegister: b[3] & 0x0F,
		FrameOffset:   b[3] >> 4,
	}
	if ui.Version != 1 && ui.Version != 2 {
		return nil, unwindErr(rva, "UNWIND_INFO", "unknown version %d", ui.Version)
	}
	count := int(ui.CountOfCodes)
	ui.slots = make([]uint16, count)
	for i := range ui.slots {
		ui.slots[i] = binary.LittleEndian.Uint16(b[4+2*i:])
	}
	for i := 0; i < count; {
		s := ui.slots[i]
		c := UnwindCodeX64{Slot: i, CodeOffset: uint8(s), Op: uint8(s>>8) & 0x0F, OpInfo: uint8(s >> 12)}
		if c.Op > UwopPushMachFrame {
			return nil, unwindErr(rva, "UNWIND_INFO", "unknown unwind operation %d in slot %d", c.Op, i)
		}
		n := c.Slots()
		if i+n > count {
			return nil, unwindErr(rva, "UNWIND_INFO", "operation %d in slot %d needs %d slots, only %d remain", c.Op, i, n, count-i)
		}
		next := func(k int) uint32 { return uint32(ui.slots[i+k]) }
		switch c.Op {
		case UwopAllocLarge:
			if c.OpInfo == 0 {
				c.Operand = next(1) * 8
			} else {
				c.Operand = next(1) | next(2)<<16
			}
		case UwopAllocSmall:
			c.Operand = uint32(c.OpInfo)*8 + 8
		case UwopSaveNonvol:
			c.Operand = next(1) * 8
		case UwopSaveXMM128:
			c.Operand = next(1) * 16
		case UwopSaveNonvolFar, UwopSaveXMM128Far:
			c.Operand = next(1) | next(2)<<16
		case UwopEpilog:
			c.Operand = next(1)
		case UwopPushMachFrame:
			if c.OpInfo > 1 {
				return nil, unwindErr(rva, "UNWIND_INFO", "PUSH_MACHFRAME in slot %d has OpInfo %d (0 or 1 expected)", i, c.OpInfo)
			}
		}
		ui.Codes = append(ui.Codes, c)
		i += n
	}
	tail := 4 + 2*((count+1)&^1)
	switch {
	case ui.Flags&UnwFlagChainInfo != 0:
		ui.Chained = &RuntimeFunction{
			Begin:      binary.LittleEndian.Uint32(b[tail:]),
			End:        binary.LittleEndian.Uint32(b[tail+4:]),
			UnwindData: binary.LittleEndian.Uint32(b[tail+8:]),
		}
	case ui.Flags&(UnwFlagEHandler|UnwFlagUHandler) != 0:
		ui.HandlerRVA = binary.LittleEndian.Uint32(b[tail:])
	}
	return ui, nil
}
