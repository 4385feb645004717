package pdbwrite

import (
	"bytes"
	"fmt"
	"testing"

	"wdbg/engine/pdb"
)

// The reader (engine/pdb) was written separately from FORMATS.md §7; these tests read back what
// this writer wrote: the GUID and age an image's RSDS record is matched with, the section
// headers, every public by name and by address.

func samplePDB(n, blockSize int) *PDB {
	p := &PDB{
		GUID: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, Age: 3, Signature: 0x5F0D2E1C,
		Machine: 0x8664, BlockSize: blockSize,
		Sections: []Section{{".text", 0x1000, 0x2345, 0x60000020}, {".rdata", 0x4000, 0x800, 0x40000040},
			{".data", 0x5000, 0x6000, 0xC0000040}},
	}
	for i := range n {
		// Code ascending, data descending: the address map must be sorted by the writer.
		if i%2 == 0 {
			p.Publics = append(p.Publics, Public{Name: fmt.Sprintf("Func%04d", i), RVA: 0x1000 + uint32(2*i), Function: true})
		} else {
			p.Publics = append(p.Publics, Public{Name: fmt.Sprintf("_Var%04d", i), RVA: 0x5000 + uint32(8*(n-i))})
		}
	}
	return p
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct{ n, bs int }{{5, 4096}, {3000, 4096}, {700, 512}} {
		t.Run(fmt.Sprintf("%d-publics-%d", tc.n, tc.bs), func(t *testing.T) {
			p := samplePDB(tc.n, tc.bs)
			data, err := p.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if len(data)%tc.bs != 0 {
				t.Errorf("file of %d bytes is not whole %d-byte blocks", len(data), tc.bs)
			}
			f, err := pdb.NewFile(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Matches(p.GUID, p.Age); err != nil {
				t.Errorf("Matches: %v", err)
			}
			if err := f.Matches(p.GUID, p.Age+1); err == nil {
				t.Error("a PDB of age 3 matches age 4")
			}
			shs, err := f.SectionHeaders()
			if err != nil || len(shs) != len(p.Sections) {
				t.Fatalf("section headers %+v, %v", shs, err)
			}
			for i, s := range p.Sections {
				if shs[i].Name != s.Name || shs[i].VirtualAddress != s.VirtualAddress || shs[i].VirtualSize != s.VirtualSize {
					t.Errorf("section %d = %+v, want %+v", i, shs[i], s)
				}
			}
			for _, want := range p.Publics {
				got, ok := f.PublicByName(want.Name)
				if !ok || got.RVA != want.RVA || got.IsFunction() != want.Function {
					t.Fatalf("PublicByName(%s) = %+v %v, want RVA %#x function %v", want.Name, got, ok, want.RVA, want.Function)
				}
				at, disp, ok := f.PublicAt(want.RVA + 1)
				if !ok || at.Name != want.Name || disp != 1 {
					t.Fatalf("PublicAt(%#x) = %s+%d %v, want %s+1", want.RVA+1, at.Name, disp, ok, want.Name)
				}
			}
			pubs, err := f.Publics()
			if err != nil || len(pubs) != len(p.Publics) {
				t.Fatalf("Publics: %d, %v; want %d", len(pubs), err, len(p.Publics))
			}
			if _, ok := f.PublicByName("NoSuchName"); ok {
				t.Error("an unknown name was found")
			}
		})
	}
}

func TestPublicOutsideSections(t *testing.T) {
	p := samplePDB(1, 0)
	p.Publics = append(p.Publics, Public{Name: "Nowhere", RVA: 0x90000})
	if _, err := p.Bytes(); err == nil {
		t.Error("a public outside every section was written")
	}
}

// nameHash must agree with the reader's bucket choice; a few fixed values computed by hand
// from the §7.4 algorithm guard against both drifting together.
func TestNameHash(t *testing.T) {
	// "a": h = 0x61 | 0x20202020 = 0x20202061; h ^= h>>11 (0x40404) → 0x20242465;
	// h ^= h>>16 (0x2024) → 0x20240441.
	if got := nameHash("a"); got != 0x20240441 {
		t.Errorf("nameHash(a) = %#x, want 0x20240441", got)
	}
}
