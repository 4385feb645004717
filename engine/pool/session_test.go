package pool

import (
	"strings"
	"testing"
)

// The session tracker table lives in session space, mapped only in the session's processes:
// it is read through the process's address space (session.go).
func TestReadSessionTracker(t *testing.T) {
	f := trackerFacts[1] // x64 19041
	s := newSpaceX64()
	s.mapPage(kBase)
	// A process space: its own PML4 whose kernel half points at the kernel's tables.
	proc := *s
	proc.root = s.alloc()
	for i := uint64(256); i < 512; i++ {
		proc.setEntry(proc.root, i, s.entry(s.root, i))
	}
	proc.next = s.next
	const sess, table, exp = 0xFFFFBE0000000000, 0xFFFFBE0000002000, 0xFFFFBE0000003000
	for va := uint64(sess); va <= exp; va += 0x1000 {
		proc.mapPage(va)
	}
	s.next = proc.next
	proc.write(table+5*0x38, f.entry("Gh05", Usage{}, Usage{12040, 9020, 3092480}))
	proc.write(table+33*0x38, f.entry("Uscu", Usage{}, Usage{2000, 2000, 0}))
	proc.write(exp, f.entry("Uscu", Usage{}, Usage{211, 190, 3360}))
	proc.put32(sess+8, 1)        // SessionId
	proc.put64(sess+0x1EF0, exp) // PoolTrackTableExpansion
	proc.put64(sess+0x1EF8, 1)   // PoolTrackTableExpansionSize
	s.put64(kBase+0x20, table)
	s.put64(kBase+0x28, 64)
	syms := map[string]uint64{"ExpSessionPoolTrackTable": kBase + 0x20, "ExpSessionPoolTrackTableSize": kBase + 0x28}
	fields := map[string]uint64{"SessionId": 8, "PoolTrackTableExpansion": 0x1EF0, "PoolTrackTableExpansionSize": 0x1EF8}
	k := s.kernel(19041, syms, nil)
	k.Field = func(st, name string) (uint64, bool) {
		o, ok := fields[name]
		return o, ok && st == "_MM_SESSION_SPACE"
	}
	q := SessionQuery{Mem: proc.translator(), Process: 0xFFFFA60000001000, ProcessName: "notepad.exe", Session: sess, SessionKnown: true}
	st, err := ReadSessionTracker(k, q)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Usage{}
	for _, e := range st.Entries {
		got[e.Tag.String()] = e.Paged
	}
	if got["Gh05"] != (Usage{12040, 9020, 3092480}) || got["Uscu"] != (Usage{2211, 2190, 3360}) || len(got) != 2 {
		t.Errorf("entries %+v (Uscu: table and expansion summed)", got)
	}
	if st.Expansion != exp || st.Table != table || st.Size != 64 {
		t.Errorf("session %+v", st)
	}

	// Without the PDB's _MM_SESSION_SPACE: the table alone, and a note.
	k.Field = nil
	st, err = ReadSessionTracker(k, q)
	if err != nil || st.Expansion != 0 || !strings.Contains(strings.Join(st.Notes, "\n"), "expansion table") {
		t.Errorf("no types: %v %+v", err, st)
	}
	// Through the kernel's own tables session space is not mapped.
	q2 := q
	q2.Mem = s.translator()
	if _, err := ReadSessionTracker(k, q2); err == nil || !strings.Contains(err.Error(), "cannot be read in the address space of process 0xffffa60000001000 (notepad.exe)") {
		t.Errorf("kernel space: %v", err)
	}
	// A process in no session (System).
	q2 = q
	q2.Session, q2.ProcessName = 0, "System"
	if _, err := ReadSessionTracker(k, q2); err == nil || !strings.Contains(err.Error(), "belongs to no session") {
		t.Errorf("System: %v", err)
	}
	// An absurd size is capped: no hang.
	s.put64(kBase+0x28, 1<<40)
	if st, _ := ReadSessionTracker(k, q); !strings.Contains(strings.Join(st.Notes, "\n"), "absurd") {
		t.Errorf("absurd size: notes %q", st.Notes)
	}
	// Without the symbols: both names said.
	delete(syms, "ExpSessionPoolTrackTable")
	delete(syms, "ExpSessionPoolTrackTableSize")
	if _, err := ReadSessionTracker(k, q); err == nil || !strings.Contains(err.Error(), "nt!ExpSessionPoolTrackTable and nt!ExpSessionPoolTrackTableSize") {
		t.Errorf("no symbols: %v", err)
	}
}
