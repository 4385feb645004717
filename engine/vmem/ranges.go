package vmem

import (
	"encoding/binary"
	"fmt"
)

// Mapping is a run of virtually contiguous pages whose leaf entries name a physical page
// (valid, or in transition: still in RAM, FORMATS.md §3.2). The pages need not be physically
// contiguous, and a bitmap dump may still lack some of them: read them through ReadAt.
type Mapping struct {
	VA   uint64 // canonical address of the first byte
	Size uint64 // bytes, a multiple of 4 KB
	// PageSize is the size of the pages mapping the run (4 KB, 2 MB, 1 GB...): a run holds
	// pages of one size only.
	PageSize uint64
}

// End is the address after the run (0 when it ends at the top of the address space).
func (m Mapping) End() uint64 { return m.VA + m.Size }

// Mappings calls fn, in ascending address order, for every run of present pages in
// [start, end) (end 0 means the top of the address space). Both ends must lie in one half of
// the address space the mode can translate (on x64 both canonical with the same sign). fn
// returns false to stop early.
//
// The walk reads each page table once, as a whole. A table entry that points back at one of
// the tables above it on the way down (the Windows page-table self-map, or a corrupt loop) is
// not followed: it would only list the page tables themselves. Page tables the dump does not
// hold are skipped; the error then counts them (the runs found elsewhere are still reported).
func (t *Translator) Mappings(start, end uint64, fn func(Mapping) bool) error {
	last := end - 1
	if end != 0 && end <= start {
		return nil
	}
	root, reason := t.mode.split(start)
	if reason != "" {
		return &TranslationError{VA: start, State: StateBadAddress, Reason: reason}
	}
	if r2, reason := t.mode.split(last); reason != "" || r2 != root {
		return &TranslationError{VA: last, State: StateBadAddress, Reason: "range crosses into another half of the address space"}
	}
	table := t.roots[root]
	if root == 1 && table == 0 {
		return &TranslationError{VA: start, State: StateBadAddress, Reason: "no TTBR1 (kernel half) root was given"}
	}
	top := t.mode.levels[0]
	vaBits := top.shift + top.bits
	mask := uint64(1)<<vaBits - 1
	w := mappingWalk{t: t, fn: fn, lo: start & mask, hi: last & mask, extend: t.extender(root, vaBits)}
	w.ancestors = make([]uint64, 0, len(t.mode.levels))
	w.visit(0, table, 0)
	w.flush()
	if w.missing > 0 {
		return fmt.Errorf("vmem: %d page tables are not in the dump (the pages they map were skipped)", w.missing)
	}
	return nil
}

// extender turns a raw index-built address back into the canonical form of the mode.
func (t *Translator) extender(root int, vaBits uint) func(uint64) uint64 {
	switch t.mode {
	case &pagingX64, &pagingX64LA57:
		return func(raw uint64) uint64 { return uint64(int64(raw<<(64-vaBits)) >> (64 - vaBits)) }
	case &pagingARM64:
		if root == 1 {
			return func(raw uint64) uint64 { return raw | ^uint64(0)<<vaBits }
		}
	}
	return func(raw uint64) uint64 { return raw }
}

type mappingWalk struct {
	t         *Translator
	fn        func(Mapping) bool
	lo, hi    uint64 // raw (unextended) inclusive bounds
	extend    func(uint64) uint64
	ancestors []uint64
	missing   int
	run       Mapping
	stopped   bool
	buf       [4096]byte
}

// visit lists the present pages under the table at pa, which covers raw addresses from base.
func (w *mappingWalk) visit(i int, pa, base uint64) {
	mode := w.t.mode
	l := mode.levels[i]
	n := uint64(1) << l.bits
	size := int(n) * mode.entrySize
	var tbl []byte
	if i+1 < len(mode.levels) {
		tbl = make([]byte, size) // upper tables: the recursion would clobber a shared buffer
	} else {
		tbl = w.buf[:size]
	}
	if got, _ := w.t.phys.ReadPhysical(tbl, pa); got < size {
		w.missing++
		return
	}
	span := uint64(1) << l.shift
	first, lastIdx := uint64(0), n-1
	if w.lo > base {
		first = (w.lo - base) >> l.shift
	}
	if end := base + n*span - 1; w.hi < end {
		lastIdx = (w.hi - base) >> l.shift
	}
	w.ancestors = append(w.ancestors, pa)
	defer func() { w.ancestors = w.ancestors[:len(w.ancestors)-1] }()
	for idx := first; idx <= lastIdx && idx < n && !w.stopped; idx++ {
		var e uint64
		off := int(idx) * mode.entrySize
		if mode.entrySize == 4 {
			e = uint64(binary.LittleEndian.Uint32(tbl[off:]))
		} else {
			e = binary.LittleEndian.Uint64(tbl[off:])
		}
		if e == 0 {
			continue
		}
		d := mode.decode(i, l, e)
		if d.state != StateValid && d.state != StateTransition {
			continue
		}
		child := base + idx*span
		if d.size != 0 {
			w.add(child, d.size, d.size)
			continue
		}
		if i+1 >= len(mode.levels) || w.isAncestor(d.next) {
			continue
		}
		w.visit(i+1, d.next, child)
	}
}

func (w *mappingWalk) isAncestor(pa uint64) bool {
	for _, a := range w.ancestors {
		if a == pa {
			return true
		}
	}
	return false
}

// add extends the current run with the page (or large page) at raw address va, clipped to
// the asked range.
func (w *mappingWalk) add(raw, size, pageSize uint64) {
	lo, hi := raw, raw+size-1
	lo, hi = max(lo, w.lo), min(hi, w.hi)
	if hi < lo {
		return
	}
	va := w.extend(lo)
	n := hi - lo + 1
	if w.run.Size != 0 && w.run.VA+w.run.Size == va && w.run.PageSize == pageSize {
		w.run.Size += n
		return
	}
	w.flush()
	w.run = Mapping{VA: va, Size: n, PageSize: pageSize}
}

func (w *mappingWalk) flush() {
	if w.run.Size == 0 || w.stopped {
		return
	}
	if !w.fn(w.run) {
		w.stopped = true
	}
	w.run = Mapping{}
}
