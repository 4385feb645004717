package cpu

import "testing"

func TestEFlagsText(t *testing.T) {
	for _, tc := range []struct {
		efl  uint32
		want string
	}{
		// The two lines WINDBG-SPEC §3.9 quotes from real `r` output (x64 and x86).
		{0x00010297, "iopl=0         nv up ei ng nz ac pe cy"},
		{0x00000246, "iopl=0         nv up ei pl zr na pe nc"},
		// Every spelled-out flag set, then none: OF DF IF SF ZF AF PF CF = 0xED5.
		{0x00000ED5, "iopl=0         ov dn ei ng zr ac pe cy"},
		{0x00000000, "iopl=0         nv up di pl nz na po nc"},
		// IOPL lives in bits 12-13; TF (bit 8) is not spelled out.
		{0x00003302, "iopl=3         nv up ei pl nz na po nc"},
		{0x00001002, "iopl=1         nv up di pl nz na po nc"},
	} {
		if got := EFlagsText(tc.efl); got != tc.want {
			t.Errorf("EFlagsText(%#x) = %q, want %q", tc.efl, got, tc.want)
		}
	}
	if got := FlagMnemonics(0x246); got != "nv up ei pl zr na pe nc" {
		t.Errorf("FlagMnemonics(0x246) = %q", got)
	}
	if IOPL(0x3000) != 3 || IOPL(0x2000) != 2 || IOPL(0xFFFFCFFF) != 0 {
		t.Error("IOPL does not read bits 12-13")
	}
}
