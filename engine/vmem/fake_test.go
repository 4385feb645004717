package vmem

import (
	"encoding/binary"
	"fmt"
)

// fakePhys is a sparse physical memory of 4 KB pages for building page tables by hand. Pages
// never written are absent, like pages a dump did not capture.
type fakePhys struct {
	pages      map[uint64]*[4096]byte
	entryReads int // reads of at most 8 bytes: page-table entries
	dataReads  int
}

func newFakePhys() *fakePhys { return &fakePhys{pages: map[uint64]*[4096]byte{}} }

func (f *fakePhys) ReadPhysical(p []byte, pa uint64) (int, error) {
	if len(p) <= 8 {
		f.entryReads++
	} else {
		f.dataReads++
	}
	n := 0
	for n < len(p) {
		cur := pa + uint64(n)
		pg, ok := f.pages[cur>>12]
		if !ok {
			return n, fmt.Errorf("physical page %#x absent", cur&^0xFFF)
		}
		n += copy(p[n:], pg[cur&0xFFF:])
	}
	return n, nil
}

func (f *fakePhys) page(pa uint64) *[4096]byte {
	pg, ok := f.pages[pa>>12]
	if !ok {
		pg = new([4096]byte)
		f.pages[pa>>12] = pg
	}
	return pg
}

func (f *fakePhys) put64(pa, v uint64) {
	binary.LittleEndian.PutUint64(f.page(pa)[pa&0xFFF:], v)
}

func (f *fakePhys) put32(pa uint64, v uint32) {
	binary.LittleEndian.PutUint32(f.page(pa)[pa&0xFFF:], v)
}

// fillPage gives the page at pa recognisable content: each 8-byte word is its own physical
// address, so a read through a translation shows which physical bytes it reached.
func (f *fakePhys) fillPage(pa uint64) {
	pa &^= 0xFFF
	pg := f.page(pa)
	for i := 0; i < 4096; i += 8 {
		binary.LittleEndian.PutUint64(pg[i:], pa+uint64(i))
	}
}
