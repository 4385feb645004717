package symstore

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/internal/corpus"
)

// FuzzParsePath checks that any string parses without panicking into elements that keep to the
// grammar, and that file.ptr contents parse too.
func FuzzParsePath(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	f.Add("PATH:\\\\server\\share\\x.pdb\r\nMSG:x")
	f.Fuzz(func(t *testing.T, s string) {
		p := ParsePath(s)
		if p.String() != s {
			t.Fatalf("String() = %q", p.String())
		}
		if max := 2 * (strings.Count(s, ";") + 1); len(p.Elements) > max {
			t.Fatalf("%d elements from %d parts", len(p.Elements), max/2)
		}
		for _, e := range p.Elements {
			if strings.Contains(e.Text, ";") || e.Text != strings.TrimSpace(e.Text) || e.Text == "" {
				t.Fatalf("element text %q", e.Text)
			}
			if e.Kind == ServerElement && e.Note == "" && len(e.Stores) == 0 {
				t.Fatalf("usable server element %q without stores", e.Text)
			}
		}
		ParsePath(p.Expanded())
		Symfix(p, s, true).Append(s).Expanded()
		target, msg := parseFilePtr([]byte(s))
		if target != "" && msg != "" {
			t.Fatalf("file.ptr %q gave both %q and %q", s, target, msg)
		}
	})
}

// FuzzDecompress feeds compressed store files to the cabinet and ZIP readers: errors are fine,
// panics, hangs and writing past the limit are not.
func FuzzDecompress(f *testing.F) {
	text := []byte(strings.Repeat("MSF 7.00 block ", 300))
	f.Add(buildCAB(f, 0, 1024, cabEntry{"a.pdb", text}, cabEntry{"b.dll", text[:100]}))
	f.Add(buildCAB(f, 1, 1024, cabEntry{"a.pdb", text}))
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("a.pdb")
	w.Write(text)
	zw.Close()
	f.Add(zbuf.Bytes())
	if dir := corpus.Find(); dir != "" {
		// The head of a real cabinet: header, folder, file record and the first block header.
		if b, err := os.ReadFile(filepath.Join(dir, "mozilla-dump_syms", "basic32.pd_")); err == nil {
			f.Add(b[:256])
		}
	}
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		var out countWriter
		n, _ := Decompress(bytes.NewReader(b), int64(len(b)), "a.pdb", &out, limit)
		if n != out.n || n > limit {
			t.Fatalf("reported %d bytes, wrote %d (limit %d)", n, out.n, limit)
		}
	})
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
