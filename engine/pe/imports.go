package pe

import (
	"cmp"
	"encoding/binary"
	"fmt"
)

// ImportedDLL is one entry of the import directory: a DLL and what the image takes from it.
type ImportedDLL struct {
	Name string // e.g. "KERNEL32.dll"
	// ImportLookupTableRVA (OriginalFirstThunk) names the functions; ImportAddressTableRVA
	// (FirstThunk) is where the loader writes their addresses.
	ImportLookupTableRVA  uint32
	TimeDateStamp         uint32
	ForwarderChain        uint32
	ImportAddressTableRVA uint32
	Functions             []ImportedFunction
}

// ImportedFunction is one import: by name (with the loader's hint) or by ordinal.
type ImportedFunction struct {
	Name      string // "" when imported by ordinal
	Hint      uint16 // index into the DLL's export name table, a lookup hint
	Ordinal   uint16 // when ByOrdinal
	ByOrdinal bool
	// IATRVA is the RVA of the import address table slot: in a loaded image it holds the
	// function's address, so `call [IATRVA]` calls this import.
	IATRVA uint32
}

// Import directory limits: more DLLs or functions than any real image has.
const (
	maxImportDLLs      = 4096
	maxImportFunctions = 1 << 17
	sizeofImportDesc   = 20
)

// Imports decodes the import directory (PE Format, "The .idata Section"); nil with no error
// when the image has none. An image read from memory needs its import lookup table: without
// one the names exist only in the file (the loader overwrote the address table).
func (f *File) Imports() ([]ImportedDLL, error) {
	return f.imports.Get(f.readImports)
}

func (f *File) readImports() ([]ImportedDLL, error) {
	const what = "import directory"
	dir := f.Directory(DirectoryImport)
	if dir.VirtualAddress == 0 || dir.Size == 0 {
		return nil, nil
	}
	var dlls []ImportedDLL
	budget, count := exportNameBudget, 0
	for i := 0; ; i++ {
		if i >= maxImportDLLs {
			return dlls, f.formatErr(dir.VirtualAddress, what, "more than %d descriptors", maxImportDLLs)
		}
		rva := dir.VirtualAddress + uint32(i*sizeofImportDesc)
		b, err := f.read(rva, sizeofImportDesc, what)
		if err != nil {
			return dlls, err
		}
		// IMAGE_IMPORT_DESCRIPTOR: OriginalFirstThunk @0, TimeDateStamp @4, ForwarderChain @8,
		// Name @12, FirstThunk @16; an all-zero descriptor ends the table.
		c := f.newCursor(b, rva, what)
		d := ImportedDLL{ImportLookupTableRVA: c.u32(), TimeDateStamp: c.u32(), ForwarderChain: c.u32()}
		nameRVA := c.u32()
		d.ImportAddressTableRVA = c.u32()
		if nameRVA == 0 && d.ImportAddressTableRVA == 0 {
			return dlls, nil
		}
		if d.Name, err = f.readCString(nameRVA, maxName, "imported DLL name"); err != nil {
			return dlls, err
		}
		if d.Functions, err = f.readThunks(d, &budget, &count); err != nil {
			return append(dlls, d), err
		}
		dlls = append(dlls, d)
	}
}

// readThunks decodes one DLL's import lookup table (the address table when there is none, as
// old linkers left it): 4-byte (PE32) or 8-byte (PE32+) entries up to a zero one. The top bit
// marks an ordinal import (ordinal in the low 16 bits); otherwise the low 31 bits are the RVA
// of a hint (u16) and a NUL-terminated name.
func (f *File) readThunks(d ImportedDLL, budget, count *int) ([]ImportedFunction, error) {
	table := cmp.Or(d.ImportLookupTableRVA, d.ImportAddressTableRVA)
	size := uint32(4)
	if f.Is64() {
		size = 8
	}
	var out []ImportedFunction
	var buf [8]byte
	for i := uint32(0); ; i++ {
		if *count++; *count > maxImportFunctions {
			return out, f.formatErr(table, "import lookup table", "more than %d imports in all", maxImportFunctions)
		}
		at := table + i*size
		if n, err := f.src.readAt(buf[:size], at); n < int(size) {
			return out, f.readErr(at, "import lookup table", int(size), n, err)
		}
		v := uint64(binary.LittleEndian.Uint32(buf[:]))
		ordinalFlag := uint64(1) << 31
		if size == 8 {
			v, ordinalFlag = binary.LittleEndian.Uint64(buf[:]), 1<<63
		}
		if v == 0 {
			return out, nil
		}
		fn := ImportedFunction{IATRVA: d.ImportAddressTableRVA + i*size}
		if v&ordinalFlag != 0 {
			fn.ByOrdinal, fn.Ordinal = true, uint16(v)
			out = append(out, fn)
			continue
		}
		hintRVA := uint32(v & 0x7fffffff)
		hint, err := f.read(hintRVA, 2, "import hint")
		if err != nil {
			return out, err
		}
		fn.Hint = binary.LittleEndian.Uint16(hint)
		if fn.Name, err = f.readCString(hintRVA+2, min(maxName, *budget), fmt.Sprintf("import name of %s", d.Name)); err != nil {
			return out, err
		}
		if *budget -= len(fn.Name) + 1; *budget <= 0 {
			return out, f.formatErr(hintRVA, "import name", "names exceed %d bytes in all", exportNameBudget)
		}
		out = append(out, fn)
	}
}
