package minidump

import (
	"os"
	"testing"
)

const wow64Dump = "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp"

// BenchmarkOpenWOW64Full opens the 11 MB kdlibcpp WOW64 full-memory dump and lists its threads,
// modules and memory ranges. B/op stays a few tens of KB against the file-bytes metric: the
// file is memory-mapped and only its directory and metadata streams are touched.
func BenchmarkOpenWOW64Full(b *testing.B) {
	path := fixture(b, wow64Dump)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Threads(); err != nil {
			b.Fatal(err)
		}
		if _, err := f.Modules(); err != nil {
			b.Fatal(err)
		}
		if len(f.Memory().Ranges()) == 0 {
			b.Fatal("no memory")
		}
		f.Close()
	}
	b.ReportMetric(float64(fi.Size()), "file-bytes")
}

// TestOpenDoesNotReadWholeFile is the benchmark's claim as an assertion: opening the 11 MB
// WOW64 dump and listing threads, modules and memory allocates far less than the file's size.
func TestOpenDoesNotReadWholeFile(t *testing.T) {
	path := fixture(t, wow64Dump)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var f *File
	n := allocatedBytes(func() {
		f, err = Open(path)
		if err != nil {
			return
		}
		f.Threads()
		f.Modules()
		f.Memory()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n > uint64(fi.Size())/20 {
		t.Errorf("opening allocated %d bytes for a %d-byte file", n, fi.Size())
	}
	t.Logf("allocated %d bytes for a %d-byte file (mapped: %v)", n, fi.Size(), f.Mapped())
}
