package pooltag

import (
	"strings"
	"testing"
)

// The expectations below follow the grammar WINDBG-SPEC.md §3.8 gives for pooltag.txt
// (`Tag - binary - Description`, rem comments, padding, wildcards, <unknown>, nt!xx,
// space-padded short tags, indented sub-tags); the sample lines imitate the shapes of the
// public rktools2k3 pooltag.txt.
func TestParseLines(t *testing.T) {
	tests := []struct {
		line string
		want *Entry // nil: skipped silently
		err  string // substring of the error for a malformed line
	}{
		{line: "", want: nil},
		{line: "   \t ", want: nil},
		{line: "rem", want: nil},
		{line: "rem    Pooltag.txt", want: nil},
		{line: "REM upper case comment", want: nil},
		{line: "  rem indented comment", want: nil},
		{line: "Proc - nt!ps - Process objects", want: &Entry{Tag: "Proc", Binary: "nt!ps", Description: "Process objects"}},
		{line: "ARPC - atmarpc.sys  - ATM ARP Client", want: &Entry{Tag: "ARPC", Binary: "atmarpc.sys", Description: "ATM ARP Client"}},
		{line: "Atom - <unknown>    - Atom Tables", want: &Entry{Tag: "Atom", Description: "Atom Tables"}},
		{line: "Atom - <UNKNOWN>    - Atom Tables", want: &Entry{Tag: "Atom", Description: "Atom Tables"}},
		// Wildcards: '?' patterns are 4 wide, '*' patterns are kept as written.
		{line: "Afd? - afd.sys      - AFD objects", want: &Entry{Tag: "Afd?", Binary: "afd.sys", Description: "AFD objects"}},
		{line: "CM?? - nt!cm        - Internal Configuration manager allocations", want: &Entry{Tag: "CM??", Binary: "nt!cm", Description: "Internal Configuration manager allocations"}},
		{line: "Acp* - acpi.sys     - ACPI Pooltags", want: &Entry{Tag: "Acp*", Binary: "acpi.sys", Description: "ACPI Pooltags"}},
		{line: "Bu*  - <unknown>    - burner", want: &Entry{Tag: "Bu*", Description: "burner"}},
		// Indented description: a sub-tag of the family above.
		{line: "AfdB - afd.sys      -     Afd data buffer", want: &Entry{Tag: "AfdB", Binary: "afd.sys", Description: "Afd data buffer", SubTag: true}},
		// Short tags are space padded; a tag may hold a space.
		{line: "Afp  - <unknown>    - SFM File server", want: &Entry{Tag: "Afp ", Description: "SFM File server"}},
		{line: "G    - <unknown>    -     Gdi Generic allocations", want: &Entry{Tag: "G   ", Description: "Gdi Generic allocations", SubTag: true}},
		{line: "Mm - nt!mm - general", want: &Entry{Tag: "Mm  ", Binary: "nt!mm", Description: "general"}},
		{line: "Dh 0 - <unknown>    - DirectDraw/3D default object", want: &Entry{Tag: "Dh 0", Description: "DirectDraw/3D default object"}},
		// Extra padding after the tag, no space after the second dash, tabs as blanks.
		{line: "Mmpv  - nt!mm      - Physical view VAD info", want: &Entry{Tag: "Mmpv", Binary: "nt!mm", Description: "Physical view VAD info"}},
		{line: "CMAl - nt!cm        -internal registry memory allocator pool tag", want: &Entry{Tag: "CMAl", Binary: "nt!cm", Description: "internal registry memory allocator pool tag"}},
		{line: "Tab1\t-\tfoo.sys\t-\tTabbed", want: &Entry{Tag: "Tab1", Binary: "foo.sys", Description: "Tabbed"}},
		// The binary may hold spaces and '!' function names; the description may hold " - ".
		{line: "smHT - nt!store or rdyboost.sys - ReadyBoost allocations", want: &Entry{Tag: "smHT", Binary: "nt!store or rdyboost.sys", Description: "ReadyBoost allocations"}},
		{line: "Usac - win32k!_CreateAcceleratorTable       - ACCEL", want: &Entry{Tag: "Usac", Binary: "win32k!_CreateAcceleratorTable", Description: "ACCEL"}},
		{line: "p2d3 - perm2dll.dll - Permedia2 display driver - d3d.c", want: &Entry{Tag: "p2d3", Binary: "perm2dll.dll", Description: "Permedia2 display driver - d3d.c"}},
		{line: "e1-x - e1g-x.sys - hyphens inside words", want: &Entry{Tag: "e1-x", Binary: "e1g-x.sys", Description: "hyphens inside words"}},
		{line: "Empt - foo.sys -", want: &Entry{Tag: "Empt", Binary: "foo.sys", Description: ""}},
		{line: "Lat1 - foo.sys - caf\xe9", want: &Entry{Tag: "Lat1", Binary: "foo.sys", Description: "café"}},
		// Malformed lines.
		{line: "       <unknown>", err: "no \" - \" separator"},
		{line: "Leak", err: "no \" - \" separator"},
		{line: "TooLong - x.sys - d", err: "longer than 4"},
		{line: "  Leak - x.sys - d", err: "longer than 4"},
		{line: " - x.sys - d", err: "empty tag"},
		{line: "Leak - x.sys", err: "between the binary and the description"},
		{line: "Leak -  - d", err: "empty binary"},
		{line: "L\x01ak - x.sys - d", err: "control character"},
	}
	for _, tc := range tests {
		got, msg := parseLine(tc.line)
		switch {
		case tc.err != "":
			if !strings.Contains(msg, tc.err) || got != nil {
				t.Errorf("parseLine(%q) = %+v, %q; want error containing %q", tc.line, got, msg, tc.err)
			}
		case tc.want == nil:
			if got != nil || msg != "" {
				t.Errorf("parseLine(%q) = %+v, %q; want skipped", tc.line, got, msg)
			}
		default:
			if msg != "" || got == nil || *got != *tc.want {
				t.Errorf("parseLine(%q) = %+v, %q; want %+v", tc.line, got, msg, *tc.want)
			}
		}
	}
}

func TestParseFile(t *testing.T) {
	// BOM, CRLF, a blank line, comments, a malformed line in the middle and no final newline.
	in := "\ufeffrem header\r\n" +
		"\r\n" +
		"Proc - nt!ps - Process objects\r\n" +
		"       <unknown>\r\n" +
		"Thre - nt!ps - Thread objects\r\n" +
		strings.Repeat("x", MaxLineLen+10) + "\n" +
		"Toke - nt!se - Token objects"
	p, err := Parse(strings.NewReader(in), "my.txt")
	if err != nil {
		t.Fatal(err)
	}
	wantSrc := []string{"my.txt:3", "my.txt:5", "my.txt:7"}
	wantTag := []string{"Proc", "Thre", "Toke"}
	if len(p.Entries) != 3 {
		t.Fatalf("entries = %+v, want 3", p.Entries)
	}
	for i, e := range p.Entries {
		if e.Source != wantSrc[i] || e.Tag != wantTag[i] {
			t.Errorf("entry %d = %+v, want tag %q source %q", i, e, wantTag[i], wantSrc[i])
		}
	}
	if len(p.Errors) != 2 || p.Errors[0].Line != 4 || p.Errors[1].Line != 6 {
		t.Fatalf("errors = %v, want lines 4 and 6", p.Errors)
	}
	if s := p.Errors[0].Error(); !strings.HasPrefix(s, "my.txt:4: ") {
		t.Errorf("error text %q, want file:line prefix", s)
	}
	if !strings.Contains(p.Errors[1].Msg, "longer than") {
		t.Errorf("long line error %q", p.Errors[1].Msg)
	}
}

func TestParseErrorCap(t *testing.T) {
	in := strings.Repeat("bad line without separator\n", MaxReportedErrors+7) + "Good - g.sys - kept\n"
	p, err := Parse(strings.NewReader(in), "x")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Errors) != MaxReportedErrors || p.MoreErrors != 7 {
		t.Errorf("errors %d + %d more, want %d + 7", len(p.Errors), p.MoreErrors, MaxReportedErrors)
	}
	if len(p.Entries) != 1 || p.Entries[0].Source != "x:"+itoa(MaxReportedErrors+8) {
		t.Errorf("entries %+v", p.Entries)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
