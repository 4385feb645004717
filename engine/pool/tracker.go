package pool

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// Usage is one pool's counters of a tag.
type Usage struct {
	Allocs uint64
	Frees  uint64
	Bytes  uint64 // bytes in use ("Used")
}

// Outstanding is Allocs − Frees ("Diff", §6.3), 0 when the counters are inconsistent.
func (u Usage) Outstanding() uint64 {
	if u.Frees > u.Allocs {
		return 0
	}
	return u.Allocs - u.Frees
}

func (u *Usage) add(v Usage) {
	u.Allocs += v.Allocs
	u.Frees += v.Frees
	u.Bytes += v.Bytes
}

// TrackerEntry is one POOL_TRACKER_TABLE entry.
type TrackerEntry struct {
	Tag      Tag
	NonPaged Usage
	Paged    Usage
}

// field is a counter's offset and width (4 or 8 bytes) in an entry.
type field struct{ off, size int }

func (f field) read(b []byte) uint64 {
	if f.size == 4 {
		return uint64(binary.LittleEndian.Uint32(b[f.off:]))
	}
	return binary.LittleEndian.Uint64(b[f.off:])
}

// TrackerLayout is the layout of POOL_TRACKER_TABLE for one architecture and build range.
type TrackerLayout struct {
	Name                               string
	Size                               int
	npAllocs, npFrees, npBytes         field
	pagedAllocs, pagedFrees, pagedByte field
}

// The four layouts of FORMATS.md §6.3 (Key is always u32 @0).
var (
	trackerX64Win7 = TrackerLayout{Name: "x64 7601-15063", Size: 0x28,
		npAllocs: field{4, 4}, npFrees: field{8, 4}, npBytes: field{0x10, 8},
		pagedAllocs: field{0x18, 4}, pagedFrees: field{0x1C, 4}, pagedByte: field{0x20, 8}}
	trackerX64Win10 = TrackerLayout{Name: "x64 16299-19041", Size: 0x38,
		npAllocs: field{0x10, 8}, npFrees: field{0x18, 8}, npBytes: field{0x8, 8},
		pagedAllocs: field{0x28, 8}, pagedFrees: field{0x30, 8}, pagedByte: field{0x20, 8}}
	trackerX86Win7 = TrackerLayout{Name: "x86 7601-14393", Size: 0x1C,
		npAllocs: field{4, 4}, npFrees: field{8, 4}, npBytes: field{0xC, 4},
		pagedAllocs: field{0x10, 4}, pagedFrees: field{0x14, 4}, pagedByte: field{0x18, 4}}
	trackerX86Win10 = TrackerLayout{Name: "x86 17763-19041", Size: 0x30,
		npAllocs: field{8, 8}, npFrees: field{0x10, 8}, npBytes: field{4, 4},
		pagedAllocs: field{0x20, 8}, pagedFrees: field{0x28, 8}, pagedByte: field{0x18, 4}}
)

// TrackerLayoutFor picks the §6.3 layout for an architecture and build. note is non-empty when
// the build lies outside the ranges §6.3 names and the nearest layout was assumed.
func TrackerLayoutFor(ptrSize int, build uint32) (l TrackerLayout, note string) {
	if ptrSize == 4 {
		switch {
		case build >= 17763:
			l = trackerX86Win10
		case build >= 7601 && build <= 14393:
			l = trackerX86Win7
		default:
			l = trackerX86Win7
			note = fmt.Sprintf("pool tracker layout of build %d not known (FORMATS.md §6.3 covers x86 7601-14393 and 17763-19041): assumed %s", build, l.Name)
		}
	} else {
		switch {
		case build >= 16299:
			l = trackerX64Win10
		case build >= 7601:
			l = trackerX64Win7
		default:
			l = trackerX64Win7
			note = fmt.Sprintf("pool tracker layout of build %d not known (FORMATS.md §6.3 starts at 7601): assumed %s", build, l.Name)
		}
	}
	return l, note
}

// ParseTracker decodes whole entries from b, keeping those with a non-zero Key (§6.3: the
// unused slots of the hash table have Key 0).
func ParseTracker(b []byte, l TrackerLayout) []TrackerEntry {
	if l.Size <= 0 {
		return nil
	}
	var out []TrackerEntry
	for off := 0; off+l.Size <= len(b); off += l.Size {
		e := b[off : off+l.Size]
		key := binary.LittleEndian.Uint32(e)
		if key == 0 {
			continue
		}
		out = append(out, TrackerEntry{Tag: Tag(key),
			NonPaged: Usage{Allocs: l.npAllocs.read(e), Frees: l.npFrees.read(e), Bytes: l.npBytes.read(e)},
			Paged:    Usage{Allocs: l.pagedAllocs.read(e), Frees: l.pagedFrees.read(e), Bytes: l.pagedByte.read(e)}})
	}
	return out
}

// MaxTrackerEntries caps a table size read from the dump: a corrupt PoolTrackTableSize must
// not make the reader walk gigabytes. Real tables hold a few thousand to some hundred
// thousand entries.
const MaxTrackerEntries = 1 << 20

// Tracker is the merged content of the kernel's pool tracker tables.
type Tracker struct {
	Layout  TrackerLayout
	Table   uint64 // address of the global table's first entry
	Size    uint64 // its entry count as the kernel gives it
	Entries []TrackerEntry
	Notes   []string // what was assumed, capped or unreadable
	// PerProcessor are the per-processor tables (nt!ExPoolTagTables) whose counters were added
	// (pertable.go); empty when the symbol is not at hand or the build has none.
	PerProcessor []ProcessorTable
}

// ReadTracker reads nt!PoolTrackTable (located through the symbols or KDBG.PoolTrackTable)
// with nt!PoolTrackTableSize entries, and the expansion table nt!PoolTrackTableExpansion when
// the symbols name it; entries of one tag are summed. On a partial read the entries read are
// returned with notes; the error is set only when nothing could be read.
func ReadTracker(k *Kernel) (*Tracker, error) {
	l, note := TrackerLayoutFor(k.ptrSize(), k.Build)
	t := &Tracker{Layout: l}
	if note != "" {
		t.Notes = append(t.Notes, note)
	}
	var kdbgAddr uint64
	if k.Debugger != nil {
		kdbgAddr = k.Debugger.PoolTrackTable
	}
	varAddr, src, ok := k.global("PoolTrackTable", kdbgAddr)
	if !ok {
		return t, fmt.Errorf("not available in this dump: the pool tracker table is not known (no KDBG.PoolTrackTable, no nt!PoolTrackTable symbol)")
	}
	table, err := k.readPtr(varAddr)
	if err != nil {
		return t, fmt.Errorf("not available in this dump: %s (%#x) cannot be read: %v", src, varAddr, err)
	}
	sizeAddr, ok := k.symbol("PoolTrackTableSize")
	if !ok {
		return t, fmt.Errorf("not available without the kernel's symbols: the size of the pool tracker table (nt!PoolTrackTableSize) is not in the KDBG (FORMATS.md §2)")
	}
	size, err := k.readPtr(sizeAddr)
	if err != nil {
		return t, fmt.Errorf("not available in this dump: nt!PoolTrackTableSize (%#x) cannot be read: %v", sizeAddr, err)
	}
	t.Table, t.Size = table, size
	merged := map[Tag]*TrackerEntry{}
	t.readTableNoted(k.Mem, "PoolTrackTable", table, size, merged)

	if expVar, ok := k.symbol("PoolTrackTableExpansion"); ok {
		if expSizeVar, ok := k.symbol("PoolTrackTableExpansionSize"); ok {
			exp, err1 := k.readPtr(expVar)
			expSize, err2 := k.readPtr(expSizeVar)
			switch {
			case err1 != nil || err2 != nil:
				t.Notes = append(t.Notes, "the expansion table (nt!PoolTrackTableExpansion) cannot be read")
			case exp != 0 && expSize != 0:
				t.readTableNoted(k.Mem, "PoolTrackTableExpansion", exp, expSize, merged)
			}
		}
	}
	t.readPerProcessor(k, table, size, merged)
	t.setEntries(merged)
	if len(t.Entries) == 0 && len(t.Notes) > 0 && size != 0 {
		return t, fmt.Errorf("not available in this dump: no pool tracker entry could be read (%s)", t.Notes[len(t.Notes)-1])
	}
	return t, nil
}

// setEntries turns the merged counters into Entries, sorted by tag.
func (t *Tracker) setEntries(merged map[Tag]*TrackerEntry) {
	t.Entries = t.Entries[:0]
	for _, e := range merged {
		t.Entries = append(t.Entries, *e)
	}
	sort.Slice(t.Entries, func(i, j int) bool { return t.Entries[i].Tag.String() < t.Entries[j].Tag.String() })
}

// tableRead is what readTable could read of one table.
type tableRead struct {
	count    uint64 // entries asked for, after the cap
	read     uint64 // whole entries read (used or not)
	unread   uint64 // entries on pages the dump lacks
	firstBad uint64 // address of the first unreadable entry
}

// readTableNoted is readTable with its notes: the cap, and the entries the dump lacks.
func (t *Tracker) readTableNoted(mem Memory, name string, addr, count uint64, merged map[Tag]*TrackerEntry) tableRead {
	r := t.readTable(mem, name, addr, count, merged)
	if r.unread > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("%d of %d entries of %s are not in the dump (first at %#x)", r.unread, r.count, name, r.firstBad))
	}
	return r
}

// readTable reads count entries at addr from mem in chunks, skipping pages the dump lacks, and
// adds their counters to merged. A count above MaxTrackerEntries is capped, with a note.
func (t *Tracker) readTable(mem Memory, name string, addr, count uint64, merged map[Tag]*TrackerEntry) tableRead {
	l := t.Layout
	if count > MaxTrackerEntries {
		t.Notes = append(t.Notes, fmt.Sprintf("%s size %d is absurd: only the first %d entries were read", name, count, MaxTrackerEntries))
		count = MaxTrackerEntries
	}
	if count&(count-1) != 0 && name == "PoolTrackTable" {
		t.Notes = append(t.Notes, fmt.Sprintf("%s size %d is not a power of two (FORMATS.md §6.3): the table may be damaged", name, count))
	}
	res := tableRead{count: count}
	if mem == nil || l.Size <= 0 {
		res.unread, res.firstBad = count, addr
		return res
	}
	const chunkEntries = 1024
	buf := make([]byte, min(count, chunkEntries)*uint64(l.Size))
	for i := uint64(0); i < count; {
		n := min(count-i, chunkEntries)
		p := buf[:n*uint64(l.Size)]
		at := addr + i*uint64(l.Size)
		got, _ := mem.ReadAt(p, at)
		got = max(0, min(got, len(p)))
		for _, e := range ParseTracker(p[:got], l) {
			m := merged[e.Tag]
			if m == nil {
				m = &TrackerEntry{Tag: e.Tag}
				merged[e.Tag] = m
			}
			m.NonPaged.add(e.NonPaged)
			m.Paged.add(e.Paged)
		}
		whole := uint64(got / l.Size)
		res.read += whole
		if whole == n {
			i += n
			continue
		}
		// Skip the unreadable entry and go on with the next one that starts on a later page.
		bad := at + whole*uint64(l.Size)
		if res.unread == 0 {
			res.firstBad = bad
		}
		next := (bad&^0xFFF + 0x1000 - addr + uint64(l.Size) - 1) / uint64(l.Size)
		if next <= i+whole {
			next = i + whole + 1
		}
		res.unread += min(next, count) - (i + whole)
		i = next
	}
	return res
}
