package pool

import (
	"bytes"
	"testing"
)

// The fuzz targets feed arbitrary bytes to every decoder: none may panic, loop or return
// blocks outside the page.

func FuzzDecodeHeader(f *testing.F) {
	f.Add(headerX64(3, 0x25, 2, "Proc"), true)
	f.Add(headerX86(0x18, 0x1E8, 0, "SeSd"), false)
	f.Fuzz(func(t *testing.T, b []byte, x64 bool) {
		ptr := 4
		if x64 {
			ptr = 8
		}
		h, ok := DecodeHeader(b, ptr)
		if ok && (h.BlockSize%Granularity(ptr) != 0 || h.BlockSize > 0x1FF*16) {
			t.Fatalf("header %+v", h)
		}
		_ = h.Tag.String()
		_ = ParsePattern(string(b)).Match(h.Tag)
	})
}

func FuzzParseTracker(f *testing.F) {
	f.Add(trackerFacts[0].entry("Leak", Usage{1, 2, 3}, Usage{4, 5, 6}), 8, 7601)
	f.Add(trackerFacts[3].entry("Leak", Usage{1, 2, 3}, Usage{4, 5, 6}), 4, 19041)
	f.Fuzz(func(t *testing.T, b []byte, ptr int, build int) {
		if ptr != 4 {
			ptr = 8
		}
		l, _ := TrackerLayoutFor(ptr, uint32(build))
		if n := len(ParseTracker(b, l)); n > len(b)/l.Size {
			t.Fatalf("%d entries from %d bytes", n, len(b))
		}
		_ = ParseBigPages(b, ptr, uint32(build))
	})
}

func FuzzWalkPage(f *testing.F) {
	f.Add(classicPage(), true)
	f.Add(bytes.Repeat([]byte{1, 0, 1, 1, 'A', 'b', 'c', 'd'}, 512), false)
	f.Fuzz(func(t *testing.T, b []byte, x64 bool) {
		if len(b) > pageSize {
			b = b[:pageSize]
		}
		ptr := 4
		if x64 {
			ptr = 8
		}
		blocks, _ := WalkPage(b, 0x10000, ptr)
		for _, bl := range blocks {
			if bl.Addr < 0x10000 || bl.Addr >= 0x10000+uint64(len(b)) {
				t.Fatalf("block outside the page: %#x", bl.Addr)
			}
		}
		if len(blocks) > len(b)/int(Granularity(ptr))+1 {
			t.Fatalf("%d blocks", len(blocks))
		}
		for _, bl := range ScanPage(b, 0x10000, ptr) {
			if bl.Addr+bl.Header.BlockSize > 0x10000+uint64(len(b)) {
				t.Fatalf("scan block past the page: %+v", bl)
			}
		}
	})
}
