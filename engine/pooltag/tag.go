package pooltag

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// TagLen is the size of a pool tag in bytes.
const TagLen = 4

// ProtectedBit is the PROTECTED_POOL flag old kernels set in bit 31 of some tags
// (FORMATS.md §6.1); mask it with Unprotect before looking a tag up.
const ProtectedBit = 0x80000000

// FromUint32 turns a tag dword as the kernel stores it into the 4-byte tag string: the bytes
// in memory (little-endian) order, so 0x6b61654c is "Leak" (FORMATS.md §6.1).
func FromUint32(v uint32) string {
	var b [TagLen]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return string(b[:])
}

// Uint32 is the dword a 4-byte tag is stored as; tags of another length give ok=false.
func Uint32(tag string) (v uint32, ok bool) {
	if len(tag) != TagLen {
		return 0, false
	}
	return binary.LittleEndian.Uint32([]byte(tag)), true
}

// Unprotect clears the PROTECTED_POOL bit of a tag dword.
func Unprotect(v uint32) uint32 { return v &^ ProtectedBit }

// Printable shows a tag with every byte outside printable ASCII (0x20..0x7e, the range
// ExAllocatePoolWithTag documents for tag characters) replaced by '.', as !poolused prints
// such tags (WINDBG-SPEC.md §3.8).
func Printable(tag string) string {
	b := []byte(tag)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '.'
		}
	}
	return string(b)
}

// ParseTag reads a tag as a user types it for !poolfind or !pooltag (WINDBG-SPEC.md §3.8):
// a string of one to four characters, shorter ones padded with spaces ("Mm" is "Mm  "), or
// "0x" followed by the tag's little-endian dword in hex ("0x6b61654c" is "Leak"; only a
// lower-case "0x" prefix makes a number, as the !poolfind documentation says). Wildcards are
// refused: use ParsePattern for filters.
func ParseTag(s string) (string, error) {
	if strings.HasPrefix(s, "0x") && len(s) > 2 {
		v, err := strconv.ParseUint(s[2:], 16, 32)
		if err != nil {
			return "", fmt.Errorf("pool tag %q: not a 32-bit hex value", s)
		}
		return FromUint32(uint32(v)), nil
	}
	if strings.ContainsAny(s, "*?") {
		return "", fmt.Errorf("pool tag %q: wildcards are not allowed here", s)
	}
	return padTag(s)
}

// ParsePattern reads a tag filter (!poolused, !poolfind): like ParseTag, but '?' stands for
// one character and '*' for any run of them. A pattern without '*' is padded with spaces to
// four characters; with '*' it is kept as typed.
func ParsePattern(s string) (string, error) {
	if strings.HasPrefix(s, "0x") && len(s) > 2 {
		return ParseTag(s)
	}
	if strings.Contains(s, "*") {
		if len(s) > 64 {
			return "", fmt.Errorf("pool tag pattern %q: longer than 64 characters", s)
		}
		return s, nil
	}
	return padTag(s)
}

func padTag(s string) (string, error) {
	switch {
	case s == "":
		return "", fmt.Errorf("empty pool tag")
	case len(s) > TagLen:
		return "", fmt.Errorf("pool tag %q: longer than %d characters", s, TagLen)
	}
	return s + strings.Repeat(" ", TagLen-len(s)), nil
}

// IsPattern reports whether a tag field holds a wildcard.
func IsPattern(s string) bool { return strings.ContainsAny(s, "*?") }

// Match reports whether tag matches pattern, byte by byte and case-sensitively: '?' matches
// any one byte, '*' any run of bytes including none (WINDBG-SPEC.md §3.8). Without wildcards
// it is plain equality.
func Match(pattern, tag string) bool {
	// Iterative glob with one backtrack point: the last '*' seen and where in tag it was
	// tried. Linear in practice, never exponential.
	p, t := 0, 0
	star, mark := -1, 0
	for t < len(tag) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, t
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == tag[t]):
			p++
			t++
		case star >= 0:
			p = star + 1
			mark++
			t = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
