package kdbg

import (
	"os"
	"path/filepath"
	"testing"

	"wdbg/internal/corpus"
)

func fuzzSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{block(0x340, map[int]uint64{0x18: 0xFFFFF80001000000}), block(0x18, nil), {1, 2, 3}}
	if dir := corpus.Find(); dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, triageX64)); err == nil && len(b) > 0x104a8+0x380 {
			// DebuggerDataOffset/Size of this file (rizin's TRIAGE_DUMP64 dump).
			seeds = append(seeds, b[0x104a8:0x104a8+0x380])
		}
	}
	return seeds
}

// FuzzDecode: any bytes give data or an error, never a panic; a truncated result only
// reports fields inside the bytes given.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, ptr64 bool) {
		ptr := 4
		if ptr64 {
			ptr = 8
		}
		d, err := Decode(b, ptr)
		if d == nil {
			if err == nil {
				t.Fatal("nil data without an error")
			}
			return
		}
		for _, fl := range d.Fields() {
			if fl.Present && fl.Offset+fl.Size > len(b) {
				t.Fatalf("%s present past the input", fl.Name)
			}
			if !fl.Present && fl.Value != 0 {
				t.Fatalf("%s absent but %#x", fl.Name, fl.Value)
			}
			if ptr == 4 && fl.Value>>32 != 0 {
				t.Fatalf("%s = %#x with 32-bit pointers", fl.Name, fl.Value)
			}
		}
	})
}

// FuzzDecodeEncoded: random keys and bytes never panic; what decodes round-trips.
func FuzzDecodeEncoded(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(Encode(s, testWaitNever, testWaitAlways, testEncodedVA), uint64(testWaitNever), uint64(testWaitAlways), uint64(testEncodedVA))
	}
	f.Fuzz(func(t *testing.T, b []byte, never, always, key uint64) {
		d, err := DecodeEncoded(b, never, always, key)
		if err != nil {
			return
		}
		if d.OwnerTag != OwnerTagKDBG {
			t.Fatalf("decoded with tag %#x", d.OwnerTag)
		}
		for i := 0; i+8 <= len(b); i += 8 {
			w := uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
				uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
			if EncodeWord(DecodeWord(w, never, always, key), never, always, key) != w {
				t.Fatalf("word %d does not round-trip", i/8)
			}
		}
	})
}
