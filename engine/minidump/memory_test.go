package minidump

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func asReadError(err error, re **ReadError) bool { return errors.As(err, re) }

// memFile is a File over in-memory bytes; mapped selects the zero-copy path.
func memFile(data []byte, mapped bool) *File {
	f := &File{r: bytes.NewReader(data), size: int64(len(data))}
	if mapped {
		f.data = data
	}
	return f
}

// fileBytes is 0x00, 0x01, ... so that a byte's value names its file offset.
func fileBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func memoryOf(f *File, cands ...candidate) *Memory {
	ranges, issues := resolveRanges(cands, f.size)
	return &Memory{f: f, ranges: ranges, Issues: issues}
}

func cand(start, size uint64, off int64) candidate {
	return candidate{Range{start, size, off}, MemoryListStream, int(start)}
}

func TestMemoryReads(t *testing.T) {
	for _, mapped := range []bool{true, false} {
		t.Run(fmt.Sprintf("mapped=%v", mapped), func(t *testing.T) {
			f := memFile(fileBytes(256), mapped)
			// Two adjacent ranges whose bytes are not adjacent in the file, then a hole.
			m := memoryOf(f, cand(0x2000, 0x10, 0x80), cand(0x1000, 0x10, 0x10), cand(0x1010, 0x08, 0x40))
			if len(m.Issues) != 0 {
				t.Fatalf("issues: %v", m.Issues)
			}
			if got := fmt.Sprint(m.Ranges()); got != "[{4096 16 16} {4112 8 64} {8192 16 128}]" {
				t.Fatalf("ranges %s", got)
			}
			p := make([]byte, 24)
			n, err := m.ReadAt(p, 0x1000)
			want := append(fileBytes(256)[0x10:0x20:0x20], fileBytes(256)[0x40:0x48]...)
			if n != 24 || err != nil || !bytes.Equal(p, want) {
				t.Errorf("read across adjacent ranges = %d, %v, % x", n, err, p)
			}
			// Stops at the hole after 0x1018 and names it.
			n, err = m.ReadAt(make([]byte, 16), 0x1014)
			var re *ReadError
			if n != 4 || !asReadError(err, &re) || re.Addr != 0x1018 {
				t.Errorf("read into hole = %d, %v; want 4, ReadError 0x1018", n, err)
			}
			// Starting in a hole, before everything, after everything.
			for _, a := range []uint64{0x1800, 0, 0xfff, 0x2010, ^uint64(0)} {
				n, err = m.ReadAt(make([]byte, 4), a)
				if n != 0 || !asReadError(err, &re) || re.Addr != a {
					t.Errorf("ReadAt(%#x) = %d, %v; want 0, ReadError at it", a, n, err)
				}
			}
			// The last byte of a range, and an empty read.
			n, err = m.ReadAt(p[:1], 0x200f)
			if n != 1 || err != nil || p[0] != 0x8f {
				t.Errorf("last byte = %d, %v, %#x", n, err, p[0])
			}
			if n, err = m.ReadAt(nil, 0x5000); n != 0 || err != nil {
				t.Errorf("empty read = %d, %v", n, err)
			}
			if !m.Contains(0x1017) || m.Contains(0x1018) {
				t.Errorf("Contains wrong at the hole edge")
			}
			s, ok := m.Slice(0x2004, 4)
			if mapped != ok || (ok && !bytes.Equal(s, []byte{0x84, 0x85, 0x86, 0x87})) {
				t.Errorf("Slice = % x, %v (mapped %v)", s, ok, mapped)
			}
			if _, ok := m.Slice(0x100c, 8); ok {
				t.Errorf("Slice across ranges succeeded")
			}
		})
	}
}

// TestMemoryOverlapFirstWins pins the overlap rule: where ranges overlap, the one earlier in
// file order (Memory64List before MemoryList) supplies the bytes.
func TestMemoryOverlapFirstWins(t *testing.T) {
	f := memFile(fileBytes(256), true)
	// A = [0x1000,0x1010) from file 0x10; B = [0x1008,0x1018) from file 0x80.
	m := memoryOf(f, cand(0x1000, 0x10, 0x10), cand(0x1008, 0x10, 0x80))
	p := make([]byte, 0x18)
	if n, err := m.ReadAt(p, 0x1000); n != 0x18 || err != nil {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	want := append(fileBytes(256)[0x10:0x20:0x20], fileBytes(256)[0x88:0x90]...)
	if !bytes.Equal(p, want) {
		t.Errorf("A first: got % x\nwant % x", p, want)
	}
	if len(m.Issues) != 1 || !strings.Contains(m.Issues[0].Error(), "1 memory ranges overlap") {
		t.Errorf("issues = %v", m.Issues)
	}

	// Same ranges, B listed first: B wins where they overlap.
	m = memoryOf(f, cand(0x1008, 0x10, 0x80), cand(0x1000, 0x10, 0x10))
	m.ReadAt(p, 0x1000)
	want = append(fileBytes(256)[0x10:0x18:0x18], fileBytes(256)[0x80:0x90]...)
	if !bytes.Equal(p, want) {
		t.Errorf("B first: got % x\nwant % x", p, want)
	}

	// A later big range around an earlier small one keeps only the parts around it.
	m = memoryOf(f, cand(0x1004, 4, 0xF0), cand(0x1000, 0x10, 0x10))
	p = make([]byte, 0x10)
	m.ReadAt(p, 0x1000)
	want = []byte{0x10, 0x11, 0x12, 0x13, 0xF0, 0xF1, 0xF2, 0xF3, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f}
	if !bytes.Equal(p, want) {
		t.Errorf("nested: got % x\nwant % x", p, want)
	}
	if got := len(m.Ranges()); got != 3 {
		t.Errorf("nested: %d ranges, want 3", got)
	}

	// Exact duplicates: the first copy, one range.
	m = memoryOf(f, cand(0x1000, 0x10, 0x10), cand(0x1000, 0x10, 0x80))
	if got := fmt.Sprint(m.Ranges()); got != "[{4096 16 16}]" {
		t.Errorf("duplicates: %s", got)
	}
}

func TestMemoryClipping(t *testing.T) {
	f := memFile(fileBytes(0x100), true)
	m := memoryOf(f,
		cand(0x1000, 0x20, 0xF0),         // 0x10 of 0x20 bytes in the file
		cand(0x2000, 0x10, 0x100),        // starts at the end of the file
		cand(0x3000, 0x10, 1<<62),        // far past it
		cand(0x4000, 0, 0x10),            // empty
		cand(^uint64(0)-0xf, 0x20, 0x20), // wraps past the top of the address space
	)
	got := fmt.Sprint(m.Ranges())
	if got != "[{4096 16 240} {18446744073709551600 15 32}]" {
		t.Errorf("ranges %s", got)
	}
	if len(m.Issues) != 1 || !strings.Contains(m.Issues[0].Error(), "and 2 more ranges cut short or dropped") {
		t.Errorf("issues %v", m.Issues)
	}
	// Reading at the top of the address space stops without wrapping to 0.
	p := make([]byte, 32)
	n, err := m.ReadAt(p, ^uint64(0)-0xf)
	var re *ReadError
	if n != 15 || !asReadError(err, &re) || re.Addr != ^uint64(0) {
		t.Errorf("top read = %d, %v", n, err)
	}
}

// TestMemoryManyOverlaps makes sure overlap resolution stays O(n log n): 50 000 ranges that
// all cover one another would take minutes with a quadratic sweep.
func TestMemoryManyOverlaps(t *testing.T) {
	f := memFile(fileBytes(0x10000), true)
	cands := make([]candidate, 50000)
	for i := range cands {
		cands[i] = candidate{Range{uint64(i), 0x8000, 0}, MemoryListStream, i}
	}
	m := memoryOf(f, cands...)
	var total uint64
	for _, r := range m.Ranges() {
		total += r.Size
	}
	if total != 50000-1+0x8000 {
		t.Errorf("covered %d bytes", total)
	}
	if len(m.Issues) != 1 {
		t.Errorf("issues %v", m.Issues)
	}
}

// TestMemoryFromBothLists builds a dump with a Memory64List and a MemoryList that overlap and
// checks that Memory64List wins.
func TestMemoryFromBothLists(t *testing.T) {
	b := newDumpBuilder(2)
	var ml le
	ml.u32(1)
	ml.u64(0x10000) // StartOfMemoryRange
	ml.u32(8)       // DataSize
	ml.u32(b.add([]byte("LISTLIST")))
	b.stream(MemoryListStream, ml)
	base := b.add([]byte("64646464abcd"))
	var m64 le
	m64.u64(2)
	m64.u64(uint64(base))
	m64.u64(0x10004) // overlaps the MemoryList range from its 5th byte
	m64.u64(8)
	m64.u64(0x20000)
	m64.u64(4)
	b.stream(Memory64ListStream, m64)
	f, err := NewFile(bytes.NewReader(b.bytes()), int64(len(b.bytes())))
	if err != nil {
		t.Fatal(err)
	}
	mem := f.Memory()
	p := make([]byte, 12)
	if n, err := mem.ReadAt(p, 0x10000); n != 12 || err != nil || string(p) != "LIST64646464" {
		t.Errorf("ReadAt = %d, %v, %q; want LIST64646464", n, err, p)
	}
	if n, _ := mem.ReadAt(p[:4], 0x20000); n != 4 || string(p[:4]) != "abcd" {
		t.Errorf("second 64 range = %q", p[:4])
	}
}
