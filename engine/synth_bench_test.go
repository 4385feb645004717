package engine_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"wdbg/engine"
	"wdbg/engine/synth"
)

// synthLargeDump describes a 1 GB full-memory x64 dump: 256 ranges of 4 MB (zeros, so that a
// sparse file keeps them as holes) except a marker page at the start of each, 40 threads whose
// stacks lie inside the ranges, and 60 modules.
func synthLargeDump() *synth.Minidump {
	b := synth.NewMinidump(synth.ArchAMD64)
	b.TimeDateStamp = 0x65000000
	b.SystemInfo(synth.Windows10(synth.ArchAMD64))
	const rangeSize = 4 << 20
	var ranges []synth.Range
	for i := uint64(0); i < 256; i++ {
		addr := 0x10000000 + i*0x1000000
		marker := []byte(fmt.Sprintf("range %03d", i))
		ranges = append(ranges, synth.Range{Addr: addr, Size: 0x1000, Fill: func(off uint64, p []byte) { copy(p, marker) }},
			synth.Range{Addr: addr + 0x1000, Size: rangeSize - 0x1000})
	}
	b.FullMemory(ranges...)
	for i := uint64(0); i < 40; i++ {
		sp := 0x10000000 + i*0x1000000 + 0x200000
		b.Thread(uint32(0x100+i), 0x7FF000000000+i*0x2000, sp, make([]byte, 0x8000), synth.ContextAMD64{Rip: 0x7FF700001000 + i, Rsp: sp})
	}
	for i := uint64(0); i < 60; i++ {
		b.Module(0x7FF800000000+i*0x1000000, 0x100000, fmt.Sprintf(`C:\Windows\System32\module%02d.dll`, i), 0x5F000000, 0,
			synth.CodeView{GUID: synthGUID, Age: 1, PDB: fmt.Sprintf("module%02d.pdb", i)})
	}
	return b
}

// BenchmarkOpen1GB opens a 1 GB synthetic full-memory dump, lists its modules and threads and
// reads a few places. Allocated bytes per operation show that the file is memory-mapped, not read.
func BenchmarkOpen1GB(b *testing.B) {
	if testing.Short() {
		b.Skip("writes a 1 GB (sparse) file")
	}
	path := filepath.Join(b.TempDir(), "1gb.dmp")
	if err := synthLargeDump().WriteFile(path, true); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	buf := make([]byte, 16)
	for b.Loop() {
		tg, err := engine.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if len(tg.Modules) != 60 || len(tg.Threads) != 40 {
			b.Fatalf("%d modules, %d threads", len(tg.Modules), len(tg.Threads))
		}
		names := 0
		for _, m := range tg.Modules {
			names += len(m.Name)
		}
		for _, th := range tg.Threads {
			if err := engine.ReadFull(tg.Memory, buf, th.StackStart); err != nil {
				b.Fatal(err)
			}
		}
		for _, addr := range []uint64{0x10000000, 0x10000000 + 128*0x1000000, 0x10000000 + 255*0x1000000 + 0x3FFFF0} {
			if err := engine.ReadFull(tg.Memory, buf, addr); err != nil {
				b.Fatal(err)
			}
		}
		if names == 0 {
			b.Fatal("modules without names")
		}
		tg.Close()
	}
	b.ReportMetric(float64(st.Size())/(1<<30), "GiB-file") // after the loop: ResetTimer drops metrics
}

// TestSynthLargeDumpReads is the benchmark's dump as a test: the markers are where they should be.
func TestSynthLargeDumpReads(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 1 GB (sparse) file")
	}
	path := filepath.Join(t.TempDir(), "1gb.dmp")
	if err := synthLargeDump().WriteFile(path, true); err != nil {
		t.Fatal(err)
	}
	tg, err := engine.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if tg.Kind != engine.KindUserFull || len(tg.Notes) != 0 {
		t.Errorf("Kind %v notes %q", tg.Kind, tg.Notes)
	}
	for _, i := range []uint64{0, 1, 127, 255} {
		buf := make([]byte, 9)
		if err := engine.ReadFull(tg.Memory, buf, 0x10000000+i*0x1000000); err != nil || string(buf) != fmt.Sprintf("range %03d", i) {
			t.Errorf("range %d marker %q, %v", i, buf, err)
		}
	}
	last := make([]byte, 16)
	if err := engine.ReadFull(tg.Memory, last, 0x10000000+255*0x1000000+(4<<20)-16); err != nil {
		t.Errorf("last bytes of the last range: %v", err)
	}
	var re *engine.ReadError
	if _, err := tg.Memory.ReadAt(last, 0x10000000+(4<<20)); !errors.As(err, &re) || re.Addr != 0x10000000+(4<<20) {
		t.Errorf("read in the gap between ranges: %v", err)
	}
}
