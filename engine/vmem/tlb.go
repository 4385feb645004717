package vmem

// The dump never changes, so cached translations never go stale. Two small direct-mapped
// caches: one remembers, per region covered by one leaf table (2 MB on x64/PAE/ARM64, 4 MB on
// non-PAE x86), where that leaf table is or which large page maps the region, so a read of the
// next page costs one entry read instead of a full walk; the other remembers recent page
// translations outright, so repeated small reads of one page cost nothing.

const (
	tableSlots = 64
	pageSlots  = 64
)

type tableSlot struct {
	used   bool
	region uint64 // va >> regionShift
	large  bool   // true: base/size is a large page; false: base is the leaf table
	base   uint64
	size   uint64
}

type pageSlot struct {
	used bool
	vpn  uint64 // va >> 12
	pa   uint64 // physical address of va's 4 KB page (even inside a large page)
	size uint64 // size of the mapping page, reported by Translate
}

// regionShift is the span of one leaf table: the index bits of the last level plus its shift.
func (t *Translator) regionShift() uint {
	last := t.mode.levels[len(t.mode.levels)-1]
	return last.shift + last.bits
}

// cached returns the slots va maps to (they may hold another address: check the tags).
func (t *Translator) cached(va uint64) (pageSlot, tableSlot) {
	t.mu.Lock()
	p := t.pages[(va>>12)%pageSlots]
	s := t.tables[(va>>t.regionShift())%tableSlots]
	t.mu.Unlock()
	return p, s
}

// finishFromTable completes a translation from a cached leaf table (one entry read) or
// large page.
func (t *Translator) finishFromTable(va uint64, s tableSlot) (pa, size uint64, err error) {
	if s.large {
		return s.base + va&(s.size-1), s.size, nil
	}
	last := len(t.mode.levels) - 1
	l := t.mode.levels[last]
	entryAddr := s.base + l.index(va)*uint64(t.mode.entrySize)
	e, rerr := t.readEntry(entryAddr)
	if rerr != nil {
		return 0, 0, &TranslationError{VA: va, Level: l.name, EntryAddr: entryAddr, State: StateUnreadable,
			Reason: "page table not in the dump", Err: rerr}
	}
	d := t.unswizzle(t.mode.decode(last, l, e))
	if d.followProto {
		// the leaf table is cached, never the prototype PTE's page: the prototype is resolved
		// again (one more walk) and only the resulting page lands in the page cache.
		return t.prototype(va, l, entryAddr, e, d, nil)
	}
	if d.state != StateValid && d.state != StateTransition {
		return 0, 0, &TranslationError{VA: va, Level: l.name, EntryAddr: entryAddr, Entry: e, State: d.state, Reason: d.reason}
	}
	return d.next + va&(d.size-1), d.size, nil
}

// store remembers a translation of va, and when w (a full walk) is given, where the walk
// found its leaf table or large page.
func (t *Translator) store(va, pa, size uint64, w *Walk) {
	page := pageSlot{used: true, vpn: va >> 12, pa: pa &^ 0xFFF, size: size}
	shift := t.regionShift()
	region := va >> shift
	var table tableSlot
	if w != nil {
		if size > 1<<12 {
			// a large page spans at least one whole region
			table = tableSlot{used: true, region: region, large: true, base: pa &^ (size - 1), size: size}
		} else {
			table = tableSlot{used: true, region: region, base: w.leafTable}
		}
	}
	t.mu.Lock()
	t.pages[page.vpn%pageSlots] = page
	if table.used {
		t.tables[region%tableSlots] = table
	}
	t.mu.Unlock()
}
