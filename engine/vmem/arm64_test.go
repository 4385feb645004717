package vmem

import "testing"

// ARM64 descriptors (VMSAv8-64, 4 KB granule): bits 1:0 = 11 table/page, 01 block; bit 10 is
// the access flag, bits 7:6 AP, bits 54/53 UXN/PXN — none of them part of the address.
const (
	aTable = 3
	aBlock = 1
	aAF    = 1 << 10
	aAPRO  = 2 << 6
	aXN    = 3 << 53
)

func vaARM64(l0, l1, l2, l3, off uint64, kernel bool) uint64 {
	va := l0<<39 | l1<<30 | l2<<21 | l3<<12 | off
	if kernel {
		va |= 0xFFFF << 48
	}
	return va
}

func TestARM64(t *testing.T) {
	f := newFakePhys()
	const (
		u0, u1, u2, u3 = 0x20000, 0x21000, 0x22000, 0x23000
		k0, k1, k2, k3 = 0x30000, 0x31000, 0x32000, 0x33000
	)
	f.put64(u0+0*8, u1|aTable)
	f.put64(u0+1*8, 0x40000000|aBlock|aAF) // level-0 block: not allowed with 4 KB pages
	f.put64(u1+0*8, u2|aTable)
	f.put64(u1+1*8, 0x80000000|aBlock|aAF|aXN|1<<12) // 1 GB block; bits 29:12 not address
	f.put64(u2+1*8, u3|aTable)
	f.put64(u2+3*8, 0x40000000|aBlock|aAF|aAPRO) // 2 MB block
	f.put64(u3+2*8, 0x24000|aTable|aAF|aXN)      // page
	f.put64(u3+3*8, 0x25000|aBlock)              // 01 at level 3: reserved
	f.put64(u3+4*8, 0x26000)                     // invalid, non-zero
	f.put64(k0+0x100*8, k1|aTable)
	f.put64(k1+0*8, k2|aTable)
	f.put64(k2+0*8, k3|aTable)
	f.put64(k3+7*8, 0x77000|aTable|aAF)
	// ASID 0x42 in bits 63:48 and CnP (bit 0) of the TTBRs are not part of the table address.
	tr := NewARM64(f, u0|0x42<<48|1, k0)
	checkOK(t, tr, []wantOK{
		{"user 4 KB page", vaARM64(0, 0, 1, 2, 0x345, false), 0x24345, 0x1000},
		{"user 2 MB block", vaARM64(0, 0, 3, 0x10, 0x8, false), 0x40010008, 1 << 21},
		{"user 1 GB block", vaARM64(0, 1, 0x1FF, 0x1FF, 0xFFF, false), 0x80000000 + 1<<30 - 1, 1 << 30},
		{"kernel page via TTBR1", vaARM64(0x100, 0, 0, 7, 0x10, true), 0x77010, 0x1000},
	})
	checkFail(t, tr, []wantFail{
		{"level-0 block", vaARM64(1, 0, 0, 0, 0, false), "PXE", StateInvalid, "level 0"},
		{"reserved level-3", vaARM64(0, 0, 1, 3, 0, false), "PTE", StateInvalid, "reserved"},
		{"invalid level-3", vaARM64(0, 0, 1, 4, 0, false), "PTE", StateInvalid, "not valid"},
		{"zero level-3", vaARM64(0, 0, 1, 5, 0, false), "PTE", StateZero, ""},
		{"zero level-2", vaARM64(0, 0, 2, 0, 0, false), "PDE", StateZero, ""},
		{"kernel zero L0", vaARM64(0x101, 0, 0, 0, 0, true), "PXE", StateZero, ""},
		{"neither TTBR", 0x0001000000000000, "", StateBadAddress, "canonical"},
		{"half-set top bits", 0xFF00000000000000, "", StateBadAddress, "canonical"},
	})

	noKernel := NewARM64(f, u0, 0)
	checkFail(t, noKernel, []wantFail{{"no TTBR1", vaARM64(0x100, 0, 0, 7, 0, true), "", StateBadAddress, "TTBR1"}})
}
