package pe

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"wdbg/internal/corpus"
)

// fuzzSeedFiles are the corpus's smallest images (a few KiB each, so that the fuzzer makes
// progress within seconds): x86 and x64, with .pdata, a chained-unwind loop, resources.
var fuzzSeedFiles = []string{
	"symbolic/cfi_chained_loop.exe",
	"lldb/test-pdb.exe",
	"lldb/test-pdb-types.exe",
	"rizin-testbins/pdb/SimplePDB.exe",
	"symbolic/integration.dll",
	"symbolic/CrashWithException.exe",
}

// flatMemory is a byte slice mapped at base, for running NewMapped on fuzz input.
type flatMemory struct {
	data []byte
	base uint64
}

func (m flatMemory) ReadAt(p []byte, addr uint64) (int, error) {
	if addr < m.base || addr-m.base >= uint64(len(m.data)) {
		return 0, &missingPage{Addr: addr}
	}
	n := copy(p, m.data[addr-m.base:])
	if n < len(p) {
		return n, &missingPage{Addr: addr + uint64(n)}
	}
	return n, nil
}

// synthSeeds are images with the tables the corpus seeds lack: exports with a forwarder, a
// version resource, ARM64 .pdata of both forms.
func synthSeeds() [][]byte {
	var exp [16]DataDirectory
	exp[DirectoryExport] = DataDirectory{0x1000, 0x1c0}
	sec := exportSection(3, 2, []uint32{0x2000, 0x1000 + 0x1a0, 0}, []uint32{0x1000 + 0x100, 0x1000 + 0x110}, []uint16{1, 0},
		map[int]string{0x100: "Fwd\x00", 0x110: "Alpha\x00", 0x1a0: "NTDLL.RtlFoo\x00"})
	fixed := put32(nil, 0, FixedFileInfoSignature, 0x10000, 0x000a0000, 0x4a610001)
	fixed = append(fixed, make([]byte, 52-len(fixed))...)
	ver := resourceTree(verBlock("VS_VERSION_INFO", false, fixed,
		verBlock("StringFileInfo", true, nil, verBlock("040904b0", true, nil, verBlock("CompanyName", true, utf16z("Synth")))),
		verBlock("VarFileInfo", false, nil, verBlock("Translation", false, put16(nil, 0, 0x409, 0x4b0)))))
	var rsrc [16]DataDirectory
	rsrc[DirectoryResource] = DataDirectory{0x1000, uint32(len(ver))}
	var arm [16]DataDirectory
	arm[DirectoryException] = DataDirectory{0x1000, 16}
	pdata := put32(nil, 0, 0x2000, 0x1100, 0x2040, 0x00800000|16<<2|1)
	pdata = put32(pdata, 0x100, 0x0c000010)
	return [][]byte{
		synthPE{dirs: exp, sections: []synthSection{{".edata", 0x1000, sec, 0}, {".text", 0x2000, []byte{0xc3}, 0}}}.bytes(),
		synthPE{dirs: rsrc, sections: []synthSection{{".rsrc", 0x1000, ver, 0}}}.bytes(),
		synthPE{machine: MachineARM64, dirs: arm, sections: []synthSection{{".pdata", 0x1000, pdata, 0}, {".text", 0x2000, make([]byte, 0x80), 0}}}.bytes(),
	}
}

func FuzzPE(f *testing.F) {
	for _, s := range synthSeeds() {
		f.Add(s)
	}
	if dir := corpus.Find(); dir != "" {
		for _, rel := range fuzzSeedFiles {
			if b, err := os.ReadFile(filepath.Join(dir, rel)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if img, err := NewFile(bytes.NewReader(data), int64(len(data))); err == nil {
			exercise(img)
		}
		if img, err := NewMapped(flatMemory{data: data, base: 0x10000}, 0x10000); err == nil {
			exercise(img)
		}
	})
}

// exercise calls every accessor; the fuzzer looks for panics, hangs and huge allocations.
func exercise(f *File) {
	if d, err := f.Exports(); err == nil && d != nil {
		for _, e := range d.Exports[:min(len(d.Exports), 64)] {
			d.Lookup(e.RVA)
			d.ByName(e.Name)
		}
	}
	if entries, err := f.DebugDirectory(); err == nil {
		for _, e := range entries[:min(len(entries), 8)] {
			f.DebugData(e)
		}
	}
	f.CodeView()
	if tab, err := f.ExceptionTable(); err == nil && tab != nil {
		for i := range min(tab.Len(), 256) {
			if e, err := tab.Entry(i); err == nil {
				f.LookupFunction(e.BeginAddress)
				f.LookupFunction(e.EndAddress)
			}
		}
	}
	f.LookupFunction(f.AddressOfEntryPoint)
	f.VersionInfo()
	f.Imports()
	f.ReadRVA(f.AddressOfEntryPoint, 16)
	f.SectionAt(f.AddressOfEntryPoint)
	f.FileOffset(f.AddressOfEntryPoint)
}
