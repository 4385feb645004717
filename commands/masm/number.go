package masm

import (
	"math/bits"
	"strings"
)

// numberResult is what parseNumber makes of a word.
type numberResult uint8

const (
	notNumber numberResult = iota
	isNumber
	numberOverflow
)

// parseNumber reads a whole word as a MASM number (MASM page, "Numbers in Debugger MASM
// Expressions"): prefixes 0x (hex), 0n (decimal), 0t (octal), 0y (binary) in either case; a
// trailing h for hex; otherwise the default radix. A prefix with no digits is 0 ("0x" is 0). A
// backtick may split the digits (00007ffc`0f180771) but may not start them. backtick reports
// whether one was written, which disables the kernel-mode sign extension.
func parseNumber(word string, radix int) (v uint64, res numberResult, backtick bool) {
	w := strings.ToLower(word)
	base := radix
	digits := w
	prefixed := false
	switch {
	case len(w) >= 2 && w[0] == '0' && strings.IndexByte("xnty", w[1]) >= 0:
		base = prefixBase(w[1])
		digits = w[2:]
		prefixed = true
	case len(w) >= 2 && w[len(w)-1] == 'h':
		base = 16
		digits = w[:len(w)-1]
	}
	if digits == "" {
		if prefixed {
			return 0, isNumber, false
		}
		return 0, notNumber, false
	}
	if digits[0] == '`' {
		return 0, notNumber, false
	}
	overflow := false
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c == '`' {
			backtick = true
			continue
		}
		d := digitValue(c)
		if d < 0 || d >= base {
			return 0, notNumber, false
		}
		hi, lo := bits.Mul64(v, uint64(base))
		lo2 := lo + uint64(d)
		if hi != 0 || lo2 < lo {
			overflow = true
		}
		v = lo2
	}
	if overflow {
		return 0, numberOverflow, backtick
	}
	return v, isNumber, backtick
}

func digitValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	}
	return -1
}

func prefixBase(c byte) int {
	switch c {
	case 'x':
		return 16
	case 'n':
		return 10
	case 't':
		return 8
	}
	return 2 // 'y'
}
