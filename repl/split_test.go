package repl

import (
	"reflect"
	"testing"
)

// splitTable holds command lines and the commands cdb runs for them. Where a row comes from the
// Microsoft debugger reference (windows-driver-docs, debuggercmds/*.md), the page is named.
var splitTable = []struct {
	line string
	want []string
}{
	{"", nil},
	{"   ", nil},
	{"q", []string{"q"}},
	{"lm;q", []string{"lm", "q"}},
	{"  lm  ;  q  ", []string{"lm", "q"}},
	{"lm;;;q;", []string{"lm", "q"}},
	{"lm t n; ~; r", []string{"lm t n", "~", "r"}},
	{"|| ; |", []string{"||", "|"}},

	// -----comment-specifier-.md and ----comment-line-specifier-.md: `$$` ends at `;`, `*` takes the line.
	{"r eax; $$ some text; r ebx; * more text; r ecx", []string{"r eax", "r ebx"}},
	{"$$ only a comment", nil},
	{"$$comment;r", []string{"r"}},
	{"$$ \"quoted; still ends\"; r", []string{"still ends\"", "r"}},
	{"* everything; q", nil},
	{"r; *; q", []string{"r"}},
	{"? 2*3; q", []string{"? 2*3", "q"}}, // `*` inside a command is an operator

	// -echo--echo-comment-.md: the quoted form may hold `;`, the unquoted form ends at it.
	{`.echo "a;b"; q`, []string{`.echo "a;b"`, "q"}},
	{`.echo a;b`, []string{".echo a", "b"}},
	{`.echo a"b;c`, []string{`.echo a"b`, "c"}},
	{`.echo "unterminated; q`, []string{`.echo "unterminated; q`}},
	{`.echo it's; q`, []string{".echo it's", "q"}},

	// as--as--set-alias-.md: `as` takes the rest of the line unless a value switch ends it at `;`;
	// `aS` ends at `;` unless quoted; /c takes a command string that may hold `;`.
	{"as Name a; b; c", []string{"as Name a; b; c"}},
	{"as /x Name 5 + 1; .echo Name", []string{"as /x Name 5 + 1", ".echo Name"}},
	{"as /e Name PATH; q", []string{"as /e Name PATH", "q"}},
	{"as /c Name r eax; r ebx", []string{"as /c Name r eax; r ebx"}},
	{"aS /x myAlias 5 + 1; .block{.echo myAlias}", []string{"aS /x myAlias 5 + 1", ".block{.echo myAlias}"}},
	{`aS Name "a;b"; q`, []string{`aS Name "a;b"`, "q"}},
	{"aS Name ab; q", []string{"aS Name ab", "q"}},
	{"aS /c Name r eax; r ebx", []string{"aS /c Name r eax; r ebx"}},
	{"asx; q", []string{"asx", "q"}}, // not the as command
	{"AS Name a; q", []string{"AS Name a", "q"}},

	// -----------------------a---run-script-file-.md: $< and $>< allow `;` in the file name and
	// cannot be followed by other commands; $$<, $$>< and $$>a< can.
	{"$<c:\\my;file.txt", []string{"$<c:\\my;file.txt"}},
	{"$><c:\\a;b.txt", []string{"$><c:\\a;b.txt"}},
	{"$$<c:\\s.txt; r", []string{"$$<c:\\s.txt", "r"}},
	{"$$><c:\\s.txt; r", []string{"$$><c:\\s.txt", "r"}},
	{`$$>a< "c:\binl\my script.txt" "First one" Two; recx`, []string{`$$>a< "c:\binl\my script.txt" "First one" Two`, "recx"}},
	{"r; $<x.txt", []string{"r", "$<x.txt"}},

	// Blocks of the control-flow tokens keep their `;` (-if.md, -foreach.md).
	{".if (1) { r eax; r ebx } .else { r ecx }; q", []string{".if (1) { r eax; r ebx } .else { r ecx }", "q"}},
	{".foreach (v {dd 0 L1}) { .echo v; .echo w }", []string{".foreach (v {dd 0 L1}) { .echo v; .echo w }"}},
	{"} ; q", []string{"}", "q"}},
	// j--execute-if---else-.md: both branches belong to j, nothing may follow it.
	{"j (MySymbol=0) 'r eax'; 'r ebx; r ecx'", []string{"j (MySymbol=0) 'r eax'; 'r ebx; r ecx'"}},
	{"r; j 1 r eax; r ebx\nq", []string{"r", "j 1 r eax; r ebx", "q"}},
	{"jx; q", []string{"jx", "q"}},
	// Single quotes that start a word protect `;` like double quotes.
	{"bp 1000 'r eax; g'; q", []string{"bp 1000 'r eax; g'", "q"}},
	{`bp 1000 "j (poi(MyVar)>0n20) ''; 'gc' "; q`, []string{`bp 1000 "j (poi(MyVar)>0n20) ''; 'gc' "`, "q"}},

	// A newline ends a line: comments and rest-of-line commands stop there.
	{"* comment\nr", []string{"r"}},
	{"as N a;b\nq", []string{"as N a;b", "q"}},
	{"r\n\nq", []string{"r", "q"}},
	{"r\r\nq", []string{"r", "q"}},
}

func TestSplit(t *testing.T) {
	for _, tc := range splitTable {
		var got []string
		for _, p := range Split(tc.line) {
			got = append(got, p.Text)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Split(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestSplitOffsets(t *testing.T) {
	line := "r eax;  foo ; $$ c; .echo x"
	want := []Piece{{"r eax", 0}, {"foo", 8}, {".echo x", 20}}
	got := Split(line)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Split(%q) = %+v, want %+v", line, got, want)
	}
	for _, p := range got {
		if line[p.Offset:p.Offset+len(p.Text)] != p.Text {
			t.Errorf("piece %q does not sit at offset %d", p.Text, p.Offset)
		}
	}
}

// FuzzSplit checks that every piece is a trimmed, non-empty slice of the line at its offset, in
// order, whatever the input.
func FuzzSplit(f *testing.F) {
	for _, tc := range splitTable {
		f.Add(tc.line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		last := -1
		for _, p := range Split(line) {
			if p.Text == "" {
				t.Fatalf("empty piece in %q", line)
			}
			if p.Offset <= last || p.Offset+len(p.Text) > len(line) || line[p.Offset:p.Offset+len(p.Text)] != p.Text {
				t.Fatalf("piece %+v is not in order at its offset in %q", p, line)
			}
			last = p.Offset
		}
	})
}
