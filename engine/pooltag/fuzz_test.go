package pooltag

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	f.Add(builtinText[:2000])
	f.Add("rem x\r\nAfd? - afd.sys - AFD\nAfdB - afd.sys -     sub\n       <unknown>\nG    - <unknown> - g\n")
	f.Add("CMAl - nt!cm        -internal\nsmHT - nt!store or rdyboost.sys - x\nBu*  - <unknown> - y\n")
	f.Add("\ufeff\n-\n - - -\nab-c - - -\n\xff\xfe - x - y")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := Parse(strings.NewReader(in), "f")
		if err != nil {
			t.Fatalf("strings.Reader failed: %v", err)
		}
		lines := strings.Count(in, "\n") + 1
		for _, e := range p.Entries {
			if strings.Contains(e.Tag, "*") {
				if len(e.Tag) == 0 || len(e.Tag) > TagLen {
					t.Errorf("pattern %q has a bad length", e.Tag)
				}
			} else if len(e.Tag) != TagLen {
				t.Errorf("tag %q is not %d bytes", e.Tag, TagLen)
			}
			if !utf8.ValidString(e.Description) || !utf8.ValidString(e.Binary) {
				t.Errorf("invalid UTF-8 in %+v", e)
			}
			if e.Binary != strings.TrimSpace(e.Binary) || e.Description != strings.TrimSpace(e.Description) {
				t.Errorf("untrimmed fields in %+v", e)
			}
			if !strings.HasPrefix(e.Source, "f:") {
				t.Errorf("source %q", e.Source)
			}
		}
		for _, pe := range p.Errors {
			if pe.Line < 1 || pe.Line > lines {
				t.Errorf("error on line %d of %d: %v", pe.Line, lines, pe)
			}
		}
		db := NewDatabase(p.Entries)
		for _, e := range p.Entries {
			if IsPattern(e.Tag) {
				continue
			}
			got, ok := db.Describe(e.Tag)
			if !ok || got.Tag != e.Tag {
				t.Errorf("Describe(%q) = %+v, %v", e.Tag, got, ok)
			}
			_ = db.PoolusedText(e.Tag)
			_ = db.PoolText(e.Tag)
		}
	})
}
