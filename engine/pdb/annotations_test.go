package pdb

import (
	"encoding/hex"
	"testing"
)

// Annotation programs as llvm-pdbutil dump -symbols prints them for stackTestRun1 in
// testdata/oracles/stacktest.inlines.txt, with the pieces its decoding gives (code offsets are
// pdbutil's "code"/"code end", lines its "line" added to the first line passed in).
func TestDecodeAnnotations(t *testing.T) {
	for _, c := range []struct {
		prog  string
		first int32
		want  []inlineRow
	}{
		// stackTestRun2: code 0x55; line 3; code 0x56 code end 0x7A.
		{"0355" + "0606" + "0C2401" + "00", 144, []inlineRow{{0x55, 0x56, 144, 7}, {0x56, 0x7A, 147, 7}}},
		// _Adjust_manually_vector_aligned: code 0x99; code 0x9D line 3; line 17; code 0xA4 code end 0xB4.
		{"038099" + "0B64" + "061C" + "0C1007" + "0000", 100, []inlineRow{{0x99, 0x9D, 100, 7}, {0x9D, 0xA4, 103, 7}, {0xA4, 0xB4, 117, 7}}},
		// {dtor}: code 0x7A code end 0xB4; code 0xB5 code end 0xBA.
		{"0C3A7A" + "0C053B" + "0000", 100, []inlineRow{{0x7A, 0xB4, 100, 7}, {0xB5, 0xBA, 100, 7}}},
		// LLVM's own form (llvm-readobj test of a clang site): code 0xE line 1; code end 0x17;
		// code 0x26 line 2; code end 0x2D.
		{"0B2E" + "0409" + "0B2F" + "0407", 100, []inlineRow{{0xE, 0x17, 101, 7}, {0x26, 0x2D, 102, 7}}},
		// A negative line delta ("line -3", operand 7) and a file change.
		{"0607" + "0510" + "0C0402", 100, []inlineRow{{2, 6, 97, 0x10}}},
		// A piece that is never closed is dropped.
		{"0310", 100, nil},
	} {
		b, _ := hex.DecodeString(c.prog)
		got, err := decodeAnnotations(b, c.first, 7)
		if err != nil {
			t.Errorf("%s: %v", c.prog, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%s = %+v, want %+v", c.prog, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s piece %d = %+v, want %+v", c.prog, i, got[i], c.want[i])
			}
		}
	}
	for _, bad := range []string{"0C", "03E0", "0380", "0E01", "03C00000"} {
		b, _ := hex.DecodeString(bad)
		if _, err := decodeAnnotations(b, 1, 0); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// FuzzInlineAnnotations runs arbitrary annotation programs: no panic, and never more pieces than
// the program has bytes.
func FuzzInlineAnnotations(f *testing.F) {
	for _, s := range []string{"035506060C240100", "0380990B64061C0C10070000", "0B2E04090B2F0407", "0C2C808800", "060705100C0402"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, _ := decodeAnnotations(b, 10, 0)
		if len(rows) > len(b) {
			t.Fatalf("%d pieces from %d bytes", len(rows), len(b))
		}
	})
}
