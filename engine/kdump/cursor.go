package kdump

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// FormatError reports malformed kernel dump data: where in the file, what was being read and
// what was wrong with it.
type FormatError struct {
	Off  int64  // file offset of the bytes that could not be decoded
	What string // what was being read, e.g. "DUMP_HEADER64"
	Msg  string // what was wrong, e.g. "truncated (need 8192 bytes, have 100)"
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("kdump: %s at %#x: %s", e.What, e.Off, e.Msg)
}

func formatErr(off int64, what, format string, args ...any) *FormatError {
	return &FormatError{Off: off, What: what, Msg: fmt.Sprintf(format, args...)}
}

func truncated(off int64, what string, need, have uint64) *FormatError {
	return formatErr(off, what, "truncated (need %d bytes, have %d)", need, have)
}

// cursor reads little-endian values from one block of the file, checking every read against
// the block's end. base is the block's file offset so that errors name absolute offsets. The
// first failed read sticks: later reads return zero and err keeps the first error, so a decoder
// can read a whole record and check once.
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

func (c *cursor) remaining() int { return len(c.b) - c.pos }

// seek moves to an offset inside the block.
func (c *cursor) seek(pos int) {
	if c.err != nil {
		return
	}
	if pos < 0 || pos > len(c.b) {
		c.err = truncated(c.base, c.what, uint64(max(pos, 0)), uint64(len(c.b)))
		return
	}
	c.pos = pos
}

// take returns the next n bytes (a slice of the block, not a copy) and advances past them.
func (c *cursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > c.remaining() {
		c.err = truncated(c.off(), c.what, uint64(max(n, 0)), uint64(c.remaining()))
		return nil
	}
	b := c.b[c.pos : c.pos+n : c.pos+n]
	c.pos += n
	return b
}

func (c *cursor) skip(n int) { c.take(n) }

func (c *cursor) u8() uint8 {
	if b := c.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (c *cursor) u16() uint16 {
	if b := c.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if b := c.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (c *cursor) u64() uint64 {
	if b := c.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// ptr reads a pointer-sized value: 8 bytes in 64-bit dumps, 4 in 32-bit ones. 32-bit values are
// returned as stored (not sign-extended).
func (c *cursor) ptr(is64 bool) uint64 {
	if is64 {
		return c.u64()
	}
	return uint64(c.u32())
}

// decodeUTF16 decodes little-endian UTF-16 up to the first NUL. An odd trailing byte is ignored;
// unpaired surrogates become U+FFFD.
func decodeUTF16(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		v := binary.LittleEndian.Uint16(b[i:])
		if v == 0 {
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
