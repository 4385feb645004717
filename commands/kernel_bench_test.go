package commands

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"wdbg/engine"
	"wdbg/engine/ksynth"
	"wdbg/internal/corpus"
)

// Open plus `!analyze -v` on a 4 GiB bitmap kernel dump (a sparse file: every RAM page is in the
// bitmap, the pages nobody wrote are holes) and on the real triage dump. The dump is memory-mapped
// and read lazily, so neither grows with the dump's size.
//
//	go test ./commands -run '^$' -bench KernelOpenAnalyze -benchmem
func BenchmarkKernelOpenAnalyze4GiB(b *testing.B) {
	benchOpenAnalyze(b, synth4GiBPath(b), "")
}

func BenchmarkKernelOpenAnalyzeTriage(b *testing.B) {
	benchOpenAnalyze(b, corpus.Path(b, "rizin-testbins/dmp/triage_x64.dmp"), corpus.Path(b, "test-pdb-repository"))
}

func benchOpenAnalyze(b *testing.B, path, symPath string) {
	b.ReportAllocs()
	for b.Loop() {
		t, err := engine.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		s := NewSessionWith(t, SessionOptions{SymbolPath: symPath})
		res, err := s.Exec(context.Background(), "!analyze -v")
		if err != nil {
			b.Fatal(err)
		}
		res.WriteText(io.Discard)
		t.Close()
	}
}

// Open alone, for the split between opening and analysing.
func BenchmarkKernelOpen4GiB(b *testing.B) {
	path := synth4GiBPath(b)
	b.ReportAllocs()
	for b.Loop() {
		t, err := engine.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		t.Close()
	}
}

// synth4GiBPath writes a 4 GiB sparse bitmap dump (every RAM page in the bitmap).
func synth4GiBPath(b *testing.B) string {
	d, err := ksynth.Build(ksynth.Spec{Machine: ksynth.X64Win10_19041, Storage: ksynth.Bitmap,
		PhysicalBytes: 4 << 30, AllPages: true})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "MEMORY.DMP")
	if err := d.WriteFile(path); err != nil {
		b.Fatal(err)
	}
	return path
}
