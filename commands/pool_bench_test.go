package commands

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"wdbg/engine"
	"wdbg/engine/ksynth"
	"wdbg/engine/mmap"
)

// The pool commands on a dump with 2 GiB of pool (issue 5's bar: !poolfind at no less than
// 1 GB/s of pool, !poolused under 50 ms), on a classic-pool build (Windows 7 x64: the scan
// covers the KDBG pool bounds) and a segment-heap build (19041: every present kernel page
// outside images). BenchmarkPoolFindLimit is the practical limit, a plain bytes.Index over the
// same dump file mapped into memory.
//
//	go test ./commands -run '^$' -bench 'Pool(Find|Used)' -benchtime 3x
func BenchmarkPoolFind2GiB(b *testing.B) {
	for _, m := range []ksynth.Machine{ksynth.X64Win7_7601, ksynth.X64Win10_19041} {
		b.Run(m.String(), func(b *testing.B) {
			s := openPoolBench(b, m)
			var scanned uint64
			for b.Loop() {
				res, err := s.Exec(context.Background(), "!poolfind Leak 1")
				if err != nil {
					b.Fatal(err)
				}
				r := res.(*poolFindResult)
				if len(r.Hits) == 0 || r.Stopped || r.Scanned < 2<<30 {
					b.Fatalf("%d Leak blocks in %d bytes (stopped %v), want some in all 2 GiB", len(r.Hits), r.Scanned, r.Stopped)
				}
				scanned = r.Scanned
			}
			b.SetBytes(int64(scanned))
		})
	}
}

func BenchmarkPoolFindLimit2GiB(b *testing.B) {
	path := poolBenchPath(b, ksynth.X64Win7_7601)
	f, err := mmap.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	data := f.Bytes()
	tag := []byte("Leak")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		n := 0
		for rest := data; ; {
			i := bytes.Index(rest, tag)
			if i < 0 {
				break
			}
			n++
			rest = rest[i+len(tag):]
		}
		if n == 0 {
			b.Fatal("no Leak in the file")
		}
	}
}

func BenchmarkPoolUsed2GiB(b *testing.B) {
	for _, m := range []ksynth.Machine{ksynth.X64Win7_7601, ksynth.X64Win10_19041} {
		b.Run(m.String(), func(b *testing.B) {
			s := openPoolBench(b, m)
			for b.Loop() {
				res, err := s.Exec(context.Background(), "!poolused 4")
				if err != nil {
					b.Fatal(err)
				}
				res.WriteText(io.Discard)
			}
		})
	}
}

// openPoolBench opens the machine's 2 GiB-pool dump with its kernel symbols.
func openPoolBench(b *testing.B, m ksynth.Machine) *Session {
	path := poolBenchPath(b, m)
	t, err := engine.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { t.Close() })
	return NewSessionWith(t, SessionOptions{SymbolPath: filepath.Join(filepath.Dir(path), "sym")})
}

// poolBenchPath writes a bitmap dump of the Leak scenario plus 2 GiB of generated paged pool of
// other tags, so that the scan looks for a few blocks among millions
// (ksynth fills the pages as it writes the file, never holding them) into b's temporary
// directory, which goes when the benchmark ends.
func poolBenchPath(b *testing.B, m ksynth.Machine) string {
	ps := ksynth.LeakScenario(m)
	ps.Fill = ksynth.PoolFill{Bytes: 2 << 30, Paged: true, Tags: []string{"CM31", "MmSt", "Ntff", "File"}}
	d, err := ksynth.Build(ksynth.Spec{Machine: m, Storage: ksynth.Bitmap, PhysicalBytes: 2<<30 + 64<<20, Pool: ps})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "MEMORY.DMP")
	if err := d.WriteFile(path); err != nil {
		b.Fatal(err)
	}
	if _, err := d.WriteSymbols(filepath.Join(dir, "sym")); err != nil {
		b.Fatal(err)
	}
	return path
}
