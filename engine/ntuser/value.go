package ntuser

import (
	"encoding/binary"
	"errors"

	"wdbg/engine"
)

// Value is one field read from the target. Valid is false when the dump does not hold the field's
// bytes (or the field does not exist in the target's build); V is then zero.
type Value struct {
	V     uint64
	Valid bool
}

func valid(v uint64) Value { return Value{V: v, Valid: true} }

// ListHead is a LIST_ENTRY: the forward and backward links.
type ListHead struct {
	Flink, Blink Value
}

// reader reads fields of one pointer size from a target's memory.
type reader struct {
	mem     engine.Memory
	ptrSize int
}

// bytes reads n bytes at addr, or nil when any of them is missing.
func (r reader) bytes(addr uint64, n int) []byte {
	if n <= 0 || addr+uint64(n) < addr { // empty, or wraps around the address space
		return nil
	}
	if n > 64 {
		// Probe the last byte before allocating: corrupt lengths and pointers are common, and
		// most of them point outside the dump.
		var last [1]byte
		if engine.ReadFull(r.mem, last[:], addr+uint64(n)-1) != nil {
			return nil
		}
	}
	b := make([]byte, n)
	if engine.ReadFull(r.mem, b, addr) != nil {
		return nil
	}
	return b
}

// field reads a little-endian unsigned field of size bytes at base+off; off == noField gives an
// invalid Value.
func (r reader) field(base uint64, off int, size int) Value {
	if off == noField {
		return Value{}
	}
	b := r.bytes(base+uint64(off), size)
	if b == nil {
		return Value{}
	}
	switch size {
	case 1:
		return valid(uint64(b[0]))
	case 2:
		return valid(uint64(binary.LittleEndian.Uint16(b)))
	case 4:
		return valid(uint64(binary.LittleEndian.Uint32(b)))
	}
	return valid(binary.LittleEndian.Uint64(b))
}

func (r reader) u8(base uint64, off int) Value  { return r.field(base, off, 1) }
func (r reader) u32(base uint64, off int) Value { return r.field(base, off, 4) }
func (r reader) ptr(base uint64, off int) Value { return r.field(base, off, r.ptrSize) }

// list reads a LIST_ENTRY (two pointers) at base+off.
func (r reader) list(base uint64, off int) ListHead {
	return ListHead{Flink: r.ptr(base, off), Blink: r.ptr(base, off+r.ptrSize)}
}

// anyValid reports whether at least one of the values was read.
func anyValid(vs ...Value) bool {
	for _, v := range vs {
		if v.Valid {
			return true
		}
	}
	return false
}

// NotInDumpError reports a structure none of whose fields the dump holds.
type NotInDumpError struct {
	Struct string // "TEB", "PEB", "PEB_LDR_DATA", ...
	Addr   uint64
}

func (e *NotInDumpError) Error() string {
	return "ntuser: " + e.Struct + " at " + hex(e.Addr) + " is not in the dump"
}

// IsNotInDump reports whether err says that a structure is missing from the dump.
func IsNotInDump(err error) bool {
	var e *NotInDumpError
	return errors.As(err, &e)
}

func hex(v uint64) string {
	const digits = "0123456789abcdef"
	if v == 0 {
		return "0x0"
	}
	var b [18]byte
	i := len(b)
	for v != 0 {
		i--
		b[i] = digits[v&0xf]
		v >>= 4
	}
	i--
	b[i] = 'x'
	i--
	b[i] = '0'
	return string(b[i:])
}

func checkPointerSize(ptrSize int) error {
	if ptrSize != 4 && ptrSize != 8 {
		return errors.New("ntuser: pointer size must be 4 or 8")
	}
	return nil
}
