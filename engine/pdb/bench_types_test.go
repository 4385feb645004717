package pdb

import (
	"testing"

	"wdbg/internal/corpus"
)

// BenchmarkOpenFirstType measures what the first type lookup costs: Open, the TPI header and
// the pass over the record lengths that locates every record (basic32.pdb: 9,915 types).
func BenchmarkOpenFirstType(b *testing.B) {
	path := corpus.Path(b, benchPDB)
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Type(FirstTypeIndex + 5000); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkOpenFindType adds the name index of the UDTs that FindType and forward references
// need: one more pass, decoding the UDT records.
func BenchmarkOpenFindType(b *testing.B) {
	path := corpus.Path(b, benchPDB)
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		f.FindType("_GUID")
		f.Close()
	}
}

// BenchmarkTypeName names every type of the PDB once per iteration (warm file).
func BenchmarkTypeName(b *testing.B) {
	f, err := Open(corpus.Path(b, benchPDB))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	n, err := f.NumTypes()
	if err != nil {
		b.Fatal(err)
	}
	f.FindType("")
	b.ResetTimer()
	for b.Loop() {
		for k := range n {
			f.TypeName(TypeIndex(FirstTypeIndex + k))
		}
	}
	b.ReportMetric(float64(n), "types/op")
}

// BenchmarkVariables reads the variables of every procedure of the PDB (warm file).
func BenchmarkVariables(b *testing.B) {
	f, err := Open(corpus.Path(b, benchPDB))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fns, err := f.Functions()
	if err != nil {
		b.Fatal(err)
	}
	vars := 0
	for b.Loop() {
		vars = 0
		for _, fn := range fns {
			vs, _ := f.Variables(fn)
			vars += len(vs)
		}
	}
	b.ReportMetric(float64(len(fns)), "procs/op")
	b.ReportMetric(float64(vars), "vars/op")
}
