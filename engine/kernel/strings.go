package kernel

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

// MaxUnicodeBytes bounds a UNICODE_STRING read. Length is a u16 so 0xFFFE is its own limit;
// kernel paths are far shorter.
const MaxUnicodeBytes = 0xFFFE

// ReadUnicodeString reads a UNICODE_STRING at addr (FORMATS.md §5: Length u16 @0,
// MaximumLength u16 @2, Buffer @8 on x64 / @4 on x86). An odd Length, a Length above
// MaximumLength or an unreadable buffer is an error; an empty string is not.
func (r *Reader) ReadUnicodeString(addr uint64) (string, error) {
	ps := r.ptrSize()
	hdr := make([]byte, 2*ps)
	if err := r.readFull(hdr, addr); err != nil {
		return "", &ReadError{What: "UNICODE_STRING", Addr: addr, Err: err}
	}
	length := int(binary.LittleEndian.Uint16(hdr))
	maxLen := int(binary.LittleEndian.Uint16(hdr[2:]))
	var buf uint64
	if ps == 8 {
		buf = binary.LittleEndian.Uint64(hdr[8:])
	} else {
		buf = uint64(binary.LittleEndian.Uint32(hdr[4:]))
	}
	if length == 0 {
		return "", nil
	}
	if length%2 != 0 || (maxLen != 0 && length > maxLen) {
		return "", &ReadError{What: "UNICODE_STRING", Addr: addr, Err: fmt.Errorf("bad Length %#x (MaximumLength %#x)", length, maxLen)}
	}
	if buf == 0 {
		return "", &ReadError{What: "UNICODE_STRING", Addr: addr, Err: fmt.Errorf("Length %#x with a NULL Buffer", length)}
	}
	b := make([]byte, min(length, MaxUnicodeBytes))
	if err := r.readFull(b, buf); err != nil {
		return "", &ReadError{What: "UNICODE_STRING buffer", Addr: buf, Err: err}
	}
	return decodeUTF16(b), nil
}

func decodeUTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// asciiz is a fixed-size NUL-padded byte array as a string (EPROCESS.ImageFileName). Bytes
// outside printable ASCII are shown as '?', so a wrong offset is visible rather than garbage.
func asciiz(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		if c < 0x20 || c > 0x7E {
			c = '?'
		}
		sb.WriteByte(c)
	}
	return sb.String()
}
