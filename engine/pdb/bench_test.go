package pdb

import (
	"testing"

	"wdbg/internal/corpus"
)

// The largest PDB of the corpus (CATALOG.md): 6.5 MB, 245 streams, 3072 procedures.
const benchPDB = "mozilla-dump_syms/basic32.pdb"

// BenchmarkOpen measures Open alone: the superblock and the stream directory.
func BenchmarkOpen(b *testing.B) {
	path := corpus.Path(b, benchPDB)
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkOpenFirstPublicAt measures what symbolizing the first address of a module costs:
// Open, then the DBI stream, section headers and the publics' address map.
func BenchmarkOpenFirstPublicAt(b *testing.B) {
	path := corpus.Path(b, benchPDB)
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, ok := f.PublicAt(0x6e10); !ok {
			b.Fatal("no public")
		}
		f.Close()
	}
}

// BenchmarkOpenFirstFunctionAt is the same for the first procedure and line lookup: only the
// contributing module's symbol stream is read.
func BenchmarkOpenFirstFunctionAt(b *testing.B) {
	path := corpus.Path(b, benchPDB)
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, ok := f.FunctionAt(0x6e10); !ok {
			b.Fatal("no function")
		}
		if _, _, ok := f.LineAt(0x6e10); !ok {
			b.Fatal("no line")
		}
		f.Close()
	}
}

// lookupRVAs spreads lookups over the code of the image.
func lookupRVAs(b *testing.B, f *File) []uint32 {
	fns, err := f.Functions()
	if err != nil {
		b.Fatal(err)
	}
	var rvas []uint32
	for _, fn := range fns {
		rvas = append(rvas, fn.RVA+fn.Size/2)
	}
	return rvas
}

// BenchmarkLookups measures warm lookups (tables built): PublicAt, FunctionAt and LineAt of one
// address per iteration, cycling over the middle of every procedure.
func BenchmarkLookups(b *testing.B) {
	f, err := Open(corpus.Path(b, benchPDB))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rvas := lookupRVAs(b, f)
	i := 0
	for b.Loop() {
		rva := rvas[i%len(rvas)]
		i++
		f.PublicAt(rva)
		f.FunctionAt(rva)
		f.LineAt(rva)
	}
}

func BenchmarkPublicAt(b *testing.B) {
	f, err := Open(corpus.Path(b, benchPDB))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rvas := lookupRVAs(b, f)
	i := 0
	for b.Loop() {
		if _, _, ok := f.PublicAt(rvas[i%len(rvas)]); !ok {
			b.Fatal("no public")
		}
		i++
	}
}
