package cpu

import (
	"encoding/binary"
	"strings"
)

// subRegister names a slice of a full-width register: the bits [shift, shift+bits) of base.
// MASM expressions name these (al, ax, eax, r8d, w0, ...), and WinDbg evaluates them as the
// zero-extended slice.
type subRegister struct {
	base  string
	shift uint
	bits  uint
}

func (s subRegister) extract(v uint64) uint64 {
	v >>= s.shift
	if s.bits < 64 {
		v &= 1<<s.bits - 1
	}
	return v
}

// lookupRegister resolves name (case-insensitively) with full(canonical) for full-width
// registers and the subs table for slices of them.
func lookupRegister(name string, full func(string) (uint64, bool), subs map[string]subRegister) (uint64, bool) {
	name = strings.ToLower(name)
	if v, ok := full(name); ok {
		return v, true
	}
	if s, ok := subs[name]; ok {
		if v, ok := full(s.base); ok {
			return s.extract(v), true
		}
	}
	return 0, false
}

// eflagsBits are the single flags of EFLAGS that WinDbg accepts as registers in expressions
// (@zf, @cf, ...); iopl is two bits wide. Bit positions are the architectural EFLAGS layout.
var eflagsBits = map[string]subRegister{
	"cf":   {"efl", 0, 1},
	"pf":   {"efl", 2, 1},
	"af":   {"efl", 4, 1},
	"zf":   {"efl", 6, 1},
	"sf":   {"efl", 7, 1},
	"tf":   {"efl", 8, 1},
	"if":   {"efl", 9, 1},
	"df":   {"efl", 10, 1},
	"of":   {"efl", 11, 1},
	"iopl": {"efl", 12, 2},
	"vif":  {"efl", 19, 1},
	"vip":  {"efl", 20, 1},
}

// addLegacySubRegisters adds the 16- and 8-bit names of the eight legacy x86 registers, keyed
// by the name of the register that holds them (eax on x86, rax on x64).
func addLegacySubRegisters(subs map[string]subRegister, a, b, c, d, si, di, bp, sp string) {
	for _, r := range []struct{ base, x, l, h string }{
		{a, "ax", "al", "ah"}, {b, "bx", "bl", "bh"}, {c, "cx", "cl", "ch"}, {d, "dx", "dl", "dh"},
	} {
		subs[r.x] = subRegister{r.base, 0, 16}
		subs[r.l] = subRegister{r.base, 0, 8}
		subs[r.h] = subRegister{r.base, 8, 8}
	}
	for _, r := range []struct{ base, x string }{{si, "si"}, {di, "di"}, {bp, "bp"}, {sp, "sp"}} {
		subs[r.x] = subRegister{r.base, 0, 16}
	}
	for k, v := range eflagsBits {
		subs[k] = v
	}
}

// le is a little-endian view of a record whose length the caller has already checked.
type le []byte

func (b le) u16(off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func (b le) u32(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func (b le) u64(off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
func (b le) v128(off int) (v [16]byte) {
	copy(v[:], b[off:off+16])
	return v
}
