package pool

import (
	"strings"
	"testing"
)

// The per-processor tables (our reading of "summed over the global and per-processor tables",
// pertable.go): nt!ExPoolTagTables[i] points at processor i's table, of PoolTrackTableSize
// entries in the global table's §6.3 layout.
func TestReadTrackerPerProcessor(t *testing.T) {
	f := trackerFacts[1] // x64 19041
	s := newSpaceX64()
	s.mapPage(kBase)
	const global, cpu0, cpu1, lost = 0xFFFFA00000000000, 0xFFFFA00000010000, 0xFFFFA00000020000, 0xFFFFA00000030000
	const arr = kBase + 0x100
	for _, va := range []uint64{global, cpu0, cpu1} {
		s.mapPage(va)
		s.mapPage(va + 0x1000) // 64 entries × 0x38 = 0xE00: one page, the second is spare
	}
	s.mapTo(lost, 0x7777000) // a table on a page the dump lacks
	s.write(global+3*0x38, f.entry("Leak", Usage{}, Usage{18748, 0, 38544518}))
	s.write(cpu0+3*0x38, f.entry("Leak", Usage{}, Usage{18747, 0, 38544517}))
	s.write(cpu1+9*0x38, f.entry("Leak", Usage{}, Usage{18747, 0, 38544517})) // another slot: probing
	s.write(cpu1+20*0x38, f.entry("Sema", Usage{1830, 1700, 9360}, Usage{}))  // in no other table
	s.write(global+40*0x38, f.entry("Proc", Usage{10, 4, 6000}, Usage{}))
	s.put64(kBase, global)
	s.put64(kBase+8, 64)
	// Slots: cpu0, null, the global table again, cpu1, a user address, cpu0 again, the lost table.
	for i, p := range []uint64{cpu0, 0, global, cpu1, 0x00007FF612340000, cpu0, lost} {
		s.put64(arr+uint64(i)*8, p)
	}
	syms := map[string]uint64{"PoolTrackTable": kBase, "PoolTrackTableSize": kBase + 8, "ExPoolTagTables": arr}
	k := s.kernel(19041, syms, nil)
	k.Processors = 7
	tr, err := ReadTracker(k)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]TrackerEntry{}
	for _, e := range tr.Entries {
		got[e.Tag.String()] = e
	}
	if e := got["Leak"]; e.Paged != (Usage{56242, 0, 115633552}) {
		t.Errorf("Leak = %+v, want the three tables summed (56242, 115633552)", e.Paged)
	}
	if e := got["Sema"]; e.NonPaged != (Usage{1830, 1700, 9360}) {
		t.Errorf("Sema (only in processor 3's table) = %+v", e)
	}
	if e := got["Proc"]; e.NonPaged != (Usage{10, 4, 6000}) {
		t.Errorf("Proc = %+v: the global table must be counted once", e)
	}
	if len(tr.PerProcessor) != 2 || tr.PerProcessor[0] != (ProcessorTable{0, cpu0, 64}) || tr.PerProcessor[1] != (ProcessorTable{3, cpu1, 64}) {
		t.Errorf("per-processor tables = %+v, want processor 0 and 3", tr.PerProcessor)
	}
	notes := strings.Join(tr.Notes, "\n")
	for _, want := range []string{"nt!ExPoolTagTables[4] = 0x7ff612340000 is not a kernel address",
		"nt!ExPoolTagTables[6] (0xffffa00000030000) cannot be read"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}

	// An absurd processor count is bounded; the slots past the mapped page are said.
	k.Processors = 1 << 30
	tr, err = ReadTracker(k)
	if err != nil {
		t.Fatal(err)
	}
	notes = strings.Join(tr.Notes, "\n")
	if !strings.Contains(notes, "absurd") || !strings.Contains(notes, "are not in the dump; their tables were not read") {
		t.Errorf("absurd processor count: notes\n%s", notes)
	}
	// An absurd table size: the global table is capped, the per-processor ones are not read.
	k.Processors = 7
	s.put64(kBase+8, 1<<40)
	tr, _ = ReadTracker(k)
	notes = strings.Join(tr.Notes, "\n")
	if !strings.Contains(notes, "PoolTrackTable size 1099511627776 is absurd") || len(tr.PerProcessor) != 0 ||
		!strings.Contains(notes, "their size, nt!PoolTrackTableSize, is absurd") {
		t.Errorf("absurd size: per-processor %+v, notes\n%s", tr.PerProcessor, notes)
	}
	s.put64(kBase+8, 64)

	// Without the symbol: the global table only, and the note saying why.
	delete(syms, "ExPoolTagTables")
	tr, err = ReadTracker(k)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tr.Entries {
		if e.Tag.String() == "Leak" && e.Paged.Allocs != 18748 {
			t.Errorf("without the symbol Leak = %+v, want the global table's 18748", e.Paged)
		}
	}
	if len(tr.PerProcessor) != 0 || !strings.Contains(strings.Join(tr.Notes, "\n"), "symbols are missing") {
		t.Errorf("without the symbol: %+v, notes %q", tr.PerProcessor, tr.Notes)
	}
	// Windows 7 has no per-processor tables: no note there.
	k.Build = 7601
	k.PointerSize = 8
	if tr, _ := ReadTracker(k); strings.Contains(strings.Join(tr.Notes, "\n"), "per-processor") {
		t.Errorf("7601: notes %q", tr.Notes)
	}
}
