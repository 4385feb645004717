package pool

import (
	"encoding/binary"
	"fmt"

	"wdbg/engine/kdbg"
	"wdbg/engine/vmem"
)

// Test memory built by hand from the FORMATS.md facts: a sparse physical memory of 4 KB frames,
// x64 4-level or x86 PAE page tables over it (§3.1), and a Kernel whose symbols are a map.

type testPhys struct {
	frames map[uint64]*[4096]byte // by frame number; absent = not in the dump
}

func (p *testPhys) ReadPhysical(b []byte, pa uint64) (int, error) {
	n := 0
	for n < len(b) {
		cur := pa + uint64(n)
		f, ok := p.frames[cur>>12]
		if !ok {
			return n, fmt.Errorf("physical %#x absent", cur)
		}
		n += copy(b[n:], f[cur&0xFFF:])
	}
	return n, nil
}

// space is an address space under construction.
type space struct {
	phys    *testPhys
	x86     bool // PAE
	root    uint64
	next    uint64 // next free frame number
	present uint64 // entry bit 0
}

func newSpaceX64() *space {
	s := &space{phys: &testPhys{frames: map[uint64]*[4096]byte{}}, next: 1, present: 1}
	s.root = s.alloc()
	return s
}

func newSpacePAE() *space {
	s := &space{phys: &testPhys{frames: map[uint64]*[4096]byte{}}, next: 1, present: 1, x86: true}
	s.root = s.alloc()
	return s
}

func (s *space) alloc() uint64 {
	f := s.next
	s.next++
	s.phys.frames[f] = new([4096]byte)
	return f << 12
}

func (s *space) entry(table uint64, idx uint64) uint64 {
	return binary.LittleEndian.Uint64(s.phys.frames[table>>12][idx*8:])
}

func (s *space) setEntry(table, idx, v uint64) {
	binary.LittleEndian.PutUint64(s.phys.frames[table>>12][idx*8:], v)
}

// indices of va per level: x64 PML4/PDPT/PD/PT 9 bits each from bit 39; PAE PDPTE 2 bits at
// 30, PDE 9 at 21, PTE 9 at 12 (§3.1).
func (s *space) indices(va uint64) []uint64 {
	if s.x86 {
		return []uint64{va >> 30 & 3, va >> 21 & 511, va >> 12 & 511}
	}
	return []uint64{va >> 39 & 511, va >> 30 & 511, va >> 21 & 511, va >> 12 & 511}
}

// leafTable returns the page table mapping va, creating the upper tables.
func (s *space) leafTable(va uint64) uint64 {
	idx := s.indices(va)
	t := s.root
	for _, i := range idx[:len(idx)-1] {
		e := s.entry(t, i)
		if e&1 == 0 {
			n := s.alloc()
			s.setEntry(t, i, n|s.present)
			e = n | 1
		}
		t = e &^ 0xFFF
	}
	return t
}

// mapPage maps va to a new zeroed frame and returns the frame's bytes.
func (s *space) mapPage(va uint64) *[4096]byte {
	f := s.alloc()
	s.mapTo(va, f)
	return s.phys.frames[f>>12]
}

// mapTo maps va to the frame at pa (which need not exist: a page missing from the dump).
func (s *space) mapTo(va, pa uint64) {
	idx := s.indices(va)
	s.setEntry(s.leafTable(va), idx[len(idx)-1], pa|1)
}

func (s *space) translator() *vmem.Translator {
	if s.x86 {
		return vmem.NewX86(s.phys, s.root, true)
	}
	return vmem.NewX64(s.phys, s.root, false)
}

// write stores b at va (pages must be mapped).
func (s *space) write(va uint64, b []byte) {
	tr := s.translator()
	for i := range b {
		pa, _, err := tr.Translate(va + uint64(i))
		if err != nil {
			panic(err)
		}
		s.phys.frames[pa>>12][pa&0xFFF] = b[i]
	}
}

func (s *space) put64(va, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	s.write(va, b[:])
}

func (s *space) put32(va uint64, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	s.write(va, b[:])
}

// kernel makes a Kernel over the space with the given symbols and KDBG.
func (s *space) kernel(build uint32, syms map[string]uint64, d *kdbg.Data) *Kernel {
	tr := s.translator()
	ptr := 8
	if s.x86 {
		ptr = 4
	}
	return &Kernel{Mem: tr, Paging: tr, PointerSize: ptr, Build: build, Debugger: d,
		Symbol: func(name string) (uint64, bool) { a, ok := syms[name]; return a, ok }}
}

// headerX64 builds a 16-byte x64 POOL_HEADER from §6.1: bytes PreviousSize, PoolIndex,
// BlockSize (16-byte units), PoolType (POOL_TYPE+1, 0 free); tag @4.
func headerX64(prevUnits, blockUnits, rawType byte, tag string) []byte {
	b := make([]byte, 16)
	b[0], b[2], b[3] = prevUnits, blockUnits, rawType
	copy(b[4:8], tag)
	return b
}

// headerX86 builds an 8-byte x86 POOL_HEADER: u16 PreviousSize:9|PoolIndex:7, u16
// BlockSize:9|PoolType:7 (8-byte units), tag @4 (§6.1).
func headerX86(prevUnits, blockUnits uint16, rawType uint16, tag string) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint16(b[0:], prevUnits&0x1FF)
	binary.LittleEndian.PutUint16(b[2:], blockUnits&0x1FF|rawType<<9)
	copy(b[4:8], tag)
	return b
}
