package cpu

import (
	"fmt"
	"strconv"
	"strings"
)

// ARM64 CONTEXT layout, FORMATS.md §4.4 (0x390 bytes in total).
const (
	arm64ContextSize = 0x390
	arm64IntegerEnd  = 0x110 // end of Pc
	arm64NeonEnd     = 0x318 // end of Fpsr
)

// ContextFlagARM64 is the CPU bit of ContextFlags for Windows ARM64; contextFlagARM64Old is the
// bit of breakpad's older, differently laid out ARM64 record (FORMATS.md §4.4).
const (
	ContextFlagARM64    = 0x00400000
	contextFlagARM64Old = 0x80000000
)

// ARM64Context is a Windows ARM64 CONTEXT record. Field names follow the Windows structure,
// whose union names the general registers both X[0..30] and X0..X28, Fp, Lr: here X holds all
// 31 and Fp, Lr repeat X[29] and X[30].
type ARM64Context struct {
	ContextFlags uint32
	Cpsr         uint32
	X            [31]uint64
	Fp, Lr       uint64
	Sp, Pc       uint64

	// HasNeon is true when the record reached Fpsr (0x318); V, Fpcr and Fpsr are zero otherwise.
	HasNeon    bool
	V          [32][16]byte
	Fpcr, Fpsr uint32

	// HasDebug is true when the record held the debug registers (all 0x390 bytes).
	HasDebug bool
	Bcr      [8]uint32
	Bvr      [8]uint64
	Wcr      [2]uint32
	Wvr      [2]uint64
}

// LayoutError reports a CONTEXT record in a layout wdbg does not decode.
type LayoutError struct {
	Arch   Arch
	Flags  uint32
	Reason string
}

func (e *LayoutError) Error() string {
	return fmt.Sprintf("%s CONTEXT (flags %#x): %s", e.Arch, e.Flags, e.Reason)
}

// DecodeARM64 decodes a Windows ARM64 CONTEXT (FORMATS.md §4.4). It needs the record up to Pc
// (0x110 bytes); the NEON registers and the debug registers are decoded when present, and a
// longer record is accepted. Breakpad's older ARM64 layout (CPU bit 0x80000000) is refused with a
// *LayoutError, because its offsets differ.
//
// The returned Context is an *ARM64Context.
func DecodeARM64(b []byte) (Context, error) {
	if len(b) < arm64IntegerEnd {
		return nil, &ShortError{Arch: ArchARM64, Need: arm64IntegerEnd, Have: len(b)}
	}
	r := le(b)
	flags := r.u32(0x00)
	if flags&contextFlagARM64Old != 0 && flags&ContextFlagARM64 == 0 {
		return nil, &LayoutError{Arch: ArchARM64, Flags: flags, Reason: "breakpad's old ARM64 layout is not supported"}
	}
	c := &ARM64Context{
		ContextFlags: flags,
		Cpsr:         r.u32(0x04),
		Fp:           r.u64(0xF0),
		Lr:           r.u64(0xF8),
		Sp:           r.u64(0x100),
		Pc:           r.u64(0x108),
	}
	for i := range c.X { // X0–X28 at 0x08+8n, then Fp (x29) at 0xF0 and Lr (x30) at 0xF8
		c.X[i] = r.u64(0x08 + 8*i)
	}
	if len(b) >= arm64NeonEnd {
		c.HasNeon = true
		for i := range c.V {
			c.V[i] = r.v128(0x110 + 16*i)
		}
		c.Fpcr = r.u32(0x310)
		c.Fpsr = r.u32(0x314)
	}
	if len(b) >= arm64ContextSize {
		c.HasDebug = true
		for i := range c.Bcr {
			c.Bcr[i] = r.u32(0x318 + 4*i)
		}
		for i := range c.Bvr {
			c.Bvr[i] = r.u64(0x338 + 8*i)
		}
		for i := range c.Wcr {
			c.Wcr[i] = r.u32(0x378 + 4*i)
		}
		for i := range c.Wvr {
			c.Wvr[i] = r.u64(0x380 + 8*i)
		}
	}
	return c, nil
}

func (c *ARM64Context) Arch() Arch { return ArchARM64 }
func (c *ARM64Context) PC() uint64 { return c.Pc }
func (c *ARM64Context) SP() uint64 { return c.Sp }
func (c *ARM64Context) FP() uint64 { return c.Fp }

var arm64RegisterNames = func() []string {
	names := make([]string, 0, 34)
	for i := 0; i <= 28; i++ {
		names = append(names, "x"+strconv.Itoa(i))
	}
	return append(names, "fp", "lr", "sp", "pc", "cpsr")
}()

// RegisterNames lists x0..x28, fp, lr, sp, pc and cpsr, the order WinDbg's `r` shows on ARM64.
func (c *ARM64Context) RegisterNames() []string {
	return append([]string(nil), arm64RegisterNames...)
}

// Register looks a register up by name, case-insensitively: x0..x30 (x29 = fp, x30 = lr), fp,
// lr, sp, pc, cpsr, fpcr, fpsr, the 32-bit views w0..w30, and the zero registers xzr/wzr.
func (c *ARM64Context) Register(name string) (uint64, bool) {
	name = strings.ToLower(name)
	switch name {
	case "fp":
		return c.Fp, true
	case "lr":
		return c.Lr, true
	case "sp":
		return c.Sp, true
	case "pc":
		return c.Pc, true
	case "cpsr":
		return uint64(c.Cpsr), true
	case "fpcr":
		return uint64(c.Fpcr), true
	case "fpsr":
		return uint64(c.Fpsr), true
	case "xzr", "wzr":
		return 0, true
	}
	if len(name) < 2 || (name[0] != 'x' && name[0] != 'w') {
		return 0, false
	}
	n, err := strconv.Atoi(name[1:])
	if err != nil || n < 0 || n > 30 || strconv.Itoa(n) != name[1:] {
		return 0, false
	}
	v := c.X[n]
	if name[0] == 'w' {
		v &= 0xFFFFFFFF
	}
	return v, true
}
