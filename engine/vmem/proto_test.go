package vmem

import (
	"errors"
	"strings"
	"testing"
)

// Prototype PTEs (FORMATS.md §3.2): a last-level entry with Prototype (bit 10) set and a real
// ProtoAddress names a prototype PTE in system space; that entry is decoded by the same table
// (valid, transition → the page; Prototype set → a subsection PTE, file-backed; pagefile,
// demand zero → not available). The tables below are built by hand from those bit positions.

// x64 ProtoAddress is bits 63:16 holding the 48-bit VA (§3.2): entry = VA << 16 | flags.
func x64Proto(va uint64) uint64 { return va<<16 | eProto | eProtRW }

type protoX64 struct {
	f        *fakePhys
	tr       *Translator
	protoVA  uint64 // kernel VA of the page of prototype PTEs (physical protoPage)
	user     func(pte uint64) uint64
	userPT   uint64
	selfProt uint64 // kernel VA whose own PTE is a prototype PTE
}

const (
	protoPage  = 0x6000  // physical page holding the prototype PTEs
	protoValid = 0x20000 // the page the valid prototype PTE names
	protoTrans = 0x21000 // the page the transition prototype PTE names
)

func buildProtoX64() protoX64 {
	f := newFakePhys()
	const (
		pml4, kPDPT, kPD, kPT = 0x1000, 0x2000, 0x3000, 0x4000
		uPDPT, uPD, uPT       = 0x12000, 0x13000, 0x14000
	)
	kva := func(pte uint64) uint64 { return vaX64(0x1F0, 0, 0, pte, 0) }
	uva := func(pte uint64) uint64 { return vaX64(1, 0, 0, pte, 0) }
	f.put64(pml4+0x1F0*8, kPDPT|eP|eRW)
	f.put64(kPDPT, kPD|eP|eRW)
	f.put64(kPD, kPT|eP|eRW)
	f.put64(kPT+0*8, protoPage|eP|eRW|eNX)    // the prototype PTE page
	f.put64(kPT+1*8, x64Proto(kva(0)))        // a kernel page that is itself prototype-mapped
	f.put64(kPT+3*8, 0x7F000|eP|eRW|eNX)      // valid, but the page is not in the dump
	f.put64(pml4+1*8, uPDPT|eP|eRW|4)         // user half
	f.put64(uPDPT, uPD|eP|eRW|4)              // (bit 2: U/S)
	f.put64(uPD, uPT|eP|eRW|4)                //
	f.put64(protoPage+0*8, protoValid|eP|eRW) // valid prototype PTE
	f.put64(protoPage+1*8, protoTrans|eTrans|eProtRW)
	f.put64(protoPage+2*8, x64Proto(kva(0))) // Prototype set in a prototype PTE: subsection
	f.put64(protoPage+3*8, 0x321<<32|eProtRW)
	f.put64(protoPage+4*8, eProtRW)
	// protoPage+5*8 stays zero
	for i, target := range []uint64{
		kva(0) + 0*8, kva(0) + 1*8, kva(0) + 2*8, kva(0) + 3*8, kva(0) + 4*8, kva(0) + 5*8,
		kva(1),         // 6: the prototype PTE's own page is prototype-mapped
		kva(2),         // 7: its page is not mapped at all
		kva(3),         // 8: its page is mapped but not in the dump
		0xFFFFFFFF0000, // 9: "look it up in the VAD"
		0x400000,       // 10: a user address
		kva(0) + 0x2C,  // 11: not 8-byte aligned
	} {
		f.put64(uPT+uint64(i)*8, x64Proto(target))
	}
	f.put64(uPT+12*8, 0x30000|eP|eRW|4) // an ordinary page beside them, same leaf table
	for _, p := range []uint64{protoValid, protoTrans, 0x30000} {
		f.fillPage(p)
	}
	return protoX64{f: f, tr: NewX64(f, pml4, false), protoVA: kva(0), user: uva, userPT: uPT, selfProt: kva(1)}
}

func TestX64PrototypeFollowed(t *testing.T) {
	p := buildProtoX64()
	checkOK(t, p.tr, []wantOK{
		{"valid prototype PTE", p.user(0) + 0x18, protoValid + 0x18, 0x1000},
		{"transition prototype PTE", p.user(1) + 0xFF8, protoTrans + 0xFF8, 0x1000},
		{"the prototype PTE page itself", p.protoVA + 8, protoPage + 8, 0x1000},
		{"ordinary page in the same table", p.user(12) + 4, 0x30004, 0x1000},
	})
	checkFail(t, p.tr, []wantFail{
		{"subsection PTE", p.user(2), ProtoLevel, StateSubsection, "subsection"},
		{"prototype PTE in the pagefile", p.user(3), ProtoLevel, StatePageFile, "page 0x321"},
		{"prototype PTE demand zero", p.user(4), ProtoLevel, StateDemandZero, "demand zero"},
		{"prototype PTE zero", p.user(5), ProtoLevel, StateZero, ""},
		{"prototype PTE's page is prototype-mapped", p.user(6), "PTE", StatePrototype, "own page does not translate: PTE"},
		{"prototype PTE's page unmapped", p.user(7), "PTE", StatePrototype, "own page does not translate: PTE not present (entry is zero)"},
		{"prototype PTE's page not in the dump", p.user(8), "PTE", StatePrototype, "physical 0x7f000, is not in the dump"},
		{"VAD value", p.user(9), "PTE", StatePrototype, "VAD"},
		{"user-space prototype address", p.user(10), "PTE", StatePrototype, "outside system space"},
		{"misaligned prototype address", p.user(11), "PTE", StatePrototype, "aligned"},
	})

	// The walk records the prototype PTE as a last step, with its physical address and value.
	w, err := p.tr.Walk(p.user(1))
	if err != nil || len(w.Steps) != 5 {
		t.Fatalf("Walk = %+v, %v; want 5 steps", w, err)
	}
	st := w.Steps[4]
	if st.Level != ProtoLevel || st.EntryAddr != protoPage+8 || st.Entry != protoTrans|eTrans|eProtRW || st.State != StateTransition {
		t.Errorf("proto step = %+v", st)
	}
	if w.Steps[3].State != StatePrototype || w.ProtoVA != p.protoVA+8 {
		t.Errorf("PTE step %+v, ProtoVA %#x; want a prototype PTE naming %#x", w.Steps[3], w.ProtoVA, p.protoVA+8)
	}
	// A subsection PTE: the walk still shows the prototype PTE that stopped it.
	w, err = p.tr.Walk(p.user(2))
	if err == nil || len(w.Steps) != 5 || w.Steps[4].State != StateSubsection || w.Steps[4].EntryAddr != protoPage+16 {
		t.Errorf("subsection walk = %+v, %v", w, err)
	}
	// No recursion: the prototype PTE's own page is itself prototype-mapped; the walk reads
	// the four entries of va and stops, with no prototype step.
	w, err = p.tr.Walk(p.user(6))
	if err == nil || len(w.Steps) != 4 {
		t.Errorf("walk of a prototype in a prototype-mapped page = %d steps, %v", len(w.Steps), err)
	}
	var te *TranslationError
	if !errors.As(err, &te) || te.Err == nil {
		t.Errorf("error %v does not wrap the prototype page's own translation error", err)
	}
}

// A prototype page read through the cache: the leaf table is cached, the page translation
// too, and neither may stand for the prototype PTE's own page or a failure.
func TestX64PrototypeCache(t *testing.T) {
	p := buildProtoX64()
	buf := make([]byte, 16)
	for pass := 0; pass < 3; pass++ {
		for _, c := range []struct {
			va   uint64
			want uint64 // first word: the physical address it was read from (fillPage)
		}{{p.user(12), 0x30000}, {p.user(0) + 8, protoValid + 8}, {p.user(1), protoTrans}, {p.protoVA, protoValid | eP | eRW}} {
			if n, err := p.tr.ReadAt(buf, c.va); n != 16 || err != nil || le64(buf) != c.want {
				t.Errorf("pass %d: ReadAt(%#x) = %d, %v, %#x; want %#x", pass, c.va, n, err, le64(buf), c.want)
			}
		}
		if _, _, err := p.tr.Translate(p.user(2)); err == nil {
			t.Errorf("pass %d: the subsection page translated", pass)
		}
	}
	// A read across two prototype-mapped pages lands in two unrelated physical pages.
	buf = make([]byte, 32)
	if n, err := p.tr.ReadAt(buf, p.user(0)+0xFF0); n != 32 || err != nil {
		t.Fatalf("ReadAt across = %d, %v", n, err)
	}
	for i, w := range []uint64{protoValid + 0xFF0, protoValid + 0xFF8, protoTrans, protoTrans + 8} {
		if got := le64(buf[i*8:]); got != w {
			t.Errorf("word %d = %#x; want %#x", i, got, w)
		}
	}
}

func TestPAEPrototype(t *testing.T) {
	f := newFakePhys()
	const pdpt, kPD, uPD, kPT, uPT = 0x1000, 0x2000, 0x3000, 0x4000, 0x5000
	const kva = 0x80000000 // PDPTE 2, PDE 0, PTE 0
	f.put64(pdpt+0*8, uPD|eP)
	f.put64(pdpt+2*8, kPD|eP)
	f.put64(kPD, kPT|eP|eRW)
	f.put64(kPT, protoPage|eP|eRW)
	f.put64(uPD+2*8, uPT|eP|eRW|4)
	// PAE ProtoAddress is bits 63:32 (§3.2).
	proto := func(va uint64) uint64 { return va<<32 | eProto | eProtRW }
	f.put64(protoPage+0*8, 0x123456000|eP|eRW)              // frame above 4 GB (bits 51:12)
	f.put64(protoPage+1*8, 0xFF0000ABCDE000|eTrans|eProtRW) // transition PFN is 37:12 only
	f.put64(protoPage+2*8, proto(kva))                      // subsection
	f.put64(uPT+0*8, proto(kva))
	f.put64(uPT+1*8, proto(kva+8))
	f.put64(uPT+2*8, proto(kva+16))
	f.put64(uPT+3*8, proto(0xFFFFFFFF)) // VAD
	f.put64(uPT+4*8, proto(0x7FFE0000)) // user address
	f.put64(uPT+5*8, proto(0xC0001000)) // PDPTE 3 is zero: the prototype's page is unmapped
	f.fillPage(0x123456000)
	f.fillPage(0x00ABCDE000)
	tr := NewX86(f, pdpt, true)
	va := func(pte uint64) uint64 { return 2<<21 | pte<<12 }
	checkOK(t, tr, []wantOK{
		{"valid prototype PTE above 4 GB", va(0) + 0x10, 0x123456010, 0x1000},
		{"transition prototype PTE", va(1) + 0x20, 0xABCDE020, 0x1000},
	})
	checkFail(t, tr, []wantFail{
		{"subsection", va(2), ProtoLevel, StateSubsection, "prototype PTE at 0x80000010"},
		{"VAD", va(3), "PTE", StatePrototype, "VAD"},
		{"user address", va(4), "PTE", StatePrototype, "outside system space"},
		{"unmapped prototype page", va(5), "PTE", StatePrototype, "PDPTE not present"},
	})
	w, err := tr.Walk(va(1))
	if err != nil || len(w.Steps) != 4 || w.Steps[3].Level != ProtoLevel || w.Steps[3].EntryAddr != protoPage+8 || w.ProtoVA != kva+8 {
		t.Errorf("Walk = %+v, %v", w, err)
	}
}

// Non-PAE x86 splits the prototype address into ProtoAddressLow 8:1 and ProtoAddressHigh 31:11,
// an offset from a base FORMATS.md does not give: such entries stop with a reason, unfollowed.
func TestX86NonPAEPrototypeNotFollowed(t *testing.T) {
	f := newFakePhys()
	const pd, pt = 0x9000, 0xA000
	f.put32(pd+1*4, pt|eP|eRW|4)
	f.put32(pt+3*4, 0x80000000|eProto|eProtRW)
	tr := NewX86(f, pd, false)
	va := uint64(1<<22 | 3<<12)
	checkFail(t, tr, []wantFail{{"prototype", va, "PTE", StatePrototype, "not decoded"}})
	if w, _ := tr.Walk(va); len(w.Steps) != 2 || w.ProtoVA != 0 {
		t.Errorf("Walk = %+v; want the two entries only", w)
	}
}

func TestSubsectionStateName(t *testing.T) {
	if s := StateSubsection.String(); !strings.Contains(s, "subsection") {
		t.Errorf("StateSubsection = %q", s)
	}
}
