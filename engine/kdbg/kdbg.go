// Package kdbg decodes the kernel debugger data block, KDDEBUGGER_DATA64 ("KDBG"), that
// every kernel dump points to (DUMP_HEADER.KdDebuggerDataBlock) and that small dumps copy
// (TRIAGE_DUMP.DebuggerDataOffset). It gives kernel base, the module and process list heads,
// KiProcessorBlock, the PFN database and the structure offsets a debugger needs without a PDB.
//
// Layout: ../shared/spec/FORMATS.md §2 (one layout for 32- and 64-bit kernels, pointers
// sign-extended), §2.1 (offsets), §2.3 (the encoded form of Windows 8+ x64). The block's own
// Header.Size says how much of the layout this build has; nothing past it is read.
package kdbg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
)

const (
	// OwnerTagKDBG is Header.OwnerTag, 'KDBG' read as a little-endian u32 (§2).
	OwnerTagKDBG = 0x4742444B
	// HeaderSize is DBGKD_DEBUG_DATA_HEADER64: List (16 bytes), OwnerTag, Size (§2).
	HeaderSize = 0x18
	// MaxSize bounds Header.Size: the newest layout ends at 0x3A8 (§2); anything far beyond
	// is not a KDBG.
	MaxSize = 0x1000
)

var (
	// ErrNotKDBG: the OwnerTag is not 'KDBG' — the block is encoded (§2.3), or not a KDBG.
	ErrNotKDBG = errors.New("OwnerTag is not 'KDBG'")
	// ErrTruncated: fewer bytes were given than Header.Size; the fields that fit are decoded.
	ErrTruncated = errors.New("block shorter than its Header.Size")
)

// FormatError says what is wrong with a block and at which offset inside it.
type FormatError struct {
	Offset int
	Msg    string
	Err    error // a sentinel above, when one applies
}

func (e *FormatError) Error() string { return fmt.Sprintf("kdbg: at %#x: %s", e.Offset, e.Msg) }
func (e *FormatError) Unwrap() error { return e.Err }

// Decode reads a plain (not encoded) block. ptrSize is the target's pointer size: 4 masks every
// 64-bit field to 32 bits (32-bit kernels store pointers sign-extended, §1.3). When b is
// shorter than Header.Size the fields that fit are returned together with an error wrapping
// ErrTruncated; every other error returns no data.
func Decode(b []byte, ptrSize int) (*Data, error) {
	if ptrSize != 4 && ptrSize != 8 {
		return nil, &FormatError{Msg: fmt.Sprintf("pointer size %d (want 4 or 8)", ptrSize)}
	}
	if len(b) < HeaderSize {
		return nil, &FormatError{Msg: fmt.Sprintf("block is %d bytes, the header needs %#x", len(b), HeaderSize), Err: ErrTruncated}
	}
	d := &Data{
		PointerSize: ptrSize,
		ListFlink:   binary.LittleEndian.Uint64(b[0:]),
		ListBlink:   binary.LittleEndian.Uint64(b[8:]),
		OwnerTag:    binary.LittleEndian.Uint32(b[0x10:]),
		Size:        binary.LittleEndian.Uint32(b[0x14:]),
	}
	if d.OwnerTag != OwnerTagKDBG {
		return nil, &FormatError{Offset: 0x10, Msg: fmt.Sprintf("OwnerTag %#x is not 'KDBG' (%#x); an encoded block needs DecodeEncoded", d.OwnerTag, OwnerTagKDBG), Err: ErrNotKDBG}
	}
	if d.Size < HeaderSize || d.Size > MaxSize {
		return nil, &FormatError{Offset: 0x14, Msg: fmt.Sprintf("Size %#x is not between %#x and %#x", d.Size, HeaderSize, MaxSize)}
	}
	if ptrSize == 4 {
		d.ListFlink &= 0xFFFFFFFF
		d.ListBlink &= 0xFFFFFFFF
	}
	d.decoded = d.Size
	if uint32(len(b)) < d.Size {
		d.decoded = uint32(len(b))
	}
	v := reflect.ValueOf(d).Elem()
	for _, f := range layout() {
		if f.Offset+f.Size > int(d.decoded) {
			continue
		}
		raw := b[f.Offset:]
		var x uint64
		switch f.Size {
		case 1:
			x = uint64(raw[0])
		case 2:
			x = uint64(binary.LittleEndian.Uint16(raw))
		case 4:
			x = uint64(binary.LittleEndian.Uint32(raw))
		case 8:
			x = binary.LittleEndian.Uint64(raw)
			if ptrSize == 4 {
				x &= 0xFFFFFFFF
			}
		}
		v.Field(f.index).SetUint(x)
	}
	if d.decoded < d.Size {
		return d, &FormatError{Offset: len(b), Msg: fmt.Sprintf("block is %#x bytes but Header.Size is %#x; fields past %#x are missing", len(b), d.Size, len(b)), Err: ErrTruncated}
	}
	return d, nil
}

// PaeEnabled is bit 0 of the bitfield at 0x36 (§2).
func (d *Data) PaeEnabled() bool { return d.Flags&1 != 0 }

// KiBugCheckRecoveryActive is bit 1 of the bitfield at 0x36.
func (d *Data) KiBugCheckRecoveryActive() bool { return d.Flags&2 != 0 }

// PagingLevels is bits 5:2 of the bitfield at 0x36 (0 when the kernel did not set it).
func (d *Data) PagingLevels() int { return int(d.Flags >> 2 & 0xF) }

// Has says whether the block holds the named field (its Go name, e.g. "PteBase"): false
// for a field past this build's Header.Size or past the bytes given, or an unknown name.
func (d *Data) Has(name string) bool {
	for _, f := range layout() {
		if f.Name == name {
			return f.Offset+f.Size <= int(d.decoded)
		}
	}
	return false
}

// Field is one field of the layout with its value in a decoded block.
type Field struct {
	Name    string
	Offset  int
	Size    int
	Value   uint64
	Present bool // within Header.Size and the bytes given
}

// Fields lists every field of the layout in offset order, for a `!kdbg`-style display.
func (d *Data) Fields() []Field {
	v := reflect.ValueOf(d).Elem()
	var out []Field
	for _, f := range layout() {
		out = append(out, Field{Name: f.Name, Offset: f.Offset, Size: f.Size,
			Value: v.Field(f.index).Uint(), Present: f.Offset+f.Size <= int(d.decoded)})
	}
	return out
}

// fieldInfo is one tagged field of Data.
type fieldInfo struct {
	Name         string
	Offset, Size int
	index        int
}

var layout = sync.OnceValue(func() []fieldInfo {
	t := reflect.TypeFor[Data]()
	var out []fieldInfo
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("kdbg")
		if !ok {
			continue
		}
		off, err := strconv.ParseUint(tag, 0, 16)
		if err != nil {
			panic("kdbg: bad offset tag on " + sf.Name) // a typo in data.go; caught by every test
		}
		out = append(out, fieldInfo{Name: sf.Name, Offset: int(off), Size: int(sf.Type.Size()), index: i})
	}
	return out
})
