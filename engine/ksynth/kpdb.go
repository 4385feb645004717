package ksynth

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"wdbg/engine/internal/pdbwrite"
	"wdbg/engine/pdb"
)

// WriteSymbols writes the kernel's PDB — ntkrnlmp.pdb or ntkrpamp.pdb, the name in nt's RSDS
// record — in symbol-store layout under dir (dir/NAME.pdb/GUIDAGE/NAME.pdb, FORMATS.md §7.6)
// and returns its path. It holds the section headers of the nt image, the kernel structures
// as type records (kpdb_types.go), and a public for every nt function and variable the writer
// placed (Manifest.Modules' nt exports and
// Manifest.Globals), so that a debugger with dir on its symbol path resolves nt!PoolTrackTable
// and names addresses. On x86 the publics carry the C decoration (_Name), as 32-bit kernel
// PDBs do.
func (d *Dump) WriteSymbols(dir string) (string, error) {
	m := d.manifest
	nt := m.Module("nt")
	if nt == nil {
		return "", fmt.Errorf("ksynth: no nt module")
	}
	guid, err := parseGUID(nt.GUID)
	if err != nil {
		return "", err
	}
	sections, err := d.imageSections(nt.Base)
	if err != nil {
		return "", err
	}
	p := &pdbwrite.PDB{GUID: guid, Age: nt.Age, Signature: nt.TimeDateStamp, Machine: uint16(m.MachineImageType),
		Sections: sections, Types: d.sessionTypes(profileOf(d.spec.Machine).kernelTypes())}
	decorate := func(s string) string { return s }
	if m.PointerSize == 4 {
		decorate = func(s string) string { return "_" + s }
	}
	for _, e := range nt.Exports {
		p.Publics = append(p.Publics, pdbwrite.Public{Name: decorate(e.Name), RVA: uint32(e.Address - nt.Base), Function: true})
	}
	names := make([]string, 0, len(m.Globals))
	for name := range m.Globals {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		va := m.Globals[name]
		if va < nt.Base || va >= nt.End {
			continue
		}
		p.Publics = append(p.Publics, pdbwrite.Public{Name: decorate(name), RVA: uint32(va - nt.Base)})
	}
	if p.FPO, err = d.ntFPO(nt); err != nil { // x86: FPO_DATA per nt function (kpdb_fpo.go)
		return "", err
	}
	data, err := p.Bytes()
	if err != nil {
		return "", err
	}
	base := filepath.Base(strings.ReplaceAll(nt.PDB, `\`, "/"))
	path := filepath.Join(dir, base, pdb.SymbolStoreID(guid, nt.Age), base)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, data, 0o644)
}

// parseGUID turns the manifest's registry-form GUID back into RSDS byte order (Data1..3
// little-endian).
func parseGUID(s string) ([16]byte, error) {
	var g [16]byte
	raw, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(raw) != 16 {
		return g, fmt.Errorf("ksynth: bad GUID %q", s)
	}
	binary.LittleEndian.PutUint32(g[0:], binary.BigEndian.Uint32(raw[0:]))
	binary.LittleEndian.PutUint16(g[4:], binary.BigEndian.Uint16(raw[4:]))
	binary.LittleEndian.PutUint16(g[6:], binary.BigEndian.Uint16(raw[6:]))
	copy(g[8:], raw[8:])
	return g, nil
}

// imageSections reads the section table of the image at base from the dump's memory (PE
// format: e_lfanew @0x3C, NumberOfSections @+6 and SizeOfOptionalHeader @+0x14 of the file
// header, 40-byte section headers after the optional header).
func (d *Dump) imageSections(base uint64) ([]pdbwrite.Section, error) {
	pa, ok := d.physOf(base)
	if !ok {
		return nil, fmt.Errorf("ksynth: image at %#x is not mapped", base)
	}
	h := d.mem.read(pa, pageSize)
	le := binary.LittleEndian
	nth := uint64(le.Uint32(h[0x3C:]))
	if nth+24 > pageSize || le.Uint32(h[nth:]) != 0x00004550 {
		return nil, fmt.Errorf("ksynth: no PE header at %#x", base)
	}
	count := uint64(le.Uint16(h[nth+6:]))
	at := nth + 24 + uint64(le.Uint16(h[nth+20:]))
	if at+40*count > pageSize {
		return nil, fmt.Errorf("ksynth: section table of the image at %#x runs past its first page", base)
	}
	var out []pdbwrite.Section
	for i := uint64(0); i < count; i++ {
		s := h[at+40*i:]
		out = append(out, pdbwrite.Section{Name: strings.TrimRight(string(s[:8]), "\x00"), VirtualSize: le.Uint32(s[8:]),
			VirtualAddress: le.Uint32(s[12:]), Characteristics: le.Uint32(s[36:])})
	}
	return out, nil
}

// physOf translates a kernel VA through the manifest's mappings.
func (d *Dump) physOf(va uint64) (uint64, bool) {
	for _, mp := range d.manifest.Mappings {
		if va >= mp.VA && va-mp.VA < mp.PageSize {
			return mp.PA + va - mp.VA, true
		}
	}
	return 0, false
}

// WriteWithSymbols writes the dump as dir/MEMORY.DMP and its kernel PDB under dir/sym, the
// layout the tests open with the symbol path set to the second value.
func (d *Dump) WriteWithSymbols(dir string) (dumpPath, symPath string, err error) {
	dumpPath, symPath = filepath.Join(dir, "MEMORY.DMP"), filepath.Join(dir, "sym")
	if err := d.WriteFile(dumpPath); err != nil {
		return "", "", err
	}
	if _, err := d.WriteSymbols(symPath); err != nil {
		return "", "", err
	}
	return dumpPath, symPath, nil
}
