package ksynth

import "fmt"

// Per-processor pool tracker tables (Windows 10 x64).
//
// Public fact: kernel-leak tools built on public dump parsers read per-tag pool usage from
// nt!ExPoolTagTables, "summed over the global and per-processor tables". The shape the writer
// uses is our reading of it (engine/pool/pertable.go reads the same): nt!ExPoolTagTables is an
// array of pointers indexed by processor number, each non-null pointer a table of
// nt!PoolTrackTableSize entries with the global table's layout (FORMATS.md §6.3). The writer
// splits every main row's counters between the global table and one table per processor, so
// that the totals of the manifest are only reached by summing; one tag (soleProcessorTag) lives
// in the last processor's table only.

// tagTableSlots is the length of the nt!ExPoolTagTables array the writer reserves; slots past
// the processor count stay null.
const tagTableSlots = 32

// soleProcessorTag is the scenario tag whose counts are all in the last processor's table.
const soleProcessorTag = "Sema"

// hasPerProcessorTables says which machines get them: Windows 10 x64 (not ARM64, whose pool
// the writer leaves as it is, nor Windows 7 and the x86 machines).
func (b *builder) hasPerProcessorTables() bool {
	return b.p.is64 && !b.p.arm64 && b.p.build >= 10240
}

// splitPerProcessor returns the global table's share of the main rows and keeps each
// processor's share in w.perCPU: each counter v gives every processor v/(n+1) and the global
// table the rest. Rows whose global share is all zero are left out of the global table.
func (w *poolWriter) splitPerProcessor(main []PoolTracker) []PoolTracker {
	if !w.b.hasPerProcessorTables() {
		return main
	}
	n := w.b.spec.Processors
	w.perCPU = make([][]PoolTracker, n)
	var global []PoolTracker
	for _, t := range main {
		g := t
		if t.Tag == soleProcessorTag {
			w.perCPU[n-1] = append(w.perCPU[n-1], t)
			continue
		}
		share := PoolTracker{Tag: t.Tag}
		counters := []struct{ total, share, global *uint64 }{
			{&t.NonPagedAllocs, &share.NonPagedAllocs, &g.NonPagedAllocs},
			{&t.NonPagedFrees, &share.NonPagedFrees, &g.NonPagedFrees},
			{&t.NonPagedBytes, &share.NonPagedBytes, &g.NonPagedBytes},
			{&t.PagedAllocs, &share.PagedAllocs, &g.PagedAllocs},
			{&t.PagedFrees, &share.PagedFrees, &g.PagedFrees},
			{&t.PagedBytes, &share.PagedBytes, &g.PagedBytes},
		}
		for _, c := range counters {
			*c.share = *c.total / uint64(n+1)
			*c.global = *c.total - uint64(n)*(*c.share)
		}
		if share != (PoolTracker{Tag: t.Tag}) {
			for i := range w.perCPU {
				w.perCPU[i] = append(w.perCPU[i], share)
			}
		}
		if g != (PoolTracker{Tag: t.Tag}) {
			global = append(global, g)
		}
	}
	return global
}

// perProcessor writes each processor's table (the global table's size, rows at their hash
// buckets) and nt!ExPoolTagTables pointing at them; the facts carry PerProcessor and
// Processor.
func (w *poolWriter) perProcessor() error {
	if w.perCPU == nil {
		return nil
	}
	b := w.b
	slots := w.global("ExPoolTagTables", tagTableSlots*w.l.ptr)
	if len(w.perCPU) > tagTableSlots {
		return fmt.Errorf("ksynth: %d processors, nt!ExPoolTagTables has %d slots", len(w.perCPU), tagTableSlots)
	}
	w.f.TagTables = slots
	for cpu, rows := range w.perCPU {
		table, facts, err := w.hashedTable(rows, w.f.TrackTableSize)
		if err != nil {
			return err
		}
		for i := range facts {
			facts[i].PerProcessor, facts[i].Processor = true, cpu
		}
		w.f.Trackers = append(w.f.Trackers, facts...)
		w.f.ProcessorTables = append(w.f.ProcessorTables, table)
		b.ptr(slots+uint64(cpu)*w.l.ptr, table)
	}
	return nil
}
