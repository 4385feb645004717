package winfmt

import "encoding/binary"

// FixedFileInfo is VS_FIXEDFILEINFO, the fixed part of a version resource (52 bytes; FORMATS.md
// §4.3 lists it at @0x18 of a minidump module record). A minidump module whose image had no
// version resource has it all zero.
type FixedFileInfo struct {
	Signature        uint32 // FixedFileInfoSignature when valid
	StrucVersion     uint32
	FileVersionMS    uint32 // @+8
	FileVersionLS    uint32 // @+0xC
	ProductVersionMS uint32 // @+0x10
	ProductVersionLS uint32 // @+0x14
	FileFlagsMask    uint32
	FileFlags        uint32
	FileOS           uint32
	FileType         uint32
	FileSubtype      uint32
	FileDateMS       uint32
	FileDateLS       uint32
}

// FixedFileInfoSignature is VS_FIXEDFILEINFO.dwSignature (FORMATS.md §4.3).
const FixedFileInfoSignature = 0xFEEF04BD

// FixedFileInfoSize is the size of VS_FIXEDFILEINFO: 13 DWORDs.
const FixedFileInfoSize = 52

// DecodeFixedFileInfo decodes the 13 little-endian DWORDs of VS_FIXEDFILEINFO in order. When b is
// shorter than FixedFileInfoSize it gives the zero value, which is not Valid.
func DecodeFixedFileInfo(b []byte) FixedFileInfo {
	if len(b) < FixedFileInfoSize {
		return FixedFileInfo{}
	}
	var w [13]uint32
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return FixedFileInfo{w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[10], w[11], w[12]}
}

// Valid reports whether the record carries the VS_FIXEDFILEINFO signature.
func (v FixedFileInfo) Valid() bool { return v.Signature == FixedFileInfoSignature }

// FileVersion is major, minor, build, revision.
func (v FixedFileInfo) FileVersion() [4]uint16 { return version(v.FileVersionMS, v.FileVersionLS) }

// ProductVersion is major, minor, build, revision.
func (v FixedFileInfo) ProductVersion() [4]uint16 {
	return version(v.ProductVersionMS, v.ProductVersionLS)
}

// version splits an MS/LS pair: major in the high word of MS, revision in the low word of LS.
func version(ms, ls uint32) [4]uint16 {
	return [4]uint16{uint16(ms >> 16), uint16(ms), uint16(ls >> 16), uint16(ls)}
}
