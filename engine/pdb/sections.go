package pdb

import (
	"fmt"
	"sort"
)

// SectionHeader is an IMAGE_SECTION_HEADER (40 bytes) as the linker saved it in the PDB's
// section header stream (FORMATS.md §7.3).
type SectionHeader struct {
	Name                 string // @0, 8 bytes, NUL-padded
	VirtualSize          uint32 // @8
	VirtualAddress       uint32 // @0xC
	SizeOfRawData        uint32 // @0x10
	PointerToRawData     uint32 // @0x14
	PointerToRelocations uint32 // @0x18
	PointerToLinenumbers uint32 // @0x1C
	NumberOfRelocations  uint16 // @0x20
	NumberOfLinenumbers  uint16 // @0x22
	Characteristics      uint32 // @0x24
}

const sectionHeaderSize = 40

// omapEntry is an OMAP record: an address in one layout and the address it maps to in the
// other (FORMATS.md §7.3).
type omapEntry struct{ from, to uint32 }

// addressMap turns PDB section:offset pairs into image RVAs. Symbols, lines, contributions and
// frame data are indexed by "internal" RVA: section:offset through the section headers the
// symbols were written against (the original ones when the image was rearranged). An image RVA
// is turned into an internal one with OMAP_TO_SRC and back with OMAP_FROM_SRC; without OMAP the
// two are the same.
type addressMap struct {
	sections []SectionHeader // the image's
	internal []SectionHeader // the ones section:offset pairs refer to
	toSrc    []omapEntry     // image RVA → internal RVA
	fromSrc  []omapEntry     // internal RVA → image RVA
}

func (f *File) addressMap() (*addressMap, error) {
	return f.addrs.Get(func() (*addressMap, error) {
		d, err := f.DBI()
		if err != nil {
			return nil, err
		}
		m := &addressMap{}
		if m.sections, err = f.readSectionHeaders(d.DebugStream(DebugSectionHeaders), "section headers"); err != nil {
			return nil, err
		}
		m.internal = m.sections
		if m.toSrc, err = f.readOMAP(d.DebugStream(DebugOmapToSrc), "OMAP to source"); err != nil {
			return nil, err
		}
		if m.fromSrc, err = f.readOMAP(d.DebugStream(DebugOmapFromSrc), "OMAP from source"); err != nil {
			return nil, err
		}
		if len(m.fromSrc) > 0 {
			orig, err := f.readSectionHeaders(d.DebugStream(DebugOriginalSectionHeaders), "original section headers")
			if err != nil && !isMissingStream(err) {
				return nil, err
			}
			if len(orig) > 0 {
				m.internal = orig
			}
		}
		return m, nil
	})
}

func (f *File) readSectionHeaders(idx int, name string) ([]SectionHeader, error) {
	if idx < 0 {
		return nil, fmt.Errorf("pdb: %s: %w", name, ErrNoStream)
	}
	s, err := f.stream(idx, name)
	if err != nil {
		return nil, err
	}
	c, err := s.cursor(0, s.Size()/sectionHeaderSize*sectionHeaderSize, name)
	if err != nil {
		return nil, err
	}
	out := make([]SectionHeader, 0, c.remaining()/sectionHeaderSize)
	for c.remaining() > 0 {
		out = append(out, SectionHeader{
			Name: cString(c.take(8)), VirtualSize: c.u32(), VirtualAddress: c.u32(),
			SizeOfRawData: c.u32(), PointerToRawData: c.u32(), PointerToRelocations: c.u32(),
			PointerToLinenumbers: c.u32(), NumberOfRelocations: c.u16(), NumberOfLinenumbers: c.u16(),
			Characteristics: c.u32(),
		})
	}
	return out, c.err
}

// readOMAP reads an OMAP stream (pairs of u32), sorted by its first address; an absent stream
// is an empty map.
func (f *File) readOMAP(idx int, name string) ([]omapEntry, error) {
	if idx < 0 {
		return nil, nil
	}
	s, err := f.stream(idx, name)
	if err != nil {
		return nil, err
	}
	c, err := s.cursor(0, s.Size()/8*8, name)
	if err != nil {
		return nil, err
	}
	out := make([]omapEntry, 0, c.remaining()/8)
	for c.remaining() > 0 {
		out = append(out, omapEntry{from: c.u32(), to: c.u32()})
	}
	if !sort.SliceIsSorted(out, func(i, j int) bool { return out[i].from < out[j].from }) {
		sort.SliceStable(out, func(i, j int) bool { return out[i].from < out[j].from })
	}
	return out, c.err
}

// translate maps an address through an OMAP table as dbghelp's OMAP documentation describes:
// the entry with the largest address at or below x, plus the distance from it; an entry that
// maps to 0 marks code that has no counterpart.
func translate(table []omapEntry, x uint32) (uint32, bool) {
	i := sort.Search(len(table), func(i int) bool { return table[i].from > x }) - 1
	if i < 0 || table[i].to == 0 {
		return 0, false
	}
	return table[i].to + (x - table[i].from), true
}

// internalRVA is section:offset through the internal section headers.
func (m *addressMap) internalRVA(section uint16, off uint32) (uint32, bool) {
	if section == 0 || int(section) > len(m.internal) {
		return 0, false
	}
	return m.internal[section-1].VirtualAddress + off, true
}

// toImage maps an internal RVA to an image RVA.
func (m *addressMap) toImage(rva uint32) (uint32, bool) {
	if len(m.fromSrc) == 0 {
		return rva, true
	}
	return translate(m.fromSrc, rva)
}

// toInternal maps an image RVA to an internal RVA.
func (m *addressMap) toInternal(rva uint32) (uint32, bool) {
	if len(m.toSrc) == 0 {
		return rva, true
	}
	return translate(m.toSrc, rva)
}

func (m *addressMap) hasOMAP() bool { return len(m.fromSrc) > 0 || len(m.toSrc) > 0 }

// SectionHeaders returns the image's section headers as saved in the PDB.
func (f *File) SectionHeaders() ([]SectionHeader, error) {
	m, err := f.addressMap()
	if err != nil {
		return nil, err
	}
	return m.sections, nil
}

// RVA converts a PDB section:offset (1-based section) to an RVA of the image, through OMAP
// when the image was rearranged after linking. ok is false for an address outside the
// sections or in code that rearrangement removed.
func (f *File) RVA(section uint16, offset uint32) (rva uint32, ok bool) {
	m, err := f.addressMap()
	if err != nil {
		return 0, false
	}
	in, ok := m.internalRVA(section, offset)
	if !ok {
		return 0, false
	}
	return m.toImage(in)
}

// HasOMAP reports whether the PDB carries OMAP tables (the image was rearranged after linking).
func (f *File) HasOMAP() bool {
	m, err := f.addressMap()
	return err == nil && m.hasOMAP()
}

// internalRVA maps an image RVA to the RVA the PDB's tables were written against.
func (f *File) internalRVA(rva uint32) (uint32, bool) {
	m, err := f.addressMap()
	if err != nil {
		return 0, false
	}
	return m.toInternal(rva)
}
