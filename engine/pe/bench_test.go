package pe

import (
	"testing"

	"wdbg/internal/corpus"
)

const benchImage = "rizin-testbins/pdb/user32.dll" // 1 MB, 846 exports, 3229 runtime functions

// BenchmarkOpen: headers and section table only, the cost of meeting a module.
func BenchmarkOpen(b *testing.B) {
	path := corpus.Path(b, benchImage)
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkOpenAll: open and decode every table once (exports, debug directory, CodeView,
// exception table, version resource), what `lm v` plus a first stack walk need.
func BenchmarkOpenAll(b *testing.B) {
	path := corpus.Path(b, benchImage)
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Exports(); err != nil {
			b.Fatal(err)
		}
		f.CodeView()
		if _, err := f.ExceptionTable(); err != nil {
			b.Fatal(err)
		}
		if _, err := f.VersionInfo(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkLookupFunction: the unwinder's per-frame question, by binary search.
func BenchmarkLookupFunction(b *testing.B) {
	f, err := Open(corpus.Path(b, benchImage))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	tab, err := f.ExceptionTable()
	if err != nil || tab == nil {
		b.Fatal(err)
	}
	rvas := make([]uint32, 0, tab.Len())
	for _, r := range tab.X64 {
		rvas = append(rvas, (r.BeginAddress+r.EndAddress)/2)
	}
	i := 0
	for b.Loop() {
		if _, ok, _ := f.LookupFunction(rvas[i%len(rvas)]); !ok {
			b.Fatal("not found")
		}
		i += 7
	}
}

// BenchmarkExportLookup: naming an address by the nearest export.
func BenchmarkExportLookup(b *testing.B) {
	f, err := Open(corpus.Path(b, benchImage))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	d, err := f.Exports()
	if err != nil || d == nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		d.Lookup(d.Exports[i%len(d.Exports)].RVA + 3)
		i += 7
	}
}
