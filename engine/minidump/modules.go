package minidump

import (
	"fmt"

	"wdbg/engine/winfmt"
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
type FixedFileInfo = winfmt.FixedFileInfo

// FixedFileInfoSignature is VS_FIXEDFILEINFO.dwSignature.
const FixedFileInfoSignature = winfmt.FixedFileInfoSignature

const moduleSize = 108 // MINIDUMP_MODULE, packed 4

// Modules decodes the ModuleListStream; nil when the dump has none. A module whose name or
// CodeView record cannot be read is kept, with NameErr or CodeViewErr saying why.
func (f *File) Modules() ([]Module, error) {
	return f.modules.Get(func() ([]Module, error) {
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
			m.VersionInfo = winfmt.DecodeFixedFileInfo(c.take(winfmt.FixedFileInfoSize)) // @0x18
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
type CodeViewRecord = winfmt.CodeView

// CodeView signatures as little-endian u32s.
const (
	CvSignatureRSDS = winfmt.CvSignatureRSDS // 'RSDS'
	CvSignatureNB10 = winfmt.CvSignatureNB10 // 'NB10'
)

// GUID is a Windows GUID; its String is upper case, as WinDbg prints it.
type GUID = winfmt.GUID

func (f *File) codeView(loc LocationDescriptor, what string) (*CodeViewRecord, error) {
	b, err := f.block(uint64(loc.Rva), uint64(loc.DataSize), what)
	if err != nil {
		return nil, err
	}
	cv, err := winfmt.ParseCodeView(b)
	if err != nil {
		return nil, formatErr(int64(loc.Rva), what, "%v", err)
	}
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
	return f.unloaded.Get(func() ([]UnloadedModule, error) {
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
