package vmem

import (
	"encoding/binary"
	"errors"
	"testing"
)

// fuzzPhys turns fuzz bytes into physical memory: page i is the 64-byte chunk i of the input
// (eight 8-byte entries) repeated to fill 4 KB, so that a few hundred fuzz bytes describe
// whole page tables. With wrap set every physical address is readable (page number modulo
// the page count), so random entries point at real tables and walks go deep, loops included.
type fuzzPhys struct {
	pages [][]byte
	wrap  bool
}

func (f *fuzzPhys) ReadPhysical(p []byte, pa uint64) (int, error) {
	n := 0
	for n < len(p) {
		cur := pa + uint64(n)
		idx := cur >> 12
		if f.wrap {
			idx %= uint64(len(f.pages))
		} else if idx >= uint64(len(f.pages)) {
			return n, errors.New("absent")
		}
		n += copy(p[n:], f.pages[idx][cur&0xFFF:])
	}
	return n, nil
}

func newFuzzPhys(data []byte, wrap bool) *fuzzPhys {
	const maxPages, chunk = 8, 64
	f := &fuzzPhys{wrap: wrap}
	for i := 0; i < maxPages && (i == 0 || i*chunk < len(data)); i++ {
		var c [chunk]byte
		if i*chunk < len(data) {
			copy(c[:], data[i*chunk:])
		}
		pg := make([]byte, 4096)
		for off := 0; off < len(pg); off += chunk {
			copy(pg[off:], c[:])
		}
		f.pages = append(f.pages, pg)
	}
	return f
}

func fuzzTranslator(mode uint8, phys Physical, root uint64) *Translator {
	switch mode % 6 {
	case 0:
		return NewX64(phys, root, false)
	case 1:
		return NewX64(phys, root, true)
	case 2:
		return NewX86(phys, root, true)
	case 3:
		return NewX86(phys, root, false)
	case 4:
		return NewARM64(phys, root, root^0x1000)
	}
	return NewARM64(phys, 0, root)
}

// FuzzTranslate checks on random page tables that a walk always ends, that the cached
// Translate agrees with the uncached Walk, that results are page-aligned consistently and
// that ReadAt's error names the first byte it did not read.
func FuzzTranslate(f *testing.F) {
	seed := make([]byte, 3*64)
	binary.LittleEndian.PutUint64(seed[0:], 0x1000|eP)     // page 0 → page 1
	binary.LittleEndian.PutUint64(seed[64:], 0x2000|eP)    // page 1 → page 2
	binary.LittleEndian.PutUint64(seed[128:], 0x0000|eP|3) // page 2 → back to page 0 (loop)
	binary.LittleEndian.PutUint64(seed[136:], 0x40000000|eP|ePS)
	binary.LittleEndian.PutUint64(seed[144:], 0x1000|eTrans) // transition
	binary.LittleEndian.PutUint64(seed[152:], 0x55<<32|eProtRW)
	// prototype PTEs (§3.2): x64 ProtoAddress 63:16 naming a kernel VA that wraps back into
	// these pages, and a PAE one (63:32); the target entry is itself a prototype (subsection).
	binary.LittleEndian.PutUint64(seed[160:], 0xF80000201000<<16|eProto|eProtRW) // 48-bit VA in 63:16
	binary.LittleEndian.PutUint64(seed[168:], 0x80201008<<32|eProto|eProtRW)
	for mode := uint8(0); mode < 6; mode++ {
		f.Add(mode, uint64(0), uint64(0x1234), seed)
		f.Add(mode|0x80, uint64(0), uint64(0xFFFFF80000201000), seed)
	}
	f.Add(uint8(0), uint64(0x1000), uint64(0x7FFFFFFFF000), []byte{1, 0x10, 0, 0, 0, 0, 0, 0})
	// L1TF (mode 0x42: x64 with the rule): transition entries naming page 5 (absent) are followed
	// to page 1 with bit 14 flipped.
	l1tf := make([]byte, 2*64)
	binary.LittleEndian.PutUint64(l1tf[0:], 0x1000|eP)
	binary.LittleEndian.PutUint64(l1tf[64:], 0x5000|eTrans|eProtRW)
	f.Add(uint8(0x42), uint64(2)<<60, uint64(0), l1tf)
	f.Fuzz(func(t *testing.T, mode uint8, root, va uint64, data []byte) {
		phys := newFuzzPhys(data, mode&0x80 != 0)
		tr := fuzzTranslator(mode, phys, root)
		if mode&0x40 != 0 {
			// the L1TF rule (swizzle.go), with a low bit so that flips land on the few pages
			// a fuzz input holds; root bits 63:60 are ignored by every mode's root mask.
			tr = tr.WithL1TF(12 + uint(root>>60))
		}
		for _, v := range []uint64{va, va + 0x1000, va + 0x200000, va &^ 0xFFF, va ^ 0x8000, va + 0x1000} {
			pa, size, err := tr.Translate(v)
			w, werr := tr.Walk(v)
			if (err == nil) != (werr == nil) {
				t.Fatalf("Translate(%#x) err %v, Walk err %v", v, err, werr)
			}
			// one entry per level, plus at most one prototype PTE (never a chain of them)
			if len(w.Steps) > len(tr.Levels())+1 {
				t.Fatalf("walk of %#x read %d entries, mode has %d levels", v, len(w.Steps), len(tr.Levels()))
			}
			for i, st := range w.Steps {
				if st.Level == ProtoLevel && i != len(w.Steps)-1 {
					t.Fatalf("walk of %#x: prototype step %d is not the last", v, i)
				}
			}
			if err != nil {
				if got, ok := FailedVA(err); !ok || got != v {
					t.Fatalf("Translate(%#x) error names %#x (%v)", v, got, err)
				}
				continue
			}
			if pa != w.PA || size != w.PageSize {
				t.Fatalf("Translate(%#x) = %#x/%#x, Walk = %#x/%#x", v, pa, size, w.PA, w.PageSize)
			}
			switch size {
			case 1 << 12, 1 << 21, 1 << 22, 1 << 30:
			default:
				t.Fatalf("page size %#x", size)
			}
			if pa&(size-1) != v&(size-1) {
				t.Fatalf("Translate(%#x) = %#x: offset in page differs", v, pa)
			}
		}
		buf := make([]byte, 100)
		n, err := tr.ReadAt(buf, va+0xFC0)
		if n < 0 || n > len(buf) {
			t.Fatalf("ReadAt returned %d", n)
		}
		if err == nil && n != len(buf) {
			t.Fatalf("ReadAt short (%d) without an error", n)
		}
		if err != nil {
			if got, ok := FailedVA(err); !ok || got != va+0xFC0+uint64(n) {
				t.Fatalf("ReadAt(%#x) read %d, error names %#x (%v)", va+0xFC0, n, got, err)
			}
		}
	})
}
