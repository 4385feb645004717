package ksynth

import (
	"encoding/binary"
	"testing"

	"wdbg/engine/vmem"
)

// The session tracker table, read back through each process's own page tables (its
// DirectoryTableBase): it is there for session 1's processes only, with LeakScenario's
// session rows in the §6.3 layout typed again in trackerLayoutForTest.
func TestPoolSessionTable(t *testing.T) {
	spec := LeakScenario(X64Win10_19041)
	d, f, kernelTr := open(t, Spec{Machine: X64Win10_19041, Storage: Bitmap, Pool: spec})
	m := d.Manifest()
	sf := m.Pool.Session
	if sf == nil {
		t.Fatal("no session facts")
	}
	kr := vaReader{t, kernelTr, true}
	table := kr.ptr(m.Pool.Symbols["ExpSessionPoolTrackTable"])
	size := kr.ptr(m.Pool.Symbols["ExpSessionPoolTrackTableSize"])
	if _, err := kernelTr.ReadAt(make([]byte, 8), table); err == nil {
		t.Errorf("session space %#x is readable through the kernel's own tables", table)
	}
	esize, fields := trackerLayoutForTest(true, m.Build)
	inSession := map[string]bool{"csrss.exe": true, "notepad.exe": true}
	checked := 0
	for _, p := range m.Processes {
		tr := vmem.NewX64(f, p.DirectoryTableBase, false)
		r := vaReader{t, tr, true}
		session := r.ptr(p.Address + 0x558) // EPROCESS.Session, FORMATS.md §5 x64 19041
		_, err := tr.ReadAt(make([]byte, 8), table)
		if !inSession[p.ImageFileName] {
			if err == nil || session != 0 {
				t.Errorf("%s: session table readable (%v) or Session %#x", p.ImageFileName, err == nil, session)
			}
			continue
		}
		if err != nil || session == 0 {
			t.Fatalf("%s: session table not readable (%v) or no Session", p.ImageFileName, err)
		}
		checked++
		rows := map[string][6]uint64{}
		read := func(at uint64) {
			e := r.bytes(at, int(esize))
			if binary.LittleEndian.Uint32(e) == 0 {
				return
			}
			var v [6]uint64
			for k, fl := range fields {
				v[k] = binary.LittleEndian.Uint64(e[fl[0]:])
			}
			rows[string(e[:4])] = v
		}
		for i := uint64(0); i < size; i++ {
			read(table + i*esize)
		}
		// _MM_SESSION_SPACE: SessionId, PoolTrackTableExpansion, PoolTrackTableExpansionSize
		// at the offsets the PDB types carry (pool_session.go).
		if id := r.u(session+mmSessionID, 4); id != 1 {
			t.Errorf("%s: SessionId %d", p.ImageFileName, id)
		}
		exp, n := r.ptr(session+mmSessionExpansion), r.ptr(session+mmSessionExpansionSize)
		for i := uint64(0); i < n; i++ {
			read(exp + i*esize)
		}
		if len(rows) != len(spec.SessionTrackers) {
			t.Errorf("%s: %d session rows, want %d", p.ImageFileName, len(rows), len(spec.SessionTrackers))
		}
		for _, w := range spec.SessionTrackers {
			want := [6]uint64{w.NonPagedAllocs, w.NonPagedFrees, w.NonPagedBytes, w.PagedAllocs, w.PagedFrees, w.PagedBytes}
			if rows[w.Tag] != want {
				t.Errorf("%s: session row %q = %v, want %v", p.ImageFileName, w.Tag, rows[w.Tag], want)
			}
		}
	}
	if checked != len(inSession) {
		t.Errorf("%d processes of session 1 checked, want %d", checked, len(inSession))
	}
	// Other machines keep their pool as it was: no session table, no per-processor tables.
	for _, mc := range []Machine{X64Win7_7601, X86PAEWin7_7601} {
		d, err := Build(Spec{Machine: mc, Pool: LeakScenario(mc)})
		if err != nil {
			t.Fatal(err)
		}
		if pf := d.Manifest().Pool; pf.Session != nil || pf.TagTables != 0 {
			t.Errorf("%s: session %v, ExPoolTagTables %#x", mc, pf.Session, pf.TagTables)
		}
	}
}
