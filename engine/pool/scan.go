package pool

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sort"

	"wdbg/engine/vmem"
)

// Pools selects which pools a scan looks for.
type Pools uint8

const (
	NonPaged Pools = 1 << iota
	Paged
	AllPools = NonPaged | Paged
)

// Hit is one block a scan found.
type Hit struct {
	Addr         uint64 // the POOL_HEADER (or the big allocation's first byte)
	Tag          Tag
	Size         uint64 // bytes (BlockSize, or NumberOfBytes for a big page)
	PreviousSize uint64
	PoolType     uint32 // POOL_TYPE (meaningless when Free)
	Free         bool
	Big          bool // from the big-page table
}

// Progress is how far a scan has come.
type Progress struct {
	Done, Total uint64 // bytes of mapped pool scanned / to scan
	At          uint64 // address being scanned
}

// ScanOptions say what to look for.
type ScanOptions struct {
	Pattern  Pattern
	Pools    Pools // 0 = both
	Progress func(Progress)
	NoBig    bool // skip the big-page table
}

// ScanRegion is one address range a scan walked.
type ScanRegion struct {
	Name  string // "NonPaged pool", "Paged pool", "kernel space"
	Range Range
	Pools Pools // which pool the region holds (AllPools when the headers decide)
}

// ScanResult is what a scan found.
type ScanResult struct {
	Big       *BigPages // the big-page table read (nil when not available)
	Regions   []ScanRegion
	Hits      []Hit
	Scanned   uint64 // bytes of mapped memory searched
	Missing   uint64 // bytes mapped but not in the dump
	Stopped   bool   // cancelled: Hits are those found before StoppedAt
	StoppedAt uint64
	Notes     []string
}

// MaxHits bounds what one scan keeps (a '*' pattern matches every header).
const MaxHits = 1 << 20

// scanChunk is how much mapped memory is read at once: whole pages, so that a header (which
// never crosses a page) is always inside one chunk.
const scanChunk = 1 << 20

// hugePage is the x64 1 GiB page size.
const hugePage = 1 << 30

// Scan searches the pool for blocks whose tag matches opts.Pattern: first the big-page table,
// then pool memory. Classic builds search [MmNonPagedPoolStart, MmNonPagedPoolEnd) and
// [MmPagedPoolStart, MmPagedPoolEnd) (KDBG fields are the addresses of the variables holding
// the bounds, FORMATS.md §2); segment-heap builds (§6.4) every present kernel-space page that is
// not inside a loaded image or the page tables. Only pages the page tables map are read.
// On cancellation the hits found so far are returned with Stopped set.
func Scan(ctx context.Context, k *Kernel, opts ScanOptions) (*ScanResult, error) {
	if opts.Pools == 0 {
		opts.Pools = AllPools
	}
	res := &ScanResult{}
	if !opts.NoBig {
		bigs, err := ReadBigPages(k)
		if err != nil {
			res.Notes = append(res.Notes, "large pool allocation table: "+err.Error())
		} else {
			res.Big = bigs
			res.Notes = append(res.Notes, bigs.Notes...)
			for _, e := range bigs.Entries {
				if e.Free || !opts.Pattern.Match(e.Tag) || !wanted(opts.Pools, e.PoolType) {
					continue
				}
				res.Hits = append(res.Hits, Hit{Addr: e.Addr, Tag: e.Tag, Size: e.Bytes, PoolType: e.PoolType, Big: true})
			}
			sort.Slice(res.Hits, func(i, j int) bool { return res.Hits[i].Addr < res.Hits[j].Addr })
		}
	}
	if k.Paging == nil {
		return res, fmt.Errorf("not available in this dump: it holds no page tables, so pool memory cannot be enumerated")
	}
	regions, err := scanRegions(k, opts.Pools)
	if err != nil {
		return res, err
	}
	res.Regions = regions
	s := scanner{k: k, opts: opts, res: res, g: Granularity(k.ptrSize()), classic: !k.SegmentHeap()}
	var runs []regionRun
	for _, r := range regions {
		var rs []Range
		var huge uint64
		err := k.Paging.Mappings(r.Range.Start, r.Range.End, func(m vmem.Mapping) bool {
			if !s.classic && m.PageSize >= hugePage {
				// Windows builds no pool from 1 GiB pages; such a mapping of kernel space
				// shows physical memory again (an alias), and its blocks would be found twice.
				huge += m.Size
				return true
			}
			rs = append(rs, Range{m.VA, m.VA + m.Size})
			return true
		})
		if huge > 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("%s: %d MB mapped by 1 GB pages not searched (no pool lives in them)", r.Name, huge>>20))
		}
		if err != nil {
			res.Notes = append(res.Notes, r.Name+": "+err.Error())
		}
		if !s.classic {
			rs = subtract(rs, s.exclusions())
		}
		for _, x := range rs {
			runs = append(runs, regionRun{Range: x, pools: r.Pools & opts.Pools})
			s.total += x.End - x.Start
		}
	}
	buf := make([]byte, scanChunk)
	for _, run := range runs {
		for va := run.Start; va < run.End || run.End == 0 && va != 0; {
			if err := ctx.Err(); err != nil {
				res.Stopped, res.StoppedAt = true, va
				return res, nil
			}
			n := min(uint64(scanChunk), run.End-va)
			if run.End == 0 {
				n = min(uint64(scanChunk), -va)
			}
			got, _ := k.Mem.ReadAt(buf[:n], va)
			s.search(buf[:got], va, run.pools)
			res.Scanned += uint64(got)
			next := va + n
			if uint64(got) < n {
				// skip the page the dump lacks, go on with the next one
				bad := va + uint64(got)
				next = min(bad&^(pageSize-1)+pageSize, va+n)
				if next <= va {
					next = va + n
				}
				res.Missing += next - bad
			}
			s.done += next - va
			if opts.Progress != nil {
				opts.Progress(Progress{Done: s.done, Total: s.total, At: next})
			}
			if len(res.Hits) >= MaxHits {
				res.Notes = append(res.Notes, fmt.Sprintf("stopped after %d hits", MaxHits))
				res.Stopped, res.StoppedAt = true, next
				return res, nil
			}
			if next < va { // wrapped past the top of the address space
				break
			}
			va = next
		}
	}
	return res, nil
}

type regionRun struct {
	Range
	pools Pools
}

func wanted(p Pools, poolType uint32) bool {
	if poolType&TypePaged != 0 {
		return p&Paged != 0
	}
	return p&NonPaged != 0
}

// scanRegions lists the address ranges to search.
func scanRegions(k *Kernel, pools Pools) ([]ScanRegion, error) {
	if !k.SegmentHeap() {
		d := k.Debugger
		if d == nil {
			return nil, fmt.Errorf("not available in this dump: the pool bounds come from the KDBG, which was not found")
		}
		var out []ScanRegion
		var notes []string
		add := func(name string, startVar, endVar uint64, p Pools) {
			if pools&p == 0 {
				return
			}
			if startVar == 0 || endVar == 0 {
				notes = append(notes, name+" bounds are not in this KDBG")
				return
			}
			s, err1 := k.readPtr(startVar)
			e, err2 := k.readPtr(endVar)
			if err1 != nil || err2 != nil || e <= s {
				notes = append(notes, fmt.Sprintf("%s bounds cannot be read (variables at %#x, %#x)", name, startVar, endVar))
				return
			}
			out = append(out, ScanRegion{Name: name, Range: Range{s, e}, Pools: p})
		}
		add("NonPaged pool", d.MmNonPagedPoolStart, d.MmNonPagedPoolEnd, NonPaged)
		add("Paged pool", d.MmPagedPoolStart, d.MmPagedPoolEnd, Paged)
		if len(out) == 0 {
			return nil, fmt.Errorf("not available in this dump: %v", notes)
		}
		return out, nil
	}
	if k.ptrSize() == 4 {
		start := uint64(0x80000000)
		if d := k.Debugger; d != nil && d.MmSystemRangeStart != 0 {
			if v, err := k.readPtr(d.MmSystemRangeStart); err == nil && v >= 0x10000 && v < 1<<32 {
				start = v
			}
		}
		return []ScanRegion{{Name: "kernel space", Range: Range{start, 1 << 32}, Pools: AllPools}}, nil
	}
	return []ScanRegion{{Name: "kernel space", Range: Range{0xFFFF800000000000, 0}, Pools: AllPools}}, nil
}

// exclusions are the ranges of kernel space a segment-heap scan skips: loaded images and the
// page-table self-map (the walk already skips the x64 self-map entry; the x86 one is a PDE
// region the walk cannot tell apart).
func (s *scanner) exclusions() []Range {
	k := s.k
	ex := append([]Range(nil), k.Images...)
	if k.ptrSize() == 4 {
		ex = append(ex, Range{0xC0000000, 0xC0800000}) // PAE page tables (8 MB; 4 MB without PAE)
	} else if d := k.Debugger; d != nil && d.PteBase != 0 {
		ex = append(ex, Range{d.PteBase, d.PteBase + 1<<39}) // §2: PteBase = value of MmPteBase
	} else if k.Build < 14393 {
		ex = append(ex, Range{0xFFFFF68000000000, 0xFFFFF70000000000})
	}
	sort.Slice(ex, func(i, j int) bool { return ex[i].Start < ex[j].Start })
	return ex
}

// subtract removes the excluded ranges (sorted by Start) from runs (sorted, disjoint). An End
// of 0 stands for the top of the address space.
func subtract(runs, ex []Range) []Range {
	end := func(r Range) uint64 {
		if r.End == 0 {
			return ^uint64(0)
		}
		return r.End - 1
	}
	var out []Range
	for _, r := range runs {
		cur := r
		for _, x := range ex {
			if x.End != 0 && x.End <= x.Start {
				continue
			}
			if end(x) < cur.Start || x.Start > end(cur) {
				continue
			}
			if x.Start > cur.Start {
				out = append(out, Range{cur.Start, x.Start})
			}
			if x.End == 0 || end(x) >= end(cur) {
				cur = Range{}
				break
			}
			cur.Start = x.End
		}
		if cur != (Range{}) {
			out = append(out, cur)
		}
	}
	return out
}

type scanner struct {
	k           *Kernel
	opts        ScanOptions
	res         *ScanResult
	g           uint64
	classic     bool
	total, done uint64
}

// search looks for matching headers in b, mapped at va (page aligned).
func (s *scanner) search(b []byte, va uint64, pools Pools) {
	if tag, ok := s.opts.Pattern.Exact(); ok {
		s.searchExact(b, va, tag, pools)
		return
	}
	s.searchStride(b, va, pools)
}

// searchExact finds the four tag bytes with bytes.Index (vectorised) and keeps the matches at
// offset 4 of a granularity-aligned header.
func (s *scanner) searchExact(b []byte, va uint64, tag Tag, pools Pools) {
	needle := tag.Bytes()
	g := int(s.g)
	for i := 0; ; {
		j := bytes.Index(b[i:], needle[:])
		if j < 0 {
			return
		}
		at := i + j - 4
		i += j + 1
		if at < 0 || at%g != 0 || at+g > len(b) {
			continue
		}
		s.consider(b[at:at+g], va+uint64(at), pools)
	}
}

// searchStride tests the tag word of every aligned candidate header: one masked compare for
// "Ob*"/"Le?k" patterns, the glob matcher otherwise.
func (s *scanner) searchStride(b []byte, va uint64, pools Pools) {
	p := s.opts.Pattern
	g := int(s.g)
	if p.maskable {
		mask, want := p.mask, p.want
		for at := 0; at+g <= len(b); at += g {
			if binary.LittleEndian.Uint32(b[at+4:])&mask == want {
				s.consider(b[at:at+g], va+uint64(at), pools)
			}
		}
		return
	}
	for at := 0; at+g <= len(b); at += g {
		if b[at+2] == 0 && (g == 16 || b[at+3]&1 == 0) {
			continue // BlockSize 0: cannot be a header
		}
		if p.Match(Tag(binary.LittleEndian.Uint32(b[at+4:]))) {
			s.consider(b[at:at+g], va+uint64(at), pools)
		}
	}
}

// consider validates a candidate header at va (loosely, FORMATS.md §6.4) and records it.
func (s *scanner) consider(hb []byte, va uint64, pools Pools) {
	h, _ := DecodeHeader(hb, s.k.ptrSize())
	if h.BlockSize == 0 {
		return
	}
	if s.classic {
		// §6.1: a small block lies inside its page and its PreviousSize reaches back no
		// further than the page start.
		off := va & (pageSize - 1)
		if off+h.BlockSize > pageSize || h.PreviousSize > off || off == 0 && h.PreviousSize != 0 {
			return
		}
	} else if !h.Free() && !wanted(pools, h.Type()) {
		// segment heap: the header's type says which pool (the region holds both)
		return
	}
	s.res.Hits = append(s.res.Hits, Hit{Addr: va, Tag: h.Tag, Size: h.BlockSize, PreviousSize: h.PreviousSize,
		PoolType: h.Type(), Free: h.Free()})
}
