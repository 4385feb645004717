package kdump

import (
	"encoding/binary"
	"math/bits"
)

// bitmapIndex serves summary and bitmap dumps (FORMATS.md §1.4 BITMAP): page frame p is stored
// when bit p is set, and its bytes are the rank(p)-th page from FirstPage, rank(p) being the
// number of set bits below p. A rank directory with one cumulative count per 512-bit block
// makes rank O(1): the count, plus the popcounts of at most eight words. For a 64 GiB machine
// (16 Mi page frames) the bitmap is 2 MiB (read in place when mapped) and the directory 256 KiB.
type bitmapIndex struct {
	bm      []byte   // the bitmap, a whole number of 8-byte words (zero-padded when copied)
	nbits   uint64   // bits that count; bits past nbits in the last word are ignored
	rank    []uint64 // rank[k] = set bits in words [0, 8k)
	first   int64    // file offset of the first stored page
	present uint64   // set bits in all
}

// blockWords is the rank directory's stride in 64-bit words (512 bits).
const blockWords = 8

func (f *File) buildBitmap() (physIndex, error) {
	m := f.Bitmap
	nbytes := (m.Pages + 7) / 8
	nwords := (m.Pages + 63) / 64
	var bm []byte
	if f.data != nil && nbytes == nwords*8 {
		bm = f.data[m.BitmapOffset : m.BitmapOffset+int64(nbytes) : m.BitmapOffset+int64(nbytes)]
	} else {
		// Copy into whole words. The header check made sure the bitmap is inside the file, so
		// this allocation is bounded by the file's size.
		raw, err := f.block(uint64(m.BitmapOffset), nbytes, "bitmap")
		if err != nil {
			return nil, err
		}
		bm = make([]byte, nwords*8)
		copy(bm, raw)
	}
	x := &bitmapIndex{bm: bm, nbits: m.Pages, first: int64(m.FirstPage)}
	x.rank = make([]uint64, (nwords+blockWords-1)/blockWords)
	var total uint64
	for w := range nwords {
		if w%blockWords == 0 {
			x.rank[w/blockWords] = total
		}
		total += uint64(bits.OnesCount64(x.word(w)))
	}
	x.present = total
	hs := f.Header.Size()
	if total != m.TotalPresentPages {
		f.issue(hs+0x28, "bitmap header", "the bitmap has %d bits set but the header counts %d present pages; the bitmap is used", total, m.TotalPresentPages)
	}
	if end := m.FirstPage + total*PageSize; end > uint64(f.size) {
		have := (uint64(f.size) - m.FirstPage) / PageSize
		f.issue(m.BitmapOffset, "bitmap", "the bitmap lists %d pages stored from file offset %#x, but the file (%#x bytes) holds only %d of them",
			total, m.FirstPage, f.size, have)
	}
	return x, nil
}

// word is the i-th 64-bit word of the bitmap, bits past nbits cleared.
func (x *bitmapIndex) word(i uint64) uint64 {
	w := binary.LittleEndian.Uint64(x.bm[i*8:])
	if tail := x.nbits - i*64; tail < 64 {
		w &= 1<<tail - 1
	}
	return w
}

func (x *bitmapIndex) lookup(pfn uint64) (int64, bool) {
	if pfn >= x.nbits {
		return 0, false
	}
	wi, bit := pfn/64, pfn%64
	w := x.word(wi)
	if w>>bit&1 == 0 {
		return 0, false
	}
	r := x.rank[wi/blockWords]
	for j := wi &^ (blockWords - 1); j < wi; j++ {
		r += uint64(bits.OnesCount64(x.word(j)))
	}
	r += uint64(bits.OnesCount64(w & (1<<bit - 1)))
	return x.first + int64(r)*PageSize, true
}

func (x *bitmapIndex) runs(yield func(PageRun) bool) {
	var cur PageRun
	var rank uint64
	nwords := uint64(len(x.bm) / 8)
	for wi := range nwords {
		w := x.word(wi)
		for w != 0 {
			bit := uint64(bits.TrailingZeros64(w))
			// Length of the run of ones starting at bit.
			ones := uint64(bits.TrailingZeros64(^(w >> bit)))
			if bit+ones > 64 {
				ones = 64 - bit
			}
			pfn := wi*64 + bit
			if cur.PageCount > 0 && cur.BasePage+cur.PageCount == pfn {
				cur.PageCount += ones
			} else {
				if cur.PageCount > 0 && !yield(cur) {
					return
				}
				cur = PageRun{BasePage: pfn, PageCount: ones, FileOffset: x.first + int64(rank)*PageSize}
			}
			rank += ones
			if bit+ones == 64 {
				w = 0
			} else {
				w &^= (1<<ones - 1) << bit
			}
		}
	}
	if cur.PageCount > 0 {
		yield(cur)
	}
}

func (x *bitmapIndex) count() uint64 { return x.present }
