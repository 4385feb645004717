package vmem

import (
	"errors"
	"strings"
	"testing"
)

// Bits written below follow FORMATS.md §3.1 (present 0, PS 7, NX 63, frame 51:12) and §3.2
// (prototype 10, transition 11, protection 9:5, PageFileHigh 63:32, ProtoAddress 63:16).
const (
	eP      = 1 << 0
	eRW     = 1 << 1
	ePS     = 1 << 7
	ePAT    = 1 << 12 // PAT bit of a large-page entry: not part of the frame
	eNX     = 1 << 63
	eProto  = 1 << 10
	eTrans  = 1 << 11
	eProtRW = 4 << 5             // MM_READWRITE in Protection 9:5
	eSWHigh = 0x7FF0000000000000 // Windows software bits 62:52 of a valid x64 PTE
)

// vaX64 composes a 4-level VA from its table indices and sign-extends bit 47 (§3.1).
func vaX64(pxe, ppe, pde, pte, off uint64) uint64 {
	va := pxe<<39 | ppe<<30 | pde<<21 | pte<<12 | off
	return uint64(int64(va<<16) >> 16)
}

type wantOK struct {
	name     string
	va       uint64
	pa, size uint64
}

type wantFail struct {
	name   string
	va     uint64
	level  string
	state  EntryState
	reason string // substring
}

// buildX64 lays out one 4-level hierarchy at fixed physical pages and returns it with the
// translations it should give.
func buildX64(f *fakePhys) (pml4 uint64, ok []wantOK, fail []wantFail) {
	const (
		pml4Page = 0x1000
		pdpt     = 0x2000
		pd       = 0x3000
		pt       = 0x4000
		ptTrans  = 0x8000 // a page table that is itself in transition
		selfIdx  = 0x1ED  // Windows' classic self-map slot
	)
	f.put64(pml4Page+0x1F0*8, pdpt|eP|eRW)
	f.put64(pml4Page+selfIdx*8, pml4Page|eP|eRW|eNX) // points back at the PML4 itself
	f.put64(pdpt+1*8, pd|eP|eRW)
	f.put64(pdpt+5*8, 0x80000000|eP|eRW|ePS|ePAT) // 1 GB page
	f.put64(pd+2*8, pt|eP|eRW)
	f.put64(pd+4*8, 0x40000000|eP|eRW|ePS|ePAT|eNX) // 2 MB page
	f.put64(pd+7*8, ptTrans|eTrans|eProtRW)         // page table in transition
	f.put64(pd+12*8, 0x55<<32|eProtRW)              // page table paged out
	f.put64(pd+13*8, 0x7FFF0000|eP)                 // page table not in the dump
	f.put64(pd+14*8, pdpt|eP)                       // a PDE pointing back at the PDPT page
	f.put64(pt+3*8, 0x5000|eP|eRW|eNX|eSWHigh)
	f.put64(pt+6*8, 0x7000|eTrans|eProtRW)                                 // transition PTE
	f.put64(pt+8*8, 0x8A0001234560<<16|eProto|eProtRW)                     // prototype PTE
	f.put64(pt+9*8, 0xFFFFFFFF0000<<16|eProto|eProtRW)                     // prototype: VAD
	f.put64(pt+10*8, 0x12345<<32|eProtRW|2<<12)                            // pagefile
	f.put64(pt+11*8, eProtRW)                                              // demand zero
	f.put64(pt+12*8, 0x0000008765432000|eTrans|eProtRW|0x1234000000000000) // PFN 47:12 only
	f.put64(ptTrans+0, 0x9000|eP)
	for _, p := range []uint64{0x5000, 0x7000, 0x9000} {
		f.fillPage(p)
	}
	ok = []wantOK{
		{"4 KB page, NX and software bits 62:52 ignored", vaX64(0x1F0, 1, 2, 3, 0x123), 0x5123, 0x1000},
		{"2 MB page, PAT bit not in the frame", vaX64(0x1F0, 1, 4, 0x1AB, 0xCDE), 0x40000000 + 0x1AB<<12 + 0xCDE, 1 << 21},
		{"1 GB page", vaX64(0x1F0, 5, 0x1FF, 0x1FF, 0xFFF), 0x80000000 + 1<<30 - 1, 1 << 30},
		{"transition PTE followed", vaX64(0x1F0, 1, 2, 6, 0x10), 0x7010, 0x1000},
		{"transition PFN is bits 47:12", vaX64(0x1F0, 1, 2, 12, 0x10), 0x8765432010, 0x1000},
		{"page table in transition followed", vaX64(0x1F0, 1, 7, 0, 0x20), 0x9020, 0x1000},
		// All four indices at the self-map slot end at the PML4 page itself: the loop is
		// walked exactly four times (fixed depth), as the hardware does.
		{"self-map loop", vaX64(selfIdx, selfIdx, selfIdx, selfIdx, 0x1F0*8), pml4Page + 0x1F0*8, 0x1000},
		// The PTE self-map view of the 4 KB page's PTE: PXE self, then the normal path.
		{"self-map view of a PTE", vaX64(selfIdx, 0x1F0, 1, 2, 3*8), pt + 3*8, 0x1000},
	}
	fail = []wantFail{
		{"PTE zero", vaX64(0x1F0, 1, 2, 0, 0), "PTE", StateZero, "entry is zero"},
		{"prototype PTE", vaX64(0x1F0, 1, 2, 8, 0), "PTE", StatePrototype, "prototype PTE at 0xffff8a0001234560"},
		{"prototype PTE VAD", vaX64(0x1F0, 1, 2, 9, 0), "PTE", StatePrototype, "VAD"},
		{"pagefile PTE", vaX64(0x1F0, 1, 2, 10, 0), "PTE", StatePageFile, "page 0x12345"},
		{"demand zero PTE", vaX64(0x1F0, 1, 2, 11, 0), "PTE", StateDemandZero, "demand zero"},
		{"PDE paged out", vaX64(0x1F0, 1, 12, 0, 0), "PDE", StatePageFile, "pagefile"},
		{"page table missing", vaX64(0x1F0, 1, 13, 4, 0), "PTE", StateUnreadable, "not in the dump"},
		{"PPE zero", vaX64(0x1F0, 2, 0, 0, 0), "PPE", StateZero, ""},
		{"PXE zero", vaX64(0, 0, 0, 0, 0), "PXE", StateZero, ""},
		{"non-canonical", 0x0000800000000000, "", StateBadAddress, "canonical"},
		{"non-canonical high", 0xFFFF7FFFFFFFFFFF, "", StateBadAddress, "canonical"},
	}
	return pml4Page, ok, fail
}

func checkOK(t *testing.T, tr *Translator, cases []wantOK) {
	t.Helper()
	for _, c := range cases {
		pa, size, err := tr.Translate(c.va)
		if err != nil || pa != c.pa || size != c.size {
			t.Errorf("%s: Translate(%#x) = %#x, %#x, %v; want %#x, %#x", c.name, c.va, pa, size, err, c.pa, c.size)
		}
		w, err := tr.Walk(c.va)
		if err != nil || w.PA != c.pa || w.PageSize != c.size {
			t.Errorf("%s: Walk(%#x) = %#x, %#x, %v; want %#x, %#x", c.name, c.va, w.PA, w.PageSize, err, c.pa, c.size)
		}
	}
}

func checkFail(t *testing.T, tr *Translator, cases []wantFail) {
	t.Helper()
	for _, c := range cases {
		for pass := 0; pass < 2; pass++ { // the second pass may be served by the cache
			_, _, err := tr.Translate(c.va)
			var te *TranslationError
			if !errors.As(err, &te) {
				t.Errorf("%s: Translate(%#x) err = %v; want a TranslationError", c.name, c.va, err)
				continue
			}
			if te.VA != c.va || te.Level != c.level || te.State != c.state || !strings.Contains(te.Error(), c.reason) {
				t.Errorf("%s: Translate(%#x) = %+v (%v); want level %q state %v reason ~%q", c.name, c.va, *te, te, c.level, c.state, c.reason)
			}
		}
	}
}

func TestX64FourLevel(t *testing.T) {
	f := newFakePhys()
	pml4, ok, fail := buildX64(f)
	tr := NewX64(f, pml4|0x5|1<<63, false) // PCID 5 and the no-flush bit must be masked off
	checkOK(t, tr, ok)
	checkFail(t, tr, fail)
	// run the cached path again in a different order
	for i := len(ok) - 1; i >= 0; i-- {
		checkOK(t, tr, ok[i:i+1])
	}
}

func TestX64FailureNamesLevelAndEntry(t *testing.T) {
	f := newFakePhys()
	pml4, _, _ := buildX64(f)
	tr := NewX64(f, pml4, false)
	va := vaX64(0x1F0, 1, 12, 0, 0x88)
	_, _, err := tr.Translate(va)
	var te *TranslationError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v", err)
	}
	// The entry written in buildX64 at PD index 12: 0x55<<32|protection; the PD is at 0x3000.
	if te.Entry != 0x55<<32|eProtRW || te.EntryAddr != 0x3000+12*8 || te.Level != "PDE" {
		t.Errorf("got %+v", *te)
	}
	// VA = 0x1F0<<39 | 1<<30 | 12<<21 | 0x88, sign-extended.
	want := "vmem: 0xfffff80041800088: PDE 0x5500000080 (at physical 0x3060): not present (in the pagefile at page 0x55)"
	if te.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", te.Error(), want)
	}
	w, err := tr.Walk(va)
	if err == nil || len(w.Steps) != 3 || w.Steps[0].Level != "PXE" || w.Steps[2].Entry != 0x55<<32|eProtRW {
		t.Errorf("Walk = %+v, %v; want 3 steps ending at the PDE", w, err)
	}
}

func TestX64LA57(t *testing.T) {
	f := newFakePhys()
	pml4, ok, fail := buildX64(f)
	const pml5 = 0x10000
	// Kernel addresses have PML5 index 0x1FF (bits 56:48 all set when sign-extended from 47).
	f.put64(pml5+0x1FF*8, pml4|eP|eRW)
	f.put64(pml5+2*8, 0x77<<32|eProtRW)
	tr := NewX64(f, pml5, true)
	var kernelOK []wantOK
	for _, c := range ok {
		if c.va>>48 == 0xFFFF {
			kernelOK = append(kernelOK, c)
		}
	}
	checkOK(t, tr, kernelOK)
	var kernelFail []wantFail
	for _, c := range fail {
		if c.va>>48 == 0xFFFF && c.level != "" {
			kernelFail = append(kernelFail, c)
		}
	}
	checkFail(t, tr, kernelFail)
	checkFail(t, tr, []wantFail{
		// 0x0000800000000000 is canonical with 57 bits: PML5 index 1, which is zero.
		{"PML5E zero", 0x0000800000000000, "PML5E", StateZero, ""},
		{"PML5E pagefile", 2 << 48, "PML5E", StatePageFile, "0x77"},
		{"non-canonical 57", 0x0100000000000000, "", StateBadAddress, "bits 63:56"},
	})
}

func TestX64ReadAt(t *testing.T) {
	f := newFakePhys()
	pml4, _, _ := buildX64(f)
	tr := NewX64(f, pml4, false)
	// PT index 3 → 0x5000 (valid), index 4 → zero. A read across the end of page 3 stops there.
	va := vaX64(0x1F0, 1, 2, 3, 0xFF8)
	buf := make([]byte, 16)
	n, err := tr.ReadAt(buf, va)
	if n != 8 {
		t.Fatalf("ReadAt = %d, %v; want 8 bytes", n, err)
	}
	if got, ok := FailedVA(err); !ok || got != va+8 {
		t.Errorf("FailedVA = %#x, %v; want %#x (err %v)", got, ok, va+8, err)
	}
	if w := le64(buf); w != 0x5FF8 {
		t.Errorf("bytes read = %#x; want the word at physical 0x5ff8", w)
	}
	// A valid PTE whose page is not in the dump (the 2 MB page's frame was never written).
	va2 := vaX64(0x1F0, 1, 4, 0, 0x10)
	n, err = tr.ReadAt(buf, va2)
	var re *ReadError
	if n != 0 || !errors.As(err, &re) || re.VA != va2 || re.PA != 0x40000010 {
		t.Errorf("ReadAt(2 MB page not captured) = %d, %v; want 0 and ReadError at %#x/0x40000010", n, err, va2)
	}
}

func TestX64ReadAcrossPages(t *testing.T) {
	f := newFakePhys()
	pml4, _, _ := buildX64(f)
	// PT index 6 is a transition PTE to 0x7000; make index 5 valid to 0x9000 so that a read
	// spans two discontiguous physical pages, one valid and one in transition.
	f.put64(0x4000+5*8, 0x9000|eP)
	tr := NewX64(f, pml4, false)
	va := vaX64(0x1F0, 1, 2, 5, 0xFF0)
	buf := make([]byte, 32)
	if n, err := tr.ReadAt(buf, va); n != 32 || err != nil {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	want := []uint64{0x9FF0, 0x9FF8, 0x7000, 0x7008}
	for i, w := range want {
		if got := le64(buf[i*8:]); got != w {
			t.Errorf("word %d = %#x; want %#x", i, got, w)
		}
	}
}

func TestTLBAvoidsRewalks(t *testing.T) {
	f := newFakePhys()
	const pml4, pdpt, pd, pt = 0x1000, 0x2000, 0x3000, 0x4000
	f.put64(pml4, pdpt|eP)
	f.put64(pdpt, pd|eP)
	f.put64(pd, pt|eP)
	for i := uint64(0); i < 16; i++ {
		f.put64(pt+i*8, (0x100+i)<<12|eP)
		f.fillPage((0x100 + i) << 12)
	}
	tr := NewX64(f, pml4, false)
	buf := make([]byte, 16*4096)
	if n, err := tr.ReadAt(buf, 0); n != len(buf) || err != nil {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	// One full walk (4 entries) for the first page, then one PTE read per further page.
	if f.entryReads != 4+15 {
		t.Errorf("entry reads = %d; want 19 (one walk, then the cached page table)", f.entryReads)
	}
	f.entryReads = 0
	if n, err := tr.ReadAt(buf, 0); n != len(buf) || err != nil {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	if f.entryReads != 0 {
		t.Errorf("entry reads on the second pass = %d; want 0 (page cache)", f.entryReads)
	}
	for i := 0; i < 16; i++ {
		if got := le64(buf[i*4096:]); got != (0x100+uint64(i))<<12 {
			t.Errorf("page %d starts with %#x", i, got)
		}
	}
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func TestConcurrentTranslate(t *testing.T) {
	mem, root, frames := benchSpace()
	tr := NewX64(mem, root, false)
	done := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for i := uint64(0); i < 2048; i++ {
				pa, _, err := tr.Translate(benchBaseVA + i*4096 + 8)
				if err == nil && pa != frames[i]+8 {
					err = errors.New("wrong translation")
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
