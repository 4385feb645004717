package pool

import "fmt"

// Per-processor pool tracker tables (Windows 10 and later).
//
// Public fact: kernel-leak tools built on public dump parsers read per-tag pool usage from
// nt!ExPoolTagTables, "summed over the global and per-processor tables". The shape below is
// our reading of that sentence, validated only on ksynth's synthetic dumps: nt!ExPoolTagTables
// is an array of pointers indexed by processor number; each non-null pointer is a table of
// nt!PoolTrackTableSize POOL_TRACKER_TABLE entries with the global table's layout (FORMATS.md
// §6.3). The symbol is in the kernel's PDB publics only (the KDBG has no field for it).

// MaxProcessorTables bounds the processor count the reader trusts: a corrupt count must not
// make it read thousands of tables.
const MaxProcessorTables = 2048

// ProcessorTable is one per-processor table whose counters were added.
type ProcessorTable struct {
	Processor int
	Address   uint64
	Entries   uint64 // entries read (used or not)
}

// readPerProcessor adds the per-processor tables to merged. Pointers that are null, not kernel
// addresses, equal to the global table or to a table already added are skipped; tables that
// cannot be read are noted, never a failure. When the global size is absurd they are not read.
func (t *Tracker) readPerProcessor(k *Kernel, global, size uint64, merged map[Tag]*TrackerEntry) {
	arr, ok := k.symbol("ExPoolTagTables")
	if !ok || arr == 0 {
		if k.ptrSize() == 8 && k.Build >= 10240 {
			t.Notes = append(t.Notes, "per-processor tracker tables (nt!ExPoolTagTables) were not read: the kernel's symbols are missing, so the counts are the global table's")
		}
		return
	}
	if size > MaxTrackerEntries {
		t.Notes = append(t.Notes, "per-processor tracker tables (nt!ExPoolTagTables) were not read: their size, nt!PoolTrackTableSize, is absurd")
		return
	}
	n := k.Processors
	if n <= 0 {
		t.Notes = append(t.Notes, "per-processor tracker tables (nt!ExPoolTagTables) were not read: the processor count is not known")
		return
	}
	if n > MaxProcessorTables {
		t.Notes = append(t.Notes, fmt.Sprintf("processor count %d is absurd: only the first %d per-processor tracker tables were read", n, MaxProcessorTables))
		n = MaxProcessorTables
	}
	ps := uint64(k.ptrSize())
	buf := make([]byte, uint64(n)*ps)
	got, _ := k.Mem.ReadAt(buf, arr)
	got = max(0, min(got, len(buf)))
	if whole := got / int(ps); whole < n {
		t.Notes = append(t.Notes, fmt.Sprintf("nt!ExPoolTagTables (%#x): slots %d to %d are not in the dump; their tables were not read", arr, whole, n-1))
		n = whole
	}
	seen := map[uint64]bool{global: true}
	for i := range n {
		p := readWord(buf[uint64(i)*ps:], ps)
		switch {
		case p == 0 || seen[p]:
			continue // no table of its own, the global table, or one already added
		case !k.kernelAddress(p):
			t.Notes = append(t.Notes, fmt.Sprintf("nt!ExPoolTagTables[%d] = %#x is not a kernel address: skipped", i, p))
			continue
		}
		seen[p] = true
		name := fmt.Sprintf("nt!ExPoolTagTables[%d]", i)
		// A table whose first entry is not in the dump is taken for a bad pointer: walking
		// its pages one by one for each of many such slots would only find holes.
		probe := make([]byte, t.Layout.Size)
		if got, _ := k.Mem.ReadAt(probe, p); got < len(probe) {
			t.Notes = append(t.Notes, fmt.Sprintf("%s (%#x) cannot be read: skipped", name, p))
			continue
		}
		r := t.readTable(k.Mem, name, p, size, merged)
		if r.unread > 0 {
			t.Notes = append(t.Notes, fmt.Sprintf("%d of %d entries of %s are not in the dump (first at %#x)", r.unread, r.count, name, r.firstBad))
		}
		t.PerProcessor = append(t.PerProcessor, ProcessorTable{Processor: i, Address: p, Entries: r.read})
	}
}

// readWord decodes a little-endian pointer of size 4 or 8.
func readWord(b []byte, size uint64) uint64 {
	if size == 4 {
		return field{0, 4}.read(b)
	}
	return field{0, 8}.read(b)
}
