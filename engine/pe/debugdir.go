package pe

import (
	"fmt"

	"wdbg/engine/winfmt"
)

// Debug directory entry types (PE Format, "Debug Type").
const (
	DebugTypeUnknown              = 0
	DebugTypeCOFF                 = 1
	DebugTypeCodeView             = 2
	DebugTypeFPO                  = 3
	DebugTypeMisc                 = 4
	DebugTypeException            = 5
	DebugTypeFixup                = 6
	DebugTypeOMAPToSrc            = 7
	DebugTypeOMAPFromSrc          = 8
	DebugTypeBorland              = 9
	DebugTypeReserved10           = 10
	DebugTypeCLSID                = 11
	DebugTypeVCFeature            = 12
	DebugTypePOGO                 = 13
	DebugTypeILTCG                = 14
	DebugTypeMPX                  = 15
	DebugTypeRepro                = 16
	DebugTypeEmbeddedPortablePDB  = 17
	DebugTypePDBChecksum          = 19
	DebugTypeExDllCharacteristics = 20
)

var debugTypeNames = map[uint32]string{
	DebugTypeUnknown: "Unknown", DebugTypeCOFF: "COFF", DebugTypeCodeView: "CodeView", DebugTypeFPO: "FPO",
	DebugTypeMisc: "Misc", DebugTypeException: "Exception", DebugTypeFixup: "Fixup",
	DebugTypeOMAPToSrc: "OMAPToSrc", DebugTypeOMAPFromSrc: "OMAPFromSrc", DebugTypeBorland: "Borland",
	DebugTypeReserved10: "Reserved10", DebugTypeCLSID: "CLSID", DebugTypeVCFeature: "VCFeature",
	DebugTypePOGO: "POGO", DebugTypeILTCG: "ILTCG", DebugTypeMPX: "MPX", DebugTypeRepro: "Repro",
	DebugTypeEmbeddedPortablePDB: "EmbeddedPortablePDB", DebugTypePDBChecksum: "PDBChecksum",
	DebugTypeExDllCharacteristics: "ExtendedDLLCharacteristics",
}

// DebugTypeName names a debug directory entry type ("CodeView", "POGO", ...), or "Type(N)".
func DebugTypeName(t uint32) string {
	if s, ok := debugTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("Type(%d)", t)
}

// DebugEntry is IMAGE_DEBUG_DIRECTORY (28 bytes).
type DebugEntry struct {
	Characteristics  uint32
	TimeDateStamp    uint32
	MajorVersion     uint16
	MinorVersion     uint16
	Type             uint32
	SizeOfData       uint32
	AddressOfRawData uint32 // RVA of the data when it is mapped, else 0
	PointerToRawData uint32 // file offset of the data
}

const (
	sizeofDebugEntry = 28
	maxDebugEntries  = 256
	maxDebugData     = 1 << 20
)

// DebugDirectory decodes the debug directory's entries; nil when the image has none.
func (f *File) DebugDirectory() ([]DebugEntry, error) {
	return f.debugDir.Get(f.readDebugDirectory)
}

func (f *File) readDebugDirectory() ([]DebugEntry, error) {
	const what = "debug directory"
	dir := f.Directory(DirectoryDebug)
	if dir.VirtualAddress == 0 || dir.Size == 0 {
		return nil, nil
	}
	n := dir.Size / sizeofDebugEntry
	if n > maxDebugEntries {
		return nil, f.formatErr(dir.VirtualAddress, what, "size %#x holds %d entries (at most %d)", dir.Size, n, maxDebugEntries)
	}
	b, err := f.read(dir.VirtualAddress, int(n)*sizeofDebugEntry, what)
	if err != nil {
		return nil, err
	}
	c := f.newCursor(b, dir.VirtualAddress, what)
	entries := make([]DebugEntry, n)
	for i := range entries {
		entries[i] = DebugEntry{
			Characteristics: c.u32(), TimeDateStamp: c.u32(), MajorVersion: c.u16(), MinorVersion: c.u16(),
			Type: c.u32(), SizeOfData: c.u32(), AddressOfRawData: c.u32(), PointerToRawData: c.u32(),
		}
	}
	return entries, c.err
}

// DebugData returns an entry's data (at most 1 MiB): mapped at AddressOfRawData, or, when that
// is 0, at PointerToRawData in the file (an image read from memory has no file to go to).
func (f *File) DebugData(e DebugEntry) ([]byte, error) {
	const what = "debug data"
	if e.SizeOfData > maxDebugData {
		return nil, f.formatErr(e.AddressOfRawData, what, "SizeOfData %#x is more than %#x", e.SizeOfData, maxDebugData)
	}
	if e.AddressOfRawData != 0 {
		return f.read(e.AddressOfRawData, int(e.SizeOfData), what)
	}
	fs, ok := f.src.(*fileSource)
	if !ok {
		return nil, f.formatErr(0, what, "%s entry is not mapped (AddressOfRawData 0, file offset %#x)", DebugTypeName(e.Type), e.PointerToRawData)
	}
	p := make([]byte, e.SizeOfData)
	n, err := fs.r.ReadAt(p, int64(e.PointerToRawData))
	if n < len(p) {
		return nil, &FormatError{What: what, Off: int64(e.PointerToRawData), Msg: fmt.Sprintf("truncated (need %d bytes, have %d)", len(p), n), Err: fileErr(err)}
	}
	return p, nil
}

// CodeView signatures as little-endian u32s (FORMATS.md §4.3).
const (
	CvSignatureRSDS = winfmt.CvSignatureRSDS // 'RSDS', PDB 7.0
	CvSignatureNB10 = winfmt.CvSignatureNB10 // 'NB10', PDB 2.0
)

// GUID is a Windows GUID; its String is upper case.
type GUID = winfmt.GUID

// CodeView is the CodeView record of the debug directory: which PDB holds the image's symbols
// (FORMATS.md §4.3; the same bytes as a minidump module's CvRecord), with StoreKey and
// PDBFileName for the symbol store.
type CodeView = winfmt.CodeView

// ImageStoreKey is the image's directory name in a symbol store: TimeDateStamp as 8 upper-case
// hex digits followed by SizeOfImage in hex without leading zeros (FORMATS.md §7.6).
func (f *File) ImageStoreKey() string {
	return fmt.Sprintf("%08X%x", f.TimeDateStamp, f.SizeOfImage)
}

// CodeView decodes the first CodeView entry of the debug directory; nil with no error when the
// image has none.
func (f *File) CodeView() (*CodeView, error) {
	return f.codeView.Get(func() (*CodeView, error) {
		entries, err := f.DebugDirectory()
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Type != DebugTypeCodeView {
				continue
			}
			b, err := f.DebugData(e)
			if err != nil {
				return nil, err
			}
			return f.decodeCodeView(b, e.AddressOfRawData)
		}
		return nil, nil
	})
}

// decodeCodeView decodes the CodeView record read at rva.
func (f *File) decodeCodeView(b []byte, rva uint32) (*CodeView, error) {
	cv, err := winfmt.ParseCodeView(b)
	if err != nil {
		e := f.formatErr(rva, "CodeView record", "")
		e.Err = err
		return nil, e
	}
	return cv, nil
}
