package pe

import (
	"encoding/binary"
	lazyv "wdbg/engine/internal/lazy"
)

// cursor decodes little-endian values from a block of image bytes read at RVA base, checking
// every read against the block's end. The first failure sticks: later reads return zero, so a
// decoder reads a whole record and checks err once.
type cursor struct {
	f    *File
	b    []byte
	base uint32
	pos  int
	what string
	err  error
}

func (f *File) newCursor(b []byte, base uint32, what string) *cursor {
	return &cursor{f: f, b: b, base: base, what: what}
}

func (c *cursor) rva() uint32 { return c.base + uint32(c.pos) }

func (c *cursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > len(c.b)-c.pos {
		c.err = c.f.formatErr(c.rva(), c.what, "truncated (need %d bytes, have %d)", n, len(c.b)-c.pos)
		return nil
	}
	b := c.b[c.pos : c.pos+n]
	c.pos += n
	return b
}

func (c *cursor) seek(pos int) {
	if c.err == nil && (pos < 0 || pos > len(c.b)) {
		c.err = c.f.formatErr(c.base, c.what, "truncated (need %d bytes, have %d)", pos, len(c.b))
		return
	}
	if c.err == nil {
		c.pos = pos
	}
}

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

// lazy is a value decoded on first use (engine/internal/lazy).
type lazy[T any] = lazyv.Value[T]
