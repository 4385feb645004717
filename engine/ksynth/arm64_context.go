package ksynth

import "fmt"

// The ARM64 CONTEXT (FORMATS.md §4.4, 0x390 bytes): ContextFlags u32 @0, Cpsr u32 @4, X0–X28
// @0x08+8n, Fp (x29) @0xF0, Lr (x30) @0xF8, Sp @0x100, Pc @0x108, V[32] @0x110, Fpcr @0x310,
// Fpsr @0x314, debug registers from 0x318.

const (
	contextSizeARM64 = 0x390
	// ContextFlags: CONTEXT_ARM64 (0x00400000) | CONTROL | INTEGER | FLOATING_POINT (§4.4).
	contextFlagsARM64 = 0x00400007
	// cpsrEL1h is the PSTATE of kernel code: EL1 with SP_EL1 (M[3:0] = 0b0101), IRQs and FIQs
	// unmasked. The architecture's encoding, not a Windows fact.
	cpsrEL1h = 0x5
)

// arm64Regs maps the register names of the writer's maps (and of the manifest's Context) to
// their CONTEXT offsets: x0..x28, fp, lr, sp, pc.
var arm64Regs = func() map[string]uint32 {
	m := map[string]uint32{"fp": 0xF0, "lr": 0xF8, "sp": 0x100, "pc": 0x108}
	for i := 0; i <= 28; i++ {
		m[fmt.Sprintf("x%d", i)] = 0x08 + 8*uint32(i)
	}
	return m
}()

// contextARM64 encodes an ARM64 CONTEXT with the given registers ("cpsr" optional).
func contextARM64(regs map[string]uint64) []byte {
	c := le(make([]byte, contextSizeARM64))
	c.u32(0x00, contextFlagsARM64)
	cpsr, ok := regs["cpsr"]
	if !ok {
		cpsr = cpsrEL1h
	}
	c.u32(0x04, uint32(cpsr))
	for name, off := range arm64Regs {
		c.u64(off, regs[name])
	}
	return c
}
