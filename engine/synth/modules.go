package synth

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// GUID is a Windows GUID as its fields: the RSDS record stores Data1..Data3 little-endian.
type GUID struct {
	Data1 uint32
	Data2 uint16
	Data3 uint16
	Data4 [8]byte
}

// ParseGUID reads "7DD47A9F-C2E8-499A-A78E-C14AE2C965A2" (braces optional).
func ParseGUID(s string) (GUID, error) {
	var g GUID
	clean := strings.ReplaceAll(strings.Trim(s, "{}"), "-", "")
	raw, err := hex.DecodeString(clean)
	if err != nil || len(raw) != 16 {
		return g, fmt.Errorf("synth: bad GUID %q", s)
	}
	g.Data1 = binary.BigEndian.Uint32(raw[0:])
	g.Data2 = binary.BigEndian.Uint16(raw[4:])
	g.Data3 = binary.BigEndian.Uint16(raw[6:])
	copy(g.Data4[:], raw[8:])
	return g, nil
}

// MustGUID is ParseGUID for constants in tests; it panics on a malformed GUID.
func MustGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// String is the GUID in the registry form, upper case, without braces.
func (g GUID) String() string {
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X", g.Data1, g.Data2, g.Data3, g.Data4[:2], g.Data4[2:])
}

// bytes is the GUID as stored in an RSDS record: Data1, Data2, Data3 little-endian, then Data4.
func (g GUID) bytes() []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint32(b[0:], g.Data1)
	binary.LittleEndian.PutUint16(b[4:], g.Data2)
	binary.LittleEndian.PutUint16(b[6:], g.Data3)
	copy(b[8:], g.Data4[:])
	return b
}

// CodeView describes a module's CodeView record (FORMATS.md §4.3). The zero value writes none.
// By default it is an 'RSDS' record (GUID, Age, PDB); NB10 selects the old 'NB10' form
// (Signature is then its timestamp). Raw, when set, is written as the record instead.
type CodeView struct {
	GUID      GUID
	Age       uint32
	PDB       string
	NB10      bool
	Signature uint32
	Raw       []byte
}

func (cv CodeView) empty() bool {
	return cv.Raw == nil && cv.PDB == "" && cv.GUID == (GUID{}) && !cv.NB10 && cv.Age == 0
}

// record is the CodeView record's bytes: 'RSDS' @0, GUID @4, Age @0x14, PdbFileName @0x18
// (NUL-terminated UTF-8); or 'NB10' @0, Offset @4 (0), Signature @8, Age @0xC, name @0x10.
func (cv CodeView) record() []byte {
	if cv.Raw != nil {
		return cv.Raw
	}
	le := binary.LittleEndian
	if cv.NB10 {
		b := make([]byte, 0x10, 0x10+len(cv.PDB)+1)
		copy(b, "NB10")
		le.PutUint32(b[8:], cv.Signature)
		le.PutUint32(b[0xC:], cv.Age)
		return append(append(b, cv.PDB...), 0)
	}
	b := make([]byte, 0x18, 0x18+len(cv.PDB)+1)
	copy(b, "RSDS")
	copy(b[4:], cv.GUID.bytes())
	le.PutUint32(b[0x14:], cv.Age)
	return append(append(b, cv.PDB...), 0)
}

// VersionInfo is a module's VS_FIXEDFILEINFO. FileVersion and ProductVersion are
// major, minor, build, revision.
type VersionInfo struct {
	FileVersion    [4]uint16
	ProductVersion [4]uint16
	FileFlagsMask  uint32
	FileFlags      uint32
	FileOS         uint32
	FileType       uint32
	FileSubtype    uint32
	FileDate       uint64
}

// Module is one MINIDUMP_MODULE; its fields may be changed until the dump is written.
type Module struct {
	Base          uint64
	Size          uint32
	Checksum      uint32
	TimeDateStamp uint32
	Path          string
	CodeView      CodeView
	Version       *VersionInfo // nil writes an all-zero VS_FIXEDFILEINFO
	Misc          []byte       // the MiscRecord, usually absent
}

// Module adds a loaded module to the ModuleList stream.
func (b *Minidump) Module(base uint64, size uint32, path string, timestamp, checksum uint32, cv CodeView) *Module {
	m := &Module{Base: base, Size: size, Path: path, TimeDateStamp: timestamp, Checksum: checksum, CodeView: cv}
	b.modules = append(b.modules, m)
	b.use(ModuleListStream, b.writeModuleList)
	return m
}

// writeModuleList writes ModuleList (4): NumberOfModules u32 @0, then 108-byte MINIDUMP_MODULEs
// (FORMATS.md §4.3): BaseOfImage @0, SizeOfImage @8, CheckSum @0xC, TimeDateStamp @0x10,
// ModuleNameRva @0x14, VersionInfo @0x18 (52 bytes), CvRecord @0x4C, MiscRecord @0x54,
// Reserved0 @0x5C, Reserved1 @0x64.
func (b *Minidump) writeModuleList(l *layout) (int, int) {
	size := 4 + 108*len(b.modules)
	off := l.reserve(size)
	l.u32(off, uint32(len(b.modules)))
	for i, m := range b.modules {
		e := off + 4 + 108*i
		l.u64(e+0x00, m.Base)
		l.u32(e+0x08, m.Size)
		l.u32(e+0x0C, m.Checksum)
		l.u32(e+0x10, m.TimeDateStamp)
		l.u32(e+0x14, uint32(l.putString(m.Path)))
		if m.Version != nil {
			writeFixedFileInfo(l, e+0x18, m.Version)
		}
		if !m.CodeView.empty() {
			rec := m.CodeView.record()
			l.location(e+0x4C, len(rec), l.put(rec))
		}
		if m.Misc != nil {
			l.location(e+0x54, len(m.Misc), l.put(m.Misc))
		}
	}
	return off, size
}

// writeFixedFileInfo writes VS_FIXEDFILEINFO (52 bytes, FORMATS.md §4.3): dwSignature
// 0xFEEF04BD, dwStrucVersion, FileVersionMS/LS @+8/+0xC, ProductVersionMS/LS @+0x10/+0x14,
// FileFlagsMask, FileFlags, FileOS, FileType, FileSubtype, FileDateMS, FileDateLS.
func writeFixedFileInfo(l *layout, at int, v *VersionInfo) {
	l.u32(at+0x00, 0xFEEF04BD)
	l.u32(at+0x04, 0x00010000)
	l.u32(at+0x08, uint32(v.FileVersion[0])<<16|uint32(v.FileVersion[1]))
	l.u32(at+0x0C, uint32(v.FileVersion[2])<<16|uint32(v.FileVersion[3]))
	l.u32(at+0x10, uint32(v.ProductVersion[0])<<16|uint32(v.ProductVersion[1]))
	l.u32(at+0x14, uint32(v.ProductVersion[2])<<16|uint32(v.ProductVersion[3]))
	l.u32(at+0x18, v.FileFlagsMask)
	l.u32(at+0x1C, v.FileFlags)
	l.u32(at+0x20, v.FileOS)
	l.u32(at+0x24, v.FileType)
	l.u32(at+0x28, v.FileSubtype)
	l.u32(at+0x2C, uint32(v.FileDate>>32))
	l.u32(at+0x30, uint32(v.FileDate))
}

// UnloadedModule is one MINIDUMP_UNLOADED_MODULE.
type UnloadedModule struct {
	Base          uint64
	Size          uint32
	Checksum      uint32
	TimeDateStamp uint32
	Path          string
}

// UnloadedModule adds an entry to the UnloadedModuleList stream.
func (b *Minidump) UnloadedModule(base uint64, size uint32, path string, timestamp, checksum uint32) {
	b.unloaded = append(b.unloaded, UnloadedModule{Base: base, Size: size, Path: path, TimeDateStamp: timestamp, Checksum: checksum})
	b.use(UnloadedModuleListStream, b.writeUnloadedModuleList)
}

// writeUnloadedModuleList writes UnloadedModuleList (0xE): {SizeOfHeader 12, SizeOfEntry 24,
// NumberOfEntries}, then entries {BaseOfImage u64, SizeOfImage, CheckSum, TimeDateStamp,
// ModuleNameRva} (FORMATS.md §4.3).
func (b *Minidump) writeUnloadedModuleList(l *layout) (int, int) {
	size := 12 + 24*len(b.unloaded)
	off := l.reserve(size)
	l.u32(off, 12)
	l.u32(off+4, 24)
	l.u32(off+8, uint32(len(b.unloaded)))
	for i, m := range b.unloaded {
		e := off + 12 + 24*i
		l.u64(e, m.Base)
		l.u32(e+8, m.Size)
		l.u32(e+0xC, m.Checksum)
		l.u32(e+0x10, m.TimeDateStamp)
		l.u32(e+0x14, uint32(l.putString(m.Path)))
	}
	return off, size
}
