package commands

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Differ is a result that can say, as data, what changed between two dumps of the same machine
// (`wdbg diff A B -c "!poolused 4"`): the pool usage of the older dump compared with the newer,
// say. Results without it are compared line by line (TextDiff).
type Differ interface {
	Result
	// DiffWith compares this result (from the older dump) with newer, a result of the same
	// command on the newer dump.
	DiffWith(newer Result) (Result, error)
}

// DiffResults compares one command's results on two dumps: through the result's own Differ
// when both results are of the same kind, else as text.
func DiffResults(command string, older, newer Result) (Result, error) {
	if d, ok := older.(Differ); ok && sameKind(older, newer) {
		return d.DiffWith(newer)
	}
	a, err := renderText(older)
	if err != nil {
		return nil, err
	}
	b, err := renderText(newer)
	if err != nil {
		return nil, err
	}
	return &TextDiff{Command: command, Lines: diffLines(splitLines(a), splitLines(b))}, nil
}

func sameKind(a, b Result) bool { return reflect.TypeOf(a) == reflect.TypeOf(b) }

func renderText(r Result) (string, error) {
	if r == nil {
		return "", nil
	}
	var b bytes.Buffer
	err := r.WriteText(&b)
	return b.String(), err
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TextDiff is the line difference of two outputs: "-" lines only the older dump printed, "+"
// lines only the newer one printed, " " lines both printed.
type TextDiff struct {
	Command string     `json:"command"`
	Lines   []DiffLine `json:"lines"`
}

// DiffLine is one line of a TextDiff.
type DiffLine struct {
	Op   string `json:"op"` // " ", "-" or "+"
	Text string `json:"text"`
}

// WriteText prints the changed lines with a few lines of context, like `diff -u` without
// headers; identical outputs print one line saying so.
func (d *TextDiff) WriteText(w io.Writer) error {
	const context = 2
	changed := false
	show := make([]bool, len(d.Lines))
	for i, l := range d.Lines {
		if l.Op == " " {
			continue
		}
		changed = true
		for j := max(0, i-context); j <= min(len(d.Lines)-1, i+context); j++ {
			show[j] = true
		}
	}
	if !changed {
		_, err := fmt.Fprintf(w, "%s: same output for both dumps\n", d.Command)
		return err
	}
	var b strings.Builder
	gap := false
	for i, l := range d.Lines {
		if !show[i] {
			gap = true
			continue
		}
		if gap && b.Len() > 0 {
			b.WriteString("...\n")
		}
		gap = false
		b.WriteString(l.Op + l.Text + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// maxDiffCells bounds the longest-common-subsequence table; larger outputs are compared by
// their common head and tail and the middle is reported as replaced, which keeps memory bounded
// on outputs of tens of thousands of lines.
const maxDiffCells = 16 << 20

// diffLines is a line diff by longest common subsequence.
func diffLines(a, b []string) []DiffLine {
	var out []DiffLine
	// Common head and tail need no table.
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		out = append(out, DiffLine{" ", a[head]})
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	ma, mb := a[head:len(a)-tail], b[head:len(b)-tail]
	if (len(ma)+1)*(len(mb)+1) > maxDiffCells {
		for _, l := range ma {
			out = append(out, DiffLine{"-", l})
		}
		for _, l := range mb {
			out = append(out, DiffLine{"+", l})
		}
	} else {
		out = append(out, lcsDiff(ma, mb)...)
	}
	for _, l := range a[len(a)-tail:] {
		out = append(out, DiffLine{" ", l})
	}
	return out
}

func lcsDiff(a, b []string) []DiffLine {
	n, m := len(a), len(b)
	// suffix[i][j] = length of the LCS of a[i:] and b[j:], in one flat slice.
	suffix := make([]int32, (n+1)*(m+1))
	at := func(i, j int) *int32 { return &suffix[i*(m+1)+j] }
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				*at(i, j) = *at(i+1, j+1) + 1
			} else {
				*at(i, j) = max(*at(i+1, j), *at(i, j+1))
			}
		}
	}
	var out []DiffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			out = append(out, DiffLine{" ", a[i]})
			i, j = i+1, j+1
		case *at(i+1, j) >= *at(i, j+1):
			out = append(out, DiffLine{"-", a[i]})
			i++
		default:
			out = append(out, DiffLine{"+", b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, DiffLine{"-", a[i]})
	}
	for ; j < m; j++ {
		out = append(out, DiffLine{"+", b[j]})
	}
	return out
}
