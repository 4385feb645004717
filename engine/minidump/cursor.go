package minidump

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// FormatError reports malformed minidump data: where in the file, what was being read and what
// was wrong with it.
type FormatError struct {
	Off  int64  // file offset of the bytes that could not be decoded
	What string // what was being read, e.g. "thread list"
	Msg  string // what was wrong, e.g. "truncated (need 48 bytes, have 12)"
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("minidump: %s at %#x: %s", e.What, e.Off, e.Msg)
}

func formatErr(off int64, what, format string, args ...any) *FormatError {
	return &FormatError{Off: off, What: what, Msg: fmt.Sprintf(format, args...)}
}

func truncated(off int64, what string, need, have uint64) *FormatError {
	return formatErr(off, what, "truncated (need %d bytes, have %d)", need, have)
}

// cursor reads little-endian values from one block of the file (usually a stream), checking
// every read against the block's end. base is the block's file offset, so errors can name the
// absolute offset of the bytes that were missing. The first failed read sticks: later reads
// return zero and err keeps the first error, so a decoder can read a whole record and check
// once.
type cursor struct {
	b    []byte
	base int64
	pos  int
	what string
	err  error
}

func newCursor(b []byte, base int64, what string) *cursor {
	return &cursor{b: b, base: base, what: what}
}

// off is the file offset of the cursor position.
func (c *cursor) off() int64 { return c.base + int64(c.pos) }

// remaining is the number of bytes left after the cursor position.
func (c *cursor) remaining() int { return len(c.b) - c.pos }

// seek moves to an offset inside the block.
func (c *cursor) seek(pos uint64) {
	if c.err != nil {
		return
	}
	if pos > uint64(len(c.b)) {
		c.err = truncated(c.base, c.what, pos, uint64(len(c.b)))
		return
	}
	c.pos = int(pos)
}

// take returns the next n bytes (a slice of the block, not a copy) and advances past them.
func (c *cursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > c.remaining() {
		c.err = truncated(c.off(), c.what, uint64(n), uint64(c.remaining()))
		return nil
	}
	b := c.b[c.pos : c.pos+n]
	c.pos += n
	return b
}

func (c *cursor) skip(n int) { c.take(n) }

func (c *cursor) u8() uint8 {
	b := c.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (c *cursor) u16() uint16 {
	b := c.take(2)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(b)
}

func (c *cursor) u32() uint32 {
	b := c.take(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (c *cursor) u64() uint64 {
	b := c.take(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (c *cursor) i32() int32 { return int32(c.u32()) }

// location reads a MINIDUMP_LOCATION_DESCRIPTOR (FORMATS.md §4.1).
func (c *cursor) location() LocationDescriptor {
	return LocationDescriptor{DataSize: c.u32(), Rva: c.u32()}
}

// memoryDescriptor reads a MINIDUMP_MEMORY_DESCRIPTOR (16 bytes, FORMATS.md §4.1).
func (c *cursor) memoryDescriptor() MemoryDescriptor {
	return MemoryDescriptor{StartOfMemoryRange: c.u64(), Memory: c.location()}
}

// utf16z reads a fixed-size WCHAR array of n characters and returns the text before the first NUL.
func (c *cursor) utf16z(n int) string {
	b := c.take(2 * n)
	return decodeUTF16(b, true)
}

// decodeUTF16 decodes little-endian UTF-16, stopping at the first NUL when stopAtNUL is set.
// An odd trailing byte is ignored; unpaired surrogates become U+FFFD.
func decodeUTF16(b []byte, stopAtNUL bool) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		v := binary.LittleEndian.Uint16(b[i:])
		if v == 0 && stopAtNUL {
			break
		}
		u = append(u, v)
	}
	return string(utf16.Decode(u))
}

// cString returns the bytes before the first NUL (all of b when there is none).
func cString(b []byte) string {
	for i, v := range b {
		if v == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
