package ksynth

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// physMem is the machine's RAM: the pages the writer filled, keyed by page frame number. All
// other frames below maxPFN read as zeros.
type physMem struct {
	pages  map[uint64]*[pageSize]byte
	maxPFN uint64     // frames [0, maxPFN) exist
	next   uint64     // next frame the 4 KiB allocator hands out
	gen    []genRange // frames whose content is generated (pool_fill.go)
}

// Physical frames the writer reserves: the kernel image's large page (FORMATS.md §3.1 large
// pages need a frame aligned to their size) is at profile.largePFN, and 4 KiB allocations start
// above it, at profile.firstFreePFN.
const (
	// ramHoleFirst..ramHoleEnd is left out of the run list, like the legacy VGA/BIOS hole of a
	// PC, so that the dump has two runs and frame numbers do not equal page positions.
	ramHoleFirst = 0xA0
	ramHoleEnd   = 0x100
)

func newPhysMem(bytes, firstFree uint64) *physMem {
	return &physMem{pages: map[uint64]*[pageSize]byte{}, maxPFN: bytes / pageSize, next: firstFree}
}

// alloc returns a fresh zero frame.
func (m *physMem) alloc() (uint64, error) {
	if m.next >= m.maxPFN {
		return 0, fmt.Errorf("ksynth: out of physical memory (%d pages); raise PhysicalBytes", m.maxPFN)
	}
	p := m.next
	m.next++
	return p, nil
}

func (m *physMem) page(pfn uint64) *[pageSize]byte {
	p := m.pages[pfn]
	if p == nil {
		p = new([pageSize]byte)
		m.pages[pfn] = p
	}
	return p
}

// write stores b at physical address pa (it may cross pages).
func (m *physMem) write(pa uint64, b []byte) {
	for len(b) > 0 {
		p := m.page(pa / pageSize)
		n := copy(p[pa%pageSize:], b)
		b, pa = b[n:], pa+uint64(n)
	}
}

// read returns n bytes at pa; frames the writer never touched read as zeros.
func (m *physMem) read(pa uint64, n int) []byte {
	out := make([]byte, n)
	for done := 0; done < n; {
		off := (pa + uint64(done)) % pageSize
		c := min(n-done, int(pageSize-off))
		if p := m.pageBytes((pa + uint64(done)) / pageSize); p != nil {
			copy(out[done:done+c], p[off:])
		}
		done += c
	}
	return out
}

func (m *physMem) u64(pa uint64) uint64 { return binary.LittleEndian.Uint64(m.read(pa, 8)) }

func (m *physMem) putU64(pa, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	m.write(pa, b[:])
}

// touched lists the frames the writer wrote to or created (page tables are touched even while
// empty, so that a walk through them reads zeros rather than a missing page), ascending.
func (m *physMem) touched() []uint64 {
	out := make([]uint64, 0, len(m.pages))
	for pfn := range m.pages {
		out = append(out, pfn)
	}
	out = append(out, m.generatedPFNs()...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// zero reports whether frame pfn holds only zeros (it is then a hole of the sparse file).
func (m *physMem) zero(pfn uint64) bool {
	p := m.pages[pfn]
	if p == nil && m.generated(pfn) != nil {
		return false
	}
	return p == nil || *p == [pageSize]byte{}
}

// pfnRun is a run of consecutive page frames.
type pfnRun struct{ base, count uint64 }

// ramRuns is the machine's RAM as the header's run list describes it: [1, 0xA0) and
// [0x100, maxPFN). Frame 0 and the hole are not RAM.
func (m *physMem) ramRuns() []pfnRun {
	return []pfnRun{{1, ramHoleFirst - 1}, {ramHoleEnd, m.maxPFN - ramHoleEnd}}
}

// runsOf groups sorted frames into runs.
func runsOf(pfns []uint64) []pfnRun {
	var runs []pfnRun
	for _, p := range pfns {
		if n := len(runs); n > 0 && runs[n-1].base+runs[n-1].count == p {
			runs[n-1].count++
			continue
		}
		runs = append(runs, pfnRun{p, 1})
	}
	return runs
}
