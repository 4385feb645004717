package ntuser

import (
	"encoding/binary"
	"unicode/utf16"

	"wdbg/engine"
)

// pageImage is a sparse memory image for tests: only the pages something was written to exist,
// so every other address reads as "not in the dump", as in a minidump.
type pageImage struct {
	pages map[uint64][]byte
	ptr   int
}

const testPage = 0x1000

func newImage(ptrSize int) *pageImage { return &pageImage{pages: map[uint64][]byte{}, ptr: ptrSize} }

func (m *pageImage) ReadAt(p []byte, addr uint64) (int, error) {
	for i := range p {
		a := addr + uint64(i)
		pg, ok := m.pages[a&^(testPage-1)]
		if !ok {
			return i, &engine.ReadError{Addr: a}
		}
		p[i] = pg[a&(testPage-1)]
	}
	return len(p), nil
}

func (m *pageImage) put(addr uint64, b []byte) {
	for i, v := range b {
		a := addr + uint64(i)
		base := a &^ (testPage - 1)
		pg, ok := m.pages[base]
		if !ok {
			pg = make([]byte, testPage)
			m.pages[base] = pg
		}
		pg[a-base] = v
	}
}

// drop removes the page holding addr, as if the dump had not captured it.
func (m *pageImage) drop(addr uint64) { delete(m.pages, addr&^(testPage-1)) }

func (m *pageImage) u8(addr uint64, v uint8) { m.put(addr, []byte{v}) }

func (m *pageImage) u16(addr uint64, v uint16) {
	var b [2]byte
	binary.LittleEndian.PutUint16(b[:], v)
	m.put(addr, b[:])
}

func (m *pageImage) u32(addr uint64, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	m.put(addr, b[:])
}

func (m *pageImage) u64(addr uint64, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	m.put(addr, b[:])
}

// ptrAt writes a pointer of the image's width.
func (m *pageImage) ptrAt(addr uint64, v uint64) {
	if m.ptr == 8 {
		m.u64(addr, v)
	} else {
		m.u32(addr, uint32(v))
	}
}

func utf16Bytes(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, v := range u {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}

// ustr writes a UNICODE_STRING at addr (Length, MaximumLength, Buffer at +4 on x86 and +8 on x64)
// whose text is at buf.
func (m *pageImage) ustr(addr, buf uint64, s string) {
	b := utf16Bytes(s)
	m.u16(addr, uint16(len(b)))
	m.u16(addr+2, uint16(len(b)+2))
	if m.ptr == 8 {
		m.u64(addr+8, buf)
	} else {
		m.u32(addr+4, uint32(buf))
	}
	if buf != 0 {
		m.put(buf, append(b, 0, 0))
	}
}

// env writes an environment block: each string NUL-terminated, then an empty string.
func (m *pageImage) env(addr uint64, vars ...string) uint64 {
	var b []byte
	for _, v := range vars {
		b = append(b, utf16Bytes(v)...)
		b = append(b, 0, 0)
	}
	b = append(b, 0, 0)
	m.put(addr, b)
	return uint64(len(b))
}
