package commands

import "fmt"

// Number and address styles of WINDBG-SPEC §1.1.

// FormatAddr prints an address pointer-wide in lowercase hex, with the backtick between the two
// 32-bit halves on 64-bit targets (k, d*, lm, ? output): 00000000`4a560000, or 4a560000 on x86.
func FormatAddr(v uint64, ptrSize int) string {
	if ptrSize == 4 {
		return fmt.Sprintf("%08x", uint32(v))
	}
	return fmt.Sprintf("%08x`%08x", v>>32, uint32(v))
}

// FormatPtr prints a pointer-wide value without the backtick (register dumps, !teb, !peb, .exr).
func FormatPtr(v uint64, ptrSize int) string {
	if ptrSize == 4 {
		return fmt.Sprintf("%08x", uint32(v))
	}
	return fmt.Sprintf("%016x", v)
}
