package vmem

import "testing"

func TestX86PAE(t *testing.T) {
	f := newFakePhys()
	// FORMATS.md §3.1: CR3 bits 31:5 = a 32-byte aligned PDPT, which need not be page aligned.
	const pdpt, pd, pt = 0x3020, 0x4000, 0x6000
	f.put64(pdpt+3*8, pd|eP)
	f.put64(pd+0*8, pt|eP|eRW)
	f.put64(pd+1*8, 0x40000000|eP|eRW|ePS|ePAT) // 2 MB page
	f.put64(pd+2*8, 0x66<<32|eProtRW)           // page table paged out
	f.put64(pt+1*8, 0x7000|eP|eRW|eNX)
	f.put64(pt+2*8, 0x1234567000|eTrans|eProtRW)       // transition PFN 37:12 (§3.2)
	f.put64(pt+3*8, 0xFF00001234567000|eTrans|eProtRW) // bits above 37 are not PFN
	f.put64(pt+4*8, 0xABC<<32|eProtRW)                 // pagefile
	f.put64(pt+5*8, 0x80001000<<32|eProto|eProtRW)     // prototype at 0x80001000 (63:32)
	f.put64(pt+6*8, eProtRW)                           // demand zero
	tr := NewX86(f, pdpt|0x7, true)                    // low CR3 bits 4:0 ignored
	va := func(pdpte, pde, pte, off uint64) uint64 { return pdpte<<30 | pde<<21 | pte<<12 | off }
	checkOK(t, tr, []wantOK{
		{"4 KB page", va(3, 0, 1, 0x234), 0x7234, 0x1000},
		{"2 MB page", va(3, 1, 0x1FF, 0xFFF), 0x40000000 + 1<<21 - 1, 1 << 21},
		{"transition PTE above 4 GB", va(3, 0, 2, 8), 0x1234567008, 0x1000},
		{"transition PFN masked to 37:12", va(3, 0, 3, 8), 0x1234567008, 0x1000},
	})
	checkFail(t, tr, []wantFail{
		{"PDPTE zero", va(0, 0, 0, 0), "PDPTE", StateZero, ""},
		{"PDE paged out", va(3, 2, 0, 0), "PDE", StatePageFile, "0x66"},
		{"pagefile PTE", va(3, 0, 4, 0), "PTE", StatePageFile, "0xabc"},
		{"prototype PTE", va(3, 0, 5, 0), "PTE", StatePrototype, "0x80001000"},
		{"demand zero PTE", va(3, 0, 6, 0), "PTE", StateDemandZero, ""},
		{"PTE zero", va(3, 0, 7, 0), "PTE", StateZero, ""},
		{"above 4 GB", 1 << 32, "", StateBadAddress, "32-bit"},
	})
}

func TestX86NonPAE(t *testing.T) {
	f := newFakePhys()
	const pd, pt, ptTrans = 0x9000, 0xA000, 0xE000
	put := func(pa uint64, v uint32) { f.put32(pa, v) }
	put(pd+0x300*4, pt|eP|eRW)
	put(pd+0x301*4, 0x00C00000|eP|eRW|ePS) // 4 MB page (§3.1)
	put(pd+0x302*4, ptTrans|eTrans|eProtRW)
	put(pd+0x303*4, 0x00400000|eP|ePS|0x3F<<13) // PSE-36 high bits 20:13 unused by Windows (§3.3)
	put(pt+5*4, 0xB000|eP|eRW)
	put(pt+6*4, 0xD000|eTrans|eProtRW)
	put(pt+7*4, 0x123<<12|eProtRW) // PageFileHigh 31:12
	put(pt+8*4, eProto|eProtRW|0x1234<<12)
	put(pt+9*4, eProtRW)
	put(ptTrans+0, 0xF000|eP)
	tr := NewX86(f, pd|0x18, false)
	va := func(pde, pte, off uint64) uint64 { return pde<<22 | pte<<12 | off }
	checkOK(t, tr, []wantOK{
		{"4 KB page", va(0x300, 5, 0x10), 0xB010, 0x1000},
		{"4 MB page", va(0x301, 0x3FF, 0xFFF), 0x00C00000 + 1<<22 - 1, 1 << 22},
		{"4 MB page, PSE-36 bits ignored", va(0x303, 1, 0), 0x00401000, 1 << 22},
		{"transition PTE", va(0x300, 6, 4), 0xD004, 0x1000},
		{"page table in transition", va(0x302, 0, 4), 0xF004, 0x1000},
	})
	checkFail(t, tr, []wantFail{
		{"pagefile", va(0x300, 7, 0), "PTE", StatePageFile, "0x123"},
		{"prototype", va(0x300, 8, 0), "PTE", StatePrototype, ""},
		{"demand zero", va(0x300, 9, 0), "PTE", StateDemandZero, ""},
		{"PDE zero", va(0, 0, 0), "PDE", StateZero, ""},
		{"above 4 GB", 0x180000000, "", StateBadAddress, "32-bit"},
	})
	if got := tr.Levels(); len(got) != 2 || got[0] != "PDE" {
		t.Errorf("Levels = %v", got)
	}
}

// A 32-bit kernel pointer sign-extended to 64 bits (as dumps store them and MASM evaluates them)
// translates exactly like its 32-bit form.
func TestX86SignExtended(t *testing.T) {
	f := newFakePhys()
	const pdpt, pd, pt = 0x1000, 0x2000, 0x3000
	f.put64(pdpt+2*8, pd|1)
	f.put64(pd+5*8, pt|0x63)
	f.put64(pt+7*8, 0x77000|0x63)
	tr := NewX86(f, pdpt, true)
	va32 := uint64(2<<30 | 5<<21 | 7<<12 | 0x123)
	pa, _, err := tr.Translate(va32)
	pa2, _, err2 := tr.Translate(0xFFFFFFFF00000000 | va32)
	if err != nil || err2 != nil || pa != 0x77123 || pa2 != pa {
		t.Errorf("Translate(%#x) = %#x, %v; sign-extended = %#x, %v; want 0x77123 for both", va32, pa, err, pa2, err2)
	}
}
