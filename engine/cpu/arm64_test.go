package cpu

import (
	"errors"
	"fmt"
	"testing"
)

func a64(c Context) *ARM64Context { return c.(*ARM64Context) }

// arm64Fields is the ARM64 CONTEXT of FORMATS.md §4.4, offset by offset.
var arm64Fields = func() []field {
	f := []field{
		{"", 0x00, 4, func(c Context) uint64 { return uint64(a64(c).ContextFlags) }},
		{"cpsr", 0x04, 4, func(c Context) uint64 { return uint64(a64(c).Cpsr) }},
	}
	for i := 0; i < 29; i++ { // X*n* at 0x08+8n
		f = append(f, field{fmt.Sprintf("x%d", i), 0x08 + 8*i, 8, func(c Context) uint64 { return a64(c).X[i] }})
	}
	return append(f,
		field{"fp", 0xF0, 8, func(c Context) uint64 { return a64(c).Fp }},
		field{"x29", 0xF0, 8, func(c Context) uint64 { return a64(c).X[29] }},
		field{"lr", 0xF8, 8, func(c Context) uint64 { return a64(c).Lr }},
		field{"x30", 0xF8, 8, func(c Context) uint64 { return a64(c).X[30] }},
		field{"sp", 0x100, 8, func(c Context) uint64 { return a64(c).Sp }},
		field{"pc", 0x108, 8, func(c Context) uint64 { return a64(c).Pc }},
	)
}()

var arm64TailFields = func() []field {
	f := []field{
		{"fpcr", 0x310, 4, func(c Context) uint64 { return uint64(a64(c).Fpcr) }},
		{"fpsr", 0x314, 4, func(c Context) uint64 { return uint64(a64(c).Fpsr) }},
	}
	for i := 0; i < 8; i++ {
		f = append(f, field{"", 0x318 + 4*i, 4, func(c Context) uint64 { return uint64(a64(c).Bcr[i]) }})
		f = append(f, field{"", 0x338 + 8*i, 8, func(c Context) uint64 { return a64(c).Bvr[i] }})
	}
	for i := 0; i < 2; i++ {
		f = append(f, field{"", 0x378 + 4*i, 4, func(c Context) uint64 { return uint64(a64(c).Wcr[i]) }})
		f = append(f, field{"", 0x380 + 8*i, 8, func(c Context) uint64 { return a64(c).Wvr[i] }})
	}
	return f
}()

// arm64Record is a random record whose flags word is the Windows ARM64 one, so that the decoder
// does not take it for breakpad's old layout.
func arm64Record(n int, seed uint64) []byte {
	rec := randomRecord(n, seed)
	put32(rec, 0, ContextFlagARM64|0x7)
	return rec
}

func TestDecodeARM64Layout(t *testing.T) {
	rec := arm64Record(arm64ContextSize, 12)
	c := a64(checkFields(t, DecodeARM64, rec, append(append([]field{}, arm64Fields...), arm64TailFields...)))
	if c.Arch() != ArchARM64 {
		t.Errorf("Arch() = %v", c.Arch())
	}
	if c.PC() != c.Pc || c.SP() != c.Sp || c.FP() != c.Fp {
		t.Errorf("PC/SP/FP = %#x/%#x/%#x, want pc/sp/fp", c.PC(), c.SP(), c.FP())
	}
	if !c.HasNeon || !c.HasDebug {
		t.Errorf("HasNeon %v HasDebug %v on a full record", c.HasNeon, c.HasDebug)
	}
	checkBlocks(t, "V", rec, 0x110, c.V[:]) // V[32] 0x110–0x30F
	want := []string{}
	for i := 0; i < 29; i++ {
		want = append(want, fmt.Sprintf("x%d", i))
	}
	checkNames(t, c, append(want, "fp", "lr", "sp", "pc", "cpsr"))
	// w registers are the low halves.
	for i := 0; i <= 30; i++ {
		x, _ := c.Register(fmt.Sprintf("x%d", i))
		w, ok := c.Register(fmt.Sprintf("W%d", i))
		if !ok || w != x&0xFFFFFFFF {
			t.Errorf("w%d = %#x, %v; want %#x", i, w, ok, x&0xFFFFFFFF)
		}
	}
	for _, bad := range []string{"x31", "w31", "x-1", "x01", "x", "r0", "rax", "eax", "v0", "x1a"} {
		if v, ok := c.Register(bad); ok {
			t.Errorf("Register(%q) = %#x, true; want not found", bad, v)
		}
	}
	if v, ok := c.Register("XZR"); !ok || v != 0 {
		t.Errorf("xzr = %#x, %v", v, ok)
	}
}

func TestDecodeARM64Short(t *testing.T) {
	checkShort(t, ArchARM64, DecodeARM64, 0x110)
	c := a64(checkFields(t, DecodeARM64, arm64Record(0x110, 6), arm64Fields))
	if c.HasNeon || c.HasDebug {
		t.Error("0x110-byte record claims NEON or debug registers")
	}
	c = a64(checkFields(t, DecodeARM64, arm64Record(0x318, 7), arm64Fields))
	if !c.HasNeon || c.HasDebug {
		t.Errorf("0x318-byte record: HasNeon %v HasDebug %v", c.HasNeon, c.HasDebug)
	}
	if c := a64(checkFields(t, DecodeARM64, arm64Record(0x390+0x80, 8), arm64Fields)); !c.HasDebug {
		t.Error("long record: debug registers not decoded")
	}
}

func TestDecodeARM64RefusesBreakpadOldLayout(t *testing.T) {
	rec := make([]byte, arm64ContextSize)
	put32(rec, 0, 0x80000003) // breakpad's ARM64_OLD CPU bit, FORMATS.md §4.4
	_, err := DecodeARM64(rec)
	var le *LayoutError
	if !errors.As(err, &le) || le.Flags != 0x80000003 {
		t.Fatalf("err = %v, want *LayoutError with the flags", err)
	}
}
