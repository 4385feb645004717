package vmem

import (
	"encoding/binary"
	"fmt"
)

// paging describes one paging mode: its levels from the top table down and how to read an
// entry. The walk below is the same for every mode.
type paging struct {
	name      string
	levels    []level
	entrySize int // 4 or 8 bytes
	// split checks va for this mode and says which root (0 or 1) maps it.
	split func(va uint64) (root int, reason string)
	// decode interprets the entry read at level i.
	decode func(i int, l level, e uint64) decoded
	// decodeProto interprets a prototype PTE (FORMATS.md §3.2); nil when the mode has none.
	decodeProto func(e uint64) decoded
	// transitionMask is the PFN field of a transition entry (§3.2); 0 when the mode has no
	// transition entries. The L1TF bit must lie in it (swizzle.go).
	transitionMask uint64
}

// level is one table of the walk: its index is VA bits [shift+bits-1 : shift].
type level struct {
	name  string
	shift uint
	bits  uint
}

func (l level) index(va uint64) uint64 { return va >> l.shift & (1<<l.bits - 1) }

// decoded is what one entry leads to.
type decoded struct {
	state  EntryState
	next   uint64 // physical address of the next table, or of the page's first byte
	size   uint64 // page size when the entry maps a page (leaf); 0 for a table
	reason string // why the walk stops (when state is not Valid or Transition)
	// followProto: a last-level prototype PTE whose prototype PTE, at kernel VA proto, names
	// the page (state is StatePrototype).
	followProto bool
	proto       uint64
	// l1tfBit: next is the entry's frame with this physical-address bit flipped back
	// (swizzle.go); 0 when next is the frame as the entry holds it.
	l1tfBit uint
}

func tableAt(pa uint64, state EntryState) decoded { return decoded{state: state, next: pa} }
func pageAt(pa, size uint64, state EntryState) decoded {
	return decoded{state: state, next: pa, size: size}
}
func stop(state EntryState, reason string) decoded { return decoded{state: state, reason: reason} }

// walk translates va through every level (a fixed count: a loop in the tables cannot make it
// run longer) and records the entries in steps when asked. With follow, a last-level prototype
// PTE is resolved through its prototype PTE (one more step, never more: see prototype).
func (t *Translator) walk(va uint64, steps *[]Step, follow bool) (Walk, error) {
	w := Walk{VA: va}
	root, reason := t.mode.split(va)
	if reason != "" {
		return w, &TranslationError{VA: va, State: StateBadAddress, Reason: reason}
	}
	table := t.roots[root]
	if root == 1 && table == 0 {
		return w, &TranslationError{VA: va, State: StateBadAddress, Reason: "no TTBR1 (kernel half) root was given"}
	}
	for i, l := range t.mode.levels {
		entryAddr := table + l.index(va)*uint64(t.mode.entrySize)
		e, err := t.readEntry(entryAddr)
		if err != nil {
			return w, &TranslationError{VA: va, Level: l.name, EntryAddr: entryAddr, State: StateUnreadable,
				Reason: "page table not in the dump", Err: err}
		}
		d := t.unswizzle(t.mode.decode(i, l, e))
		if steps != nil {
			*steps = append(*steps, Step{Level: l.name, EntryAddr: entryAddr, Entry: e, State: d.state, L1TFBit: d.l1tfBit})
		}
		if d.followProto && follow {
			w.leafTable = table
			w.ProtoVA = d.proto
			pa, size, err := t.prototype(va, l, entryAddr, e, d, steps)
			if err != nil {
				return w, err
			}
			w.PA, w.PageSize = pa, size
			return w, nil
		}
		if d.state != StateValid && d.state != StateTransition {
			return w, &TranslationError{VA: va, Level: l.name, EntryAddr: entryAddr, Entry: e, State: d.state, Reason: d.reason}
		}
		if d.size != 0 {
			w.leafTable = table
			w.PageSize = d.size
			w.PA = d.next + va&(d.size-1)
			return w, nil
		}
		if i == len(t.mode.levels)-1 {
			// decode never returns a table at the last level; guard the invariant anyway.
			return w, &TranslationError{VA: va, Level: l.name, EntryAddr: entryAddr, Entry: e, State: StateInvalid,
				Reason: "last level does not map a page"}
		}
		table = d.next
	}
	return w, &TranslationError{VA: va, State: StateBadAddress, Reason: "paging mode has no levels"}
}

// ProtoLevel is the Step.Level of the prototype PTE a walk read after a last-level entry
// that pointed at it.
const ProtoLevel = "Proto"

// prototype resolves va's prototype PTE (FORMATS.md §3.2): it lives at kernel VA d.proto, which
// translates through this same root (system space is mapped in every address space) by a walk
// that does not follow prototypes, so a prototype PTE whose own page is prototype-mapped stops
// there instead of recursing; and the prototype PTE itself is decoded by decodeProto, which
// treats its Prototype bit as a subsection PTE, not as another prototype to follow.
func (t *Translator) prototype(va uint64, l level, entryAddr, e uint64, d decoded, steps *[]Step) (pa, size uint64, err error) {
	fail := func(reason string, cause error) error {
		return &TranslationError{VA: va, Level: l.name, EntryAddr: entryAddr, Entry: e, State: StatePrototype,
			Reason: reason, Err: cause}
	}
	if d.proto%uint64(t.mode.entrySize) != 0 {
		return 0, 0, fail(fmt.Sprintf("not present (prototype PTE at %#x, which is not %d-byte aligned)", d.proto, t.mode.entrySize), nil)
	}
	pw, werr := t.walk(d.proto, nil, false)
	if werr != nil {
		why := werr.Error()
		if te, ok := werr.(*TranslationError); ok && te.Level != "" {
			why = te.Level + " " + te.Reason
		}
		return 0, 0, fail(fmt.Sprintf("not present (prototype PTE at %#x, whose own page does not translate: %s)", d.proto, why), werr)
	}
	pe, rerr := t.readEntry(pw.PA)
	if rerr != nil {
		return 0, 0, fail(fmt.Sprintf("not present (prototype PTE at %#x, physical %#x, is not in the dump)", d.proto, pw.PA), rerr)
	}
	pd := t.unswizzle(t.mode.decodeProto(pe))
	if steps != nil {
		*steps = append(*steps, Step{Level: ProtoLevel, EntryAddr: pw.PA, Entry: pe, State: pd.state, L1TFBit: pd.l1tfBit})
	}
	if pd.state != StateValid && pd.state != StateTransition {
		return 0, 0, &TranslationError{VA: va, Level: ProtoLevel, EntryAddr: pw.PA, Entry: pe, State: pd.state,
			Reason: fmt.Sprintf("prototype PTE at %#x: %s", d.proto, pd.reason)}
	}
	return pd.next + va&(pd.size-1), pd.size, nil
}

func (t *Translator) readEntry(pa uint64) (uint64, error) {
	var b [8]byte
	n, err := t.phys.ReadPhysical(b[:t.mode.entrySize], pa)
	if n < t.mode.entrySize {
		if err == nil {
			err = fmt.Errorf("short read of %d bytes", n)
		}
		return 0, err
	}
	if t.mode.entrySize == 4 {
		return uint64(binary.LittleEndian.Uint32(b[:4])), nil
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// ReadAt reads virtual memory at va into p (engine.Memory semantics): it stops at the first
// byte whose page does not translate or is not in the dump, returning the count read and a
// *TranslationError or *ReadError naming that byte's address (see FailedVA).
func (t *Translator) ReadAt(p []byte, va uint64) (int, error) {
	done := 0
	for done < len(p) {
		cur := va + uint64(done)
		if done > 0 && cur == 0 {
			// wrapped past the top of the address space
			return done, &TranslationError{VA: cur, State: StateBadAddress, Reason: "read runs past the end of the address space"}
		}
		pa, size, err := t.Translate(cur)
		if err != nil {
			return done, err
		}
		chunk := size - cur&(size-1)
		if rest := uint64(len(p) - done); chunk > rest {
			chunk = rest
		}
		n, err := t.phys.ReadPhysical(p[done:done+int(chunk)], pa)
		done += n
		if uint64(n) < chunk {
			return done, &ReadError{VA: cur + uint64(n), PA: pa + uint64(n), Err: err}
		}
	}
	return done, nil
}
