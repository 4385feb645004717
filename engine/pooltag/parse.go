package pooltag

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Entry is one line of a pooltag.txt: `Tag - binary - Description` (WINDBG-SPEC.md §3.8).
type Entry struct {
	// Tag is the tag as written, 4 bytes with short tags padded with spaces ("Mm  "), or a
	// pattern with '?' and '*' ("Afd?", "Acp*", "CM??"); a pattern with '*' is not padded.
	Tag string `json:"tag"`
	// Binary is the owning file ("afd.sys") or kernel component ("nt!mm"); empty when the
	// file says <unknown>.
	Binary string `json:"binary,omitempty"`
	// Description is the text after the second separator, without the indentation.
	Description string `json:"description"`
	// SubTag is set when the description was indented: the line describes one member of the
	// family named by the line above it.
	SubTag bool `json:"subTag,omitempty"`
	// Source says where the entry came from: "file:line", or "builtin" for our own list.
	Source string `json:"source"`
}

// ParseError is a malformed line; the line is skipped and parsing goes on.
type ParseError struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Msg  string `json:"message"`
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Parsed is what Parse found in one file.
type Parsed struct {
	Entries []Entry
	// Errors lists the first MaxReportedErrors malformed lines; MoreErrors counts the rest.
	Errors     []*ParseError
	MoreErrors int
}

// Limits that keep a hostile or corrupt file from costing unbounded memory.
const (
	// MaxLineLen bounds one line; longer lines are reported and skipped.
	MaxLineLen = 4096
	// MaxEntries bounds the entries taken from one file (Microsoft's list has a few thousand).
	MaxEntries = 1 << 20
	// MaxReportedErrors bounds the ParseErrors kept per file.
	MaxReportedErrors = 100
)

// Parse reads a pooltag.txt. name is used in Source ("name:line") and in errors. Malformed
// lines are reported in Parsed.Errors and skipped; only a failing reader gives an error.
//
// Grammar (WINDBG-SPEC.md §3.8, §6): blank lines and lines whose first word is "rem" are
// ignored; other lines are `Tag - binary - Description`, where each " - " separator is a
// '-' preceded by blank space (the space after it is optional), the tag field is at most 4
// characters after trailing blanks are removed (shorter tags are padded with spaces), the
// binary is a file name, `nt!component`, or `<unknown>` and may itself contain spaces, and
// the description is the rest of the line. A description indented by more than the one
// space after the separator marks a sub-tag.
func Parse(r io.Reader, name string) (*Parsed, error) {
	p := &Parsed{}
	br := bufio.NewReaderSize(r, 64<<10)
	lineNo := 0
	report := func(msg string, args ...any) {
		if len(p.Errors) >= MaxReportedErrors {
			p.MoreErrors++
			return
		}
		p.Errors = append(p.Errors, &ParseError{File: name, Line: lineNo, Msg: fmt.Sprintf(msg, args...)})
	}
	for {
		line, tooLong, err := readLine(br)
		if err == io.EOF {
			return p, nil
		}
		if err != nil {
			return p, fmt.Errorf("%s:%d: %w", name, lineNo+1, err)
		}
		lineNo++
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if tooLong {
			report("line longer than %d bytes", MaxLineLen)
			continue
		}
		e, msg := parseLine(line)
		if msg != "" {
			report("%s", msg)
			continue
		}
		if e == nil {
			continue
		}
		if len(p.Entries) >= MaxEntries {
			report("more than %d entries; the rest of the file is ignored", MaxEntries)
			return p, nil
		}
		e.Source = fmt.Sprintf("%s:%d", name, lineNo)
		p.Entries = append(p.Entries, *e)
	}
}

// readLine returns the next line without its end-of-line bytes, or io.EOF when there is none,
// and whether it was longer than MaxLineLen (its text is then dropped, but the whole line is
// consumed).
func readLine(br *bufio.Reader) (string, bool, error) {
	var buf []byte
	tooLong, got := false, false
	for {
		chunk, err := br.ReadSlice('\n')
		got = got || len(chunk) > 0
		if !tooLong {
			if len(buf)+len(chunk) > MaxLineLen+2 { // +2: the CR LF
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && !got:
			return "", false, io.EOF
		case err != nil && err != io.EOF:
			return "", false, err
		}
		return strings.TrimRight(string(buf), "\r\n"), tooLong, nil
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// separator finds the next " - " separator in s: a '-' at index i > 0 with blank space
// before it. It returns -1 when there is none.
func separator(s string) int {
	for i := 1; i < len(s); i++ {
		if s[i] == '-' && isBlank(s[i-1]) {
			return i
		}
	}
	return -1
}

// parseLine decodes one line: (nil, "") for a blank or comment line, (entry, "") for an
// entry, (nil, message) for a malformed line.
func parseLine(line string) (*Entry, string) {
	trimmed := strings.TrimSpace(line)
	if trimmed == "" {
		return nil, ""
	}
	if len(trimmed) >= 3 && strings.EqualFold(trimmed[:3], "rem") && (len(trimmed) == 3 || isBlank(trimmed[3])) {
		return nil, ""
	}
	i := separator(line)
	if i < 0 {
		return nil, fmt.Sprintf("no \" - \" separator after the tag in %q", clip(line))
	}
	tag := strings.TrimRight(line[:i], " \t")
	switch {
	case strings.TrimLeft(tag, " \t") == "":
		return nil, "empty tag"
	case len(tag) > TagLen:
		return nil, fmt.Sprintf("tag %q is longer than %d characters", clip(tag), TagLen)
	}
	for k := 0; k < len(tag); k++ {
		if c := tag[k]; c < 0x20 || c == 0x7f {
			return nil, fmt.Sprintf("tag %q holds a control character", tag)
		}
	}
	if !strings.Contains(tag, "*") {
		tag += strings.Repeat(" ", TagLen-len(tag))
	}
	rest := line[i+1:]
	j := separator(rest)
	if j < 0 {
		return nil, fmt.Sprintf("tag %q: no \" - \" separator between the binary and the description", Printable(tag))
	}
	binary := strings.TrimSpace(text(rest[:j]))
	if binary == "" {
		return nil, fmt.Sprintf("tag %q: empty binary field (write <unknown>)", Printable(tag))
	}
	if strings.EqualFold(binary, "<unknown>") {
		binary = ""
	}
	desc := rest[j+1:]
	indent := len(desc) - len(strings.TrimLeft(desc, " \t"))
	return &Entry{
		Tag:         tag,
		Binary:      binary,
		Description: strings.TrimSpace(text(desc)),
		SubTag:      indent > 1,
	}, ""
}

// text makes file bytes valid UTF-8: pooltag.txt files are old and may be in a Windows
// code page; bytes that are not UTF-8 are read as Latin-1 rather than lost.
func text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// clip shortens a quoted piece of a line in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
