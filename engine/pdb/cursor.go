package pdb

import (
	"encoding/binary"
	"fmt"
)

// where names a stream for error messages: its index and what it holds.
type where struct {
	stream int
	name   string
}

func (w where) errorf(off int64, what, format string, args ...any) *FormatError {
	return &FormatError{Stream: w.stream, Name: w.name, Off: off, What: what, Msg: fmt.Sprintf(format, args...)}
}

func (w where) truncated(off int64, what string, need, have uint64) *FormatError {
	return w.errorf(off, what, "truncated (need %d bytes, have %d)", need, have)
}

// cursor reads little-endian values from a byte slice holding part of a stream, checking every
// read against the slice's end. base is the stream offset of b[0], so that errors name the
// offset inside the stream. The first failed read sticks: later reads return zero and err keeps
// the first error, so a decoder can read a whole record and check once.
type cursor struct {
	w    where
	what string
	b    []byte
	base int64
	pos  int
	err  error
}

func newCursor(w where, what string, b []byte, base int64) *cursor {
	return &cursor{w: w, what: what, b: b, base: base}
}

// off is the stream offset of the cursor position.
func (c *cursor) off() int64 { return c.base + int64(c.pos) }

// remaining is the number of bytes after the cursor position.
func (c *cursor) remaining() int { return len(c.b) - c.pos }

// fail records err unless an earlier error is already recorded.
func (c *cursor) fail(format string, args ...any) {
	if c.err == nil {
		c.err = c.w.errorf(c.off(), c.what, format, args...)
	}
}

// take returns the next n bytes (a sub-slice, not a copy) and advances past them.
func (c *cursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > c.remaining() {
		c.err = c.w.truncated(c.off(), c.what, uint64(max(n, 0)), uint64(c.remaining()))
		return nil
	}
	b := c.b[c.pos : c.pos+n]
	c.pos += n
	return b
}

func (c *cursor) skip(n int) { c.take(n) }

// align advances to the next multiple of n bytes from the start of the slice (CodeView records
// and C13 subsections are 4-byte aligned); running off the end is not an error.
func (c *cursor) align(n int) {
	if c.err != nil {
		return
	}
	c.pos = min((c.pos+n-1)/n*n, len(c.b))
}

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

func (c *cursor) i32() int32 { return int32(c.u32()) }

// cstring reads a NUL-terminated string; a string that runs to the end of the slice without its
// NUL is an error.
func (c *cursor) cstring() string {
	if c.err != nil {
		return ""
	}
	for i := c.pos; i < len(c.b); i++ {
		if c.b[i] == 0 {
			s := string(c.b[c.pos:i])
			c.pos = i + 1
			return s
		}
	}
	c.fail("string without its terminating NUL")
	return ""
}

// cString returns the bytes of b before the first NUL (all of b when there is none), copied.
func cString(b []byte) string {
	for i, v := range b {
		if v == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
