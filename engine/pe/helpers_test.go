package pe

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"testing"

	"wdbg/internal/corpus"
)

// corpusImages are the PE files of the corpus (../shared/fixtures/CATALOG.md).
var corpusImages = []string{
	"lldb/test-pdb-types.exe",
	"lldb/test-pdb.exe",
	"symbolic/CrashWithException.exe",
	"symbolic/cfi_chained_loop.exe",
	"symbolic/crash.exe",
	"symbolic/integration.dll",
	"symbolic/arm64/test.exe",
	"breakpad/dump_syms_testdata/dump_syms_regtest64.exe",
	"breakpad/dump_syms_testdata/pe_only_symbol_test.dll",
	"rizin-testbins/pdb/SimplePDB.exe",
	"rizin-testbins/pdb/exceptions-test.exe",
	"rizin-testbins/pdb/user32.dll",
	"rizin-testbins/pdb/vs2019_cpp_override.exe",
	"mozilla-dump_syms/basic-opt64.dll",
	"mozilla-dump_syms/basic32-min.dll",
	"mozilla-dump_syms/basic32.dll",
	"mozilla-dump_syms/basic64.dll",
	"mozilla-dump_syms/mozwer.dll",
	"test-pdb-repository/amdppm.sys/c9c030003b000/amdppm.sys",
	"test-pdb-repository/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys",
}

func openCorpus(t *testing.T, rel string) *File {
	t.Helper()
	f, err := Open(corpus.Path(t, rel))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

const pageSize = 0x1000

// pageMemory is a sparse address space of 4 KiB pages, standing in for a dump's memory: a read
// stops at the first absent page and names it, as engine.Memory does.
type pageMemory struct {
	pages map[uint64][]byte
}

// missingPage is pageMemory's error, like engine.ReadError.
type missingPage struct{ Addr uint64 }

func (e *missingPage) Error() string { return fmt.Sprintf("memory at %#x is not in the dump", e.Addr) }

func (m *pageMemory) ReadAt(p []byte, addr uint64) (int, error) {
	n := 0
	for n < len(p) {
		a := addr + uint64(n)
		page, ok := m.pages[a&^(pageSize-1)]
		if !ok {
			return n, &missingPage{Addr: a}
		}
		n += copy(p[n:], page[a&(pageSize-1):])
	}
	return n, nil
}

// loadImage lays a PE file out in pageMemory at base the way the Windows loader maps it,
// reading the file with no help from the package under test: the headers (SizeOfHeaders bytes)
// at base, each section's raw data (at most its VirtualSize rounded up to SectionAlignment) at
// base+VirtualAddress, every page of SizeOfImage present and zero-filled. Offsets of the
// headers are those of the PE Format specification.
func loadImage(t *testing.T, path string, base uint64) *pageMemory {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := func(off, n int) uint64 {
		var v uint64
		for i := n - 1; i >= 0; i-- {
			v = v<<8 | uint64(data[off+i])
		}
		return v
	}
	nt := int(le(0x3c, 4))
	nsec := int(le(nt+6, 2))
	optSize := int(le(nt+20, 2))
	opt := nt + 24
	sectionAlign := le(opt+32, 4)
	sizeOfImage := le(opt+56, 4)
	sizeOfHeaders := le(opt+60, 4)
	img := make([]byte, (sizeOfImage+pageSize-1)&^(pageSize-1))
	copy(img, data[:min(int(sizeOfHeaders), len(data))])
	for i := range nsec {
		sh := opt + optSize + 40*i
		vsize, va, rawSize, rawPtr := le(sh+8, 4), le(sh+12, 4), le(sh+16, 4), le(sh+20, 4)
		if vsize == 0 {
			vsize = rawSize
		}
		span := (vsize + sectionAlign - 1) &^ (sectionAlign - 1)
		n := min(rawSize, span, uint64(len(data))-min(rawPtr, uint64(len(data))))
		if va < uint64(len(img)) {
			copy(img[va:], data[rawPtr:rawPtr+n])
		}
	}
	m := &pageMemory{pages: map[uint64][]byte{}}
	for off := 0; off < len(img); off += pageSize {
		m.pages[base+uint64(off)] = img[off : off+pageSize]
	}
	return m
}

// answers is everything the package decodes from an image, to compare two sources of one image.
type answers struct {
	FileHeader     FileHeader
	OptionalHeader OptionalHeader
	Sections       []Section
	Exports        *ExportDirectory
	ExportsErr     string
	Debug          []DebugEntry
	DebugErr       string
	CodeView       *CodeView
	CodeViewErr    string
	Functions      []FunctionEntry
	FunctionsErr   string
	Version        *VersionInfo
	VersionErr     string
	Imports        []ImportedDLL
	ImportsErr     string
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func collect(f *File) answers {
	a := answers{FileHeader: f.FileHeader, OptionalHeader: f.OptionalHeader, Sections: f.Sections}
	var err error
	a.Exports, err = f.Exports()
	a.ExportsErr = errString(err)
	a.Debug, err = f.DebugDirectory()
	a.DebugErr = errString(err)
	a.CodeView, err = f.CodeView()
	a.CodeViewErr = errString(err)
	tab, err := f.ExceptionTable()
	a.FunctionsErr = errString(err)
	if tab != nil {
		for i := range tab.Len() {
			e, err := tab.Entry(i)
			if err != nil {
				a.FunctionsErr = err.Error()
				break
			}
			a.Functions = append(a.Functions, e)
		}
	}
	a.Version, err = f.VersionInfo()
	a.VersionErr = errString(err)
	a.Imports, err = f.Imports()
	a.ImportsErr = errString(err)
	return a
}

// sameAnswers reports the first difference between two images' answers.
func sameAnswers(a, b answers) error {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			return fmt.Errorf("%s differs:\n  %+v\n  %+v", va.Type().Field(i).Name, va.Field(i).Interface(), vb.Field(i).Interface())
		}
	}
	return nil
}

// asMissing finds the missing-page error under err.
func asMissing(err error) (*missingPage, bool) {
	var mp *missingPage
	ok := errors.As(err, &mp)
	return mp, ok
}

// sortedKeys of a map, for stable test output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
