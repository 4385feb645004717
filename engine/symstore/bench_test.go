package symstore

import (
	"bytes"
	"context"
	"io"
	"os"
	"testing"

	"wdbg/internal/corpus"
)

// BenchmarkDecompressBasic32 expands the 1.2 MB MSZIP cabinet basic32.pd_ to its 6.6 MB PDB.
func BenchmarkDecompressBasic32(b *testing.B) {
	data, err := os.ReadFile(corpus.Path(b, "mozilla-dump_syms/basic32.pd_"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(basic32PDBSize)
	for b.Loop() {
		if _, err := Decompress(bytes.NewReader(data), int64(len(data)), "basic32.pdb", io.Discard, 1<<30); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindAllCold downloads the four files of test-pdb-repository (3 MB) from a loopback
// server into an empty cache, four at a time.
func BenchmarkFindAllCold(b *testing.B) {
	srv := newStoreServer(b, corpus.Path(b, "test-pdb-repository"))
	var keys []Key
	for _, f := range repoFixtures(b) {
		keys = append(keys, f.key)
	}
	b.SetBytes(674816 + 211264 + 827704 + 1282048)
	for b.Loop() {
		c := NewClient(ParsePath("srv*"+b.TempDir()+"*"+srv.URL), Options{})
		for _, r := range c.FindAll(context.Background(), keys, 4) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}

// BenchmarkFindWarm is a lookup answered by the cache (a new session, so no memo).
func BenchmarkFindWarm(b *testing.B) {
	repo := corpus.Path(b, "test-pdb-repository")
	key := repoFixtures(b)[1].key // amdppm.sys, stored in another case
	p := ParsePath("srv*" + repo + "*https://127.0.0.1:1/never")
	for b.Loop() {
		if _, err := NewClient(p, Options{}).Find(context.Background(), key); err != nil {
			b.Fatal(err)
		}
	}
}
