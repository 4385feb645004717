package pe

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"unicode/utf16"

	"wdbg/engine/winfmt"
)

// VersionInfo is an image's version resource (VS_VERSIONINFO): the fixed part and the
// StringFileInfo strings that `lm v` shows.
type VersionInfo struct {
	Fixed        *FixedFileInfo // nil when the resource has none
	StringTables []StringTable  // in resource order
	Translations []Translation  // from VarFileInfo\Translation
}

// FixedFileInfo is VS_FIXEDFILEINFO (52 bytes; FORMATS.md §4.3 lists the same struct in a
// minidump module record), with FileVersion and ProductVersion helpers.
type FixedFileInfo = winfmt.FixedFileInfo

// FixedFileInfoSignature is VS_FIXEDFILEINFO.dwSignature.
const FixedFileInfoSignature = winfmt.FixedFileInfoSignature

// StringTable is one language's strings: Key is 8 hex digits, language then code page
// ("040904B0").
type StringTable struct {
	Key      string
	Language uint16
	CodePage uint16
	Strings  []VersionString // in resource order
}

// VersionString is one String of a StringTable: "CompanyName" = "Microsoft Corporation".
type VersionString struct {
	Key, Value string
}

// Translation is one language/code-page pair of VarFileInfo\Translation.
type Translation struct {
	Language uint16
	CodePage uint16
}

// String is "0409.04b0", as WinDbg's `lm v` prints a translation.
func (t Translation) String() string { return fmt.Sprintf("%04x.%04x", t.Language, t.CodePage) }

// Lookup returns the value of a version string (CompanyName, FileVersion, ...) from the first
// string table that has it.
func (v *VersionInfo) Lookup(key string) (string, bool) {
	for _, t := range v.StringTables {
		for _, s := range t.Strings {
			if s.Key == key {
				return s.Value, true
			}
		}
	}
	return "", false
}

const (
	maxVersionResource = 1 << 20
	maxVersionStrings  = 4096
)

// VersionInfo decodes the first RT_VERSION resource; nil with no error when there is none. When
// a block inside it is malformed, what was decoded before it comes back with the error.
func (f *File) VersionInfo() (*VersionInfo, error) {
	return f.version.Get(func() (*VersionInfo, error) {
		res, err := f.findResource(ResourceTypeVersion)
		if res == nil || err != nil {
			return nil, err
		}
		if res.Size > maxVersionResource {
			return nil, f.formatErr(res.RVA, "version resource", "size %#x is more than %#x", res.Size, maxVersionResource)
		}
		b, err := f.read(res.RVA, int(res.Size), "version resource")
		if err != nil {
			return nil, err
		}
		return f.decodeVersionInfo(b, res.RVA)
	})
}

// versionBlock is one node of the VS_VERSIONINFO tree: wLength @0, wValueLength @2, wType @4
// (1 text, 0 binary), szKey (UTF-16, NUL-terminated) @6, padding to 32 bits, Value, padding to
// 32 bits, children (Microsoft "VS_VERSIONINFO structure").
type versionBlock struct {
	key        string
	text       bool
	value      []byte
	start, end int // the block's extent in the resource
	children   int // offset of the first child
}

// versionBlockAt decodes the block at off, which must end by end.
func (f *File) versionBlockAt(b []byte, off, end int, rva uint32) (versionBlock, error) {
	const what = "version resource"
	if off+6 > end {
		return versionBlock{}, f.formatErr(rva+uint32(off), what, "truncated block header (need 6 bytes, have %d)", end-off)
	}
	length := int(binary.LittleEndian.Uint16(b[off:]))
	valueLen := int(binary.LittleEndian.Uint16(b[off+2:]))
	blk := versionBlock{text: binary.LittleEndian.Uint16(b[off+4:]) == 1, start: off, end: off + length}
	if length < 6 || blk.end > end {
		return blk, f.formatErr(rva+uint32(off), what, "block length %d does not fit (at least 6, at most %d)", length, end-off)
	}
	// szKey runs to its NUL.
	p := off + 6
	var key []uint16
	for ; p+2 <= blk.end; p += 2 {
		ch := binary.LittleEndian.Uint16(b[p:])
		if ch == 0 {
			break
		}
		key = append(key, ch)
	}
	blk.key = string(utf16.Decode(key))
	p = min(align4(p+2), blk.end)
	// wValueLength counts UTF-16 units for text values, bytes for binary ones.
	if blk.text {
		valueLen *= 2
	}
	vend := min(p+valueLen, blk.end)
	blk.value = b[p:vend]
	blk.children = min(align4(vend), blk.end)
	return blk, nil
}

func align4(v int) int { return (v + 3) &^ 3 }

// eachChild calls fn for each child block of parent, in order.
func (f *File) eachChild(b []byte, parent versionBlock, rva uint32, fn func(versionBlock) error) error {
	for off := parent.children; off+6 <= parent.end; {
		child, err := f.versionBlockAt(b, off, parent.end, rva)
		if err != nil {
			return err
		}
		if err := fn(child); err != nil {
			return err
		}
		off = align4(child.end)
	}
	return nil
}

// decodeVersionInfo decodes VS_VERSIONINFO → {StringFileInfo → StringTable → String,
// VarFileInfo → Var "Translation"}. The depth is fixed by the structure, and each child lies
// inside its parent, so a crafted resource cannot loop.
func (f *File) decodeVersionInfo(b []byte, rva uint32) (*VersionInfo, error) {
	const what = "version resource"
	root, err := f.versionBlockAt(b, 0, len(b), rva)
	if err != nil {
		return nil, err
	}
	if root.key != "VS_VERSION_INFO" {
		return nil, f.formatErr(rva, what, "key %q (want \"VS_VERSION_INFO\")", root.key)
	}
	v := &VersionInfo{}
	if fixed := winfmt.DecodeFixedFileInfo(root.value); fixed.Valid() {
		v.Fixed = &fixed
	}
	count := 0
	err = f.eachChild(b, root, rva, func(info versionBlock) error {
		switch info.key {
		case "StringFileInfo":
			return f.eachChild(b, info, rva, func(table versionBlock) error {
				st := StringTable{Key: table.key}
				if x, err := strconv.ParseUint(table.key, 16, 32); err == nil && len(table.key) == 8 {
					st.Language, st.CodePage = uint16(x>>16), uint16(x)
				}
				err := f.eachChild(b, table, rva, func(s versionBlock) error {
					if count++; count > maxVersionStrings {
						return f.formatErr(rva+uint32(s.start), what, "more than %d strings", maxVersionStrings)
					}
					st.Strings = append(st.Strings, VersionString{Key: s.key, Value: utf16String(s.value)})
					return nil
				})
				v.StringTables = append(v.StringTables, st)
				return err
			})
		case "VarFileInfo":
			return f.eachChild(b, info, rva, func(vr versionBlock) error {
				if vr.key != "Translation" {
					return nil
				}
				// Each DWORD: language in the low word, code page in the high word.
				for i := 0; i+4 <= len(vr.value) && len(v.Translations) < maxVersionStrings; i += 4 {
					v.Translations = append(v.Translations, Translation{
						Language: binary.LittleEndian.Uint16(vr.value[i:]), CodePage: binary.LittleEndian.Uint16(vr.value[i+2:])})
				}
				return nil
			})
		}
		return nil
	})
	return v, err
}

// utf16String decodes little-endian UTF-16 up to the first NUL.
func utf16String(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+2 <= len(b); i += 2 {
		ch := binary.LittleEndian.Uint16(b[i:])
		if ch == 0 {
			break
		}
		u = append(u, ch)
	}
	return string(utf16.Decode(u))
}
