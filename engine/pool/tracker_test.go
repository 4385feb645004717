package pool

import (
	"encoding/binary"
	"strings"
	"testing"
)

// trackerFact is one layout row of FORMATS.md §6.3, transcribed for the test: size and, for
// each counter, offset and width; independent of the package's own table.
type trackerFact struct {
	ptr, build                int
	size                      int
	npA, npF, npB, pA, pF, pB [2]int // offset, width
}

var trackerFacts = []trackerFact{
	{8, 7601, 0x28, [2]int{4, 4}, [2]int{8, 4}, [2]int{0x10, 8}, [2]int{0x18, 4}, [2]int{0x1C, 4}, [2]int{0x20, 8}},
	{8, 19041, 0x38, [2]int{0x10, 8}, [2]int{0x18, 8}, [2]int{0x8, 8}, [2]int{0x28, 8}, [2]int{0x30, 8}, [2]int{0x20, 8}},
	{4, 7601, 0x1C, [2]int{4, 4}, [2]int{8, 4}, [2]int{0xC, 4}, [2]int{0x10, 4}, [2]int{0x14, 4}, [2]int{0x18, 4}},
	{4, 19041, 0x30, [2]int{8, 8}, [2]int{0x10, 8}, [2]int{4, 4}, [2]int{0x20, 8}, [2]int{0x28, 8}, [2]int{0x18, 4}},
}

func putField(b []byte, f [2]int, v uint64) {
	if f[1] == 4 {
		binary.LittleEndian.PutUint32(b[f[0]:], uint32(v))
	} else {
		binary.LittleEndian.PutUint64(b[f[0]:], v)
	}
}

// entryBytes lays out one entry by the §6.3 row.
func (f trackerFact) entry(tag string, np, p Usage) []byte {
	b := make([]byte, f.size)
	if tag != "" {
		binary.LittleEndian.PutUint32(b, uint32(TagOf(tag)))
	}
	putField(b, f.npA, np.Allocs)
	putField(b, f.npF, np.Frees)
	putField(b, f.npB, np.Bytes)
	putField(b, f.pA, p.Allocs)
	putField(b, f.pF, p.Frees)
	putField(b, f.pB, p.Bytes)
	return b
}

func TestParseTrackerLayouts(t *testing.T) {
	for _, f := range trackerFacts {
		l, note := TrackerLayoutFor(f.ptr, uint32(f.build))
		if note != "" || l.Size != f.size {
			t.Errorf("ptr %d build %d: layout size %#x note %q, want %#x", f.ptr, f.build, l.Size, note, f.size)
			continue
		}
		var b []byte
		b = append(b, f.entry("Leak", Usage{1, 2, 3}, Usage{56243, 1, 115633552})...)
		b = append(b, f.entry("", Usage{9, 9, 9}, Usage{9, 9, 9})...) // Key 0: unused slot
		b = append(b, f.entry("Proc", Usage{100, 40, 0xE70 * 60}, Usage{})...)
		got := ParseTracker(b, l)
		want := []TrackerEntry{
			{TagOf("Leak"), Usage{1, 2, 3}, Usage{56243, 1, 115633552}},
			{TagOf("Proc"), Usage{100, 40, 0xE70 * 60}, Usage{}},
		}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("ptr %d build %d: %+v, want %+v", f.ptr, f.build, got, want)
		}
		if got[0].Paged.Outstanding() != 56242 {
			t.Errorf("outstanding = %d", got[0].Paged.Outstanding())
		}
	}
	if _, note := TrackerLayoutFor(4, 16299); note == "" {
		t.Error("x86 16299 is outside §6.3's ranges: a note is due")
	}
}

const kBase = 0xFFFFF80000100000 // where the test puts the kernel globals

func TestReadTracker(t *testing.T) {
	f := trackerFacts[1] // x64 19041
	s := newSpaceX64()
	s.mapPage(kBase)
	const table, exp = 0xFFFFA00000000000, 0xFFFFA00000100000
	// 256 entries = 14 KB: four pages, the third one missing from the dump.
	for i := uint64(0); i < 4; i++ {
		if i == 2 {
			s.mapTo(table+i*0x1000, 0x7777000)
			continue
		}
		s.mapPage(table + i*0x1000)
	}
	s.mapPage(exp)
	s.write(table+3*0x38, f.entry("Leak", Usage{}, Usage{50000, 0, 100000000}))
	s.write(table+100*0x38, f.entry("Proc", Usage{10, 4, 6000}, Usage{})) // page 1
	s.write(table+250*0x38, f.entry("File", Usage{7, 0, 7000}, Usage{}))  // page 3
	s.write(exp, f.entry("Leak", Usage{}, Usage{6242, 0, 15633552}))      // expansion adds
	s.put64(kBase, table)                                                 // nt!PoolTrackTable
	s.put64(kBase+8, 256)                                                 // nt!PoolTrackTableSize
	s.put64(kBase+0x10, exp)                                              // nt!PoolTrackTableExpansion
	s.put64(kBase+0x18, 1)                                                // nt!PoolTrackTableExpansionSize
	syms := map[string]uint64{"PoolTrackTable": kBase, "PoolTrackTableSize": kBase + 8,
		"PoolTrackTableExpansion": kBase + 0x10, "PoolTrackTableExpansionSize": kBase + 0x18}
	k := s.kernel(19041, syms, nil)
	tr, err := ReadTracker(k)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]TrackerEntry{}
	for _, e := range tr.Entries {
		got[e.Tag.String()] = e
	}
	if e := got["Leak"]; e.Paged != (Usage{56242, 0, 115633552}) {
		t.Errorf("Leak = %+v (global + expansion summed)", e)
	}
	if e := got["Proc"]; e.NonPaged != (Usage{10, 4, 6000}) {
		t.Errorf("Proc = %+v", e)
	}
	if _, ok := got["File"]; !ok {
		t.Error("entry after the missing page not read")
	}
	if len(got) != 3 {
		t.Errorf("entries = %v", got)
	}
	notes := strings.Join(tr.Notes, "\n")
	// Entries 0x2000/0x38 = 146 (it straddles pages 1 and 2) to 0x3000/0x38 = 219 (straddles 2
	// and 3) touch the missing page: 74 entries.
	if !strings.Contains(notes, "74 of 256 entries of PoolTrackTable are not in the dump") {
		t.Errorf("notes = %q", notes)
	}

	// An absurd size is capped and said; no hang, no huge allocation.
	s.put64(kBase+8, 1<<40)
	tr, _ = ReadTracker(k)
	if !strings.Contains(strings.Join(tr.Notes, "\n"), "absurd") {
		t.Errorf("absurd size: notes %q", tr.Notes)
	}
	// Without the size symbol: a clear "not available".
	delete(syms, "PoolTrackTableSize")
	if _, err := ReadTracker(k); err == nil || !strings.Contains(err.Error(), "PoolTrackTableSize") {
		t.Errorf("no size symbol: err %v", err)
	}
}

func TestParseBigPages(t *testing.T) {
	// FORMATS.md §6.2 x64: Va u64 @0 (bit 0 = free), Key u32 @8, PoolType/flags u32 @0xC,
	// NumberOfBytes u64 @0x10; 0x18 bytes.
	e := func(va uint64, tag string, typ uint32, n uint64) []byte {
		b := make([]byte, 0x18)
		binary.LittleEndian.PutUint64(b, va)
		if tag != "" {
			binary.LittleEndian.PutUint32(b[8:], uint32(TagOf(tag)))
		}
		binary.LittleEndian.PutUint32(b[0xC:], typ)
		binary.LittleEndian.PutUint64(b[0x10:], n)
		return b
	}
	var b []byte
	b = append(b, e(0xFFFFC986CB6F2000, "V2lg", 0, 0x4000)...)
	b = append(b, e(0xFFFFC986CB700001, "Free", 1, 0x2000)...) // free
	b = append(b, e(0, "", 0, 0)...)                           // unused
	// Win10 bitfield: Pattern:8 = 0x5A, PoolType:12 = 1 (paged), SlushSize:12 = 0x123.
	b = append(b, e(0xFFFFC986CB800000, "Leak", 0x5A|1<<8|0x123<<20, 0x3000)...)
	got := ParseBigPages(b, 8, 19041)
	if len(got) != 3 {
		t.Fatalf("entries = %+v", got)
	}
	if got[0] != (BigPage{Addr: 0xFFFFC986CB6F2000, Tag: TagOf("V2lg"), PoolType: 0, Bytes: 0x4000}) {
		t.Errorf("entry 0 = %+v", got[0])
	}
	if !got[1].Free || got[1].Addr != 0xFFFFC986CB700000 {
		t.Errorf("free entry = %+v", got[1])
	}
	if got[2].PoolType != 1 || got[2].Bytes != 0x3000 {
		t.Errorf("bitfield entry = %+v", got[2])
	}
	// Win7: the u32 is the PoolType itself.
	if w7 := ParseBigPages(b[3*0x18:], 8, 7601); w7[0].PoolType != 0x5A|1<<8|0x123<<20 {
		t.Errorf("win7 pooltype = %#x", w7[0].PoolType)
	}
	// x86: Va u32 @0, Key @4, type @8, NumberOfBytes u32 @0xC (0x10 bytes).
	x := make([]byte, 0x10)
	binary.LittleEndian.PutUint32(x, 0x85432000)
	binary.LittleEndian.PutUint32(x[4:], uint32(TagOf("MmSt")))
	binary.LittleEndian.PutUint32(x[8:], 1)
	binary.LittleEndian.PutUint32(x[0xC:], 0x5000)
	if g := ParseBigPages(x, 4, 7601); len(g) != 1 || g[0] != (BigPage{Addr: 0x85432000, Tag: TagOf("MmSt"), PoolType: 1, Bytes: 0x5000}) {
		t.Errorf("x86 = %+v", g)
	}
}
