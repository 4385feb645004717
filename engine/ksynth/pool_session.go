package ksynth

import (
	"fmt"
	"sort"

	pw "wdbg/engine/internal/pdbwrite"
)

// Session pool (`!poolused 8`), on x64 19041.
//
// Facts: nt!ExpSessionPoolTrackTable points at the session's tracker table in session space and
// nt!ExpSessionPoolTrackTableSize is its entry count; entries have the §6.3 layout. Session
// space maps each session's own pages at the same virtual addresses, so the writer maps the
// table only in the page tables of session 1's processes (each user process has its own PML4,
// objects.go buildUserSpaces): read through System's or the dump header's tables, the address
// is not mapped. EPROCESS.Session points at the session's _MM_SESSION_SPACE (FORMATS.md §5,
// x64 19041 0x558), which lives in session space too and holds SessionId and the session's
// overflow table PoolTrackTableExpansion / PoolTrackTableExpansionSize. Processes outside
// session 1 (System, smss.exe, spoolsv.exe) keep Session 0: the writer models no session 0.

// SessionPoolFacts are what the session writer put in the dump.
type SessionPoolFacts struct {
	SessionID uint32 `json:"session_id"`
	// SessionSpace is the _MM_SESSION_SPACE (the EPROCESS.Session of the session's processes).
	SessionSpace  uint64        `json:"session_space"`
	Table         uint64        `json:"table"` // value of nt!ExpSessionPoolTrackTable
	TableSize     uint64        `json:"table_size"`
	Expansion     uint64        `json:"expansion,omitempty"`
	ExpansionSize uint64        `json:"expansion_size"`
	Trackers      []TrackerFact `json:"trackers"`
	// Processes are the EPROCESSes of session 1: only their page tables map Pages.
	Processes    []uint64 `json:"processes"`
	ProcessNames []string `json:"process_names"`
	// Pages are the session-space pages (VA and frame), mapped in Processes only.
	Pages []SessionPageFact `json:"pages"`
	// Offsets the writer used: EPROCESS.Session and the _MM_SESSION_SPACE fields (also in the
	// kernel PDB's types).
	EprocessSession     uint64 `json:"eprocess_session"`
	SessionIDOffset     uint64 `json:"session_id_offset"`
	ExpansionOffset     uint64 `json:"expansion_offset"`
	ExpansionSizeOffset uint64 `json:"expansion_size_offset"`
}

// SessionPageFact is one session-space page.
type SessionPageFact struct {
	VA uint64 `json:"va"`
	PA uint64 `json:"pa"`
}

const (
	// sessionSpaceX64 is where the writer puts session space: a PML4 slot (0x17C) that no
	// kernel mapping of the x64 19041 profile uses, so that each process's PML4 gets its own
	// tables below it (checked when it is mapped).
	sessionSpaceX64 = 0xFFFFBE0000000000
	// eprocessSession19041 is _EPROCESS.Session on x64 19041 (FORMATS.md §5, column 19041).
	eprocessSession19041 = 0x558
	// _MM_SESSION_SPACE offsets. SessionId @0x8 follows ReferenceCount and the flags union in
	// every public dump of the type (ntdiff/headers); PoolTrackTableExpansion and its size are
	// at 0x1EF0/0x1EF8 in a Windows 10 x64 build's public type dump (ntdiff/headers). The
	// reader takes them from the PDB types the writer emits (sessionTypes), never from here.
	mmSessionID            = 0x8
	mmSessionExpansion     = 0x1EF0
	mmSessionExpansionSize = 0x1EF8
	mmSessionSize          = 0x2000 // a bound: the writer places nothing past ExpansionSize
)

// sessionProcesses are session 1's processes among processDefs.
var sessionProcesses = map[string]bool{"csrss.exe": true, "notepad.exe": true}

// checkSessionSpec refuses session rows on machines the session writer does not model.
func (w *poolWriter) checkSessionSpec() error {
	if len(w.spec.SessionTrackers) > 0 && w.b.spec.Machine != X64Win10_19041 {
		return fmt.Errorf("ksynth: session pool trackers are written on %s only", X64Win10_19041)
	}
	return nil
}

// buildSessions writes Spec.Pool's session table after the processes have their own page
// tables (buildUserSpaces), mapping session space into session 1's processes only.
func (b *builder) buildSessions() error {
	ps := b.spec.Pool
	if ps == nil || len(ps.SessionTrackers) == 0 || b.m.Pool == nil {
		return nil
	}
	l, err := poolLayoutOf(b.p.is64, b.p.build)
	if err != nil {
		return err
	}
	var main, exp []PoolTracker
	for _, t := range ps.SessionTrackers {
		if t.Expansion {
			exp = append(exp, t)
		} else {
			main = append(main, t)
		}
	}
	size := ps.SessionTrackTableSize
	if size == 0 {
		size = powerOfTwo(2*len(main), 64)
	}
	if size <= len(main) {
		return fmt.Errorf("ksynth: ExpSessionPoolTrackTableSize %d has no room for %d rows", size, len(main))
	}
	f := &SessionPoolFacts{SessionID: 1, SessionSpace: sessionSpaceX64, EprocessSession: eprocessSession19041,
		SessionIDOffset: mmSessionID, ExpansionOffset: mmSessionExpansion, ExpansionSizeOffset: mmSessionExpansionSize,
		TableSize: uint64(size), ExpansionSize: uint64(len(exp))}
	// Layout: _MM_SESSION_SPACE, then the table, then the expansion table, page aligned.
	f.Table = sessionSpaceX64 + mmSessionSize
	tableBytes := make([]byte, alignUp64(uint64(size)*l.trackSize, pageSize))
	facts, err := placeTrackers(&l, main, uint64(size), func(off uint64, v []byte) { copy(tableBytes[off:], v) })
	if err != nil {
		return err
	}
	for i := range facts {
		facts[i].Entry = f.Table + facts[i].Index*l.trackSize
	}
	f.Trackers = facts
	var expBytes []byte
	if len(exp) > 0 {
		f.Expansion = f.Table + uint64(len(tableBytes))
		expBytes = make([]byte, alignUp64(uint64(len(exp))*l.trackSize, pageSize))
		for i, t := range exp {
			e, fact, err := l.trackerEntry(t)
			if err != nil {
				return err
			}
			copy(expBytes[uint64(i)*l.trackSize:], e)
			fact.Index, fact.Entry, fact.Expansion = uint64(i), f.Expansion+uint64(i)*l.trackSize, true
			f.Trackers = append(f.Trackers, fact)
		}
	}
	session := make([]byte, mmSessionSize)
	putLE(session[mmSessionID:], 4, uint64(f.SessionID))
	putLE(session[mmSessionExpansion:], 8, f.Expansion)
	putLE(session[mmSessionExpansionSize:], 8, f.ExpansionSize)
	content := append(append(session, tableBytes...), expBytes...)
	if err := b.mapSessionSpace(f, content); err != nil {
		return err
	}
	pf := b.m.Pool
	b.ptr(b.global("ExpSessionPoolTrackTable", l.ptr), f.Table)
	b.ptr(b.global("ExpSessionPoolTrackTableSize", l.ptr), f.TableSize)
	pf.Symbols["ExpSessionPoolTrackTable"] = b.globals["ExpSessionPoolTrackTable"]
	pf.Symbols["ExpSessionPoolTrackTableSize"] = b.globals["ExpSessionPoolTrackTableSize"]
	pf.Session = f
	return nil
}

// mapSessionSpace puts content in fresh frames and maps them at session space in the page
// tables of session 1's processes, whose EPROCESS.Session it sets.
func (b *builder) mapSessionSpace(f *SessionPoolFacts, content []byte) error {
	if e := b.mem.u64(b.kernel.root + 8*(sessionSpaceX64>>39&0x1FF)); e&ptePresent != 0 {
		return fmt.Errorf("ksynth: session space %#x shares a PML4 entry with kernel mappings", uint64(sessionSpaceX64))
	}
	var frames []uint64
	for off := uint64(0); off < uint64(len(content)); off += pageSize {
		pfn, err := b.mem.alloc()
		if err != nil {
			return err
		}
		b.mem.page(pfn)
		b.mem.write(pfn*pageSize, content[off:off+pageSize])
		frames = append(frames, pfn)
		f.Pages = append(f.Pages, SessionPageFact{VA: sessionSpaceX64 + off, PA: pfn * pageSize})
	}
	for _, pr := range b.processes {
		if !sessionProcesses[pr.name] {
			continue
		}
		if pr.dtb == b.kernel.root {
			return fmt.Errorf("ksynth: session process %s has no page tables of its own", pr.name)
		}
		s := &space{mem: b.mem, levels: b.kernel.levels, root: pr.dtb, user: true, userEnd: b.kernel.userEnd}
		for i, pfn := range frames {
			// Not global: each session maps its own pages at these addresses.
			if err := s.map4K(sessionSpaceX64+uint64(i)*pageSize, pfn, leafData&^pteGlobal); err != nil {
				return err
			}
		}
		b.ptr(pr.addr+eprocessSession19041, f.SessionSpace)
		f.Processes = append(f.Processes, pr.addr)
		f.ProcessNames = append(f.ProcessNames, pr.name)
	}
	if len(f.Processes) == 0 {
		return fmt.Errorf("ksynth: no process of session 1")
	}
	return nil
}

// sessionTypes adds, when the dump has a session table, _MM_SESSION_SPACE and
// _EPROCESS.Session to the kernel PDB's types, with the offsets the writer used.
func (d *Dump) sessionTypes(structs []pw.Struct) []pw.Struct {
	pf := d.manifest.Pool
	if pf == nil || pf.Session == nil {
		return structs
	}
	sf := pf.Session
	ptrSize := d.manifest.PointerSize
	structs = append(structs, pw.Struct{Name: "_MM_SESSION_SPACE", Size: mmSessionSize, Members: []pw.Member{
		{Name: "SessionId", Offset: sf.SessionIDOffset, Type: pw.ULong},
		{Name: "PoolTrackTableExpansion", Offset: sf.ExpansionOffset, Type: pw.Pointer(ptrSize, nil)},
		{Name: "PoolTrackTableExpansionSize", Offset: sf.ExpansionSizeOffset, Type: pw.UQuad},
	}})
	for i := range structs {
		if structs[i].Name != "_EPROCESS" {
			continue
		}
		s := &structs[i]
		s.Members = append(s.Members, pw.Member{Name: "Session", Offset: sf.EprocessSession,
			Type: pw.Pointer(ptrSize, ref("_MM_SESSION_SPACE"))})
		sort.SliceStable(s.Members, func(a, c int) bool { return s.Members[a].Offset < s.Members[c].Offset })
	}
	return structs
}

// putLE writes v little-endian in size bytes.
func putLE(b []byte, size int, v uint64) {
	for i := range size {
		b[i] = byte(v >> (8 * i))
	}
}

func alignUp64(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }
