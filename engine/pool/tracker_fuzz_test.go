package pool

import (
	"encoding/binary"
	"testing"
)

// flatMem is memory that holds b at base and nothing else.
type flatMem struct {
	base uint64
	b    []byte
}

func (m flatMem) ReadAt(p []byte, addr uint64) (int, error) {
	if addr < m.base || addr-m.base >= uint64(len(m.b)) {
		return 0, errAbsent
	}
	return copy(p, m.b[addr-m.base:]), nil
}

type absentError struct{}

func (absentError) Error() string { return "not in the dump" }

var errAbsent error = absentError{}

// FuzzReadTrackerSources feeds arbitrary kernel memory to the global, per-processor and session
// readers: the variables (table pointers, sizes, ExPoolTagTables slots, the session's
// _MM_SESSION_SPACE) all come from the input. None may panic or hang.
func FuzzReadTrackerSources(f *testing.F) {
	const base = 0xFFFFF80000000000
	seed := make([]byte, 0x2000)
	le := binary.LittleEndian
	le.PutUint64(seed[0:], base+0x100)     // PoolTrackTable
	le.PutUint64(seed[8:], 16)             // PoolTrackTableSize
	le.PutUint64(seed[0x10:], base+0x800)  // ExPoolTagTables[0]
	le.PutUint64(seed[0x18:], base+0x100)  // [1]: the global table again
	le.PutUint64(seed[0x30:], base+0x1000) // ExpSessionPoolTrackTable
	le.PutUint64(seed[0x38:], 8)           // ExpSessionPoolTrackTableSize
	copy(seed[0x100:], trackerFacts[1].entry("Leak", Usage{}, Usage{4, 1, 64}))
	copy(seed[0x800:], trackerFacts[1].entry("Leak", Usage{}, Usage{5, 0, 80}))
	copy(seed[0x1000:], trackerFacts[1].entry("Gh05", Usage{}, Usage{3, 1, 32}))
	f.Add(seed, uint8(2), true)
	f.Add(seed[:0x40], uint8(200), false)
	f.Fuzz(func(t *testing.T, b []byte, cpus uint8, x64 bool) {
		ptr, build := 8, uint32(19041)
		if !x64 {
			ptr = 4
		}
		syms := map[string]uint64{"PoolTrackTable": base, "PoolTrackTableSize": base + 8, "ExPoolTagTables": base + 0x10,
			"ExpSessionPoolTrackTable": base + 0x30, "ExpSessionPoolTrackTableSize": base + 0x38}
		mem := flatMem{base: base, b: b}
		k := &Kernel{Mem: mem, PointerSize: ptr, Build: build, Processors: int(cpus % 8),
			Symbol: func(n string) (uint64, bool) { a, ok := syms[n]; return a, ok },
			Field: func(_, n string) (uint64, bool) {
				return map[string]uint64{"SessionId": 8, "PoolTrackTableExpansion": 0x40, "PoolTrackTableExpansionSize": 0x48}[n], true
			}}
		if tr, err := ReadTracker(k); err == nil && len(tr.PerProcessor) > k.Processors {
			t.Fatalf("%d per-processor tables from %d processors", len(tr.PerProcessor), k.Processors)
		}
		_, _ = ReadSessionTracker(k, SessionQuery{Mem: mem, Process: base, Session: base + 0x400, SessionKnown: true})
	})
}
