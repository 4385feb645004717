package commands

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf16"

	"wdbg/engine"
)

// da and du (WINDBG-SPEC §3.6): the characters from the address up to the first NUL or the end of
// the range, each line `<address>  "<characters>"`.
//
// The reference page says 48 characters a line; the WinDbg outputs published with real sessions
// show 32 (`da rax` on "orphanedirreproducibleconfidences" wraps after 0x20 bytes, `du` wraps every
// 0x40 bytes) and `du /c 100` widens a line to 0x100 characters. Without a count, du stops after 12
// such lines (a long SVG string in a public capture ends at the 12th line, without its NUL), so the
// default length is 384 characters; da is taken to follow the same rule.
const (
	stringCharsPerLine = 32
	stringDefaultChars = 384
)

// stringChunkChars is how many characters one memory read covers.
const stringChunkChars = 512

// StringDump is the result of da and du. Like MemoryDump it keeps the range, not the text: the
// command finds where the string ends, and WriteText and MarshalJSON read it again line by line.
type StringDump struct {
	Kind       string // "da" or "du"
	Start      uint64
	Chars      uint64 // characters shown, the NUL excluded
	Terminated bool   // a NUL ended the string (else the range did)
	Unit       int    // bytes per character
	Columns    int    // characters per line
	PtrSize    int

	mem engine.Memory
	ctx context.Context
}

// StringLine is one displayed line as data.
type StringLine struct {
	Address string `json:"address"`
	Text    string `json:"text"`
}

// scanString finds how many of at most count characters (unit bytes each) from start come before
// the first NUL. Unreadable characters do not end the string: they show as '?'.
func scanString(ctx context.Context, m engine.Memory, unit int, start, count uint64) (chars uint64, terminated bool, err error) {
	buf := make([]byte, stringChunkChars*unit)
	valid := make([]bool, stringChunkChars)
	for chars < count {
		if err := ctx.Err(); err != nil {
			return 0, false, err
		}
		n := int(min(uint64(stringChunkChars), count-chars))
		readUnits(m, buf[:n*unit], start+chars*uint64(unit), unit, valid[:n])
		for i := 0; i < n; i++ {
			if valid[i] && charAt(buf, i, unit) == 0 {
				return chars + uint64(i), true, nil
			}
		}
		chars += uint64(n)
	}
	return chars, false, nil
}

func charAt(buf []byte, i, unit int) uint16 {
	if unit == 2 {
		return binary.LittleEndian.Uint16(buf[2*i:])
	}
	return uint16(buf[i])
}

// next is where a following d* without a range starts: after the NUL, or after the last character.
func (r *StringDump) next() uint64 {
	n := r.Chars
	if r.Terminated {
		n++
	}
	return r.Start + n*uint64(r.Unit)
}

// each reads the string again and calls fn with every line; an empty string is one empty line.
func (r *StringDump) each(fn func(addr uint64, text string) error) error {
	ctx := r.ctx
	if ctx == nil || ctx.Err() != nil {
		ctx = context.Background() // as in MemoryDump.each
	}
	if r.Chars == 0 || r.Columns <= 0 {
		return fn(r.Start, "")
	}
	buf := make([]byte, r.Columns*r.Unit)
	valid := make([]bool, r.Columns)
	units := make([]uint16, r.Columns)
	for done := uint64(0); done < r.Chars; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int(min(uint64(r.Columns), r.Chars-done))
		addr := r.Start + done*uint64(r.Unit)
		readUnits(r.mem, buf[:n*r.Unit], addr, r.Unit, valid[:n])
		for i := range n {
			units[i] = charAt(buf, i, r.Unit)
		}
		if err := fn(addr, renderChars(units[:n], valid[:n], r.Unit)); err != nil {
			return err
		}
		done += uint64(n)
	}
	return nil
}

// WriteText prints each line as `address  "text"`.
func (r *StringDump) WriteText(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	err := r.each(func(addr uint64, text string) error {
		line = appendAddr(line[:0], addr, r.PtrSize)
		line = append(line, ' ', ' ', '"')
		line = append(line, text...)
		line = append(line, '"', '\n')
		_, err := bw.Write(line)
		return err
	})
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

// Lines reads the string and returns its lines as data.
func (r *StringDump) Lines() ([]StringLine, error) {
	lines := []StringLine{}
	err := r.each(func(addr uint64, text string) error {
		lines = append(lines, StringLine{Address: fmt.Sprintf("0x%x", addr), Text: text})
		return nil
	})
	return lines, err
}

// MarshalJSON gives {kind, address, text, terminated, lines: [{address, text}]}; text is all the
// lines joined, as displayed.
func (r *StringDump) MarshalJSON() ([]byte, error) {
	lines, err := r.Lines()
	if err != nil {
		return nil, err
	}
	var text strings.Builder
	for _, l := range lines {
		text.WriteString(l.Text)
	}
	return json.Marshal(struct {
		Kind       string       `json:"kind"`
		Address    string       `json:"address"`
		Text       string       `json:"text"`
		Terminated bool         `json:"terminated"`
		Lines      []StringLine `json:"lines"`
	}{r.Kind, fmt.Sprintf("0x%x", r.Start), text.String(), r.Terminated, lines})
}

// renderChars turns one line's characters into text: printable characters as themselves, others
// as '.', unreadable ones as '?'. UTF-16 surrogate pairs inside the line become one character.
func renderChars(units []uint16, valid []bool, unit int) string {
	var b strings.Builder
	for i := 0; i < len(units); i++ {
		c := units[i]
		switch {
		case !valid[i]:
			b.WriteByte('?')
		case unit == 1 || c < 0x80:
			if c >= 0x20 && c < 0x7f {
				b.WriteByte(byte(c))
			} else {
				b.WriteByte('.')
			}
		case utf16.IsSurrogate(rune(c)):
			if i+1 < len(units) && valid[i+1] {
				if r := utf16.DecodeRune(rune(c), rune(units[i+1])); r != unicode.ReplacementChar {
					writePrintable(&b, r)
					i++
					continue
				}
			}
			b.WriteByte('.')
		default:
			writePrintable(&b, rune(c))
		}
	}
	return b.String()
}

// writePrintable writes r, or '.' for control, private-use and unassigned characters: du shows
// a private-use character as a dot in public captures (UTF-8 bytes read as UTF-16).
func writePrintable(b *strings.Builder, r rune) {
	if unicode.IsPrint(r) {
		b.WriteRune(r)
	} else {
		b.WriteByte('.')
	}
}
