package pool

import (
	"strings"
	"testing"
)

// classicPage lays out the !pool sample of WINDBG-SPEC §3.8 as a classic chain (§6.1):
// 0x250 MmCi allocated, 0x60 free, 0xD00 Proc allocated nonpaged, and the rest of the page
// as one free block.
func classicPage() []byte {
	b := make([]byte, 0x1000)
	copy(b[0x000:], headerX64(0, 0x25, 1, "MmCi"))
	copy(b[0x250:], headerX64(0x25, 0x06, 0, "7+\x00#"))
	copy(b[0x2B0:], headerX64(0x06, 0xD0, 1, "Proc"))
	copy(b[0xFB0:], headerX64(0xD0, 0x05, 0, "Free"))
	return b
}

func TestWalkPageClassic(t *testing.T) {
	const va = 0xFFFFDC0155E94000
	blocks, notes := WalkPage(classicPage(), va, 8)
	want := []struct {
		addr, size, prev uint64
		free             bool
		tag              string
	}{
		{va, 0x250, 0, false, "MmCi"}, {va + 0x250, 0x60, 0x250, true, "7+.#"},
		{va + 0x2B0, 0xD00, 0x60, false, "Proc"}, {va + 0xFB0, 0x50, 0xD00, true, "Free"},
	}
	if len(notes) != 0 || len(blocks) != len(want) {
		t.Fatalf("blocks %+v notes %q", blocks, notes)
	}
	for i, w := range want {
		b := blocks[i]
		if b.Addr != w.addr || b.Header.BlockSize != w.size || b.Header.PreviousSize != w.prev || b.Header.Free() != w.free || b.Header.Tag.String() != w.tag {
			t.Errorf("block %d = %#x %+v, want %+v", i, b.Addr, b.Header, w)
		}
	}
}

func TestWalkPageLies(t *testing.T) {
	// Size 0 stops the walk; a size past the page end stops it; a wrong PreviousSize is noted.
	b := make([]byte, 0x1000)
	copy(b, headerX64(0, 0x10, 1, "Aaaa"))
	copy(b[0x100:], headerX64(0x33, 0x00, 1, "Bbbb"))
	blocks, notes := WalkPage(b, 0x1000, 8)
	if len(blocks) != 1 || len(notes) != 2 || !strings.Contains(notes[0], "previous size 0x330") || !strings.Contains(notes[1], "size 0") {
		t.Errorf("blocks %+v notes %q", blocks, notes)
	}
	copy(b[0x100:], headerX64(0x10, 0xFF, 1, "Bbbb"))
	blocks, notes = WalkPage(b, 0x1000, 8)
	if len(blocks) != 2 || !strings.Contains(strings.Join(notes, ""), "runs past the end of the page") {
		t.Errorf("blocks %+v notes %q", blocks, notes)
	}
	// x86, 8-byte granularity: two blocks then the page end.
	x := make([]byte, 0x1000)
	copy(x, headerX86(0, 0x18, 1, "SeSd"))
	copy(x[0xC0:], headerX86(0x18, 0x1E8, 0, "Free"))
	blocks, notes = WalkPage(x, 0x826FA000, 4)
	if len(blocks) != 2 || len(notes) != 0 || blocks[1].Addr != 0x826FA0C0 || blocks[1].Header.BlockSize != 0xF40 {
		t.Errorf("x86 blocks %+v notes %q", blocks, notes)
	}
}

func TestScanPageSegmentHeap(t *testing.T) {
	// §6.4: blocks no longer chain; a VS chunk header (16 bytes) may precede the POOL_HEADER.
	b := make([]byte, 0x1000)
	for i := 0; i < 16; i++ {
		b[0x10+i] = 0xFF // VS chunk header: not a pool header (tag not printable)
	}
	copy(b[0x20:], headerX64(0, 0x20, 2, "Leak")) // 0x200 bytes
	copy(b[0x60:], headerX64(0, 0x02, 1, "Fake")) // inside Leak's data: skipped
	copy(b[0x400:], headerX64(0, 0x03, 1, "Proc"))
	copy(b[0xFF0:], headerX64(0, 0x05, 1, "Over")) // runs past the page: not taken
	blocks := ScanPage(b, 0x10000, 8)
	if len(blocks) != 2 || blocks[0].Addr != 0x10020 || blocks[0].Header.BlockSize != 0x200 || blocks[1].Addr != 0x10400 {
		t.Errorf("blocks = %+v", blocks)
	}
}

func TestDescribe(t *testing.T) {
	s := newSpaceX64()
	const page = 0xFFFFDC0155E94000
	copy(s.mapPage(page)[:], classicPage())
	k := s.kernel(7601, nil, nil)
	p, err := Describe(k, page+0x340, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Containing != 2 || p.Region != "Nonpaged pool" || len(p.Blocks) != 4 || p.PageVA != page {
		t.Errorf("page = %+v", p)
	}
	bigs := &BigPages{Entries: []BigPage{{Addr: 0xFFFFC986CB6F2000, Tag: TagOf("V2lg"), Bytes: 0x4000}}}
	p, err = Describe(k, 0xFFFFC986CB6F5FFF, bigs)
	if err != nil || p.Big == nil || p.Big.Tag.String() != "V2lg" {
		t.Errorf("big = %+v, %v", p, err)
	}
	if _, err := Describe(k, 0xFFFFC986CB6F6000, bigs); err == nil {
		t.Error("address after the big allocation, in no mapped page: no error")
	}
}
