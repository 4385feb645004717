package minidump

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func newFileFromBytes(b []byte) (*File, error) {
	return NewFile(bytes.NewReader(b), int64(len(b)))
}

func wantErr(t *testing.T, err error, substrs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", substrs)
	}
	for _, s := range substrs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

func TestOpenZeroLengthFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "empty.dmp")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(p)
	wantErr(t, err, "not a minidump", "file is 0 bytes")
	if !errors.Is(err, ErrNotMinidump) {
		t.Errorf("error %v is not ErrNotMinidump", err)
	}
}

func TestBadHeaders(t *testing.T) {
	_, err := newFileFromBytes([]byte("MZ\x90\x00\x03\x00\x00\x00"))
	wantErr(t, err, "signature at 0x0 is 4d 5a 90 00")

	_, err = newFileFromBytes([]byte("MDMP\x93\xa7\x00\x00\x01\x00"))
	wantErr(t, err, "minidump: header at 0x0: truncated (need 32 bytes, have 10)")

	// A directory that lies past the end of the file.
	b := newDumpBuilder(0).bytes()
	b[8] = 3                  // NumberOfStreams
	b[12], b[13] = 0x00, 0x10 // StreamDirectoryRva = 0x1000
	_, err = newFileFromBytes(b)
	wantErr(t, err, "stream directory at 0x1000: points past the end of the file", "for 3 streams")

	// A directory that starts inside the file but is cut short.
	b = newDumpBuilder(2).bytes()
	b[8] = 5
	_, err = newFileFromBytes(b)
	wantErr(t, err, "stream directory at 0x20: truncated (need 60 bytes, have 24)")

	// A huge stream count fails on the size check, before anything is allocated.
	b = newDumpBuilder(0).bytes()
	copy(b[8:], []byte{0xff, 0xff, 0xff, 0xff})
	allocs := allocatedBytes(func() { _, err = newFileFromBytes(b) })
	wantErr(t, err, "stream directory at 0x20: points past the end of the file (32 bytes, need 51539607540 bytes there) for 4294967295 streams")
	if allocs > 1<<20 {
		t.Errorf("allocated %d bytes for a huge stream count", allocs)
	}
}

// allocatedBytes reports how many bytes fn allocated.
func allocatedBytes(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHugeCounts gives every list stream a count far larger than its bytes: each accessor must
// fail with an error naming the stream's offset, without allocating for the count.
func TestHugeCounts(t *testing.T) {
	u32 := func(vs ...uint32) []byte {
		var b le
		for _, v := range vs {
			b.u32(v)
		}
		return b
	}
	cases := []struct {
		st   StreamType
		data []byte
		call func(*File) error
		want string
	}{
		{ThreadListStream, u32(0xFFFFFFFF), func(f *File) error { _, err := f.Threads(); return err }, "thread list at 0x2c: truncated (need 206158430164 bytes for 4294967295 entries of 48 bytes, have 4)"},
		{ThreadExListStream, u32(0x10000000, 0), func(f *File) error { _, err := f.ThreadsEx(); return err }, "thread ex list at 0x2c: truncated"},
		{ModuleListStream, u32(0xFFFFFFFF), func(f *File) error { _, err := f.Modules(); return err }, "module list at 0x2c: truncated"},
		{MemoryListStream, u32(0xFFFFFFFF), func(f *File) error { _, err := f.MemoryList(); return err }, "memory list at 0x2c: truncated"},
		{Memory64ListStream, u32(0xFFFFFFFF, 0xFFFFFFFF, 0, 0), func(f *File) error { _, err := f.Memory64List(); return err }, "memory64 list at 0x2c: truncated (18446744073709551615 ranges"},
		{ThreadNamesStream, u32(0xFFFFFFFF), func(f *File) error { _, err := f.ThreadNames(); return err }, "thread names at 0x2c: truncated"},
		{ThreadInfoListStream, u32(12, 64, 0xFFFFFFFF), func(f *File) error { _, err := f.ThreadInfoList(); return err }, "thread info list at 0x2c: truncated (4294967295 entries of 64 bytes"},
		{UnloadedModuleListStream, u32(12, 24, 0xFFFFFFFF), func(f *File) error { _, err := f.UnloadedModules(); return err }, "unloaded module list at 0x2c: truncated"},
		{MemoryInfoListStream, u32(16, 48, 0xFFFFFFFF, 0xFFFFFFFF), func(f *File) error { _, err := f.MemoryInfoList(); return err }, "memory info list at 0x2c: truncated (18446744073709551615 entries"},
		{HandleDataStream, u32(16, 40, 0xFFFFFFFF, 0), func(f *File) error { _, err := f.Handles(); return err }, "handle data at 0x2c: truncated"},
		// Entry sizes smaller than the structure are rejected rather than misread.
		{HandleDataStream, u32(16, 8, 1, 0), func(f *File) error { _, err := f.Handles(); return err }, "handle data at 0x2c: entry size 8 is smaller than 32"},
		{ThreadInfoListStream, u32(4, 64, 0), func(f *File) error { _, err := f.ThreadInfoList(); return err }, "thread info list at 0x2c: header size 4 is smaller than 12"},
		{MiscInfoStream, u32(1364, 3), func(f *File) error { _, err := f.MiscInfo(); return err }, "misc info at 0x2c: truncated (need 1364 bytes, have 8)"},
		{MiscInfoStream, u32(12, 3, 4), func(f *File) error { _, err := f.MiscInfo(); return err }, "misc info at 0x2c: SizeOfInfo 12 is smaller than version 1"},
		{SystemInfoStream, u32(0, 0), func(f *File) error { _, err := f.SystemInfo(); return err }, "system info at 0x34: truncated (need 4 bytes, have 0)"},
		{ExceptionStream, u32(1, 0, 0xC0000005), func(f *File) error { _, err := f.Exception(); return err }, "exception stream at 0x38: truncated"},
	}
	for _, c := range cases {
		t.Run(c.st.String(), func(t *testing.T) {
			b := newDumpBuilder(1)
			b.stream(c.st, c.data)
			f, err := newFileFromBytes(b.bytes())
			if err != nil {
				t.Fatal(err)
			}
			var cerr error
			if n := allocatedBytes(func() { cerr = c.call(f) }); n > 1<<20 {
				t.Errorf("allocated %d bytes", n)
			}
			wantErr(t, cerr, "minidump: "+c.want)
			checkErrorsNameOffsets(t, exerciseAll(f))
		})
	}
}

// TestPaddedCounts checks the writers' quirk of 4 pad bytes after a list's u32 count
// (FORMATS.md §4.3): a stream of 8 + count*size bytes starts its entries at offset 8.
func TestPaddedCounts(t *testing.T) {
	b := newDumpBuilder(2)
	var th le
	th.u32(1)
	th.u32(0) // padding
	th.u32(0x1234)
	th.raw(make([]byte, 44))
	b.stream(ThreadListStream, th)
	var ml le
	ml.u32(1)
	ml.u32(0) // padding
	ml.u64(0x5000)
	ml.u32(4)
	ml.u32(b.add([]byte("data")))
	b.stream(MemoryListStream, ml)
	f, err := newFileFromBytes(b.bytes())
	if err != nil {
		t.Fatal(err)
	}
	threads, err := f.Threads()
	if err != nil || len(threads) != 1 || threads[0].ThreadId != 0x1234 {
		t.Errorf("Threads = %+v, %v", threads, err)
	}
	p := make([]byte, 4)
	if n, err := f.Memory().ReadAt(p, 0x5000); n != 4 || err != nil || string(p) != "data" {
		t.Errorf("memory = %q, %v", p, err)
	}
}

// TestBadReferences covers records whose pointers go wrong: the record is kept and says why a
// part of it is missing.
func TestBadReferences(t *testing.T) {
	b := newDumpBuilder(3)
	var ml le
	ml.u32(2)
	for i, rva := range []uint32{0xFFFFFF00, 0} { // name past the end; name RVA 0
		ml.u64(0x400000 * uint64(i+1))
		ml.u32(0x1000)
		ml.u32(0)
		ml.u32(0)
		ml.u32(rva)
		ml.raw(make([]byte, 52)) // VS_FIXEDFILEINFO
		ml.u32(8)                // CvRecord: 8 bytes of an unknown signature
		ml.u32(b.add([]byte("XXXXabcd")))
		ml.raw(make([]byte, 8+16))
	}
	b.stream(ModuleListStream, ml)
	// A handle whose object-information chain loops back onto itself.
	loop := b.add(make([]byte, 12))
	var hd le
	hd.u32(16)
	hd.u32(40)
	hd.u32(1)
	hd.u32(0)
	hd.u64(4)
	hd.u32(b.addString("Event"))
	hd.u32(0)
	hd.raw(make([]byte, 16))
	hd.u32(loop)
	hd.u32(0)
	b.stream(HandleDataStream, hd)
	// A thread name whose string claims 1 MiB.
	huge := b.add([]byte{0, 0, 0x10, 0})
	var tn le
	tn.u32(1)
	tn.u32(7)
	tn.u64(uint64(huge))
	b.stream(ThreadNamesStream, tn)
	data := b.bytes()
	// Make the loop: NextInfoRva of the entry at loop = loop.
	copy(data[loop:], []byte{byte(loop), byte(loop >> 8), 0, 0})

	f, err := newFileFromBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	mods, err := f.Modules()
	if err != nil || len(mods) != 2 {
		t.Fatalf("Modules = %d, %v", len(mods), err)
	}
	wantErr(t, mods[0].NameErr, "name of module 0 at 0xffffff00: points past the end of the file")
	wantErr(t, mods[1].NameErr, "module name RVA is 0")
	wantErr(t, mods[0].CodeViewErr, "unknown CodeView signature 0x58585858")
	hs, err := f.Handles()
	if err != nil || len(hs) != 1 || hs[0].TypeName != "Event" {
		t.Fatalf("Handles = %+v, %v", hs, err)
	}
	wantErr(t, hs[0].Err, "handle 0x4 object information at", "chain loops back")
	names, err := f.ThreadNames()
	if err != nil || len(names) != 1 {
		t.Fatalf("ThreadNames = %+v, %v", names, err)
	}
	wantErr(t, names[0].NameErr, "name of thread 0x7 at", "string length 1048576 exceeds the limit")
	checkErrorsNameOffsets(t, exerciseAll(f))
}

// TestStreamPastEnd: a stream whose location is outside the file fails alone.
func TestStreamPastEnd(t *testing.T) {
	b := newDumpBuilder(2)
	var th le
	th.u32(0)
	b.stream(ThreadListStream, th)
	b.dir = append(b.dir, Directory{StreamType: ModuleListStream, Location: LocationDescriptor{DataSize: 108, Rva: 0x7000}})
	f, err := newFileFromBytes(b.bytes())
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Modules()
	wantErr(t, err, "minidump: module list at 0x7000: points past the end of the file")
	if threads, err := f.Threads(); err != nil || len(threads) != 0 {
		t.Errorf("Threads = %v, %v", threads, err)
	}
}

// TestRustMinidumpInvalid opens rust-minidump's fuzzer-found malformed dumps: whatever opens
// must be walkable without a panic, and every error must name its offset.
func TestRustMinidumpInvalid(t *testing.T) {
	for _, name := range []string{"invalid-range.dmp", "invalid-record-count.dmp"} {
		t.Run(name, func(t *testing.T) {
			f, err := Open(fixture(t, filepath.Join("rust-minidump", name)))
			if err != nil {
				t.Logf("Open: %v", err)
				return
			}
			defer f.Close()
			errs := exerciseAll(f)
			checkErrorsNameOffsets(t, errs)
			for _, e := range errs {
				t.Log(e)
			}
		})
	}
}

// TestTruncatedDumps cuts real dumps at many points: each copy opens or fails with an error
// naming an offset, and everything it opens can be walked.
func TestTruncatedDumps(t *testing.T) {
	for _, rel := range []string{"breakpad/minidump2.dmp", "breakpad/tiny-exe-with-cet-xsave.dmp", "kdlibcpp/targetapp_minidump/target_minidump.dmp"} {
		t.Run(rel, func(t *testing.T) {
			whole, err := os.ReadFile(fixture(t, rel))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			step := max(len(whole)/150, 1)
			for cut := 0; cut < len(whole); cut += step {
				part := whole[:cut]
				// Every tenth copy goes through a real file (mmap); the rest through a reader.
				var f *File
				if (cut/step)%10 == 0 {
					p := filepath.Join(dir, "cut.dmp")
					if err := os.WriteFile(p, part, 0o644); err != nil {
						t.Fatal(err)
					}
					f, err = Open(p)
				} else {
					f, err = newFileFromBytes(part)
				}
				if err != nil {
					if !errors.Is(err, ErrNotMinidump) && !reNamesOffset.MatchString(err.Error()) {
						t.Errorf("cut at %d: error without an offset: %v", cut, err)
					}
					continue
				}
				checkErrorsNameOffsets(t, exerciseAll(f))
				f.Close()
			}
		})
	}
}

// TestAmplificationBounds: records that all point at one big string, or directory entries that
// all name one comment, cost work bounded by the file's size, not by the number of pointers.
func TestAmplificationBounds(t *testing.T) {
	b := newDumpBuilder(1 + 70)
	name := b.addString(strings.Repeat("x", maxStringBytes/2-1))
	const handles = 300 // 300 × 64 KiB of names is more than the 16 MiB + 2×size budget
	var hd le
	hd.u32(16)
	hd.u32(32)
	hd.u32(handles)
	hd.u32(0)
	for i := range handles {
		hd.u64(uint64(4 * (i + 1)))
		hd.u32(name)
		hd.u32(0)
		hd.raw(make([]byte, 16))
	}
	b.stream(HandleDataStream, hd)
	comment := b.add([]byte("a comment"))
	for range 70 {
		b.dir = append(b.dir, Directory{StreamType: CommentStreamA, Location: LocationDescriptor{DataSize: 9, Rva: comment}})
	}
	f, err := newFileFromBytes(b.bytes())
	if err != nil {
		t.Fatal(err)
	}
	hs, err := f.Handles()
	if err != nil || len(hs) != handles {
		t.Fatalf("Handles = %d, %v", len(hs), err)
	}
	if hs[0].Err != nil || len(hs[0].TypeName) != maxStringBytes/2-1 {
		t.Errorf("first handle: %v", hs[0].Err)
	}
	wantErr(t, hs[handles-1].Err, "the dump's strings add up to more than")
	cs, err := f.Comments()
	if len(cs) != maxComments || cs[0].Text != "a comment" {
		t.Errorf("%d comments", len(cs))
	}
	wantErr(t, err, "CommentStreamA at 0x", "more comment text than the first 64 streams")
}
