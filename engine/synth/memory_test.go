package synth_test

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"wdbg/engine/synth"
)

// TestFullMemoryLayout checks the Memory64List (FORMATS.md §4.3): ranges back to back from
// BaseRva, generated and zero ranges, and thread stacks pointing into that data.
func TestFullMemoryLayout(t *testing.T) {
	b := synth.NewMinidump(synth.ArchAMD64)
	b.SystemInfo(synth.Windows10(synth.ArchAMD64))
	fill := func(off uint64, p []byte) {
		for i := range p {
			p[i] = byte(off + uint64(i))
		}
	}
	b.FullMemory(
		synth.Range{Addr: 0x10000, Data: []byte("first range")},
		synth.Range{Addr: 0x20000, Size: 0x3000, Fill: fill},
		synth.Range{Addr: 0x30000, Size: 0x100}, // zeros
	)
	// One stack inside a declared range, one outside all of them.
	b.Thread(1, 0x7000, 0x20800, make([]byte, 0x100), synth.ContextAMD64{})
	b.Thread(2, 0x9000, 0x50000, []byte("own stack"), synth.ContextAMD64{})
	b.Memory(0x60000, []byte("listed too")) // a MemoryList beside the Memory64List
	raw := b.Bytes()
	d := readDump(t, raw)
	if flags := d.u64(0x18); flags&synth.FlagWithFullMemory == 0 {
		t.Errorf("header flags %#x lack WithFullMemory", flags)
	}

	off, size := d.stream(synth.Memory64ListStream)
	if n := d.u64(off); n != 4 || size != 16+16*4 {
		t.Fatalf("Memory64List: %d ranges in %d bytes, want the 3 declared + 1 stack", n, size)
	}
	base := d.u64(off + 8)
	wantRanges := []struct{ addr, size uint64 }{{0x10000, 11}, {0x20000, 0x3000}, {0x30000, 0x100}, {0x50000, 9}}
	pos := base
	for i, w := range wantRanges {
		if a, s := d.u64(off+16+16*i), d.u64(off+24+16*i); a != w.addr || s != w.size {
			t.Errorf("range %d = %#x+%#x, want %#x+%#x", i, a, s, w.addr, w.size)
		}
		pos += w.size
	}
	if pos != uint64(len(raw)) {
		t.Errorf("range data ends at %#x, file is %#x bytes", pos, len(raw))
	}
	if got := string(d.bytes(int(base), 11)); got != "first range" {
		t.Errorf("range 0 data %q", got)
	}
	if got := d.read(0x20000+0x1FF, 3); !bytes.Equal(got, []byte{0xFF, 0x00, 0x01}) {
		t.Errorf("generated range bytes at +0x1FF = % x", got)
	}
	if got := d.read(0x30000, 0x100); !bytes.Equal(got, make([]byte, 0x100)) {
		t.Error("zero range is not zeros")
	}
	// Thread 1's stack descriptor points inside range 1; thread 2's at its own range.
	toff, _ := d.stream(synth.ThreadListStream)
	if rva, want := d.u32(toff+4+0x24), base+11+0x800; uint64(rva) != want {
		t.Errorf("thread 1 stack rva %#x, want %#x (inside range 1)", rva, want)
	}
	if rva := d.u32(toff + 4 + 48 + 0x24); string(d.bytes(int(rva), 9)) != "own stack" {
		t.Errorf("thread 2 stack rva %#x does not hold its stack", rva)
	}
	// The MemoryList holds only what Memory added.
	moff, _ := d.stream(synth.MemoryListStream)
	if n := d.u32(moff); n != 1 || d.u64(moff+4) != 0x60000 {
		t.Errorf("MemoryList has %d ranges starting %#x", n, d.u64(moff+4))
	}
}

// TestOverlappingAndAdjacentMemory: the writer keeps ranges exactly as given.
func TestOverlappingAndAdjacentMemory(t *testing.T) {
	b := synth.NewMinidump(synth.ArchX86)
	b.Memory(0x1000, bytes.Repeat([]byte{1}, 0x100))
	b.Memory(0x1100, bytes.Repeat([]byte{2}, 0x100)) // adjacent
	b.Memory(0x1080, bytes.Repeat([]byte{3}, 0x100)) // overlaps both
	d := readDump(t, b.Bytes())
	mem := d.memory()
	if len(mem) != 3 || mem[0].addr != 0x1000 || mem[1].addr != 0x1100 || mem[2].addr != 0x1080 {
		t.Fatalf("ranges %+v", mem)
	}
	for i, want := range []byte{1, 2, 3} {
		if got := d.bytes(int(mem[i].off), 0x100); !bytes.Equal(got, bytes.Repeat([]byte{want}, 0x100)) {
			t.Errorf("range %d data wrong", i)
		}
	}
}

func TestDamageKnobs(t *testing.T) {
	base := func() *synth.Minidump {
		b := synth.NewMinidump(synth.ArchAMD64)
		b.SystemInfo(synth.Windows10(synth.ArchAMD64))
		b.Thread(1, 0x7000, 0x9000, []byte("stack"), synth.ContextAMD64{})
		b.Module(0x400000, 0x1000, `C:\a.exe`, 1, 2, synth.CodeView{})
		b.MemoryInfo(synth.MemoryInfo{BaseAddress: 0x9000})
		b.Exception(1, 0xC0000005, 0x401000, []uint64{1, 2}, nil)
		return b
	}
	sound := base().Bytes()

	b := base()
	b.TruncateAt(100)
	if got := b.Bytes(); len(got) != 100 || !bytes.Equal(got, sound[:100]) {
		t.Errorf("TruncateAt(100): %d bytes", len(got))
	}

	b = base()
	b.PointPastEnd(synth.ModuleListStream)
	raw := b.Bytes()
	d := readDump(t, raw)
	for _, e := range d.dirs {
		if e.typ == synth.ModuleListStream && int(e.rva) <= len(raw) {
			t.Errorf("PointPastEnd: module list rva %#x inside the %#x-byte file", e.rva, len(raw))
		}
	}

	b = base()
	b.OversizeStream(synth.ThreadListStream)
	for _, e := range readDump(t, b.Bytes()).dirs {
		if e.typ == synth.ThreadListStream && e.size != 0xFFFFFF00 {
			t.Errorf("OversizeStream: size %#x", e.size)
		}
	}

	for _, tc := range []struct {
		typ   uint32
		off   int
		width int
	}{
		{synth.ThreadListStream, 0, 4}, {synth.ModuleListStream, 0, 4}, {synth.MemoryListStream, 0, 4},
		{synth.MemoryInfoListStream, 8, 8}, {synth.ExceptionStream, 0x20, 4},
	} {
		b = base()
		b.HugeCount(tc.typ)
		d := readDump(t, b.Bytes())
		off, _ := d.stream(tc.typ)
		if tc.width == 8 && d.u64(off+tc.off) != ^uint64(0) || tc.width == 4 && d.u32(off+tc.off) != ^uint32(0) {
			t.Errorf("HugeCount(%#x): count field not at its maximum", tc.typ)
		}
		if len(b.Bytes()) != len(sound) {
			t.Errorf("HugeCount(%#x) changed the file size", tc.typ)
		}
	}

	b = base()
	b.StreamCount(0x7FFFFFFF)
	b.DirectoryRva(0xFFFFFFF0)
	b.BadSignature()
	raw = b.Bytes()
	if string(raw[:4]) != "MDMX" || raw[8] != 0xFF || raw[0xC] != 0xF0 {
		t.Errorf("header damage: % x", raw[:16])
	}

	b = base()
	off, size, ok := b.Locate(synth.SystemInfoStream)
	if !ok || size != 56 {
		t.Fatalf("Locate: %v %d", ok, size)
	}
	b.Patch(off, []byte{0x34, 0x12})
	if raw := b.Bytes(); raw[off] != 0x34 || raw[off+1] != 0x12 {
		t.Error("Patch not applied")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a Patch outside the metadata did not panic")
			}
		}()
		b.Patch(1<<20, []byte{1})
		b.Bytes()
	}()
}

// TestWriteFileMatchesBytes: the streaming writer and Bytes give the same file, sparse or not.
func TestWriteFileMatchesBytes(t *testing.T) {
	b := synth.NewMinidump(synth.ArchAMD64)
	b.SystemInfo(synth.Windows10(synth.ArchAMD64))
	b.FullMemory(synth.Range{Addr: 0x1000, Size: 3 << 20, Fill: func(off uint64, p []byte) {
		for i := range p {
			p[i] = byte((off + uint64(i)) >> 12)
		}
	}}, synth.Range{Addr: 0x10000000, Size: 5 << 20}, synth.Range{Addr: 0x20000000, Data: []byte("tail")})
	want := b.Bytes()
	for _, sparse := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "x.dmp")
		if err := b.WriteFile(path, sparse); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("sparse=%v: WriteFile differs from Bytes (%d vs %d bytes)", sparse, len(got), len(want))
		}
	}
	b.TruncateAt(int64(len(want) - 7))
	path := filepath.Join(t.TempDir(), "t.dmp")
	if err := b.WriteFile(path, true); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Size() != int64(len(want)-7) {
		t.Errorf("truncated sparse file is %d bytes", st.Size())
	}
}

// TestLargeSparseDump writes a 1 GB full-memory dump and checks it takes little disk space and
// little memory to write.
func TestLargeSparseDump(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 1 GB sparse file")
	}
	path := filepath.Join(t.TempDir(), "big.dmp")
	b := largeDump()
	if err := b.WriteFile(path, true); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() < 1<<30 {
		t.Errorf("file is %d bytes, want over 1 GB", st.Size())
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		// Not an error on a file system without holes; worth seeing in -v output.
		t.Logf("1 GB dump uses %d KB on disk", sys.Blocks*512>>10)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 4)
	if _, err := f.ReadAt(head, 0); err != nil || string(head) != "MDMP" {
		t.Errorf("head %q %v", head, err)
	}
}

// largeDump is the 1 GB dump of TestLargeSparseDump: 256 ranges of 4 MB, mostly zeros, with a
// marker at the start of each range.
func largeDump() *synth.Minidump {
	b := synth.NewMinidump(synth.ArchAMD64)
	b.SystemInfo(synth.Windows10(synth.ArchAMD64))
	var ranges []synth.Range
	for i := uint64(0); i < 256; i++ {
		addr := 0x10000000 + i*0x1000000
		ranges = append(ranges, synth.Range{Addr: addr, Size: 4 << 20})
	}
	b.FullMemory(ranges...)
	return b
}

func TestBytesDeterministic(t *testing.T) {
	a, b := everyStream(true).Bytes(), everyStream(true).Bytes()
	if !bytes.Equal(a, b) {
		t.Error("two layouts of the same description differ")
	}
}
