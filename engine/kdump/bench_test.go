package kdump

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"
)

// bigBitmapDump is a bitmap dump header for a 64 GiB machine (16 Mi page frames, a 2 MiB bitmap)
// with every third page frame present. It carries no page data: lookups only compute offsets,
// and the missing data is reported as an issue, not an error.
func bigBitmapDump() []byte {
	const nbits = 64 << 30 / PageSize
	h := headerBytes(true, DumpTypeBitmapFull)
	bm := make([]byte, nbits/8)
	var present uint64
	for p := uint64(0); p < nbits; p += 3 {
		bm[p/8] |= 1 << (p % 8)
		present++
	}
	sec := make([]byte, 0x38)
	le := binary.LittleEndian
	le.PutUint32(sec[0:], SignatureSDMP)
	le.PutUint32(sec[4:], SignatureDUMP)
	le.PutUint64(sec[0x20:], uint64(len(h)+len(sec)+len(bm)))
	le.PutUint64(sec[0x28:], present)
	le.PutUint64(sec[0x30:], nbits)
	return append(append(h, sec...), bm...)
}

// BenchmarkBitmapLookup is the page lookup rate of a 64 GiB machine's bitmap (rank directory,
// O(1) per lookup), over page frames spread across the whole bitmap.
func BenchmarkBitmapLookup(b *testing.B) {
	d := bigBitmapDump()
	f, err := NewFile(mappedReader{bytes.NewReader(d), d}, int64(len(d)))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.PhysicalPageCount(); err != nil {
		b.Fatal(err)
	}
	const nbits = 64 << 30 / PageSize
	pfn := uint64(0)
	b.ResetTimer()
	for b.Loop() {
		pfn = (pfn + 0x9e3779b1) % nbits
		off, ok, _ := f.PhysicalPageOffset(pfn)
		if ok != (pfn%3 == 0) || ok && off != f.Header.Size()+0x38+nbits/8+int64(pfn/3)*PageSize {
			b.Fatalf("pfn %#x: %#x %v", pfn, off, ok)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkBitmapIndexBuild is the cost of the first physical access on the 64 GiB bitmap:
// building the rank directory (popcount of 2 MiB).
func BenchmarkBitmapIndexBuild(b *testing.B) {
	d := bigBitmapDump()
	b.ReportAllocs()
	for b.Loop() {
		f, err := NewFile(mappedReader{bytes.NewReader(d), d}, int64(len(d)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.PhysicalPageCount(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBitmapIndexMemory checks the index's memory bound for a 64 GiB machine: the mapped bitmap
// is used in place, and the rank directory is 256 KiB.
func TestBitmapIndexMemory(t *testing.T) {
	d := bigBitmapDump()
	f, err := NewFile(mappedReader{bytes.NewReader(d), d}, int64(len(d)))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := f.PhysicalPageCount()
	runtime.ReadMemStats(&after)
	if err != nil || n != (64<<30/PageSize+2)/3 {
		t.Fatalf("count %d, %v", n, err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 512<<10 {
		t.Errorf("building the index allocated %d bytes", alloc)
	}
	// The file holds no page data: one issue says so, with the count.
	if issues := f.Issues(); len(issues) != 1 {
		t.Errorf("issues %v", issues)
	}
}

// BenchmarkReadPhysicalPages reads whole pages through each storage form (mapped), to compare
// with the memory bandwidth of copying the same bytes.
func BenchmarkReadPhysicalPages(b *testing.B) {
	pfns := make([]uint64, 0, 256)
	for p := uint64(0); len(pfns) < 256; p++ {
		if p%16 < 8 { // 32 runs of 8 pages: the header has room for 42
			pfns = append(pfns, p)
		}
	}
	for name, d := range map[string][]byte{
		"runlist": buildFullDump(true, pfns),
		"bitmap":  buildBitmapDump(true, pfns, 1024),
	} {
		b.Run(name, func(b *testing.B) {
			f, err := NewFile(mappedReader{bytes.NewReader(d), d}, int64(len(d)))
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, PageSize)
			b.SetBytes(PageSize)
			i := 0
			for b.Loop() {
				if _, err := f.ReadPhysical(buf, pfns[i%len(pfns)]*PageSize); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
	b.Run("memcopy", func(b *testing.B) {
		src := make([]byte, 256*PageSize)
		buf := make([]byte, PageSize)
		b.SetBytes(PageSize)
		i := 0
		for b.Loop() {
			copy(buf, src[(i%256)*PageSize:])
			i++
		}
	})
}

// BenchmarkOpenTriage opens the real triage dump and decodes its drivers and virtual blocks.
func BenchmarkOpenTriage(b *testing.B) {
	openTriage(b) // skips without the corpus
	b.ReportAllocs()
	for b.Loop() {
		f := openTriage(b)
		if _, err := f.TriageDrivers(); err != nil {
			b.Fatal(err)
		}
		if _, err := f.VirtualBlocks(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
