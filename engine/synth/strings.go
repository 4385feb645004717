package synth

import (
	"encoding/binary"
	"unicode/utf16"
)

// utf16LE encodes s as UTF-16LE without a terminator; characters outside the BMP become
// surrogate pairs, as Windows stores them.
func utf16LE(s string) []byte {
	units := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
	return b
}

// UTF16Z is s as UTF-16LE with a terminating NUL character: how strings sit in target memory.
func UTF16Z(s string) []byte { return append(utf16LE(s), 0, 0) }
