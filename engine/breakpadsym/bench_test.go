package breakpadsym

import (
	"os"
	"testing"

	"wdbg/internal/corpus"
)

// The largest corpus files: basic32.sym (1.2 MB, 24,037 line records) and test_app.sym (818 KB).
var benchFiles = []string{
	"mozilla-dump_syms/basic32.sym",
	"breakpad/symbols/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym",
}

// BenchmarkParse measures opening a file (line records located, not read).
func BenchmarkParse(b *testing.B) {
	for _, rel := range benchFiles {
		data, err := os.ReadFile(corpus.Path(b, rel))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(rel, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseBytes(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseAllLines adds reading every function's line records.
func BenchmarkParseAllLines(b *testing.B) {
	for _, rel := range benchFiles {
		data, err := os.ReadFile(corpus.Path(b, rel))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(rel, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				f, err := ParseBytes(data)
				if err != nil {
					b.Fatal(err)
				}
				for i := range f.Funcs {
					f.Lines(&f.Funcs[i])
				}
			}
		})
	}
}

// BenchmarkLookup measures FunctionAt+LineAt+StackWinAt on addresses spread over basic32.sym.
func BenchmarkLookup(b *testing.B) {
	f, err := Open(corpus.Path(b, "mozilla-dump_syms/basic32.sym"))
	if err != nil {
		b.Fatal(err)
	}
	last := f.Funcs[len(f.Funcs)-1]
	end := last.Addr + last.Size
	var rva uint64
	for b.Loop() {
		rva = (rva + 0x9e37) % end
		f.FunctionAt(rva)
		f.LineAt(rva)
		f.StackWinAt(rva)
	}
}
