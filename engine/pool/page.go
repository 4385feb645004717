package pool

import "fmt"

// Block is one pool block of a page: its header's address and decoded header.
type Block struct {
	Addr   uint64
	Header Header
}

// Contains says whether addr lies inside the block (header included).
func (b Block) Contains(addr uint64) bool {
	return addr >= b.Addr && addr-b.Addr < max(b.Header.BlockSize, 1)
}

const pageSize = 0x1000

// WalkPage follows the classic (pre-19H1) block chain of one pool page held in b, whose first
// byte is at pageVA (FORMATS.md §6.1: blocks are contiguous, next = header + BlockSize, the
// first block has PreviousSize 0 and the chain ends at the page end). A header that lies —
// size 0, a size running past the page, a PreviousSize that is not the previous block's size —
// ends the walk or is noted; the walk never revisits a byte, so it always ends.
func WalkPage(b []byte, pageVA uint64, ptrSize int) (blocks []Block, notes []string) {
	g := Granularity(ptrSize)
	prev := uint64(0)
	for off := uint64(0); off+g <= uint64(len(b)); {
		h, _ := DecodeHeader(b[off:], ptrSize)
		at := pageVA + off
		if h.PreviousSize != prev {
			notes = append(notes, fmt.Sprintf("block %#x: previous size %#x, but the block before it is %#x bytes", at, h.PreviousSize, prev))
		}
		if h.BlockSize == 0 {
			notes = append(notes, fmt.Sprintf("block %#x: size 0, the rest of the page cannot be walked", at))
			return blocks, notes
		}
		blocks = append(blocks, Block{Addr: at, Header: h})
		if off+h.BlockSize > uint64(len(b)) {
			notes = append(notes, fmt.Sprintf("block %#x: size %#x runs past the end of the page", at, h.BlockSize))
			return blocks, notes
		}
		prev = h.BlockSize
		off += h.BlockSize
	}
	return blocks, notes
}

// ScanPage finds the pool headers of one page of a segment-heap kernel (19H1 and later), where
// blocks no longer chain (FORMATS.md §6.4): every granularity-aligned offset whose header has
// a non-zero BlockSize that fits in the page and a printable tag is taken as a block, and the
// search goes on after that block. Loose by nature: data that looks like a header is reported.
func ScanPage(b []byte, pageVA uint64, ptrSize int) []Block {
	g := Granularity(ptrSize)
	var blocks []Block
	for off := uint64(0); off+g <= uint64(len(b)); {
		h, _ := DecodeHeader(b[off:], ptrSize)
		if h.BlockSize != 0 && off+h.BlockSize <= uint64(len(b)) && printableTag(h.Tag) {
			blocks = append(blocks, Block{Addr: pageVA + off, Header: h})
			off += h.BlockSize
			continue
		}
		off += g
	}
	return blocks
}

func printableTag(t Tag) bool {
	v := uint32(t) &^ protectedBit
	for i := 0; i < 4; i++ {
		c := byte(v >> (8 * i))
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}

// Page is what `!pool ADDR` shows: the blocks of the page around an address, or the big-page
// allocation holding it.
type Page struct {
	Addr        uint64   // the address asked about
	PageVA      uint64   // its page
	Big         *BigPage // set when the address is inside a big-page allocation
	Blocks      []Block
	Containing  int    // index in Blocks of the block holding Addr, -1 when none
	Region      string // "Nonpaged pool", "Paged pool", ...
	SegmentHeap bool   // blocks were found by ScanPage, not by the chain walk
	Notes       []string
}

// Describe finds the pool block around addr: in the big-page table (bigs may be nil), else in
// its page by the chain walk (classic builds) or the header scan (segment heap).
func Describe(k *Kernel, addr uint64, bigs *BigPages) (*Page, error) {
	addr = k.canonical(addr)
	p := &Page{Addr: addr, PageVA: addr &^ (pageSize - 1), Containing: -1, SegmentHeap: k.SegmentHeap()}
	if e, ok := bigs.Find(addr); ok {
		p.Big = &e
		p.Region = TypeName(e.PoolType)
		return p, nil
	}
	buf := make([]byte, pageSize)
	n, err := k.Mem.ReadAt(buf, p.PageVA)
	if n == 0 {
		return nil, fmt.Errorf("pool page %#x is not in the dump: %v", p.PageVA, err)
	}
	if n < pageSize {
		p.Notes = append(p.Notes, fmt.Sprintf("only %#x bytes of the page are in the dump", n))
	}
	if p.SegmentHeap {
		p.Blocks = ScanPage(buf[:n], p.PageVA, k.ptrSize())
	} else {
		p.Blocks, p.Notes = WalkPage(buf[:n], p.PageVA, k.ptrSize())
	}
	for i, b := range p.Blocks {
		if b.Contains(addr) {
			p.Containing = i
		}
	}
	switch {
	case p.Containing >= 0 && !p.Blocks[p.Containing].Header.Free():
		p.Region = TypeName(p.Blocks[p.Containing].Header.Type())
	default:
		for _, b := range p.Blocks {
			if !b.Header.Free() {
				p.Region = TypeName(b.Header.Type())
				break
			}
		}
	}
	if len(p.Blocks) == 0 {
		return p, fmt.Errorf("%#x: no pool block header found in its page", addr)
	}
	return p, nil
}
