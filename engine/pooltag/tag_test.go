package pooltag

import (
	"regexp"
	"strings"
	"testing"
)

func TestParseTag(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "Leak", want: "Leak"},
		// WINDBG-SPEC.md §3.8 / the !poolfind docs: "0x" + the little-endian dword. 0x6b61654c
		// is the bytes 4c 65 61 6b = 'L' 'e' 'a' 'k' in memory order.
		{in: "0x6b61654c", want: "Leak"},
		{in: "0x636f7250", want: "Proc"}, // from the spec's "tag 0x636f7250 (Proc)" capture
		{in: "0x20206d4d", want: "Mm  "},
		{in: "0X6b61654c", err: "longer than"}, // only "0x" makes a number (!poolfind docs)
		{in: "0x1_000", err: "hex"},
		{in: "0x123456789", err: "hex"},
		{in: "Mm", want: "Mm  "},
		{in: "G", want: "G   "},
		{in: "", err: "empty"},
		{in: "Leaky", err: "longer than"},
		{in: "Le?k", err: "wildcards"},
	}
	for _, tc := range tests {
		got, err := ParseTag(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseTag(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseTag(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	pats := map[string]string{"Le?k": "Le?k", "Le?": "Le? ", "Ac*": "Ac*", "*": "*", "0x6b61654c": "Leak"}
	for in, want := range pats {
		if got, err := ParsePattern(in); err != nil || got != want {
			t.Errorf("ParsePattern(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestTagValues(t *testing.T) {
	if got := FromUint32(0x6b61654c); got != "Leak" {
		t.Errorf("FromUint32 = %q", got)
	}
	if v, ok := Uint32("Proc"); !ok || v != 0x636f7250 {
		t.Errorf("Uint32(Proc) = %#x, %v", v, ok)
	}
	// FORMATS.md §6.1: bit 31 marks a protected tag on old kernels.
	if got := FromUint32(Unprotect(0x6b61654c | ProtectedBit)); got != "Leak" {
		t.Errorf("Unprotect = %q", got)
	}
	if got := Printable("a\x00\xffb"); got != "a..b" {
		t.Errorf("Printable = %q", got)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pat, tag string
		want     bool
	}{
		{"Leak", "Leak", true},
		{"Leak", "leak", false}, // case-sensitive (WINDBG-SPEC.md §3.8)
		{"Le?k", "Leak", true},
		{"Le?k", "Lea", false},
		{"CM??", "CM31", true},
		{"CM??", "Cm31", false},
		{"Acp*", "AcpS", true},
		{"Acp*", "Acp", true},
		{"*", "", true},
		{"*k", "Leak", true},
		{"*e*k", "Leak", true},
		{"*x*", "Leak", false},
		{"L**k", "Leak", true},
		{"?", "", false},
		{"", "", true},
		{"", "a", false},
	}
	for _, tc := range tests {
		if got := Match(tc.pat, tc.tag); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pat, tc.tag, got, tc.want)
		}
	}
}

// globRegexp is an independent oracle for Match: the pattern turned into an anchored regexp
// over bytes ('*' → .*, '?' → ., everything else literal).
func globRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

func FuzzMatch(f *testing.F) {
	f.Add("Le?k", "Leak")
	f.Add("*a*", "Leak")
	f.Add("C*??", "CM31")
	f.Fuzz(func(t *testing.T, pat, tag string) {
		// Byte-wise regexps only agree with Match on ASCII (regexp '.' is a rune).
		for _, s := range []string{pat, tag} {
			for i := 0; i < len(s); i++ {
				if s[i] >= 0x80 {
					return
				}
			}
		}
		if len(pat) > 64 || len(tag) > 64 {
			return
		}
		if got, want := Match(pat, tag), globRegexp(pat).MatchString(tag); got != want {
			t.Errorf("Match(%q, %q) = %v, regexp says %v", pat, tag, got, want)
		}
	})
}
