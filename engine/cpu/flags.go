package cpu

import (
	"fmt"
	"strings"
)

// EFLAGS bits that WinDbg's `r` spells out (WINDBG-SPEC §3.9), in the order it prints them:
// each entry is the bit and the mnemonic for set and clear.
var eflagsMnemonics = []struct {
	bit      uint
	set, clr string
}{
	{11, "ov", "nv"}, // OF overflow
	{10, "dn", "up"}, // DF direction
	{9, "ei", "di"},  // IF interrupts enabled
	{7, "ng", "pl"},  // SF sign
	{6, "zr", "nz"},  // ZF zero
	{4, "ac", "na"},  // AF auxiliary carry
	{2, "pe", "po"},  // PF parity
	{0, "cy", "nc"},  // CF carry
}

// FlagMnemonics spells an x86/x64 EFLAGS value the way `r` does: "nv up ei pl zr na pe nc"
// (OF, DF, IF, SF, ZF, AF, PF, CF; WINDBG-SPEC §3.9).
func FlagMnemonics(efl uint32) string {
	parts := make([]string, len(eflagsMnemonics))
	for i, f := range eflagsMnemonics {
		if efl&(1<<f.bit) != 0 {
			parts[i] = f.set
		} else {
			parts[i] = f.clr
		}
	}
	return strings.Join(parts, " ")
}

// IOPL is the I/O privilege level held in EFLAGS bits 12-13.
func IOPL(efl uint32) uint32 { return efl >> 12 & 3 }

// EFlagsText is the flags part of `r` output on x86 and x64, with WinDbg's spacing:
// "iopl=0         nv up ei pl zr na pe nc" (WINDBG-SPEC §3.9: the iopl field is ten columns wide).
func EFlagsText(efl uint32) string {
	return fmt.Sprintf("iopl=%-10d%s", IOPL(efl), FlagMnemonics(efl))
}
