package commands

import (
	"bytes"
	"strings"
	"testing"
)

func TestDiffLines(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want string // ops joined
	}{
		{"x\ny\nz", "x\ny\nz", "   "},
		{"x\ny\nz", "x\nz", " - "},
		{"x\nz", "x\ny\nz", " + "},
		{"a\nb\nc\nd", "a\nc\nb\nd", " - + "}, // a move: b deleted, then added again after c
		{"", "new", "+"},
		{"old", "", "-"},
	} {
		var ops strings.Builder
		for _, l := range diffLines(splitLines(c.a), splitLines(c.b)) {
			ops.WriteString(l.Op)
		}
		if got := ops.String(); got != c.want {
			t.Errorf("diff(%q, %q) ops %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

// Outputs too large for the table are still compared exactly at the head and tail.
func TestDiffLinesLargeStaysBounded(t *testing.T) {
	var a, b []string
	for i := 0; i < 5000; i++ {
		a = append(a, "same")
	}
	for i := 0; i < 5000; i++ {
		a = append(a, "old")
		b = append(b, "new")
	}
	lines := diffLines(append(a, "end"), append(b, "end"))
	var minus, plus, same int
	for _, l := range lines {
		switch l.Op {
		case "-":
			minus++
		case "+":
			plus++
		default:
			same++
		}
	}
	if minus != 10000 || plus != 5000 || same != 1 {
		t.Errorf("-%d +%d =%d, want -10000 +5000 =1", minus, plus, same)
	}
}

func TestTextDiffRendering(t *testing.T) {
	res, err := DiffResults("lm", Text("a\nb\nc\nd\ne\nf\ng\n"), Text("a\nb\nc\nD\ne\nf\ng\n"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	// Two lines of context each side; the hidden first and last lines leave no marker at the
	// ends.
	if got := buf.String(); got != " b\n c\n-d\n+D\n e\n f\n" {
		t.Errorf("got\n%s", got)
	}
	res, _ = DiffResults("lm", Text("same\n"), Text("same\n"))
	buf.Reset()
	res.WriteText(&buf)
	if buf.String() != "lm: same output for both dumps\n" {
		t.Errorf("identical outputs: %q", buf.String())
	}
}
