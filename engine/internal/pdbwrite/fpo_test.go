package pdbwrite

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"wdbg/engine/pdb"
)

// TestFPORecordLayout checks the encoding byte by byte against the layout as FORMATS.md §8.2
// and the FPO_DATA page of the Windows API reference (winnt.h) state it: four little-endian
// fields, then a u16 with cbProlog in bits 7:0, cbRegs 10:8, fHasSEH 11, fUseBP 12, reserved 13,
// cbFrame 15:14. The expected bytes are worked out by hand from that text.
func TestFPORecordLayout(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  FPO
		want string
	}{
		// cbProlog 0x0a, cbRegs 5 (0x500), fHasSEH (0x800), fUseBP (0x1000), cbFrame 3 (0xC000)
		// = 0xDD0A.
		{"all bits", FPO{Start: 0x11223344, Size: 0x55, Locals: 0x66778899, Params: 0xAABB, Prolog: 0x0A, Regs: 5,
			HasSEH: true, UseBP: true, Frame: FrameNonFPO}, "44332211 55000000 99887766 bbaa 0add"},
		// FRAME_TRAP is 1: bit 14 alone (0x4000); no prolog, registers or flags.
		{"trap", FPO{Start: 0x1040, Size: 0x2e0, Frame: FrameTrap}, "40100000 e0020000 00000000 0000 0040"},
		// fUseBP alone is bit 12 (0x1000); cbRegs 1 is bit 8.
		{"bp", FPO{Start: 0x2000, Size: 0x10, Locals: 2, Params: 3, Prolog: 5, Regs: 1, UseBP: true},
			"00200000 10000000 02000000 0300 0511"},
	} {
		got, err := tc.rec.bytes()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want, _ := hex.DecodeString(strings.ReplaceAll(tc.want, " ", ""))
		if len(got) != fpoRecordSize || !bytes.Equal(got, want) {
			t.Errorf("%s: % x\nwant % x", tc.name, got, want)
		}
	}
	for _, bad := range []FPO{{Regs: 8}, {Frame: 4}} {
		if _, err := bad.bytes(); err == nil {
			t.Errorf("%+v: no error for a value wider than its bit field", bad)
		}
	}
}

// TestFPORoundTrip writes FPO records into a PDB and reads them back with engine/pdb's FPO
// reader, which was written separately from the same spec section.
func TestFPORoundTrip(t *testing.T) {
	p := samplePDB(4, 4096)
	p.Machine = 0x14C
	// Out of RVA order on purpose: the stream must come out sorted.
	p.FPO = []FPO{
		{Start: 0x1100, Size: 0x40, Locals: 0x4A, Prolog: 8, UseBP: true, Frame: FrameNonFPO},
		{Start: 0x1000, Size: 0x80, Locals: 3, Params: 2, Prolog: 4, Regs: 3, HasSEH: true, Frame: FrameFPO},
		{Start: 0x1200, Size: 0x2e0, Frame: FrameTrap, UseBP: true},
		{Start: 0x1500, Size: 0x20, Params: 1, Frame: FrameTSS},
	}
	data, err := p.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := pdb.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.FPO()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(p.FPO) {
		t.Fatalf("read %d FPO records, wrote %d: %+v", len(got), len(p.FPO), got)
	}
	byStart := map[uint32]FPO{}
	for _, r := range p.FPO {
		byStart[r.Start] = r
	}
	for i, g := range got {
		w, ok := byStart[g.RVA]
		if !ok {
			t.Errorf("record %d at RVA %#x was not written", i, g.RVA)
			continue
		}
		if i > 0 && g.RVA <= got[i-1].RVA {
			t.Errorf("records not sorted: %#x after %#x", g.RVA, got[i-1].RVA)
		}
		if g.Size != w.Size || g.Locals != w.Locals || g.Params != w.Params || g.Prolog != w.Prolog ||
			g.Regs != w.Regs || g.HasSEH != w.HasSEH || g.UseBP != w.UseBP || g.Frame != w.Frame {
			t.Errorf("record at %#x read back as %+v, wrote %+v", g.RVA, g, w)
		}
	}
	if r, ok := f.FPOAt(0x1200 + 0x2cf); !ok || r.RVA != 0x1200 || r.Frame != pdb.FrameTrap {
		t.Errorf("FPOAt(0x14cf) = %+v, %v; want the FRAME_TRAP record at 0x1200", r, ok)
	}
	if _, ok := f.FPOAt(0x14f0); ok {
		t.Error("FPOAt found a record for an RVA between records")
	}
	// Publics still read back: the FPO stream is an extra stream, not in place of another.
	if _, ok := f.PublicByName("Func0000"); !ok {
		t.Error("Func0000 lost after adding FPO records")
	}
}

func TestFPOPDBWithoutRecords(t *testing.T) {
	data, err := samplePDB(2, 4096).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := pdb.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.FPO(); err != nil || len(got) != 0 {
		t.Errorf("FPO() = %v, %v; want none", got, err)
	}
}

func TestFPOOverlapRejected(t *testing.T) {
	p := samplePDB(1, 4096)
	p.FPO = []FPO{{Start: 0x1000, Size: 0x20}, {Start: 0x1010, Size: 0x10}}
	if _, err := p.Bytes(); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("overlapping records: err = %v", err)
	}
}
