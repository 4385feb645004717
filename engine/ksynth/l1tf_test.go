package ksynth

import (
	"bytes"
	"encoding/binary"
	"testing"

	"wdbg/engine/kdbg"
)

// TestL1TFPage reads the swizzled page back through the dump file: the KDBG fields at §2's
// offsets 0x2C2/0x2C3 (bytes, and through engine/kdbg's decoder), the transition PTE's bits
// (§3.2: valid 0, prototype 10 clear, transition 11, PFN 47:12), the frame it names missing from
// the dump and the frame with bit 45 flipped holding the pattern, in run-list and bitmap form.
func TestL1TFPage(t *testing.T) {
	for _, st := range []Storage{RunList, Bitmap} {
		d, f, tr := open(t, Spec{Machine: X64Win10_19041, Storage: st})
		m := d.Manifest()
		p := m.PTE.L1TF
		if p == nil {
			t.Fatalf("%s: no L1TF page in the manifest", st)
		}
		raw := make([]byte, m.KDBG.Size)
		if n, err := tr.ReadAt(raw, m.KDBG.Address); n != len(raw) {
			t.Fatalf("%s: KDBG read %d: %v", st, n, err)
		}
		if raw[0x2C2] != 45 || raw[0x2C3] != 4 {
			t.Errorf("%s: KDBG bytes 0x2C2/0x2C3 = %d/%d, want 45/4", st, raw[0x2C2], raw[0x2C3])
		}
		dec, err := kdbg.Decode(raw, 8)
		if err != nil || dec.L1tfHighPhysicalBitIndex != 45 || dec.L1tfSwizzleBitIndex != 4 {
			t.Errorf("%s: kdbg.Decode L1tf fields %+v, %v", st, dec, err)
		}
		if m.KDBG.Fields["L1tfHighPhysicalBitIndex"] != 45 || m.KDBG.Fields["L1tfSwizzleBitIndex"] != 4 {
			t.Errorf("%s: manifest KDBG fields %v", st, m.KDBG.Fields)
		}

		var e [8]byte
		if _, err := f.ReadPhysical(e[:], p.PTEAddr); err != nil {
			t.Fatal(err)
		}
		pte := binary.LittleEndian.Uint64(e[:])
		const flip = uint64(1) << 45
		if pte != p.PTE || pte&1 != 0 || pte&(1<<10) != 0 || pte&(1<<11) == 0 || pte&flip == 0 || pte&(1<<4) != 0 {
			t.Errorf("%s: PTE %#x (manifest %#x): want valid 0, prototype 0, transition 1, bit 45 set, SwizzleBit 4 clear", st, pte, p.PTE)
		}
		if got := pte & 0x0000FFFFFFFFF000; got != p.SwizzledPA || p.SwizzledPA != p.PA|flip {
			t.Errorf("%s: PTE frame %#x, manifest swizzled %#x real %#x", st, got, p.SwizzledPA, p.PA)
		}
		var one [1]byte
		if n, _ := f.ReadPhysical(one[:], p.SwizzledPA); n != 0 {
			t.Errorf("%s: the swizzled frame %#x is in the dump", st, p.SwizzledPA)
		}
		got := make([]byte, len(p.Pattern))
		if _, err := f.ReadPhysical(got, p.PA); err != nil || !bytes.Equal(got, p.Pattern) {
			t.Errorf("%s: real frame %#x holds %q (%v), want %q", st, p.PA, got, err, p.Pattern)
		}
		// read as stored, the PTE names the missing frame; with the rule, the real one
		if pa, _, err := tr.Translate(p.VA); err != nil || pa != p.SwizzledPA {
			t.Errorf("%s: plain Translate(%#x) = %#x, %v", st, p.VA, pa, err)
		}
		if n, err := tr.WithL1TF(45).ReadAt(got, p.VA); n != len(got) || !bytes.Equal(got, p.Pattern) {
			t.Errorf("%s: ReadAt with the L1TF rule = %q, %v", st, got[:n], err)
		}
		if w := p.Walk; len(w.Levels) != 4 || w.Levels[3].Entry != p.PTE || w.PA != p.PA {
			t.Errorf("%s: manifest walk %+v", st, w)
		}
	}
}

// TestNoL1TFBeforeTheMitigation: the Windows 7 and x86 machines keep the KDBG fields zero and
// have no swizzled page.
func TestNoL1TFBeforeTheMitigation(t *testing.T) {
	for _, mc := range []Machine{X64Win7_7601, X86PAEWin7_7601, X86Win7_7601} {
		d, _, tr := open(t, Spec{Machine: mc})
		m := d.Manifest()
		if m.PTE.L1TF != nil {
			t.Errorf("%s: L1TF page %+v", mc, m.PTE.L1TF)
		}
		if _, ok := m.KDBG.Fields["L1tfHighPhysicalBitIndex"]; ok {
			t.Errorf("%s: KDBG L1tf field set", mc)
		}
		raw := make([]byte, 2)
		if n, err := tr.ReadAt(raw, m.KDBG.Address+0x2C2); n != 2 || raw[0] != 0 || raw[1] != 0 {
			t.Errorf("%s: KDBG 0x2C2/0x2C3 = % x (%v), want zeros", mc, raw[:n], err)
		}
	}
	d, err := Build(Spec{Machine: ARM64Win11_22621})
	if err != nil {
		t.Fatal(err)
	}
	if d.Manifest().PTE.L1TF != nil {
		t.Errorf("arm64: L1TF page")
	}
}
