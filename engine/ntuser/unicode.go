package ntuser

import (
	"encoding/binary"
	"unicode/utf16"

	"wdbg/engine"
)

// UnicodeString is a UNICODE_STRING read from the target: Length and MaximumLength in bytes, then
// a pointer to the UTF-16 text (Buffer at +4 on x86, +8 on x64 after alignment padding).
type UnicodeString struct {
	Address       uint64 // of the UNICODE_STRING itself
	Length        uint16
	MaximumLength uint16
	Buffer        uint64
	Text          string
	// Readable is true when both the header and Length bytes of text were in the dump and Buffer
	// is not NULL. WinDbg prints an unreadable string as '< Name not readable >'.
	Readable bool
}

// ReadUnicodeString reads the UNICODE_STRING at addr. It never fails: a string whose header or
// text is missing comes back with Readable false.
func ReadUnicodeString(mem engine.Memory, addr uint64, ptrSize int) UnicodeString {
	return readUnicodeString(reader{mem, ptrSize}, addr, 0)
}

// readUnicodeString reads a UNICODE_STRING; bias is added to Buffer (process parameters that are
// not yet normalised store buffers as offsets from the parameter block).
func readUnicodeString(r reader, addr uint64, bias uint64) UnicodeString {
	s := UnicodeString{Address: addr}
	hdr := r.bytes(addr, 2*r.ptrSize) // 4 bytes of lengths (+4 padding on x64), then the pointer
	if hdr == nil {
		return s
	}
	s.Length = binary.LittleEndian.Uint16(hdr[0:])
	s.MaximumLength = binary.LittleEndian.Uint16(hdr[2:])
	if r.ptrSize == 8 {
		s.Buffer = binary.LittleEndian.Uint64(hdr[8:])
	} else {
		s.Buffer = uint64(binary.LittleEndian.Uint32(hdr[4:]))
	}
	if s.Buffer == 0 {
		return s
	}
	s.Buffer += bias
	n := int(s.Length &^ 1) // an odd byte count cannot end a UTF-16 unit
	if n == 0 {
		s.Readable = true
		return s
	}
	b := r.bytes(s.Buffer, n)
	if b == nil {
		return s
	}
	s.Text = decodeUTF16(b)
	s.Readable = true
	return s
}

// decodeUTF16 turns little-endian UTF-16 bytes into a string; lone surrogates become U+FFFD.
func decodeUTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}
