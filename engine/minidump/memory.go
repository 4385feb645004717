package minidump

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
)

// Range is one contiguous block of the process's memory whose bytes the file holds.
type Range struct {
	Start      uint64 // virtual address of the first byte
	Size       uint64
	FileOffset int64 // where the bytes are in the file
}

// End is the first address past the range.
func (r Range) End() uint64 { return r.Start + r.Size }

// ReadError reports the first virtual address the dump does not hold.
type ReadError struct {
	Addr uint64
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("minidump: memory at %#x is not in the dump", e.Addr)
}

// Memory is the process's memory as the dump captured it: a sorted set of disjoint ranges
// whose bytes are read from the file (sliced from the mapping when there is one), never
// loaded whole.
//
// It is built from the Memory64ListStream and the MemoryListStream. Where ranges overlap, the
// first one wins: Memory64List ranges before MemoryList ranges (a full-memory list is the more
// complete copy), and within a list the earlier entry.
type Memory struct {
	f      *File
	ranges []Range
	// Issues says what was dropped or shortened while building the set (a list that could not be
	// decoded, ranges whose bytes run past the end of the file, overlapping ranges).
	Issues []error
}

// Memory builds the memory range set (once) from the dump's memory lists.
func (f *File) Memory() *Memory {
	m, _ := f.memory.Get(func() (*Memory, error) { return f.buildMemory(), nil })
	return m
}

// candidate is a range as a list describes it, before clipping and overlap resolution.
type candidate struct {
	Range
	list  StreamType // where it came from, for issues
	index int
}

func (c candidate) what() string { return fmt.Sprintf("%s range %d", c.list, c.index) }

func (f *File) buildMemory() *Memory {
	m := &Memory{f: f}
	var cands []candidate
	if l, err := f.Memory64List(); err != nil {
		m.Issues = append(m.Issues, err)
	} else if l != nil {
		off := l.BaseRva
		for i, d := range l.MemoryRanges {
			cands = append(cands, candidate{Range{d.StartOfMemoryRange, d.DataSize, int64(min(off, 1<<63-1))}, Memory64ListStream, i})
			if off+d.DataSize < off {
				off = ^uint64(0) // the sum overflowed: every later range lies past the end of the file
			} else {
				off += d.DataSize
			}
		}
	}
	if l, err := f.MemoryList(); err != nil {
		m.Issues = append(m.Issues, err)
	} else {
		for i, d := range l {
			cands = append(cands, candidate{Range{d.StartOfMemoryRange, uint64(d.Memory.DataSize), int64(d.Memory.Rva)}, MemoryListStream, i})
		}
	}
	ranges, issues := resolveRanges(cands, f.size)
	m.ranges = ranges
	m.Issues = append(m.Issues, issues...)
	return m
}

// resolveRanges clips candidates to the file and the address space, drops empty ones and
// resolves overlaps so that the earliest candidate wins. The result is sorted and disjoint.
func resolveRanges(cands []candidate, fileSize int64) ([]Range, []error) {
	var issues []error
	type prioRange struct {
		Range
		prio int
	}
	var clipped, dropped int
	var firstClip error
	rs := make([]prioRange, 0, len(cands))
	for i, c := range cands {
		r := c.Range
		// Bytes past the end of the file: keep the prefix the file holds (a truncated dump).
		if r.FileOffset < 0 || r.FileOffset >= fileSize {
			if r.Size > 0 {
				dropped++
				if firstClip == nil {
					firstClip = fmt.Errorf("minidump: %s (%#x, %d bytes) at file offset %#x: past the end of the file (%d bytes)",
						c.what(), r.Start, r.Size, r.FileOffset, fileSize)
				}
			}
			continue
		}
		if avail := uint64(fileSize - r.FileOffset); r.Size > avail {
			clipped++
			if firstClip == nil {
				firstClip = fmt.Errorf("minidump: %s (%#x, %d bytes) at file offset %#x: truncated to the %d bytes the file holds",
					c.what(), r.Start, r.Size, r.FileOffset, avail)
			}
			r.Size = avail
		}
		// A range that wraps past the top of the address space keeps the part below it.
		if r.Start+r.Size < r.Start {
			r.Size = ^uint64(0) - r.Start
		}
		if r.Size == 0 {
			continue
		}
		rs = append(rs, prioRange{r, i})
	}
	if firstClip != nil {
		if clipped+dropped > 1 {
			firstClip = fmt.Errorf("%w (and %d more ranges cut short or dropped)", firstClip, clipped+dropped-1)
		}
		issues = append(issues, firstClip)
	}

	slices.SortFunc(rs, func(a, b prioRange) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.prio, b.prio))
	})
	disjoint := true
	for i := 1; i < len(rs); i++ {
		if rs[i].Start < rs[i-1].End() {
			disjoint = false
			break
		}
	}
	out := make([]Range, 0, len(rs))
	if disjoint {
		for _, r := range rs {
			out = append(out, r.Range)
		}
		return out, issues
	}

	// Sweep the boundaries of all ranges; between two consecutive boundaries the active range
	// with the lowest priority number (earliest in file order) owns the bytes.
	bounds := make([]uint64, 0, 2*len(rs))
	for _, r := range rs {
		bounds = append(bounds, r.Start, r.End())
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	owned := make([]uint64, len(rs)) // bytes each range kept, to find the ones that lost some
	var active prioHeap
	next := 0
	for k := 0; k+1 < len(bounds); k++ {
		lo, hi := bounds[k], bounds[k+1]
		for next < len(rs) && rs[next].Start <= lo {
			heap.Push(&active, heapItem{prio: rs[next].prio, idx: next})
			next++
		}
		for active.Len() > 0 && rs[active[0].idx].End() <= lo {
			heap.Pop(&active)
		}
		if active.Len() == 0 {
			continue
		}
		wi := active[0].idx
		w := rs[wi]
		owned[wi] += hi - lo
		piece := Range{Start: lo, Size: hi - lo, FileOffset: w.FileOffset + int64(lo-w.Start)}
		if n := len(out); n > 0 && out[n-1].End() == lo && out[n-1].FileOffset+int64(out[n-1].Size) == piece.FileOffset {
			out[n-1].Size += piece.Size
			continue
		}
		out = append(out, piece)
	}
	lost, first := 0, -1
	for i, r := range rs {
		if owned[i] < r.Size {
			lost++
			if first < 0 || r.prio < first {
				first = r.prio
			}
		}
	}
	if lost > 0 {
		c := cands[first]
		issues = append(issues, fmt.Errorf("minidump: %d memory ranges overlap earlier ones, the earlier range wins (first: %s at %#x, %d bytes)",
			lost, c.what(), c.Start, c.Size))
	}
	return out, issues
}

type heapItem struct{ prio, idx int }

// prioHeap is a min-heap of active ranges by priority (file order).
type prioHeap []heapItem

func (h prioHeap) Len() int           { return len(h) }
func (h prioHeap) Less(i, j int) bool { return h[i].prio < h[j].prio }
func (h prioHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *prioHeap) Push(x any)        { *h = append(*h, x.(heapItem)) }
func (h *prioHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Ranges returns the range set, sorted by address. The slice must not be modified.
func (m *Memory) Ranges() []Range { return m.ranges }

// find returns the index of the range holding addr, or -1.
func (m *Memory) find(addr uint64) int {
	// The first range starting after addr; the one before it is the only candidate.
	i, _ := slices.BinarySearchFunc(m.ranges, addr, func(r Range, a uint64) int {
		if r.Start <= a {
			return -1
		}
		return 1
	})
	if i == 0 {
		return -1
	}
	if r := m.ranges[i-1]; addr-r.Start < r.Size {
		return i - 1
	}
	return -1
}

// Contains reports whether the byte at addr is in the dump.
func (m *Memory) Contains(addr uint64) bool { return m.find(addr) >= 0 }

// ReadAt copies the dump's bytes at addr into p. A read that crosses from one range into an
// adjacent one continues; at the first address the dump does not hold it stops and returns the
// count so far with a *ReadError for that address.
func (m *Memory) ReadAt(p []byte, addr uint64) (int, error) {
	n := 0
	i := m.find(addr)
	for n < len(p) {
		a := addr + uint64(n)
		if n > 0 && a == 0 {
			return n, &ReadError{Addr: a} // wrapped past the top of the address space
		}
		if i < 0 || i >= len(m.ranges) || a < m.ranges[i].Start {
			return n, &ReadError{Addr: a}
		}
		r := m.ranges[i]
		k := int(min(uint64(len(p)-n), r.End()-a))
		if err := m.f.readRange(p[n:n+k], r.FileOffset+int64(a-r.Start)); err != nil {
			return n, err
		}
		n += k
		i++
	}
	return n, nil
}

// Slice returns n bytes at addr without copying when the file is mapped and one range holds
// them all; ok is false otherwise (use ReadAt).
func (m *Memory) Slice(addr uint64, n int) ([]byte, bool) {
	data := m.f.data
	i := m.find(addr)
	if data == nil || i < 0 || n < 0 {
		return nil, false
	}
	r := m.ranges[i]
	if uint64(n) > r.End()-addr {
		return nil, false
	}
	off := r.FileOffset + int64(addr-r.Start)
	return data[off : off+int64(n) : off+int64(n)], true
}

// readRange reads file bytes known to be inside the file.
func (f *File) readRange(p []byte, off int64) error {
	if f.data != nil {
		copy(p, f.data[off:])
		return nil
	}
	if f.closed {
		return fmt.Errorf("minidump: file is closed")
	}
	if _, err := f.r.ReadAt(p, off); err != nil {
		return fmt.Errorf("minidump: reading memory bytes at file offset %#x: %w", off, err)
	}
	return nil
}
