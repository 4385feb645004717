package winfmt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// CodeView signatures as little-endian u32s (FORMATS.md §4.3).
const (
	CvSignatureRSDS = 0x53445352 // 'RSDS', PDB 7.0
	CvSignatureNB10 = 0x3031424E // 'NB10', PDB 2.0
)

// MaxPDBName bounds the PDB name taken from a CodeView record: names are MAX_PATH-sized, and a
// longer one is cut, not rejected.
const MaxPDBName = 0x1000

// CodeView is a CodeView debug record: which PDB holds an image's symbols. A PE image's debug
// directory and a minidump module's CvRecord hold the same bytes (FORMATS.md §4.3).
type CodeView struct {
	Signature uint32 // CvSignatureRSDS or CvSignatureNB10
	GUID      GUID   // RSDS only
	Timestamp uint32 // NB10 only: the PDB's signature (a time stamp)
	Age       uint32
	PDBName   string // as stored, e.g. C:\build\foo.pdb or just foo.pdb
}

// ParseCodeView decodes an RSDS or NB10 record (FORMATS.md §4.3): 'RSDS', GUID @4, Age @0x14,
// name @0x18; 'NB10', Offset @4 (always 0), Signature @8, Age @0xC, name @0x10. The name runs to
// its NUL, the end of b or MaxPDBName bytes. The error says what is wrong with the record; the
// caller wraps it with where the record lies.
func ParseCodeView(b []byte) (*CodeView, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("truncated (need 4 bytes for the signature, have %d)", len(b))
	}
	cv := &CodeView{Signature: binary.LittleEndian.Uint32(b)}
	var nameAt int
	switch cv.Signature {
	case CvSignatureRSDS:
		nameAt = 0x18
	case CvSignatureNB10:
		nameAt = 0x10
	default:
		return nil, fmt.Errorf("unknown CodeView signature %#x (want RSDS or NB10)", cv.Signature)
	}
	if len(b) < nameAt {
		return nil, fmt.Errorf("truncated %s record (need %d bytes, have %d)", b[:4], nameAt, len(b))
	}
	if cv.Signature == CvSignatureRSDS {
		cv.GUID = GUIDFromBytes([16]byte(b[4:0x14]))
		cv.Age = binary.LittleEndian.Uint32(b[0x14:])
	} else {
		cv.Timestamp = binary.LittleEndian.Uint32(b[8:])
		cv.Age = binary.LittleEndian.Uint32(b[0xC:])
	}
	name := b[nameAt:]
	name = name[:min(len(name), MaxPDBName)]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	cv.PDBName = string(name)
	return cv, nil
}

// StoreKey is the PDB's directory name in a symbol store: the GUID as 32 upper-case hex digits
// (NB10: the 8-digit time stamp) followed by the age in hex without leading zeros
// (FORMATS.md §7.6).
func (cv *CodeView) StoreKey() string {
	if cv.Signature == CvSignatureNB10 {
		return fmt.Sprintf("%08X%x", cv.Timestamp, cv.Age)
	}
	g := cv.GUID
	return fmt.Sprintf("%08X%04X%04X%X%X", g.Data1, g.Data2, g.Data3, g.Data4[:], cv.Age)
}

// PDBFileName is the file part of PDBName (after the last '\' or '/').
func (cv *CodeView) PDBFileName() string {
	return cv.PDBName[strings.LastIndexAny(cv.PDBName, `\/`)+1:]
}
