package vmem

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// flatPhys is physical memory held in one slice: the cost of a read is a bounds check and a
// copy, the fastest a dump-backed reader can be.
type flatPhys []byte

func (f flatPhys) ReadPhysical(p []byte, pa uint64) (int, error) {
	if pa >= uint64(len(f)) {
		return 0, &ReadError{PA: pa}
	}
	n := copy(p, f[pa:])
	if n < len(p) {
		return n, &ReadError{PA: pa + uint64(n)}
	}
	return n, nil
}

const (
	benchPages  = 8192 // 32 MB mapped
	benchBaseVA = 0xFFFF800000000000
)

// benchSpace maps benchPages kernel pages, in a random physical order, with 4-level x64
// tables placed after the data pages.
func benchSpace() (flatPhys, uint64, []uint64) {
	ptPages := benchPages / 512
	mem := make(flatPhys, (benchPages+3+ptPages)*4096)
	pml4 := uint64(benchPages) * 4096
	pdpt, pd := pml4+4096, pml4+2*4096
	pt0 := pml4 + 3*4096
	put := func(pa, v uint64) { binary.LittleEndian.PutUint64(mem[pa:], v) }
	put(pml4+(benchBaseVA>>39&511)*8, pdpt|eP)
	put(pdpt+(benchBaseVA>>30&511)*8, pd|eP)
	order := rand.New(rand.NewPCG(1, 2)).Perm(benchPages)
	frames := make([]uint64, benchPages)
	for i := 0; i < benchPages; i++ {
		pt := pt0 + uint64(i/512)*4096
		if i%512 == 0 {
			put(pd+uint64(i/512)*8, pt|eP)
		}
		frames[i] = uint64(order[i]) * 4096
		put(pt+uint64(i%512)*8, frames[i]|eP|eNX)
	}
	return mem, pml4, frames
}

// BenchmarkPhysicalPages is the physical limit: read the same pages straight from memory.
func BenchmarkPhysicalPages(b *testing.B) {
	mem, _, frames := benchSpace()
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(frames)) * 4096)
	b.ResetTimer()
	for b.Loop() {
		for _, pa := range frames {
			mem.ReadPhysical(buf, pa)
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(frames))/b.Elapsed().Seconds(), "pages/s")
}

// BenchmarkTranslatedPages reads the same pages through the page tables with ReadAt.
func BenchmarkTranslatedPages(b *testing.B) {
	mem, root, _ := benchSpace()
	tr := NewX64(mem, root, false)
	buf := make([]byte, 4096)
	b.SetBytes(benchPages * 4096)
	b.ResetTimer()
	for b.Loop() {
		for i := uint64(0); i < benchPages; i++ {
			if _, err := tr.ReadAt(buf, benchBaseVA+i*4096); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)*benchPages/b.Elapsed().Seconds(), "pages/s")
}

// BenchmarkTranslateCached is Translate alone, one call per page in order.
func BenchmarkTranslateCached(b *testing.B) {
	mem, root, _ := benchSpace()
	tr := NewX64(mem, root, false)
	b.ResetTimer()
	for b.Loop() {
		for i := uint64(0); i < benchPages; i++ {
			if _, _, err := tr.Translate(benchBaseVA + i*4096); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)*benchPages/b.Elapsed().Seconds(), "pages/s")
}

// BenchmarkWalkUncached is a full four-level walk per page (what !pte does).
func BenchmarkWalkUncached(b *testing.B) {
	mem, root, _ := benchSpace()
	tr := NewX64(mem, root, false)
	b.ResetTimer()
	for b.Loop() {
		for i := uint64(0); i < benchPages; i++ {
			if _, err := tr.walk(benchBaseVA+i*4096, nil, true); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)*benchPages/b.Elapsed().Seconds(), "pages/s")
}
