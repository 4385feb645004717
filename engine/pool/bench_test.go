package pool

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
)

// benchPool maps mb MB of kernel pages (x64, 19041: segment-heap scan of every present page)
// onto 64 distinct frames of pool-like content: 16-byte aligned headers with assorted tags,
// one "Leak" block per frame and random data between them. Aliasing the frames keeps the
// benchmark's memory small while every virtual page is translated and read like a real one.
func benchPool(mb int) (*Kernel, uint64) {
	s := newSpaceX64()
	rng := rand.New(rand.NewPCG(5, 7))
	tags := []string{"File", "MmSt", "Ntfx", "Proc", "Thre", "IoNm", "CM25", "ObNm"}
	var frames []uint64
	for i := 0; i < 64; i++ {
		pa := s.alloc()
		f := s.phys.frames[pa>>12]
		for j := range f {
			f[j] = byte(rng.IntN(256))
		}
		for off := 0; off < 0x1000; off += 0x100 {
			copy(f[off:], headerX64(0, 0x10, 1, tags[rng.IntN(len(tags))]))
		}
		copy(f[0x800:], headerX64(0, 0x10, 2, "Leak"))
		frames = append(frames, pa)
	}
	const base = 0xFFFFB00000000000
	pages := uint64(mb) << 8
	for i := uint64(0); i < pages; i++ {
		s.mapTo(base+i<<12, frames[i%64])
	}
	return s.kernel(19041, nil, nil), pages << 12
}

func benchScan(b *testing.B, pat string) {
	k, size := benchPool(256)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		res, err := Scan(context.Background(), k, ScanOptions{Pattern: ParsePattern(pat), NoBig: true})
		if err != nil || (pat != "*" && uint64(len(res.Hits)) != size>>12) {
			b.Fatalf("%d hits, %v", len(res.Hits), err)
		}
	}
}

// BenchmarkScanExact is !poolfind Leak: bytes.Index for the tag, then the header checks.
func BenchmarkScanExact(b *testing.B) { benchScan(b, "Leak") }

// BenchmarkScanWildcard is !poolfind Le?k: a masked compare at every 16-byte header slot.
func BenchmarkScanWildcard(b *testing.B) { benchScan(b, "Le?k") }

// BenchmarkBytesIndexMapped is the practical limit: the same mapped pages read through the
// same translator in the same chunks, with a bare bytes.Index count and no header checks.
func BenchmarkBytesIndexMapped(b *testing.B) {
	k, size := benchPool(256)
	buf := make([]byte, scanChunk)
	needle := []byte("Leak")
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for va := uint64(0xFFFFB00000000000); va < 0xFFFFB00000000000+size; va += scanChunk {
			got, _ := k.Mem.ReadAt(buf, va)
			for p := buf[:got]; ; {
				i := bytes.Index(p, needle)
				if i < 0 {
					break
				}
				n++
				p = p[i+1:]
			}
		}
		if n == 0 {
			b.Fatal("no match")
		}
	}
}
