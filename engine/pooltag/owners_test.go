package pooltag

import (
	"bytes"
	"context"
	"debug/pe"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"wdbg/engine"
)

// sparseMem is an engine.Memory over one buffer at base with some 4 KB pages missing. Reads
// are partial: they stop at the first missing byte with a *engine.ReadError naming it.
type sparseMem struct {
	base    uint64
	data    []byte
	missing map[uint64]bool // page offsets from base
}

func (m *sparseMem) ReadAt(p []byte, addr uint64) (int, error) {
	for i := range p {
		a := addr + uint64(i)
		if a < m.base || a-m.base >= uint64(len(m.data)) || m.missing[(a-m.base)&^0xfff] {
			return i, &engine.ReadError{Addr: a}
		}
		p[i] = m.data[a-m.base]
	}
	return len(p), nil
}

const testBase = 0xfffff80000100000

type testSection struct {
	name     string
	va, size uint32
	chars    uint32
}

// buildImage lays out a PE32+ image as the loader maps it (PE Format: DOS header with
// e_lfanew @0x3C, "PE\0\0", the 20-byte COFF header, the 240-byte PE32+ optional header with
// SizeOfImage @56 and 16 data directories, then 40-byte section headers). Raw data pointers
// equal the RVAs so that debug/pe can read the same bytes as a file and check them.
func buildImage(sizeOfImage uint32, sections []testSection) []byte {
	img := make([]byte, sizeOfImage)
	le := binary.LittleEndian
	copy(img, "MZ")
	le.PutUint32(img[0x3c:], 0x40)
	copy(img[0x40:], "PE\x00\x00")
	coff := img[0x44:]
	le.PutUint16(coff[0:], 0x8664) // Machine AMD64
	le.PutUint16(coff[2:], uint16(len(sections)))
	le.PutUint16(coff[16:], 240) // SizeOfOptionalHeader
	le.PutUint16(coff[18:], 0x2022)
	opt := img[0x58:]
	le.PutUint16(opt[0:], 0x20b) // PE32+
	le.PutUint64(opt[24:], testBase)
	le.PutUint32(opt[32:], 0x1000) // SectionAlignment
	le.PutUint32(opt[36:], 0x1000) // FileAlignment
	le.PutUint32(opt[56:], sizeOfImage)
	le.PutUint32(opt[60:], 0x400) // SizeOfHeaders
	le.PutUint16(opt[68:], 1)     // Subsystem native
	le.PutUint32(opt[108:], 16)   // NumberOfRvaAndSizes
	sh := img[0x58+240:]
	for i, s := range sections {
		h := sh[i*40:]
		copy(h[0:8], s.name)
		le.PutUint32(h[8:], s.size)
		le.PutUint32(h[12:], s.va)
		le.PutUint32(h[16:], s.size)
		le.PutUint32(h[20:], s.va)
		le.PutUint32(h[36:], s.chars)
	}
	return img
}

func TestOwners(t *testing.T) {
	const (
		textChars = 0x60000020 // CNT_CODE | MEM_EXECUTE | MEM_READ
		dataChars = 0xC0000040 // CNT_INITIALIZED_DATA | MEM_READ | MEM_WRITE
	)
	img := buildImage(0x50000, []testSection{
		{".text", 0x1000, 0x1000, textChars},
		{".data", 0x2000, 0x4d000, dataChars},
	})
	// Check the synthetic headers with the standard library's PE reader.
	if f, err := pe.NewFile(bytes.NewReader(img)); err != nil || len(f.Sections) != 2 || f.Sections[1].Name != ".data" ||
		f.OptionalHeader.(*pe.OptionalHeader64).SizeOfImage != 0x50000 {
		t.Fatalf("synthetic image does not parse with debug/pe: %v", err)
	}
	put := func(rva int, b string) { copy(img[rva:], b) }
	put(0x200, "Leak")          // after the section table: headers
	put(0x1010, "\x41\xb8Leak") // mov r8d, 'kaeL' (REX.B B8+rd imm32): hit at 0x1012
	put(0x1ffe, "Leak")         // straddles .text/.data: belongs to .text
	put(0x2100, "Leak")         // a string in .data
	put(0x2ffe, "Le")           // ...whose end would be on the missing page
	put(0x3000, "ak")           // (missing page 0x3000)
	put(0x3500, "Leak")         // on the missing page: invisible
	put(0x3ffe, "Le")           // missing page, then "ak" on a present one
	put(0x4000, "ak")           //
	put(0x44000-2, "Leak")      // straddles the 256 KB read that starts at 0x4000
	put(0x4f800, "Leak")        // past the last section
	put(0x4f900, "Lea")         // partial: no hit
	put(0x4fffd, "Lea")         // runs off the end of the image
	mem := &sparseMem{base: testBase, data: img, missing: map[uint64]bool{0x3000: true}}

	owners, err := Owners(context.Background(), "Leak", []Image{{Name: "leakydrv.sys", Base: testBase, Size: 0x50000, Mem: mem}})
	if err != nil {
		t.Fatal(err)
	}
	o := owners[0]
	wantRVAs := []uint32{0x200, 0x1012, 0x1ffe, 0x2100, 0x43ffe, 0x4f800}
	if o.Hits != 6 || !reflect.DeepEqual(o.RVAs, wantRVAs) {
		t.Errorf("hits %d at %#x, want 6 at %#x", o.Hits, o.RVAs, wantRVAs)
	}
	wantSecs := []SectionHits{{".text", true, 2}, {".data", false, 2}, {"(headers)", false, 1}, {"(no section)", false, 1}}
	if !reflect.DeepEqual(o.Sections, wantSecs) || o.CodeHits != 2 {
		t.Errorf("sections %+v code %d, want %+v code 2", o.Sections, o.CodeHits, wantSecs)
	}
	if o.UnreadablePages != 1 || o.ScannedBytes != 0x4f000 || o.HeaderError != "" {
		t.Errorf("unreadable %d scanned %#x header %q", o.UnreadablePages, o.ScannedBytes, o.HeaderError)
	}

	// Size 0 takes SizeOfImage from the headers; an image whose header page is missing is
	// still searched, without sections.
	img2 := append([]byte(nil), img...)
	mem2 := &sparseMem{base: testBase + 0x100000, data: img2, missing: map[uint64]bool{0: true, 0x3000: true}}
	owners, err = Owners(context.Background(), "Leak", []Image{
		{Name: "a.sys", Base: testBase, Mem: mem},
		{Name: "b.sys", Base: testBase + 0x100000, Size: 0x50000, Mem: mem2},
		{Name: "c.sys", Base: testBase, Size: 0x1000, Mem: mem},
	})
	if err != nil || len(owners) != 3 {
		t.Fatal(err, len(owners))
	}
	if owners[0].Hits != 6 {
		t.Errorf("a.sys (size from headers) hits %d", owners[0].Hits)
	}
	if b := owners[1]; b.Hits != 5 || b.Sections != nil || b.HeaderError == "" || b.UnreadablePages != 2 {
		t.Errorf("b.sys = %+v", b)
	}
	if c := owners[2]; c.Hits != 1 || c.ScannedBytes != 0x1000 {
		t.Errorf("c.sys (headers only) = %+v", c)
	}

	// A tag found nowhere, a wildcard, a short tag, a cancelled context.
	owners, _ = Owners(context.Background(), "Nope", []Image{{Name: "a.sys", Base: testBase, Mem: mem}})
	if owners[0].Hits != 0 || owners[0].RVAs != nil {
		t.Errorf("Nope = %+v", owners[0])
	}
	if _, err := Owners(context.Background(), "Le?k", nil); err == nil {
		t.Error("wildcard accepted")
	}
	if _, err := Owners(context.Background(), "Lea", nil); err == nil {
		t.Error("3-byte tag accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Owners(ctx, "Leak", []Image{{Name: "a.sys", Base: testBase, Mem: mem}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled scan gave %v", err)
	}
}
