package pdb

import "fmt"

// Binary annotations of S_INLINESITE / S_INLINESITE2 records: a byte program that describes which
// code of the enclosing procedure the inlined call occupies and which line of the inlinee each
// piece comes from (cvinfo.h BinaryAnnotationOpcode; LLVM's "CodeView Symbol Records" and its
// llvm-pdbutil, whose dump -symbols prints each decoded opcode).
//
// Each annotation is an opcode then its operands, every one a compressed unsigned integer:
//
//	0xxxxxxx                            7 bits
//	10xxxxxx xxxxxxxx                   14 bits, high byte first
//	110xxxxx xxxxxxxx xxxxxxxx xxxxxxxx 29 bits, high byte first
//
// (a first byte of 111xxxxx is invalid). Signed operands (line and column deltas) keep the sign in
// bit 0: v>>1, negated when bit 0 is set. Opcode 0 ends the program (the record's padding).
const (
	baInvalid                       = 0
	baCodeOffset                    = 1  // code offset
	baChangeCodeOffsetBase          = 2  // index of a separated code chunk (not produced by MSVC for x86/x64)
	baChangeCodeOffset              = 3  // code offset delta: a new piece starts there
	baChangeCodeLength              = 4  // length of the open piece; the code offset moves past it
	baChangeFile                    = 5  // file checksum entry offset
	baChangeLineOffset              = 6  // signed line delta
	baChangeLineEndDelta            = 7  // line count of the piece
	baChangeRangeKind               = 8  // 0 expression, 1 statement
	baChangeColumnStart             = 9  //
	baChangeColumnEndDelta          = 10 // signed
	baChangeCodeOffsetAndLineOffset = 11 // one operand: code delta in bits 3:0, signed line delta above
	baChangeCodeLengthAndCodeOffset = 12 // two operands: length, then code delta; the piece is closed
	baChangeColumnEnd               = 13 //
)

// inlineRow is one piece of an inline site: code [start, end) of the procedure (offsets from the
// procedure's first byte) comes from line of the file whose checksum entry is at file.
type inlineRow struct {
	start, end uint32
	line       int32
	file       uint32
}

// annotationDecoder reads the compressed operands of an annotation program.
type annotationDecoder struct {
	b   []byte
	pos int
	err error
}

// uint reads one compressed unsigned integer.
func (d *annotationDecoder) uint() uint32 {
	if d.err != nil {
		return 0
	}
	need := func(n int) bool {
		if d.pos+n > len(d.b) {
			d.err = fmt.Errorf("annotation byte %d: compressed integer of %d bytes runs past the %d bytes", d.pos, n, len(d.b))
			return false
		}
		return true
	}
	if !need(1) {
		return 0
	}
	b0 := uint32(d.b[d.pos])
	switch {
	case b0&0x80 == 0:
		d.pos++
		return b0
	case b0&0xC0 == 0x80:
		if !need(2) {
			return 0
		}
		v := (b0&0x3F)<<8 | uint32(d.b[d.pos+1])
		d.pos += 2
		return v
	case b0&0xE0 == 0xC0:
		if !need(4) {
			return 0
		}
		v := (b0&0x1F)<<24 | uint32(d.b[d.pos+1])<<16 | uint32(d.b[d.pos+2])<<8 | uint32(d.b[d.pos+3])
		d.pos += 4
		return v
	}
	d.err = fmt.Errorf("annotation byte %d: invalid compressed integer prefix %#x", d.pos, b0)
	return 0
}

// signed decodes a signed operand from its compressed form.
func signedOperand(v uint32) int32 {
	if v&1 != 0 {
		return -int32(v >> 1)
	}
	return int32(v >> 1)
}

// maxInlineRows bounds the pieces of one site: every piece costs at least two bytes of program,
// and a record holds less than 64 KiB.
const maxInlineRows = 1 << 15

// decodeAnnotations runs an annotation program and returns the site's pieces in program order.
// line and file are the inlinee's first line and file (DEBUG_S_INLINEELINES); line deltas apply
// from the next piece on. A piece opened by a code offset change ends where the next one starts
// or where a length closes it; a piece still open when the program ends has no known end and is
// dropped (LLVM does not match addresses in it either). On a malformed program the pieces before
// the damage are returned with the error.
func decodeAnnotations(b []byte, line int32, file uint32) ([]inlineRow, error) {
	d := &annotationDecoder{b: b}
	var rows []inlineRow
	var code uint32
	open := -1 // index of the piece whose end is not known yet
	startPiece := func() {
		if open >= 0 {
			rows[open].end = code
		}
		if len(rows) >= maxInlineRows {
			d.err = fmt.Errorf("annotation byte %d: more than %d pieces", d.pos, maxInlineRows)
			return
		}
		rows = append(rows, inlineRow{start: code, line: line, file: file})
		open = len(rows) - 1
	}
	for d.pos < len(d.b) && d.err == nil {
		at := d.pos
		op := d.uint()
		if d.err != nil {
			break
		}
		switch op {
		case baInvalid:
			return closed(rows, open), nil
		case baCodeOffset, baChangeCodeOffset:
			code += d.uint()
			if d.err == nil {
				startPiece()
			}
		case baChangeCodeOffsetBase:
			d.uint()
		case baChangeCodeLength:
			n := d.uint()
			if d.err == nil && open >= 0 {
				rows[open].end = code + n
				open = -1
			}
			code += n
		case baChangeFile:
			file = d.uint()
		case baChangeLineOffset:
			line += signedOperand(d.uint())
		case baChangeLineEndDelta, baChangeRangeKind, baChangeColumnStart, baChangeColumnEnd:
			d.uint()
		case baChangeColumnEndDelta:
			d.uint()
		case baChangeCodeOffsetAndLineOffset:
			v := d.uint()
			if d.err == nil {
				line += signedOperand(v >> 4)
				code += v & 0xF
				startPiece()
			}
		case baChangeCodeLengthAndCodeOffset:
			n, delta := d.uint(), d.uint()
			if d.err == nil {
				code += delta
				startPiece()
				if d.err == nil {
					rows[open].end = code + n
					open = -1
				}
			}
		default:
			d.err = fmt.Errorf("annotation byte %d: unknown opcode %d", at, op)
		}
	}
	return closed(rows, open), d.err
}

// closed drops the still-open piece, whose end the program never gave.
func closed(rows []inlineRow, open int) []inlineRow {
	if open >= 0 {
		rows = append(rows[:open], rows[open+1:]...)
	}
	return rows
}
