package ksynth

import (
	"fmt"
	"os"
)

// Generated pool (PoolSpec.Fill): gigabytes of pool pages for the !poolfind benchmark, mapped by
// real page tables but never held in memory. Their frames form one run registered with physMem
// as generated: their bytes are produced from a few template pages whenever the dump is written
// or read.

// fillTemplates is how many distinct page layouts the generated pages cycle through.
const fillTemplates = 8

// genRange is a run of frames whose content is generated.
type genRange struct {
	first, count uint64
	fill         func(pfn uint64, page []byte)
}

// generated returns the generator of frame pfn, or nil.
func (m *physMem) generated(pfn uint64) *genRange {
	for i := range m.gen {
		if g := &m.gen[i]; pfn >= g.first && pfn-g.first < g.count {
			return g
		}
	}
	return nil
}

// pageBytes returns frame pfn's content: the stored page, a generated one, or nil for zeros.
func (m *physMem) pageBytes(pfn uint64) []byte {
	if p := m.pages[pfn]; p != nil {
		return p[:]
	}
	if g := m.generated(pfn); g != nil {
		page := make([]byte, pageSize)
		g.fill(pfn, page)
		return page
	}
	return nil
}

// generatedPFNs lists the generated frames, ascending.
func (m *physMem) generatedPFNs() []uint64 {
	var out []uint64
	for _, g := range m.gen {
		for i := uint64(0); i < g.count; i++ {
			out = append(out, g.first+i)
		}
	}
	return out
}

// fill maps Spec.Pool.Fill's pages and registers their generator.
func (w *poolWriter) fill() error {
	fl := w.spec.Fill
	if fl.Bytes == 0 {
		return nil
	}
	if fl.Bytes%pageSize != 0 {
		return fmt.Errorf("ksynth: pool fill of %d bytes is not whole pages", fl.Bytes)
	}
	tags := fl.Tags
	if len(tags) == 0 {
		tags = []string{"FilA", "FilB", "FilC", "Leak"}
	}
	b, l := w.b, &w.l
	n := fl.Bytes / pageSize
	last := len(b.kernel.levels) - 1
	perTable := uint64(1) << b.kernel.levels[last].bits // PTEs per page table (§3.1)
	esize := b.kernel.entrySize()
	large := perTable * pageSize
	start := (w.next[fl.Paged] + large - 1) &^ (large - 1) // whole page tables
	end := start + n*pageSize
	if !l.is64 && end > 0xC0000000 {
		return fmt.Errorf("ksynth: pool fill of %d bytes does not fit the x86 kernel space", fl.Bytes)
	}
	for va := range b.vpages {
		if va >= start && va < end {
			return fmt.Errorf("ksynth: pool fill [%#x, %#x) collides with mapped page %#x", start, end, va)
		}
	}
	w.next[fl.Paged] = end
	first := b.mem.next
	if first+n > b.mem.maxPFN {
		return fmt.Errorf("ksynth: pool fill needs %d more pages than the machine's %d; raise PhysicalBytes", first+n-b.mem.maxPFN, b.mem.maxPFN)
	}
	b.mem.next += n

	pages, facts, err := w.fillTemplates(tags, fl.Paged)
	if err != nil {
		return err
	}
	// Page tables: whole tables, entries written directly (4-byte entries drop the NX bit).
	ptes := make([]byte, perTable*esize)
	for va := start; va < end; va += large {
		t, err := b.kernel.table(va, last)
		if err != nil {
			return err
		}
		count := min(perTable, (end-va)/pageSize)
		for i := uint64(0); i < count; i++ {
			pfn := first + (va-start)/pageSize + i
			v := pfn*pageSize | leafData
			for k := range esize {
				ptes[esize*i+k] = byte(v >> (8 * k))
			}
		}
		b.mem.write(t, ptes[:esize*count])
	}
	b.mem.gen = append(b.mem.gen, genRange{first: first, count: n, fill: func(pfn uint64, page []byte) {
		copy(page, pages[(pfn-first)%fillTemplates])
	}})

	ff := &PoolFillFacts{Start: start, Pages: n, FirstPFN: first, Paged: fl.Paged, Templates: facts, PerTag: map[string]FillTagFact{}}
	for k, tpl := range facts {
		uses := n / fillTemplates
		if uint64(k) < n%fillTemplates {
			uses++
		}
		for _, blk := range tpl {
			t := ff.PerTag[blk.Tag]
			t.Blocks += uses
			t.Bytes += uses * blk.Size
			ff.PerTag[blk.Tag] = t
		}
	}
	w.f.Fill = ff
	return nil
}

// fillTemplates lays out the template pages: blocks of a few sizes, tags rotating, every
// seventh block free; classic pages chained and closed by a free block of the last tag,
// segment-heap pages with a chunk header before each POOL_HEADER.
func (w *poolWriter) fillTemplates(tags []string, paged bool) ([][]byte, [][]FillBlockFact, error) {
	l := &w.l
	values := make([]uint32, len(tags))
	for i, t := range tags {
		v, err := tagValue(t)
		if err != nil {
			return nil, nil, err
		}
		values[i] = v
	}
	sizes := []uint64{0x40, 0x90, 0x100, 0x210, 0x30, 0x60, 0x180, 0x50, 0x3F0}
	allocType := uint8(1)
	if paged {
		allocType = 2
	}
	var pages [][]byte
	var facts [][]FillBlockFact
	n := 0
	for k := range fillTemplates {
		page := make([]byte, pageSize)
		var fs []FillBlockFact
		var used, prev uint64
		for {
			size := (sizes[(n+k)%len(sizes)] + l.gran - 1) &^ (l.gran - 1)
			need := size + l.chunkHeader
			if used+need > pageSize {
				break
			}
			if l.segmentHeap {
				copy(page[used:], chunkHeaderBytes(uint64(k)<<12|used))
				used += l.chunkHeader
			}
			tagIdx := n % len(tags)
			free := n%7 == 6
			poolType := allocType
			if free {
				poolType = 0
			}
			prevField := prev
			if l.segmentHeap {
				prevField = 0
			}
			l.header(page[used:], prevField, size, poolType, values[tagIdx])
			fs = append(fs, FillBlockFact{Offset: used, Size: size, PreviousSize: prevField, Tag: tags[tagIdx], Free: free})
			used += size
			prev = size
			n++
		}
		if !l.segmentHeap && used < pageSize {
			size := pageSize - used
			tagIdx := (n + len(tags) - 1) % len(tags)
			l.header(page[used:], prev, size, 0, values[tagIdx])
			fs = append(fs, FillBlockFact{Offset: used, Size: size, PreviousSize: prev, Tag: tags[tagIdx], Free: true})
		}
		pages = append(pages, page)
		facts = append(facts, fs)
	}
	return pages, facts, nil
}

// writeGenerated writes the generated pages to f, a megabyte at a time.
func (d *Dump) writeGenerated(f *os.File) error {
	const batch = 256
	buf := make([]byte, batch*pageSize)
	for _, g := range d.mem.gen {
		for i := uint64(0); i < g.count; {
			pfn := g.first + i
			idx, ok := runIndex(d.runs, pfn)
			if !ok {
				i++
				continue
			}
			n := uint64(0)
			for n < batch && i+n < g.count {
				if j, ok := runIndex(d.runs, pfn+n); !ok || j != idx+n {
					break
				}
				g.fill(pfn+n, buf[n*pageSize:(n+1)*pageSize])
				n++
			}
			if _, err := f.WriteAt(buf[:n*pageSize], d.first+int64(idx)*pageSize); err != nil {
				return err
			}
			i += n
		}
	}
	return nil
}
