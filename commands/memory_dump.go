package commands

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"wdbg/engine"
)

// MemoryDump is the result of db, dw, dW, dd, dc, dq, dp, dds, dqs and dps. It holds the range,
// not the bytes: WriteText and MarshalJSON read the dump's memory a block at a time, so that a
// large range never builds its whole byte image or text in memory.
//
// Layout (WINDBG-SPEC §3.6, §1.3): the line address (FormatAddr), two spaces, the values separated
// by one space (db puts a hyphen between the eighth and ninth byte), and for db/dW/dc two spaces
// and the bytes as ASCII, padded so that the ASCII column lines up on a short last line. Unreadable
// units print as question marks of the value's width (dq: ????????`????????) and as `?` in the
// ASCII column. dds/dqs/dps print the symbol of each value after it, nothing when it has none.
type MemoryDump struct {
	Kind    string // "db", "dc", ...
	Start   uint64
	Count   uint64 // units shown
	Unit    int    // bytes per unit
	Columns int    // units per line
	PtrSize int    // width of the line addresses
	ASCII   bool
	Symbols bool

	mem       engine.Memory
	symbolize func(uint64) string
	ctx       context.Context // Ctrl-C: checked between blocks while rendering
}

// DumpLine is one displayed line as data (JSON and scripts).
type DumpLine struct {
	Address string    `json:"address"`
	Values  []*string `json:"values"` // "0x..." per unit; null for an unreadable unit
	ASCII   string    `json:"ascii,omitempty"`
	Symbols []string  `json:"symbols,omitempty"` // dds/dqs/dps: "" when the value is in no module
}

// dumpBlockBytes is how much memory one read covers: many lines per ReadAt, bounded buffers.
const dumpBlockBytes = 4096

// dumpLine is one line's memory while rendering.
type dumpLine struct {
	addr  uint64
	bytes []byte // units*Unit bytes
	valid []bool // one per unit
}

func (d *MemoryDump) value(l dumpLine, i int) uint64 {
	b := l.bytes[i*d.Unit : (i+1)*d.Unit]
	switch d.Unit {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

// each reads the range block by block and calls fn for every line.
func (d *MemoryDump) each(fn func(dumpLine) error) error {
	ctx := d.ctx
	if ctx == nil || ctx.Err() != nil {
		// A context already ended before rendering began is the caller's bookkeeping, not a Ctrl-C
		// during output: render in full.
		ctx = context.Background()
	}
	if d.Unit <= 0 || d.Columns <= 0 {
		return nil
	}
	lineBytes := d.Columns * d.Unit
	linesPerBlock := max(1, dumpBlockBytes/lineBytes)
	buf := make([]byte, linesPerBlock*lineBytes)
	valid := make([]bool, linesPerBlock*d.Columns)
	addr, left := d.Start, d.Count
	for left > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		units := uint64(linesPerBlock * d.Columns)
		if left < units {
			units = left
		}
		n := int(units)
		readUnits(d.mem, buf[:n*d.Unit], addr, d.Unit, valid[:n])
		for first := 0; first < n; first += d.Columns {
			last := min(first+d.Columns, n)
			l := dumpLine{addr: addr + uint64(first*d.Unit), bytes: buf[first*d.Unit : last*d.Unit], valid: valid[first:last]}
			if err := fn(l); err != nil {
				return err
			}
		}
		addr += units * uint64(d.Unit)
		left -= units
	}
	return nil
}

// WriteText streams the lines to w.
func (d *MemoryDump) WriteText(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	err := d.each(func(l dumpLine) error {
		line = d.appendText(line[:0], l)
		_, err := bw.Write(line)
		return err
	})
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

func (d *MemoryDump) appendText(b []byte, l dumpLine) []byte {
	b = appendAddr(b, l.addr, d.PtrSize)
	b = append(b, ' ', ' ')
	start := len(b)
	for i := range l.valid {
		if i > 0 {
			if d.Unit == 1 && i == 8 {
				b = append(b, '-')
			} else {
				b = append(b, ' ')
			}
		}
		if !l.valid[i] {
			b = appendUnreadable(b, d.Unit)
			continue
		}
		v := d.value(l, i)
		b = appendHexValue(b, v, d.Unit)
		if d.Symbols && d.symbolize != nil {
			if sym := d.symbolize(v); sym != "" {
				b = append(b, ' ')
				b = append(b, sym...)
			}
		}
	}
	if d.ASCII {
		// Pad a short line to the full width so that the ASCII column stays in place.
		full := d.Columns*valueWidth(d.Unit) + d.Columns - 1
		for len(b)-start < full {
			b = append(b, ' ')
		}
		b = append(b, ' ', ' ')
		for i, ok := range l.valid {
			for _, c := range l.bytes[i*d.Unit : (i+1)*d.Unit] {
				b = append(b, asciiChar(c, ok))
			}
		}
	}
	return append(b, '\n')
}

// valueWidth is how many characters one unit takes: two hex digits a byte, plus dq's backtick.
func valueWidth(unit int) int {
	if unit == 8 {
		return 17
	}
	return 2 * unit
}

func appendHexValue(b []byte, v uint64, unit int) []byte {
	if unit == 8 {
		b = appendPaddedHex(b, v>>32, 8)
		b = append(b, '`')
		return appendPaddedHex(b, v&0xffffffff, 8)
	}
	return appendPaddedHex(b, v, 2*unit)
}

// appendAddr appends what FormatAddr returns, without allocating: lines are many.
func appendAddr(b []byte, v uint64, ptrSize int) []byte {
	if ptrSize == 4 {
		return appendPaddedHex(b, v&0xffffffff, 8)
	}
	return appendHexValue(b, v, 8)
}

func appendPaddedHex(b []byte, v uint64, digits int) []byte {
	var tmp [16]byte
	s := strconv.AppendUint(tmp[:0], v, 16)
	for i := len(s); i < digits; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendUnreadable writes the question marks for a unit the dump does not hold (WINDBG-SPEC §1.3;
// dq keeps its backtick: ????????`???????? in public captures of dq/dp over unmapped pages).
func appendUnreadable(b []byte, unit int) []byte {
	if unit == 8 {
		return append(b, "????????`????????"...)
	}
	for i := 0; i < 2*unit; i++ {
		b = append(b, '?')
	}
	return b
}

// asciiChar is one byte of the ASCII column: printable ASCII as itself, other bytes as '.', and
// '?' for memory the dump does not hold.
func asciiChar(c byte, readable bool) byte {
	switch {
	case !readable:
		return '?'
	case c >= 0x20 && c < 0x7f:
		return c
	}
	return '.'
}

// Lines reads the range and returns it as data.
func (d *MemoryDump) Lines() ([]DumpLine, error) {
	lines := []DumpLine{}
	err := d.each(func(l dumpLine) error {
		dl := DumpLine{Address: fmt.Sprintf("0x%x", l.addr), Values: make([]*string, len(l.valid))}
		var ascii []byte
		for i, ok := range l.valid {
			var sym string
			if ok {
				v := d.value(l, i)
				hex := fmt.Sprintf("0x%x", v)
				dl.Values[i] = &hex
				if d.Symbols && d.symbolize != nil {
					sym = d.symbolize(v)
				}
			}
			if d.Symbols {
				dl.Symbols = append(dl.Symbols, sym)
			}
			if d.ASCII {
				for _, c := range l.bytes[i*d.Unit : (i+1)*d.Unit] {
					ascii = append(ascii, asciiChar(c, ok))
				}
			}
		}
		dl.ASCII = string(ascii)
		lines = append(lines, dl)
		return nil
	})
	return lines, err
}

// MarshalJSON gives {kind, address, unit, count, lines: [{address, values, ascii, symbols}]}.
func (d *MemoryDump) MarshalJSON() ([]byte, error) {
	lines, err := d.Lines()
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Kind    string     `json:"kind"`
		Address string     `json:"address"`
		Unit    int        `json:"unit"`
		Count   uint64     `json:"count"`
		Lines   []DumpLine `json:"lines"`
	}{d.Kind, fmt.Sprintf("0x%x", d.Start), d.Unit, d.Count, lines})
}
