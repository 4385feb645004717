package vmem

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// L1TF swizzling (FORMATS.md §3.2 [gap], swizzle.go): a transition entry whose frame has the
// kernel's high physical-address bit inverted names a page beyond the dump; the heuristic flips
// the bit back when that gives a page the dump holds. The tables are built by hand from the
// §3.1/§3.2 bit positions; the bit is 45 (a physical-address bit: PFN bit 33).

const (
	l1tfBit  = 45
	l1tfFlip = uint64(1) << l1tfBit
)

type swizzleX64 struct {
	f  *fakePhys
	va func(pde, pte uint64) uint64
}

// buildSwizzleX64 lays out PML4 0x1000 → PDPT 0x2000 → PD 0x3000 → PT 0x4000 (PD entry 0) and,
// at PD entry 1, a page table in transition whose frame is swizzled (real table 0x9000).
func buildSwizzleX64() swizzleX64 {
	f := newFakePhys()
	const pml4, pdpt, pd, pt, ptSwz = 0x1000, 0x2000, 0x3000, 0x4000, 0x9000
	f.put64(pml4+0x1F0*8, pdpt|eP|eRW)
	f.put64(pdpt, pd|eP|eRW)
	f.put64(pd+0*8, pt|eP|eRW)
	f.put64(pd+1*8, ptSwz|l1tfFlip|eTrans|eProtRW) // page table in transition, swizzled
	f.put64(pt+0*8, 0x5000|eP|eRW|eNX)
	f.put64(pt+1*8, 0x6000|l1tfFlip|eTrans|eProtRW) // swizzled transition PTE: the page is 0x6000
	f.put64(pt+2*8, 0x7000|eTrans|eProtRW)          // transition PTE whose page is in the dump
	f.put64(pt+3*8, 0x8000|l1tfFlip|eP|eRW)         // a VALID entry with bit 45 set
	f.put64(pt+4*8, 0xA000|l1tfFlip|eTrans|eProtRW) // swizzled, but 0xA000 is not in the dump either
	f.put64(ptSwz+0*8, 0xB000|eP|eRW)
	for _, p := range []uint64{0x5000, 0x6000, 0x7000, 0x7000 | l1tfFlip, 0x8000, 0xB000} {
		f.fillPage(p)
	}
	return swizzleX64{f: f, va: func(pde, pte uint64) uint64 { return vaX64(0x1F0, 0, pde, pte, 0) }}
}

func TestL1TFSwizzledTransitionFollowed(t *testing.T) {
	s := buildSwizzleX64()
	tr := NewX64(s.f, 0x1000, false).WithL1TF(l1tfBit)
	if tr.L1TFBit() != l1tfBit {
		t.Fatalf("L1TFBit() = %d, want %d", tr.L1TFBit(), l1tfBit)
	}
	checkOK(t, tr, []wantOK{
		{"swizzled transition PTE: bit 45 restored", s.va(0, 1) + 0x123, 0x6123, 0x1000},
		{"transition PTE whose page is in the dump: not flipped", s.va(0, 2) + 8, 0x7008, 0x1000},
		{"valid entry with bit 45 set: never changed", s.va(0, 3), 0x8000 | l1tfFlip, 0x1000},
		{"swizzled, neither page in the dump: read as it is", s.va(0, 4), 0xA000 | l1tfFlip, 0x1000},
		{"page table in transition, swizzled", s.va(1, 0) + 0x10, 0xB010, 0x1000},
	})

	w, err := tr.Walk(s.va(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	last := w.Steps[len(w.Steps)-1]
	if last.Level != "PTE" || last.State != StateTransition || last.L1TFBit != l1tfBit {
		t.Errorf("PTE step %+v, want a transition step marked with bit %d", last, l1tfBit)
	}
	if want := "transition, L1TF-swizzled: PFN bit 33 restored"; !strings.Contains(last.Note(), want) {
		t.Errorf("note %q lacks %q", last.Note(), want)
	}
	for _, st := range w.Steps[:len(w.Steps)-1] {
		if st.L1TFBit != 0 || st.Note() != "" {
			t.Errorf("valid step %s marked: %+v %q", st.Level, st, st.Note())
		}
	}
	for _, va := range []uint64{s.va(0, 2), s.va(0, 3), s.va(0, 4)} {
		w, _ := tr.Walk(va)
		if st := w.Steps[len(w.Steps)-1]; st.L1TFBit != 0 {
			t.Errorf("Walk(%#x): entry %#x marked as restored", va, st.Entry)
		}
	}
	if w, _ := tr.Walk(s.va(1, 0)); w.Steps[2].Level != "PDE" || w.Steps[2].L1TFBit != l1tfBit {
		t.Errorf("transition PDE step not marked: %+v", w.Steps)
	}

	// ReadAt across a valid page into the swizzled one: the second page comes through the
	// cached leaf table (tlb.go), which must apply the rule too.
	fresh := NewX64(s.f, 0x1000, false).WithL1TF(l1tfBit)
	for pass := 0; pass < 2; pass++ {
		buf := make([]byte, 32)
		n, err := fresh.ReadAt(buf, s.va(0, 0)+0xFF0)
		if err != nil || n != 32 {
			t.Fatalf("ReadAt = %d, %v", n, err)
		}
		if got := binary.LittleEndian.Uint64(buf[16:]); got != 0x6000 { // fillPage: each word is its PA
			t.Errorf("pass %d: word after the page boundary = %#x, want 0x6000 (the restored page)", pass, got)
		}
	}
}

func TestL1TFIndexZeroReadsEntriesAsTheyAre(t *testing.T) {
	s := buildSwizzleX64()
	for _, tr := range []*Translator{NewX64(s.f, 0x1000, false), NewX64(s.f, 0x1000, false).WithL1TF(0)} {
		if tr.L1TFBit() != 0 {
			t.Fatalf("L1TFBit() = %d without an index", tr.L1TFBit())
		}
		va := s.va(0, 1) + 0x40
		checkOK(t, tr, []wantOK{{"swizzled transition PTE, no index", va, 0x6040 | l1tfFlip, 0x1000}})
		var buf [8]byte
		n, err := tr.ReadAt(buf[:], va)
		var re *ReadError
		if n != 0 || !errors.As(err, &re) || re.VA != va || re.PA != 0x6040|l1tfFlip {
			t.Errorf("ReadAt(%#x) = %d, %v; want a ReadError naming %#x / physical %#x", va, n, err, va, 0x6040|l1tfFlip)
		}
		if w, _ := tr.Walk(va); w.Steps[len(w.Steps)-1].L1TFBit != 0 {
			t.Errorf("entry marked as restored without an index: %+v", w.Steps)
		}
		// a page table in transition, swizzled: the walk stops at the next level, naming it
		checkFail(t, tr, []wantFail{{"swizzled page table, no index", s.va(1, 0), "PTE", StateUnreadable, "page table not in the dump"}})
	}
}

func TestL1TFBitOutsideTheTransitionField(t *testing.T) {
	f := newFakePhys()
	for _, c := range []struct {
		tr   *Translator
		bit  uint
		want uint
	}{
		{NewX64(f, 0, false), 47, 47}, {NewX64(f, 0, false), 48, 0}, {NewX64(f, 0, false), 11, 0},
		{NewX64(f, 0, true), 45, 45},
		{NewX86(f, 0, true), 37, 37}, {NewX86(f, 0, true), 45, 0},
		{NewX86(f, 0, false), 31, 31}, {NewX86(f, 0, false), 32, 0},
		{NewARM64(f, 0, 0), 45, 0}, // no transition entries on ARM64
	} {
		if got := c.tr.WithL1TF(c.bit).L1TFBit(); got != c.want {
			t.Errorf("%s WithL1TF(%d).L1TFBit() = %d, want %d", c.tr.Mode(), c.bit, got, c.want)
		}
	}
}

func TestL1TFSwizzledPrototypeInTransition(t *testing.T) {
	p := buildProtoX64()
	// prototype PTE 6: in transition, frame swizzled; user PTE 13 refers to it.
	const real = 0x22000
	p.f.put64(protoPage+6*8, real|l1tfFlip|eTrans|eProtRW)
	p.f.put64(p.userPT+13*8, x64Proto(p.protoVA+6*8))
	p.f.fillPage(real)
	tr := p.tr.WithL1TF(l1tfBit)
	checkOK(t, tr, []wantOK{
		{"swizzled transition prototype PTE", p.user(13) + 0x38, real + 0x38, 0x1000},
		{"unswizzled transition prototype PTE unchanged", p.user(1) + 8, protoTrans + 8, 0x1000},
	})
	w, err := tr.Walk(p.user(13))
	if err != nil {
		t.Fatal(err)
	}
	if st := w.Steps[len(w.Steps)-1]; st.Level != ProtoLevel || st.State != StateTransition || st.L1TFBit != l1tfBit {
		t.Errorf("prototype step %+v, want a transition Proto step marked with bit %d", st, l1tfBit)
	}
	var buf [16]byte
	if n, err := tr.ReadAt(buf[:], p.user(13)+0x38); n != 16 || err != nil ||
		!bytes.Equal(buf[:8], binary.LittleEndian.AppendUint64(nil, real+0x38)) {
		t.Errorf("ReadAt = %d, %v, % x", n, err, buf)
	}
	// without the index the prototype's page is the swizzled frame, absent from the dump
	if pa, _, err := p.tr.Translate(p.user(13)); err != nil || pa != real|l1tfFlip {
		t.Errorf("no index: Translate = %#x, %v; want %#x", pa, err, real|l1tfFlip)
	}
}

func TestL1TFPAE(t *testing.T) {
	f := newFakePhys()
	const pdpt, pd, pt = 0x1000, 0x2000, 0x3000
	f.put64(pdpt+2*8, pd|eP) // 0x80000000..
	f.put64(pd, pt|eP|eRW)
	f.put64(pt+5*8, 0x4000|1<<37|eTrans|eProtRW) // PAE transition PFN 37:12 (§3.2)
	f.fillPage(0x4000)
	tr := NewX86(f, pdpt, true).WithL1TF(37)
	checkOK(t, tr, []wantOK{{"PAE swizzled transition PTE", 0x80005010, 0x4010, 0x1000}})
}
