package symstore

import (
	"encoding/binary"
	"fmt"
	"path"
	"strings"
)

// Key names one file in a symbol store: it lives at <Name>/<ID>/<File> below the store root
// (FORMATS.md §7.6), or at <Name[:2]>/<Name>/<ID>/<File> in a two-tier store.
type Key struct {
	Name string // the index file name: "ntkrnlmp.pdb", "ntdll.dll"
	ID   string // the index directory: GUID+age for a PDB, timestamp+size for an image
	File string // the file inside the index directory when it is not Name ("basic32.sym"); "" = Name

	// ImageExt, when set, is the extension of the image a PDB belongs to ("dll", "exe", "sys"):
	// plain directories are then also searched as DIR/symbols/EXT and DIR/EXT, as dbghelp does.
	ImageExt string
}

// PDBKey is the key of a PDB 7.0 file from an RSDS CodeView record: the GUID as 32 upper-case hex
// digits (Data1, Data2, Data3 as numbers, then the 8 Data4 bytes) and the age in hex without
// leading zeros (FORMATS.md §7.6). guid is in file order (Data1..3 little-endian), as
// engine.CodeView.GUID holds it. pdbName may be the full path from the record; its file part is used.
func PDBKey(pdbName string, guid [16]byte, age uint32) Key {
	return Key{Name: baseName(pdbName), ID: guidID(guid) + fmt.Sprintf("%X", age)}
}

// NB10Key is the key of a PDB 2.0 file from an NB10 CodeView record: the signature as 8 hex
// digits followed by the age (FORMATS.md §7.6).
func NB10Key(pdbName string, signature, age uint32) Key {
	return Key{Name: baseName(pdbName), ID: fmt.Sprintf("%08X%X", signature, age)}
}

// ImageKey is the key of a PE image: TimeDateStamp as exactly 8 upper-case hex digits, then
// SizeOfImage in lower-case hex without leading zeros (FORMATS.md §7.6; SSQP key conventions).
func ImageKey(imageName string, timeDateStamp, sizeOfImage uint32) Key {
	return Key{Name: baseName(imageName), ID: fmt.Sprintf("%08X%x", timeDateStamp, sizeOfImage)}
}

// BreakpadKey is the key of a Breakpad symbol file stored beside a PDB: name.pdb/<GUID><age>/name.sym
// (the layout Mozilla's and Chrome's symbol servers use).
func BreakpadKey(pdbName string, guid [16]byte, age uint32) Key {
	k := PDBKey(pdbName, guid, age)
	k.File = strings.TrimSuffix(k.Name, path.Ext(k.Name)) + ".sym"
	return k
}

func guidID(g [16]byte) string {
	return fmt.Sprintf("%08X%04X%04X%X", binary.LittleEndian.Uint32(g[0:]), binary.LittleEndian.Uint16(g[4:]),
		binary.LittleEndian.Uint16(g[6:]), g[8:16])
}

// baseName is the file part of a Windows or POSIX path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	return p
}

// FileName is the name of the file inside the index directory.
func (k Key) FileName() string {
	if k.File != "" {
		return k.File
	}
	return k.Name
}

// Path is the key's place below a single-tier store root, with forward slashes.
func (k Key) Path() string { return k.Name + "/" + k.ID + "/" + k.FileName() }

func (k Key) String() string { return k.Path() }

// compressedName is the store name of the compressed form: the last character replaced by '_'
// (ntkrnlmp.pd_; FORMATS.md §7.6).
func compressedName(file string) string { return file[:len(file)-1] + "_" }

// maxKeyPart bounds each part of a key (NTFS file names are at most 255 characters).
const maxKeyPart = 255

// Validate refuses keys that could escape a store when used as a path or URL (SSQP "Security
// Warnings"): every part must be a plain file name, the ID letters, digits, '-' or '_'.
func (k Key) Validate() error {
	check := func(what, s string) error {
		switch {
		case s == "":
			return fmt.Errorf("symstore: key %q: empty %s", k.Path(), what)
		case len(s) > maxKeyPart:
			return fmt.Errorf("symstore: key %q: %s is %d characters (at most %d)", k.Path(), what, len(s), maxKeyPart)
		case s == "." || s == "..":
			return fmt.Errorf("symstore: key %q: %s %q is not a file name", k.Path(), what, s)
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f || strings.ContainsRune(`/\:*?"<>|`, r) {
				return fmt.Errorf("symstore: key %q: %s contains %q", k.Path(), what, r)
			}
		}
		return nil
	}
	if err := check("name", k.Name); err != nil {
		return err
	}
	if err := check("file name", k.FileName()); err != nil {
		return err
	}
	if err := check("id", k.ID); err != nil {
		return err
	}
	for _, r := range k.ID {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return fmt.Errorf("symstore: key %q: id contains %q", k.Path(), r)
		}
	}
	if k.ImageExt != "" {
		if err := check("image extension", k.ImageExt); err != nil {
			return err
		}
	}
	return nil
}
