package pdb

import (
	"fmt"
)

// DBIHeader is the 64-byte header of the DBI stream (stream 3, FORMATS.md §7.3).
type DBIHeader struct {
	VersionSignature        int32  // @0: -1
	VersionHeader           uint32 // @4: 19990903 (V70)
	Age                     uint32 // @8: the age matched against an image's RSDS record
	GlobalStreamIndex       uint16 // @0xC
	BuildNumber             uint16 // @0xE
	PublicStreamIndex       uint16 // @0x10
	PdbDllVersion           uint16 // @0x12
	SymRecordStream         uint16 // @0x14
	PdbDllRbld              uint16 // @0x16
	ModInfoSize             int32  // @0x18
	SectionContributionSize int32  // @0x1C
	SectionMapSize          int32  // @0x20
	SourceInfoSize          int32  // @0x24
	TypeServerMapSize       int32  // @0x28
	MFCTypeServerIndex      uint32 // @0x2C
	OptionalDbgHeaderSize   int32  // @0x30
	ECSubstreamSize         int32  // @0x34
	Flags                   uint16 // @0x38
	Machine                 uint16 // @0x3A: 0x14C x86, 0x8664 x64, 0xAA64 ARM64
	Padding                 uint32 // @0x3C
}

const dbiHeaderSize = 64

// Indices into the optional debug header's stream array (FORMATS.md §7.3).
const (
	DebugFPO                    = 0  // FPO_DATA array
	DebugException              = 1  //
	DebugFixup                  = 2  //
	DebugOmapToSrc              = 3  // OMAP: image RVA → RVA before rearrangement
	DebugOmapFromSrc            = 4  // OMAP: RVA before rearrangement → image RVA
	DebugSectionHeaders         = 5  // IMAGE_SECTION_HEADER array of the image
	DebugTokenRIDMap            = 6  //
	DebugXdata                  = 7  //
	DebugPdata                  = 8  //
	DebugNewFPO                 = 9  // FRAMEDATA array
	DebugOriginalSectionHeaders = 10 // section headers before rearrangement
)

// noStream is a u16 stream index meaning "absent".
const noStream = 0xFFFF

// DBI is the DBI stream's header, module list, section map and optional debug header. Section
// contributions are read separately, on first use (SectionContributions).
type DBI struct {
	Header     DBIHeader
	Modules    []Module
	SectionMap []SectionMapEntry
	// DebugStreams is the optional debug header: stream indices by Debug* position, -1 when
	// absent.
	DebugStreams []int

	contribOff, contribSize int64 // the section contribution substream, read lazily
}

// SectionContrib is a SectionContribEntry (FORMATS.md §7.3): a piece of a section that one
// module contributed.
type SectionContrib struct {
	Section         uint16 // 1-based section number
	Offset          uint32
	Size            uint32
	Characteristics uint32
	Module          uint16 // index into DBI.Modules
	DataCrc         uint32
	RelocCrc        uint32
}

// Module is one ModInfo record of the DBI stream (FORMATS.md §7.3): a compiland (object file)
// or an import/linker pseudo-module.
type Module struct {
	Index           int
	Name            string // ModuleName: object path, "Import:x.dll", "* Linker *"
	ObjFile         string // ObjFileName: the object or the library it came from
	Contrib         SectionContrib
	Flags           uint16
	SymStream       int // module symbol stream, -1 when absent (stripped PDBs)
	SymByteSize     uint32
	C11ByteSize     uint32
	C13ByteSize     uint32
	SourceFileCount uint16
}

// SectionMapEntry is one entry of the DBI section map (FORMATS.md §7.3).
type SectionMapEntry struct {
	Flags         uint16
	Ovl           uint16
	Group         uint16
	Frame         uint16
	SectionName   uint16
	ClassName     uint16
	Offset        uint32
	SectionLength uint32
}

// Section contribution substream versions (FORMATS.md §7.3; llvm.org/docs/PDB/DbiStream).
const (
	sectionContribVer60 = 0xeffe0000 + 19970605 // SectionContribEntry, 28 bytes
	sectionContribV2    = 0xeffe0000 + 20140516 // SectionContribEntry2: + ISectCoff u32
)

const (
	modInfoFixedSize      = 0x40 // ModInfo up to ModuleName
	sectionContribSize    = 28
	sectionMapEntrySize   = 20
	sectionContribSizeV2  = 32
	dbiDebugHeaderEntries = 11
)

var dbiWhere = where{stream: streamDBI, name: "DBI"}

func (f *File) dbiStream() (*Stream, error) {
	if len(f.streamStart) <= streamDBI {
		return nil, fmt.Errorf("pdb: DBI stream: %w", ErrNoStream)
	}
	s, err := f.stream(streamDBI, "")
	if err != nil {
		return nil, err
	}
	if s.Size() == 0 {
		return nil, fmt.Errorf("pdb: DBI stream: %w", ErrNoStream)
	}
	return s, nil
}

// DBIHeader reads only the DBI stream's header.
func (f *File) DBIHeader() (DBIHeader, error) {
	h, err := f.dbiHeader.Get(func() (*DBIHeader, error) {
		s, err := f.dbiStream()
		if err != nil {
			return nil, err
		}
		c, err := s.cursor(0, dbiHeaderSize, "DBI header")
		if err != nil {
			return nil, err
		}
		h := &DBIHeader{
			VersionSignature: c.i32(), VersionHeader: c.u32(), Age: c.u32(),
			GlobalStreamIndex: c.u16(), BuildNumber: c.u16(), PublicStreamIndex: c.u16(),
			PdbDllVersion: c.u16(), SymRecordStream: c.u16(), PdbDllRbld: c.u16(),
			ModInfoSize: c.i32(), SectionContributionSize: c.i32(), SectionMapSize: c.i32(),
			SourceInfoSize: c.i32(), TypeServerMapSize: c.i32(), MFCTypeServerIndex: c.u32(),
			OptionalDbgHeaderSize: c.i32(), ECSubstreamSize: c.i32(),
			Flags: c.u16(), Machine: c.u16(), Padding: c.u32(),
		}
		return h, c.err
	})
	if err != nil {
		return DBIHeader{}, err
	}
	return *h, nil
}

// DBI reads the DBI stream's header, module list, section map and optional debug header. The
// result is shared and must not be modified.
func (f *File) DBI() (*DBI, error) {
	return f.dbi.Get(f.readDBI)
}

func (f *File) readDBI() (*DBI, error) {
	h, err := f.DBIHeader()
	if err != nil {
		return nil, err
	}
	s, err := f.dbiStream()
	if err != nil {
		return nil, err
	}
	d := &DBI{Header: h}
	// The substreams follow the header in this order, EC before the optional debug header
	// (FORMATS.md §7.3).
	sizes := []struct {
		name string
		size int32
	}{
		{"module info", h.ModInfoSize},
		{"section contributions", h.SectionContributionSize},
		{"section map", h.SectionMapSize},
		{"source info", h.SourceInfoSize},
		{"type server map", h.TypeServerMapSize},
		{"EC substream", h.ECSubstreamSize},
		{"optional debug header", h.OptionalDbgHeaderSize},
	}
	offs := make([]int64, len(sizes))
	off := int64(dbiHeaderSize)
	for i, sub := range sizes {
		if sub.size < 0 || off+int64(sub.size) > s.Size() {
			return nil, dbiWhere.errorf(off, "DBI header", "%s substream of %d bytes at %#x runs past the stream's %d bytes", sub.name, sub.size, off, s.Size())
		}
		offs[i] = off
		off += int64(sub.size)
	}
	if d.Modules, err = readModules(s, offs[0], int64(h.ModInfoSize)); err != nil {
		return nil, err
	}
	d.contribOff, d.contribSize = offs[1], int64(h.SectionContributionSize)
	if d.SectionMap, err = readSectionMap(s, offs[2], int64(h.SectionMapSize)); err != nil {
		return nil, err
	}
	c, err := s.cursor(offs[6], int64(h.OptionalDbgHeaderSize), "optional debug header")
	if err != nil {
		return nil, err
	}
	for c.remaining() >= 2 {
		v := c.u16()
		if v == noStream {
			d.DebugStreams = append(d.DebugStreams, -1)
		} else {
			d.DebugStreams = append(d.DebugStreams, int(v))
		}
	}
	return d, nil
}

// DebugStream is the stream index at a Debug* position of the optional debug header, or -1.
func (d *DBI) DebugStream(kind int) int {
	if kind < 0 || kind >= len(d.DebugStreams) {
		return -1
	}
	return d.DebugStreams[kind]
}

func readModules(s *Stream, off, size int64) ([]Module, error) {
	c, err := s.cursor(off, size, "module info")
	if err != nil {
		return nil, err
	}
	var mods []Module
	for c.remaining() > 0 {
		start := c.off()
		m := Module{Index: len(mods)}
		c.u32() // Unused1
		m.Contrib = readSectionContrib(c)
		m.Flags = c.u16()
		m.SymStream = int(c.u16())
		if m.SymStream == noStream {
			m.SymStream = -1
		}
		m.SymByteSize, m.C11ByteSize, m.C13ByteSize = c.u32(), c.u32(), c.u32()
		m.SourceFileCount = c.u16()
		c.skip(2)  // padding
		c.skip(12) // Unused2, SourceFileNameIndex, PdbFilePathNameIndex
		m.Name = c.cstring()
		m.ObjFile = c.cstring()
		c.align(4)
		if c.err != nil {
			return nil, fmt.Errorf("%w (module %d at %#x)", c.err, len(mods), start)
		}
		mods = append(mods, m)
	}
	return mods, nil
}

// readSectionContrib reads a SectionContribEntry (28 bytes, FORMATS.md §7.3).
func readSectionContrib(c *cursor) SectionContrib {
	var sc SectionContrib
	sc.Section = c.u16()
	c.skip(2)
	sc.Offset = c.u32()
	sc.Size = c.u32()
	sc.Characteristics = c.u32()
	sc.Module = c.u16()
	c.skip(2)
	sc.DataCrc = c.u32()
	sc.RelocCrc = c.u32()
	return sc
}

func readSectionMap(s *Stream, off, size int64) ([]SectionMapEntry, error) {
	if size == 0 {
		return nil, nil
	}
	c, err := s.cursor(off, size, "section map")
	if err != nil {
		return nil, err
	}
	count := c.u16()
	c.u16() // LogCount
	if c.err == nil && int(count) > c.remaining()/sectionMapEntrySize {
		return nil, dbiWhere.errorf(off, "section map", "%d entries of %d bytes in %d bytes", count, sectionMapEntrySize, c.remaining())
	}
	m := make([]SectionMapEntry, 0, count)
	for range count {
		m = append(m, SectionMapEntry{
			Flags: c.u16(), Ovl: c.u16(), Group: c.u16(), Frame: c.u16(),
			SectionName: c.u16(), ClassName: c.u16(), Offset: c.u32(), SectionLength: c.u32(),
		})
	}
	return m, c.err
}

// SectionContributions reads the DBI section contribution substream, in file order (sorted by
// section and offset).
func (f *File) SectionContributions() ([]SectionContrib, error) {
	d, err := f.DBI()
	if err != nil {
		return nil, err
	}
	s, err := f.dbiStream()
	if err != nil {
		return nil, err
	}
	if d.contribSize == 0 {
		return nil, nil
	}
	c, err := s.cursor(d.contribOff, d.contribSize, "section contributions")
	if err != nil {
		return nil, err
	}
	entrySize := sectionContribSize
	switch v := c.u32(); v {
	case sectionContribVer60:
	case sectionContribV2:
		entrySize = sectionContribSizeV2
	default:
		if c.err == nil {
			return nil, dbiWhere.errorf(d.contribOff, "section contributions", "unknown version %#x", v)
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	out := make([]SectionContrib, 0, c.remaining()/entrySize)
	for c.remaining() >= entrySize {
		out = append(out, readSectionContrib(c))
		if entrySize == sectionContribSizeV2 {
			c.u32() // ISectCoff
		}
	}
	return out, c.err
}
