package pool

import (
	"fmt"
	"strings"
)

// Session pool tracking (`!poolused 8`).
//
// Facts: the kernel variables nt!ExpSessionPoolTrackTable (a pointer into session space) and
// nt!ExpSessionPoolTrackTableSize (its entry count); the entries have the global table's
// layout (FORMATS.md §6.3). Session space maps each session's own data at the same virtual
// addresses, so the table must be read through the address space of a process of that session.
// Public PDB type dumps (ntdiff/headers) show _MM_SESSION_SPACE with PoolTrackTableExpansion
// and PoolTrackTableExpansionSize, the session's overflow table; their offsets
// vary by build and are taken from the kernel PDB's types only. The process's session is its
// EPROCESS.Session (FORMATS.md §5).

// SessionQuery is the process whose session pool is read.
type SessionQuery struct {
	// Mem is the process's address space (its DirBase's translation).
	Mem         Memory
	Process     uint64 // EPROCESS
	ProcessName string
	// Session is EPROCESS.Session (the _MM_SESSION_SPACE; 0 for a process in no session);
	// SessionKnown is false when this build's EPROCESS layout lacks the field.
	Session      uint64
	SessionKnown bool
}

// SessionTracker is a session's pool tracker table, read in one process's address space.
type SessionTracker struct {
	Tracker
	Process      uint64
	ProcessName  string
	SessionSpace uint64 // the _MM_SESSION_SPACE
	// Expansion and ExpansionSize are the session's overflow table, when the PDB types name it.
	Expansion     uint64
	ExpansionSize uint64
}

// ReadSessionTracker reads the session tracker table of q's session. Missing symbols, a
// process in no session or a table the process's address space cannot show are errors that
// say what is missing; a partial read returns the entries read with notes.
func ReadSessionTracker(k *Kernel, q SessionQuery) (*SessionTracker, error) {
	l, note := TrackerLayoutFor(k.ptrSize(), k.Build)
	st := &SessionTracker{Tracker: Tracker{Layout: l}, Process: q.Process, ProcessName: q.ProcessName, SessionSpace: q.Session}
	if note != "" {
		st.Notes = append(st.Notes, note)
	}
	var missing []string
	tableVar, ok1 := k.symbol("ExpSessionPoolTrackTable")
	sizeVar, ok2 := k.symbol("ExpSessionPoolTrackTableSize")
	if !ok1 {
		missing = append(missing, "nt!ExpSessionPoolTrackTable")
	}
	if !ok2 {
		missing = append(missing, "nt!ExpSessionPoolTrackTableSize")
	}
	if len(missing) > 0 {
		return st, fmt.Errorf("not available in this dump: session pool usage needs %s, which only the kernel's symbols give", strings.Join(missing, " and "))
	}
	proc := processText(q)
	switch {
	case !q.SessionKnown:
		return st, fmt.Errorf("not available in this dump: EPROCESS.Session is not known for build %d, so the session of %s is not known", k.Build, proc)
	case q.Session == 0:
		return st, fmt.Errorf("not available for %s: it belongs to no session (System and Idle have none); choose a process of a session with .process", proc)
	case q.Mem == nil:
		return st, fmt.Errorf("not available in this dump: the address space of %s cannot be built", proc)
	}
	table, err := k.readPtr(tableVar)
	if err != nil {
		return st, fmt.Errorf("not available in this dump: nt!ExpSessionPoolTrackTable (%#x) cannot be read: %v", tableVar, err)
	}
	size, err := k.readPtr(sizeVar)
	if err != nil {
		return st, fmt.Errorf("not available in this dump: nt!ExpSessionPoolTrackTableSize (%#x) cannot be read: %v", sizeVar, err)
	}
	if table == 0 || size == 0 {
		return st, fmt.Errorf("not available in this dump: the session tracker table is empty (nt!ExpSessionPoolTrackTable %#x, size %d)", table, size)
	}
	st.Table, st.Size = table, size
	merged := map[Tag]*TrackerEntry{}
	r := st.readTableNoted(q.Mem, "ExpSessionPoolTrackTable", table, size, merged)
	if r.read == 0 {
		return st, fmt.Errorf("not available in this dump: the session tracker table (%#x) cannot be read in the address space of %s", table, proc)
	}
	st.readSessionExpansion(k, q, merged)
	st.setEntries(merged)
	return st, nil
}

// readSessionExpansion adds _MM_SESSION_SPACE.PoolTrackTableExpansion when the PDB types name
// both fields.
func (st *SessionTracker) readSessionExpansion(k *Kernel, q SessionQuery, merged map[Tag]*TrackerEntry) {
	expOff, ok1 := k.field("_MM_SESSION_SPACE", "PoolTrackTableExpansion")
	sizeOff, ok2 := k.field("_MM_SESSION_SPACE", "PoolTrackTableExpansionSize")
	if !ok1 || !ok2 {
		st.Notes = append(st.Notes, "the session's expansion table (_MM_SESSION_SPACE.PoolTrackTableExpansion) was not read: the kernel PDB has no such type information")
		return
	}
	ps := k.ptrSize()
	b := make([]byte, ps)
	read := func(addr uint64) (uint64, bool) {
		n, _ := q.Mem.ReadAt(b, addr)
		return readWord(b, uint64(ps)), n == ps
	}
	exp, okA := read(q.Session + expOff)
	size, okB := read(q.Session + sizeOff)
	if !okA || !okB {
		st.Notes = append(st.Notes, fmt.Sprintf("the session's expansion table cannot be read: _MM_SESSION_SPACE at %#x is not in the dump", q.Session))
		return
	}
	if exp == 0 || size == 0 {
		return
	}
	st.Expansion, st.ExpansionSize = exp, size
	if r := st.readTableNoted(q.Mem, "the session's PoolTrackTableExpansion", exp, size, merged); r.read == 0 && r.count > 0 {
		st.Notes = append(st.Notes, fmt.Sprintf("the session's expansion table (%#x) cannot be read", exp))
	}
}

func processText(q SessionQuery) string {
	if q.ProcessName != "" {
		return fmt.Sprintf("process %#x (%s)", q.Process, q.ProcessName)
	}
	return fmt.Sprintf("process %#x", q.Process)
}
