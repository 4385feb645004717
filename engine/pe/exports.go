package pe

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Export is one entry of the export address table.
type Export struct {
	Name    string // "" for an export by ordinal only
	Ordinal uint32 // OrdinalBase + the entry's index in the address table
	// RVA is the entry's address. For a forwarder it points at the forwarder string inside
	// the export directory, not at code.
	RVA uint32
	// Forwarder is "NTDLL.RtlAllocateHeap" (or "NTDLL.#12") when the export is forwarded to
	// another DLL, "" otherwise.
	Forwarder string
}

// ExportDirectory is an image's export table, decoded (PE Format, "The .edata Section").
type ExportDirectory struct {
	Characteristics uint32
	TimeDateStamp   uint32
	MajorVersion    uint16
	MinorVersion    uint16
	DLLName         string // the Name field, e.g. "USER32.dll"
	OrdinalBase     uint32
	// Exports holds every used entry of the address table (RVA not 0), sorted by RVA then name;
	// Lookup searches it.
	Exports []Export
	// Damaged is the first name or forwarder string that could not be read (a page missing from
	// a dump); those exports are listed without their name, or with forwarder "?".
	Damaged error
	// byName indexes Exports sorted by name.
	byName []int32
}

// Export directory limits. Ordinals are 16-bit (the ordinal table holds u16 indices), so a
// real table never has more than 65536 entries; names are bounded in all by a budget so that a
// crafted table of 65536 names all pointing at one 4 KiB string costs little.
const (
	maxExports         = 1 << 16
	exportNameBudget   = 32 << 20
	sizeofExportHeader = 40
)

// Exports decodes the export directory; nil with no error when the image has none.
func (f *File) Exports() (*ExportDirectory, error) {
	return f.exports.Get(f.readExports)
}

func (f *File) readExports() (*ExportDirectory, error) {
	const what = "export directory"
	dir := f.Directory(DirectoryExport)
	if dir.VirtualAddress == 0 || dir.Size == 0 {
		return nil, nil
	}
	b, err := f.read(dir.VirtualAddress, sizeofExportHeader, what)
	if err != nil {
		return nil, err
	}
	// IMAGE_EXPORT_DIRECTORY: Characteristics @0, TimeDateStamp @4, MajorVersion @8,
	// MinorVersion @10, Name @12, Base @16, NumberOfFunctions @20, NumberOfNames @24,
	// AddressOfFunctions @28, AddressOfNames @32, AddressOfNameOrdinals @36.
	c := f.newCursor(b, dir.VirtualAddress, what)
	d := &ExportDirectory{Characteristics: c.u32(), TimeDateStamp: c.u32(), MajorVersion: c.u16(), MinorVersion: c.u16()}
	nameRVA := c.u32()
	d.OrdinalBase = c.u32()
	nFuncs, nNames := c.u32(), c.u32()
	funcsRVA, namesRVA, ordsRVA := c.u32(), c.u32(), c.u32()
	if nFuncs > maxExports {
		return nil, f.formatErr(dir.VirtualAddress+20, what, "NumberOfFunctions %d is more than %d", nFuncs, maxExports)
	}
	if nNames > nFuncs {
		return nil, f.formatErr(dir.VirtualAddress+24, what, "NumberOfNames %d is more than NumberOfFunctions %d", nNames, nFuncs)
	}
	if nameRVA != 0 {
		// A missing DLL name costs only the name.
		d.DLLName, _ = f.readCString(nameRVA, maxName, "export DLL name")
	}
	funcs, err := f.read(funcsRVA, int(nFuncs)*4, "export address table")
	if err != nil {
		return nil, err
	}
	names, err := f.read(namesRVA, int(nNames)*4, "export name pointer table")
	if err != nil {
		return nil, err
	}
	ords, err := f.read(ordsRVA, int(nNames)*2, "export ordinal table")
	if err != nil {
		return nil, err
	}

	// The name of each address-table index; the first name wins when several share one.
	nameOf := make([]string, nFuncs)
	hasName := make([]bool, nFuncs)
	budget := exportNameBudget
	cn := f.newCursor(names, namesRVA, "export name pointer table")
	co := f.newCursor(ords, ordsRVA, "export ordinal table")
	for range nNames {
		at, idx := co.rva(), co.u16()
		ptrAt, ptr := cn.rva(), cn.u32()
		if uint32(idx) >= nFuncs {
			return nil, f.formatErr(at, "export ordinal table", "index %d is outside the address table (%d entries)", idx, nFuncs)
		}
		if hasName[idx] {
			continue
		}
		name, err := f.readCString(ptr, min(maxName, budget), fmt.Sprintf("export name (pointer at RVA %#x)", ptrAt))
		if err != nil {
			// A name on a page the dump lacks costs only that name.
			d.Damaged = cmp.Or(d.Damaged, err)
			continue
		}
		budget -= len(name) + 1
		if budget <= 0 {
			return nil, f.formatErr(namesRVA, "export name pointer table", "names exceed %d bytes in all", exportNameBudget)
		}
		nameOf[idx], hasName[idx] = name, true
	}

	cf := f.newCursor(funcs, funcsRVA, "export address table")
	for i := range nFuncs {
		rva := cf.u32()
		if rva == 0 {
			continue
		}
		e := Export{Name: nameOf[i], Ordinal: d.OrdinalBase + i, RVA: rva}
		// An address inside the export directory is a forwarder string (PE Format, "Export
		// Address Table").
		if rva >= dir.VirtualAddress && uint64(rva) < uint64(dir.VirtualAddress)+uint64(dir.Size) {
			fwd, err := f.readCString(rva, min(maxName, budget), "export forwarder")
			if err != nil {
				d.Damaged = cmp.Or(d.Damaged, err)
				fwd = "?"
			}
			budget -= len(fwd) + 1
			if budget <= 0 {
				return nil, f.formatErr(rva, "export forwarder", "names exceed %d bytes in all", exportNameBudget)
			}
			e.Forwarder = fwd
		}
		d.Exports = append(d.Exports, e)
	}
	slices.SortStableFunc(d.Exports, func(a, b Export) int {
		return cmp.Or(cmp.Compare(a.RVA, b.RVA), strings.Compare(a.Name, b.Name))
	})
	d.byName = make([]int32, 0, len(d.Exports))
	for i := range d.Exports {
		if d.Exports[i].Name != "" {
			d.byName = append(d.byName, int32(i))
		}
	}
	slices.SortStableFunc(d.byName, func(i, j int32) int { return strings.Compare(d.Exports[i].Name, d.Exports[j].Name) })
	return d, nil
}

// Lookup finds the export at or before rva: the nearest non-forwarded export whose RVA is not
// above rva, as a debugger uses exports to name an address without symbols. Callers decide how
// far past an export an address may be and still be named after it.
func (d *ExportDirectory) Lookup(rva uint32) (Export, bool) {
	i := sort.Search(len(d.Exports), func(i int) bool { return d.Exports[i].RVA > rva }) - 1
	for ; i >= 0; i-- {
		if d.Exports[i].Forwarder != "" {
			continue
		}
		// Several names may share an address (NtX and ZwX in ntdll): take the first of them in
		// name order, as the list is sorted by RVA then name.
		for i > 0 && d.Exports[i-1].RVA == d.Exports[i].RVA && d.Exports[i-1].Forwarder == "" {
			i--
		}
		return d.Exports[i], true
	}
	return Export{}, false
}

// ByName finds an export by its exact (case-sensitive) name.
func (d *ExportDirectory) ByName(name string) (Export, bool) {
	i := sort.Search(len(d.byName), func(i int) bool { return d.Exports[d.byName[i]].Name >= name })
	if i < len(d.byName) && d.Exports[d.byName[i]].Name == name {
		return d.Exports[d.byName[i]], true
	}
	return Export{}, false
}

// ByOrdinal finds an export by ordinal.
func (d *ExportDirectory) ByOrdinal(ordinal uint32) (Export, bool) {
	for _, e := range d.Exports {
		if e.Ordinal == ordinal {
			return e, true
		}
	}
	return Export{}, false
}
