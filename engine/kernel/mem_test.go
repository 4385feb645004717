package kernel

import (
	"encoding/binary"
	"fmt"
)

// fakeMem is a sparse virtual address space for tests: byte segments at addresses. ReadAt
// follows the Memory contract (partial reads return the bytes read and an error).
type fakeMem struct {
	segs map[uint64][]byte
	ps   int
}

func newFakeMem(ps int) *fakeMem { return &fakeMem{segs: map[uint64][]byte{}, ps: ps} }

// alloc maps size zero bytes at addr.
func (m *fakeMem) alloc(addr uint64, size int) { m.segs[addr] = make([]byte, size) }

func (m *fakeMem) find(addr uint64) ([]byte, uint64, bool) {
	for base, b := range m.segs {
		if addr >= base && addr-base < uint64(len(b)) {
			return b, addr - base, true
		}
	}
	return nil, 0, false
}

func (m *fakeMem) ReadAt(p []byte, addr uint64) (int, error) {
	n := 0
	for n < len(p) {
		b, off, ok := m.find(addr + uint64(n))
		if !ok {
			return n, fmt.Errorf("memory at %#x is not in the dump", addr+uint64(n))
		}
		n += copy(p[n:], b[off:])
	}
	return n, nil
}

func (m *fakeMem) put(addr uint64, data []byte) {
	for i, c := range data {
		b, off, ok := m.find(addr + uint64(i))
		if !ok {
			panic(fmt.Sprintf("fakeMem: write to unmapped %#x", addr+uint64(i)))
		}
		b[off] = c
	}
}

func (m *fakeMem) u8(addr uint64, v uint8) { m.put(addr, []byte{v}) }
func (m *fakeMem) u16(addr uint64, v uint16) {
	m.put(addr, binary.LittleEndian.AppendUint16(nil, v))
}
func (m *fakeMem) u32(addr uint64, v uint32) {
	m.put(addr, binary.LittleEndian.AppendUint32(nil, v))
}
func (m *fakeMem) u64(addr uint64, v uint64) {
	m.put(addr, binary.LittleEndian.AppendUint64(nil, v))
}
func (m *fakeMem) ptr(addr, v uint64) {
	if m.ps == 4 {
		m.u32(addr, uint32(v))
	} else {
		m.u64(addr, v)
	}
}

// link writes a circular doubly linked list: head, then the LIST_ENTRYs in order.
func (m *fakeMem) link(head uint64, entries ...uint64) {
	all := append([]uint64{head}, entries...)
	ps := uint64(m.ps)
	for i, e := range all {
		m.ptr(e, all[(i+1)%len(all)])             // Flink
		m.ptr(e+ps, all[(i+len(all)-1)%len(all)]) // Blink
	}
}

// unicode writes a UNICODE_STRING at addr whose buffer is at buf.
func (m *fakeMem) unicode(addr, buf uint64, s string) {
	var b []byte
	for _, r := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	m.alloc(buf, len(b)+2)
	m.put(buf, b)
	m.u16(addr, uint16(len(b)))
	m.u16(addr+2, uint16(len(b)+2))
	m.ptr(addr+uint64(m.ps), buf)
}
