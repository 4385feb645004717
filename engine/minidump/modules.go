package minidump

import (
	"encoding/binary"
	"fmt"
)

// Module is MINIDUMP_MODULE (ModuleListStream, FORMATS.md §4.3) with its name and CodeView
// record decoded. MiscRecord (an old IMAGE_DEBUG_MISC record) is kept located but not decoded.
type Module struct {
	BaseOfImage   uint64
	SizeOfImage   uint32
	CheckSum      uint32
	TimeDateStamp uint32
	ModuleNameRva uint32
	VersionInfo   FixedFileInfo
	CvRecord      LocationDescriptor
	MiscRecord    LocationDescriptor
	Reserved0     uint64
	Reserved1     uint64

	Name        string          // the full path stored at ModuleNameRva
	NameErr     error           // why Name could not be read
	CodeView    *CodeViewRecord // nil when CvRecord is empty or not decodable
	CodeViewErr error           // why CodeView could not be decoded
}

// FixedFileInfo is VS_FIXEDFILEINFO, the fixed part of a module's version resource
// (FORMATS.md §4.3). It is all zero when the writer had no version resource.
type FixedFileInfo struct {
	Signature        uint32 // FixedFileInfoSignature when valid
	StrucVersion     uint32
	FileVersionMS    uint32
	FileVersionLS    uint32
	ProductVersionMS uint32
	ProductVersionLS uint32
	FileFlagsMask    uint32
	FileFlags        uint32
	FileOS           uint32
	FileType         uint32
	FileSubtype      uint32
	FileDateMS       uint32
	FileDateLS       uint32
}

// FixedFileInfoSignature is VS_FIXEDFILEINFO.dwSignature.
const FixedFileInfoSignature = 0xFEEF04BD

// Valid reports whether the record carries the VS_FIXEDFILEINFO signature.
func (v FixedFileInfo) Valid() bool { return v.Signature == FixedFileInfoSignature }

const moduleSize = 108 // MINIDUMP_MODULE, packed 4

// Modules decodes the ModuleListStream; nil when the dump has none. A module whose name or
// CodeView record cannot be read is kept, with NameErr or CodeViewErr saying why.
func (f *File) Modules() ([]Module, error) {
	return f.modules.get(func() ([]Module, error) {
		c, err := f.streamCursor(ModuleListStream, "module list")
		if c == nil {
			return nil, err
		}
		n := uint64(c.u32())
		seekArray(c, n, moduleSize)
		if c.err != nil {
			return nil, c.err
		}
		mods := make([]Module, n)
		for i := range mods {
			m := &mods[i]
			m.BaseOfImage = c.u64()
			m.SizeOfImage = c.u32()
			m.CheckSum = c.u32()
			m.TimeDateStamp = c.u32()
			m.ModuleNameRva = c.u32()
			m.VersionInfo = FixedFileInfo{
				Signature: c.u32(), StrucVersion: c.u32(),
				FileVersionMS: c.u32(), FileVersionLS: c.u32(),
				ProductVersionMS: c.u32(), ProductVersionLS: c.u32(),
				FileFlagsMask: c.u32(), FileFlags: c.u32(), FileOS: c.u32(),
				FileType: c.u32(), FileSubtype: c.u32(), FileDateMS: c.u32(), FileDateLS: c.u32(),
			}
			m.CvRecord = c.location()
			m.MiscRecord = c.location()
			m.Reserved0 = c.u64()
			m.Reserved1 = c.u64()
			if c.err != nil {
				return nil, c.err
			}
			what := fmt.Sprintf("name of module %d", i)
			if m.ModuleNameRva == 0 {
				// An RVA of 0 would point at the header; writers never do that, so it means "no name".
				m.NameErr = formatErr(0, what, "module name RVA is 0")
			} else {
				m.Name, m.NameErr = f.readString(uint64(m.ModuleNameRva), what)
			}
			if m.CvRecord.DataSize != 0 {
				m.CodeView, m.CodeViewErr = f.codeView(m.CvRecord, fmt.Sprintf("CodeView record of module %d", i))
			}
		}
		return mods, nil
	})
}

// CodeViewRecord is a module's CodeView debug record: an 'RSDS' (PDB 7.0) or 'NB10' (PDB 2.0)
// record, the same bytes as the PE debug directory entry (FORMATS.md §4.3).
type CodeViewRecord struct {
	CvSignature uint32 // CvSignatureRSDS or CvSignatureNB10
	GUID        GUID   // RSDS only
	Offset      uint32 // NB10 only (always 0)
	Signature   uint32 // NB10 only: the PDB's time stamp
	Age         uint32
	PdbFileName string
}

// CodeView signatures as little-endian u32s.
const (
	CvSignatureRSDS = 0x53445352 // 'RSDS'
	CvSignatureNB10 = 0x3031424E // 'NB10'
)

// GUID is a Windows GUID as stored (Data1..3 little-endian, Data4 bytes in order).
type GUID struct {
	Data1 uint32
	Data2 uint16
	Data3 uint16
	Data4 [8]byte
}

// String gives the registry form, 3249d99d-0c40-4931-8610-f4e4fb0b6936.
func (g GUID) String() string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", g.Data1, g.Data2, g.Data3, g.Data4[:2], g.Data4[2:])
}

// Bytes gives the 16 bytes in file order.
func (g GUID) Bytes() [16]byte {
	var b [16]byte
	binary.LittleEndian.PutUint32(b[0:], g.Data1)
	binary.LittleEndian.PutUint16(b[4:], g.Data2)
	binary.LittleEndian.PutUint16(b[6:], g.Data3)
	copy(b[8:], g.Data4[:])
	return b
}

// maxPdbName bounds the PDB file name read from a CodeView record (MAX_PATH-style names; a
// longer record is truncated, not rejected).
const maxPdbName = 0x1000

func (f *File) codeView(loc LocationDescriptor, what string) (*CodeViewRecord, error) {
	b, err := f.block(uint64(loc.Rva), uint64(loc.DataSize), what)
	if err != nil {
		return nil, err
	}
	c := newCursor(b, int64(loc.Rva), what)
	cv := &CodeViewRecord{CvSignature: c.u32()}
	switch cv.CvSignature {
	case CvSignatureRSDS:
		// 'RSDS', GUID @4, Age @0x14, name @0x18.
		cv.GUID = GUID{Data1: c.u32(), Data2: c.u16(), Data3: c.u16()}
		copy(cv.GUID.Data4[:], c.take(8))
		cv.Age = c.u32()
	case CvSignatureNB10:
		// 'NB10', Offset @4, Signature @8, Age @0xC, name @0x10.
		cv.Offset = c.u32()
		cv.Signature = c.u32()
		cv.Age = c.u32()
	default:
		return nil, formatErr(int64(loc.Rva), what, "unknown CodeView signature %#x (want RSDS or NB10)", cv.CvSignature)
	}
	if c.err != nil {
		return nil, c.err
	}
	cv.PdbFileName = cString(c.take(min(c.remaining(), maxPdbName)))
	return cv, nil
}

// UnloadedModule is MINIDUMP_UNLOADED_MODULE with its name decoded (UnloadedModuleListStream,
// FORMATS.md §4.3).
type UnloadedModule struct {
	BaseOfImage   uint64
	SizeOfImage   uint32
	CheckSum      uint32
	TimeDateStamp uint32
	ModuleNameRva uint32
	Name          string
	NameErr       error
}

const unloadedModuleSize = 24

// UnloadedModules decodes the UnloadedModuleListStream; nil when the dump has none.
func (f *File) UnloadedModules() ([]UnloadedModule, error) {
	return f.unloaded.get(func() ([]UnloadedModule, error) {
		c, err := f.streamCursor(UnloadedModuleListStream, "unloaded module list")
		if c == nil {
			return nil, err
		}
		// MINIDUMP_UNLOADED_MODULE_LIST: SizeOfHeader, SizeOfEntry, NumberOfEntries (12 bytes).
		hdr, ent, n := c.u32(), c.u32(), uint64(c.u32())
		seekTable(c, hdr, ent, n, 12, unloadedModuleSize)
		if c.err != nil {
			return nil, c.err
		}
		mods := make([]UnloadedModule, n)
		for i := range mods {
			e := c.entry(uint64(hdr), i, int(ent))
			m := &mods[i]
			m.BaseOfImage, m.SizeOfImage, m.CheckSum, m.TimeDateStamp, m.ModuleNameRva = e.u64(), e.u32(), e.u32(), e.u32(), e.u32()
			if e.err != nil {
				return nil, e.err
			}
			m.Name, m.NameErr = f.readString(uint64(m.ModuleNameRva), fmt.Sprintf("name of unloaded module %d", i))
		}
		return mods, nil
	})
}
