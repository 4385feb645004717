package ksynth

import (
	"encoding/binary"
	"fmt"
)

// poolWriter lays out Spec.Pool.
type poolWriter struct {
	b    *builder
	l    poolLayout
	spec *PoolSpec
	f    *PoolFacts
	next map[bool]uint64 // next free pool VA, by paged
	// start records where each pool's pages begin (the pool ranges).
	start map[bool]uint64
	// perCPU are the rows of each processor's tracker table (pool_pertable.go), nil on
	// builds without them.
	perCPU [][]PoolTracker
}

// buildPool writes Spec.Pool (nothing when it is nil). It runs after the KDBG step: it fills
// the nt!PoolTrackTable variable that step created and points more KDBG fields at the
// variables it adds.
func (b *builder) buildPool() error {
	ps := b.spec.Pool
	if ps == nil {
		return nil
	}
	l, err := poolLayoutOf(b.p.is64, b.p.build)
	if err != nil {
		return err
	}
	f := &PoolFacts{Symbols: map[string]uint64{}, Layout: PoolLayoutFacts{TrackerEntrySize: l.trackSize,
		BigPageEntrySize: l.bigSize, HeaderSize: l.headerSize, Granularity: l.gran, SegmentHeap: l.segmentHeap,
		ChunkHeaderSize: l.chunkHeader}}
	w := &poolWriter{b: b, l: l, spec: ps, f: f,
		next:  map[bool]uint64{false: l.nonPagedStart, true: l.pagedStart},
		start: map[bool]uint64{false: l.nonPagedStart, true: l.pagedStart}}
	for _, step := range []func() error{w.quota, w.blocks, w.missing, w.bigPages, w.fill, w.trackers, w.ranges, w.vm, w.owners,
		w.perProcessor, w.checkSessionSpec} {
		if err := step(); err != nil {
			return err
		}
	}
	b.m.Pool = f
	return nil
}

// global adds an nt variable and records it among the pool symbols.
func (w *poolWriter) global(name string, size uint64) uint64 {
	va := w.b.global(name, size)
	w.f.Symbols[name] = va
	return va
}

// kdbgField points a KDDEBUGGER_DATA64 field (FORMATS.md §2) at a variable, when the block of
// this era has the field.
func (w *poolWriter) kdbgField(name string, off, va uint64) string {
	b := w.b
	if off+8 > uint64(b.p.kdbgSize) {
		return ""
	}
	b.u64(b.m.KdDebuggerDataBlock+off, b.p.canon(va))
	b.m.KDBG.Fields[name] = va
	return name
}

// quota chooses the process quota-charged blocks are billed to and, on builds whose POOL_HEADER
// encodes ProcessBilled (Windows 8 and later, FORMATS.md §6.1), the nt!ExpPoolQuotaCookie.
func (w *poolWriter) quota() error {
	w.f.QuotaProcess = w.b.processes[len(w.b.processes)-1].addr
	if w.l.is64 && w.l.build >= 9200 {
		w.f.QuotaCookie = 0x5A17C0DE0BADF00D
		w.b.u64(w.global("ExpPoolQuotaCookie", 8), w.f.QuotaCookie)
	}
	return nil
}

// billed is the value stored for a quota-charged block. The encoding of Windows 8+ x64 is a
// FORMATS.md §6.1 gap; the writer uses EPROCESS XOR cookie XOR header address, the form public
// pool write-ups describe, and records both values in the manifest.
func (w *poolWriter) billed(hdr uint64) uint64 {
	if w.f.QuotaCookie != 0 {
		return w.f.QuotaProcess ^ w.f.QuotaCookie ^ hdr
	}
	return w.f.QuotaProcess
}

// newPage maps a fresh pool page.
func (w *poolWriter) newPage(paged bool) (uint64, error) {
	va := w.next[paged]
	w.next[paged] += pageSize
	if _, ok := w.b.vpages[va]; ok {
		return 0, fmt.Errorf("ksynth: pool page %#x collides with a page the writer already mapped", va)
	}
	if err := w.b.mapKernel(va, pageSize, leafData); err != nil {
		return 0, err
	}
	return va, nil
}

// header encodes a POOL_HEADER (FORMATS.md §6.1): x64 PreviousSize, PoolIndex, BlockSize,
// PoolType bytes and the tag; x86 PreviousSize:9|PoolIndex:7, BlockSize:9|PoolType:7 and the
// tag. Sizes are in bytes.
func (l *poolLayout) header(dst []byte, prev, size uint64, poolType uint8, tag uint32) {
	g := l.gran
	if l.is64 {
		dst[0], dst[1], dst[2], dst[3] = byte(prev/g), 0, byte(size/g), poolType
	} else {
		binary.LittleEndian.PutUint16(dst[0:], uint16(prev/g))
		binary.LittleEndian.PutUint16(dst[2:], uint16(size/g)|uint16(poolType)<<9)
	}
	binary.LittleEndian.PutUint32(dst[4:], tag)
}

// maxBlock is the largest small block: the BlockSize field's reach (x64 a byte of 16-byte
// units, x86 9 bits of 8-byte units) and, on segment-heap builds, the page minus the chunk
// header.
func (l *poolLayout) maxBlock() uint64 {
	if l.is64 {
		return min(255*l.gran, pageSize-l.chunkHeader)
	}
	return pageSize - l.gran
}

// chunkHeaderBytes are the opaque bytes before a segment-heap POOL_HEADER (§6.4: the VS chunk
// header's layout is a gap): every byte has its top bit set, so that no part of it reads as a
// printable tag.
func chunkHeaderBytes(va uint64) []byte {
	out := make([]byte, 16)
	x := va*0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D
	for i := range out {
		x ^= x >> 29
		x *= 0xBF58476D1CE4E5B9
		out[i] = byte(x>>56) | 0x80
	}
	return out
}

// blocks lays the small blocks out, nonpaged first, each pool's blocks packed into pages in
// order. Classic pages are closed with a free filler block so that the chain reaches the page
// end; segment-heap pages leave their tail zero.
func (w *poolWriter) blocks() error {
	l, b := &w.l, w.b
	filler := w.spec.FillerTag
	if filler == "" {
		filler = "Frag"
	}
	fillerTag, err := tagValue(filler)
	if err != nil {
		return err
	}
	for _, paged := range []bool{false, true} {
		var page, used, prev uint64
		var pageFact *PoolPageFact
		closePage := func() error {
			if page == 0 {
				return nil
			}
			if !l.segmentHeap && used < pageSize {
				size := pageSize - used
				hdr := make([]byte, l.headerSize)
				l.header(hdr, prev, size, 0, fillerTag)
				b.write(page+used, hdr)
				w.f.Blocks = append(w.f.Blocks, BlockFact{Header: page + used, Size: size, PreviousSize: prev, Tag: filler,
					TagValue: fillerTag, Paged: paged, Free: true, Filler: true})
				pageFact.Blocks++
			}
			w.f.Pages = append(w.f.Pages, *pageFact)
			return nil
		}
		for i, blk := range w.spec.Blocks {
			if blk.Paged != paged {
				continue
			}
			tag, err := tagValue(blk.Tag)
			if err != nil {
				return err
			}
			size := (uint64(blk.Size) + l.gran - 1) &^ (l.gran - 1)
			if size <= l.headerSize || size > l.maxBlock() {
				return fmt.Errorf("ksynth: pool block %d (%s) of %d bytes: want %d < size <= %d", i, blk.Tag, blk.Size, l.headerSize, l.maxBlock())
			}
			need := size + l.chunkHeader
			if page == 0 || used+need > pageSize {
				if err := closePage(); err != nil {
					return err
				}
				if page, err = w.newPage(paged); err != nil {
					return err
				}
				pa, _ := b.pa(page)
				pageFact = &PoolPageFact{VA: page, PA: pa, Paged: paged}
				used, prev = 0, 0
			}
			if l.segmentHeap {
				b.write(page+used, chunkHeaderBytes(page+used))
				used += l.chunkHeader
			}
			hdrVA := page + used
			poolType := uint8(0)
			if !blk.Free {
				poolType = 1 // NonPagedPool + 1
				if paged {
					poolType = 2 // PagedPool + 1
				}
			}
			prevField := prev
			if l.segmentHeap {
				prevField = 0
			}
			hdr := make([]byte, l.headerSize)
			l.header(hdr, prevField, size, poolType, tag)
			fact := BlockFact{Header: hdrVA, Size: size, PreviousSize: prevField, Tag: blk.Tag, TagValue: tag, Paged: paged,
				Free: blk.Free, PoolType: poolType}
			b.write(hdrVA, hdr)
			if blk.Quota && !blk.Free {
				fact.Process, fact.Billed = w.f.QuotaProcess, w.billed(hdrVA)
				if l.is64 {
					b.u64(hdrVA+8, fact.Billed) // ProcessBilled (§6.1)
				} else {
					// x86 headers have no room: Windows 7 keeps the process in the block's last
					// 4 bytes (outside FORMATS.md; recorded in the manifest).
					b.u32(hdrVA+size-4, uint32(fact.Billed))
				}
			}
			w.f.Blocks = append(w.f.Blocks, fact)
			pageFact.Blocks++
			used += size
			prev = size
		}
		if err := closePage(); err != nil {
			return err
		}
	}
	return nil
}

// missing adds the pool pages the dump cannot show: a pagefile PTE (§3.2), or a valid PTE to
// a frame in the RAM hole, which no storage form holds (§1.4).
func (w *poolWriter) missing() error {
	b := w.b
	last := len(b.kernel.levels) - 1
	hole := uint64(ramHoleFirst + 0x20)
	for i, mp := range w.spec.MissingPages {
		va := w.next[mp.Paged]
		w.next[mp.Paged] += pageSize
		if _, ok := b.vpages[va]; ok {
			return fmt.Errorf("ksynth: missing pool page %#x collides with a mapped page", va)
		}
		fact := MissingPageFact{VA: va, Paged: mp.Paged}
		if mp.NotStored {
			if hole >= ramHoleEnd {
				return fmt.Errorf("ksynth: too many not-stored pool pages (the RAM hole has %d frames)", ramHoleEnd-ramHoleFirst-0x20)
			}
			fact.Reason, fact.PTE = "not stored", hole*pageSize|leafData
			if b.kernel.entrySize() == 4 {
				fact.PTE &= 0xFFFFFFFF
			}
			if err := b.kernel.map4K(va, hole, leafData); err != nil {
				return err
			}
			b.vpages[va] = mapping{pfn: hole}
			hole++
		} else {
			// PageFileHigh in bits 63:32, or 31:12 of a 4-byte non-PAE PTE (§3.2).
			fact.Reason, fact.PTE = "pagefile", uint64(0x3000+i)<<32|protReadWrt
			if b.kernel.entrySize() == 4 {
				fact.PTE = uint64(0x3000+i)<<12 | protReadWrt
			}
			if err := b.kernel.setLeaf(va, last, fact.PTE); err != nil {
				return err
			}
		}
		w.f.Missing = append(w.f.Missing, fact)
	}
	return nil
}

// bigPages maps the big allocations (no POOL_HEADER, §6.2) and writes nt!PoolBigPageTable with
// each entry at its hash bucket, linear probing; free entries keep Va with bit 0 set and their
// pages unmapped.
func (w *poolWriter) bigPages() error {
	l, b := &w.l, w.b
	n := len(w.spec.BigPages)
	size := w.spec.BigPageTableSize
	if size == 0 {
		size = powerOfTwo(2*n, 16)
	}
	if size&(size-1) != 0 || size <= n {
		return fmt.Errorf("ksynth: PoolBigPageTableSize %d is not a power of two above %d entries", size, n)
	}
	table, err := b.alloc(uint64(size)*l.bigSize, 16)
	if err != nil {
		return err
	}
	used := make([]bool, size)
	for i, bp := range w.spec.BigPages {
		tag, err := tagValue(bp.Tag)
		if err != nil {
			return err
		}
		if bp.Bytes < pageSize {
			return fmt.Errorf("ksynth: big page allocation %d (%s) of %d bytes is below a page", i, bp.Tag, bp.Bytes)
		}
		pages := (bp.Bytes + pageSize - 1) / pageSize
		va := w.next[bp.Paged]
		if bp.Free {
			w.next[bp.Paged] += pages * pageSize
		} else {
			for k := uint64(0); k < pages; k++ {
				p, err := w.newPage(bp.Paged)
				if err != nil {
					return err
				}
				fill := make([]byte, pageSize)
				for j := range fill {
					fill[j] = byte(0xB0 + i%16)
				}
				b.write(p, fill)
			}
		}
		poolType := l.nonPagedBigType
		if bp.Paged {
			poolType = l.pagedType
		}
		raw := poolType
		if l.bigBitfield {
			raw = poolType << 8 // Pattern:8, PoolType:12, SlushSize:12
		}
		idx := bigPageBucket(va, uint64(size-1))
		for used[idx] {
			idx = (idx + 1) % uint64(size)
		}
		used[idx] = true
		entry := table + idx*l.bigSize
		stored := va
		if bp.Free {
			stored |= 1 // POOL_BIG_TABLE_ENTRY_FREE
		}
		b.putField(entry, l.bigVA, stored)
		b.putField(entry, l.bigKey, uint64(tag))
		b.putField(entry, l.bigType, uint64(raw))
		b.putField(entry, l.bigBytes, bp.Bytes)
		w.f.BigPages = append(w.f.BigPages, BigPageFact{Index: idx, Entry: entry, VA: va, Tag: bp.Tag, TagValue: tag,
			Bytes: bp.Bytes, PoolType: poolType, RawType: raw, Paged: bp.Paged, Free: bp.Free})
	}
	b.ptr(w.global("PoolBigPageTable", w.l.ptr), table)
	b.ptr(w.global("PoolBigPageTableSize", w.l.ptr), uint64(size))
	w.f.BigPageTable, w.f.BigPageTableSize = table, uint64(size)
	return nil
}

// trackers writes the tag tracker table (§6.3): nt!PoolTrackTable points at an array of
// nt!PoolTrackTableSize entries, each row at its hash bucket with linear probing; the rows
// marked Expansion go, in order, into nt!PoolTrackTableExpansion. On builds with per-processor
// tables (pool_pertable.go) the main rows' counts are split between the global table and
// those, which the perProcessor step writes last.
func (w *poolWriter) trackers() error {
	l, b := &w.l, w.b
	var main, exp []PoolTracker
	for _, t := range w.spec.Trackers {
		if t.Expansion {
			exp = append(exp, t)
		} else {
			main = append(main, t)
		}
	}
	seen := map[uint32]bool{}
	for _, t := range main {
		tag, err := tagValue(t.Tag)
		if err != nil {
			return err
		}
		if seen[tag] {
			return fmt.Errorf("ksynth: tracker tag %q twice", t.Tag)
		}
		seen[tag] = true
	}
	size := w.spec.TrackTableSize
	if size == 0 {
		size = powerOfTwo(2*len(main), 64)
	}
	if size&(size-1) != 0 || size <= len(main) {
		return fmt.Errorf("ksynth: PoolTrackTableSize %d is not a power of two above %d rows", size, len(main))
	}
	main = w.splitPerProcessor(main)
	table, facts, err := w.hashedTable(main, uint64(size))
	if err != nil {
		return err
	}
	w.f.Trackers = append(w.f.Trackers, facts...)
	expTable, facts, err := w.listTable(exp)
	if err != nil {
		return err
	}
	for i := range facts {
		facts[i].Expansion = true
	}
	w.f.Trackers = append(w.f.Trackers, facts...)
	trackVar := b.globals["PoolTrackTable"] // created with the KDBG block (§2: KDBG.PoolTrackTable)
	w.f.Symbols["PoolTrackTable"] = trackVar
	b.ptr(trackVar, table)
	b.ptr(w.global("PoolTrackTableSize", l.ptr), uint64(size))
	b.ptr(w.global("PoolTrackTableExpansion", l.ptr), expTable)
	b.ptr(w.global("PoolTrackTableExpansionSize", l.ptr), uint64(len(exp)))
	w.f.TrackTable, w.f.TrackTableSize = table, uint64(size)
	w.f.TrackExpansion, w.f.TrackExpansionSize = expTable, uint64(len(exp))
	return nil
}

// hashedTable allocates a table of size entries in the arena and puts each row at its §6.3
// hash bucket, linear probing.
func (w *poolWriter) hashedTable(rows []PoolTracker, size uint64) (uint64, []TrackerFact, error) {
	l, b := &w.l, w.b
	table, err := b.alloc(size*l.trackSize, 16)
	if err != nil {
		return 0, nil, err
	}
	facts, err := placeTrackers(l, rows, size, func(off uint64, v []byte) { b.write(table+off, v) })
	for i := range facts {
		facts[i].Entry = table + facts[i].Index*l.trackSize
	}
	return table, facts, err
}

// placeTrackers encodes rows into a hashed table of size entries through put (offset in the
// table, bytes); the facts have Index and Bucket set, not Entry.
func placeTrackers(l *poolLayout, rows []PoolTracker, size uint64, put func(off uint64, v []byte)) ([]TrackerFact, error) {
	if uint64(len(rows)) >= size {
		return nil, fmt.Errorf("ksynth: %d tracker rows do not fit a table of %d", len(rows), size)
	}
	used := make([]bool, size)
	var facts []TrackerFact
	for _, t := range rows {
		e, fact, err := l.trackerEntry(t)
		if err != nil {
			return nil, err
		}
		bucket := trackerBucket(fact.TagValue, size-1)
		idx := bucket
		for used[idx] {
			idx = (idx + 1) % size
		}
		used[idx] = true
		put(idx*l.trackSize, e)
		fact.Index, fact.Bucket = idx, bucket
		facts = append(facts, fact)
	}
	return facts, nil
}

// listTable writes rows in order into a fresh arena table (0 when there are none).
func (w *poolWriter) listTable(rows []PoolTracker) (uint64, []TrackerFact, error) {
	l, b := &w.l, w.b
	if len(rows) == 0 {
		return 0, nil, nil
	}
	table, err := b.alloc(uint64(len(rows))*l.trackSize, 16)
	if err != nil {
		return 0, nil, err
	}
	var facts []TrackerFact
	for i, t := range rows {
		e, fact, err := l.trackerEntry(t)
		if err != nil {
			return 0, nil, err
		}
		b.write(table+uint64(i)*l.trackSize, e)
		fact.Index, fact.Entry = uint64(i), table+uint64(i)*l.trackSize
		facts = append(facts, fact)
	}
	return table, facts, nil
}

// trackerEntry encodes one POOL_TRACKER_TABLE entry (§6.3 layouts).
func (l *poolLayout) trackerEntry(t PoolTracker) ([]byte, TrackerFact, error) {
	tag, err := tagValue(t.Tag)
	if err != nil {
		return nil, TrackerFact{}, err
	}
	e := make([]byte, l.trackSize)
	binary.LittleEndian.PutUint32(e, tag)
	vals := [6]uint64{t.NonPagedAllocs, t.NonPagedFrees, t.NonPagedBytes, t.PagedAllocs, t.PagedFrees, t.PagedBytes}
	for k, f := range l.track {
		switch f.size {
		case 4:
			if vals[k] > 0xFFFFFFFF {
				return nil, TrackerFact{}, fmt.Errorf("ksynth: tracker %s: %d does not fit this build's 32-bit counter", t.Tag, vals[k])
			}
			binary.LittleEndian.PutUint32(e[f.off:], uint32(vals[k]))
		case 8:
			binary.LittleEndian.PutUint64(e[f.off:], vals[k])
		}
	}
	return e, TrackerFact{Tag: t.Tag, TagValue: tag, NonPagedAllocs: t.NonPagedAllocs,
		NonPagedFrees: t.NonPagedFrees, NonPagedBytes: t.NonPagedBytes, PagedAllocs: t.PagedAllocs,
		PagedFrees: t.PagedFrees, PagedBytes: t.PagedBytes}, nil
}

// ranges records the pool VA ranges and, on builds with fixed ranges, writes them to the
// variables KDBG's MmNonPagedPoolStart/End and MmPagedPoolStart/End (0x110–0x128) point at.
func (w *poolWriter) ranges() error {
	b := w.b
	for _, r := range []struct {
		name       string
		paged      bool
		start, end uint64 // KDBG offsets
	}{{"NonPagedPool", false, 0x110, 0x118}, {"PagedPool", true, 0x120, 0x128}} {
		pr := PoolRange{Name: r.name, Start: w.start[r.paged], End: w.next[r.paged]}
		w.f.Ranges = append(w.f.Ranges, pr)
		if !w.l.kdbgRanges {
			continue
		}
		prefix := "MmNonPagedPool"
		if r.paged {
			prefix = "MmPagedPool"
		}
		sv, ev := w.global(prefix+"Start", w.l.ptr), w.global(prefix+"End", w.l.ptr)
		b.ptr(sv, pr.Start)
		b.ptr(ev, pr.End)
		w.kdbgField(prefix+"Start", r.start, sv)
		w.kdbgField(prefix+"End", r.end, ev)
	}
	return nil
}
