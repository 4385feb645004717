package pe

import (
	"bytes"
	gope "debug/pe"
	"strings"
	"testing"

	"wdbg/internal/corpus"
)

// TestHeadersAgainstDebugPE compares the headers, the section table and each section's bytes
// with Go's debug/pe, an independent reader of the same files.
func TestHeadersAgainstDebugPE(t *testing.T) {
	for _, rel := range corpusImages {
		t.Run(rel, func(t *testing.T) {
			f := openCorpus(t, rel)
			want, err := gope.Open(corpus.Path(t, rel))
			if err != nil {
				t.Fatalf("debug/pe: %v", err)
			}
			defer want.Close()

			fh := want.FileHeader
			if got := f.FileHeader; got != (FileHeader{fh.Machine, fh.NumberOfSections, fh.TimeDateStamp,
				fh.PointerToSymbolTable, fh.NumberOfSymbols, fh.SizeOfOptionalHeader, fh.Characteristics}) {
				t.Errorf("FileHeader = %+v, debug/pe %+v", got, fh)
			}
			checkOptionalHeader(t, f, want.OptionalHeader)

			if len(f.Sections) != len(want.Sections) {
				t.Fatalf("%d sections, debug/pe %d", len(f.Sections), len(want.Sections))
			}
			for i, ws := range want.Sections {
				s := f.Sections[i]
				h := ws.SectionHeader
				if s.Name != h.Name || s.VirtualSize != h.VirtualSize || s.VirtualAddress != h.VirtualAddress ||
					s.SizeOfRawData != h.Size || s.PointerToRawData != h.Offset ||
					s.PointerToRelocations != h.PointerToRelocations || s.PointerToLineNumbers != h.PointerToLineNumbers ||
					s.NumberOfRelocations != h.NumberOfRelocations || s.NumberOfLineNumbers != h.NumberOfLineNumbers ||
					s.Characteristics != h.Characteristics {
					t.Errorf("section %d = %+v, debug/pe %+v", i, s, h)
				}
				// The section's bytes read by RVA equal debug/pe's raw data, up to the
				// loaded size; the rest of the loaded size reads as zeros.
				raw, err := ws.Data()
				if err != nil {
					t.Fatalf("debug/pe section %s data: %v", h.Name, err)
				}
				span := s.VirtualSize
				if span == 0 {
					span = s.SizeOfRawData
				}
				got, err := f.ReadRVA(s.VirtualAddress, int(span))
				if err != nil {
					t.Fatalf("ReadRVA section %s: %v", s.Name, err)
				}
				n := min(len(raw), len(got))
				if !bytes.Equal(got[:n], raw[:n]) {
					t.Errorf("section %s: bytes by RVA differ from debug/pe's Data", s.Name)
				}
				if bytes.ContainsFunc(got[n:], func(r rune) bool { return r != 0 }) {
					t.Errorf("section %s: bytes past the raw data are not zero", s.Name)
				}
				if off, ok := f.FileOffset(s.VirtualAddress); s.SizeOfRawData > 0 && (!ok || off != int64(h.Offset)) {
					t.Errorf("FileOffset(%#x) = %#x, %v; want %#x", s.VirtualAddress, off, ok, h.Offset)
				}
			}
			checkImportsAgainstDebugPE(t, f, want)
		})
	}
}

func checkOptionalHeader(t *testing.T, f *File, oh any) {
	t.Helper()
	o := f.OptionalHeader
	type common struct {
		Magic                                                       uint16
		EntryPoint, BaseOfCode, SectionAlignment, FileAlignment     uint32
		SizeOfImage, SizeOfHeaders, CheckSum, NumberOfRvaAndSizes   uint32
		Subsystem, DllCharacteristics, MajorSubsystem, MinorSubsys  uint16
		ImageBase, StackReserve, StackCommit, HeapReserve, HeapComm uint64
		Linker                                                      [2]uint8
		Dirs                                                        [16]DataDirectory
	}
	got := common{o.Magic, o.AddressOfEntryPoint, o.BaseOfCode, o.SectionAlignment, o.FileAlignment,
		o.SizeOfImage, o.SizeOfHeaders, o.CheckSum, o.NumberOfRvaAndSizes,
		o.Subsystem, o.DllCharacteristics, o.MajorSubsystemVersion, o.MinorSubsystemVersion,
		o.ImageBase, o.SizeOfStackReserve, o.SizeOfStackCommit, o.SizeOfHeapReserve, o.SizeOfHeapCommit,
		[2]uint8{o.MajorLinkerVersion, o.MinorLinkerVersion}, o.DataDirectory}
	var want common
	switch w := oh.(type) {
	case *gope.OptionalHeader32:
		want = common{w.Magic, w.AddressOfEntryPoint, w.BaseOfCode, w.SectionAlignment, w.FileAlignment,
			w.SizeOfImage, w.SizeOfHeaders, w.CheckSum, w.NumberOfRvaAndSizes,
			w.Subsystem, w.DllCharacteristics, w.MajorSubsystemVersion, w.MinorSubsystemVersion,
			uint64(w.ImageBase), uint64(w.SizeOfStackReserve), uint64(w.SizeOfStackCommit), uint64(w.SizeOfHeapReserve), uint64(w.SizeOfHeapCommit),
			[2]uint8{w.MajorLinkerVersion, w.MinorLinkerVersion}, dirs(w.DataDirectory[:w.NumberOfRvaAndSizes])}
		if o.BaseOfData != w.BaseOfData {
			t.Errorf("BaseOfData = %#x, debug/pe %#x", o.BaseOfData, w.BaseOfData)
		}
	case *gope.OptionalHeader64:
		want = common{w.Magic, w.AddressOfEntryPoint, w.BaseOfCode, w.SectionAlignment, w.FileAlignment,
			w.SizeOfImage, w.SizeOfHeaders, w.CheckSum, w.NumberOfRvaAndSizes,
			w.Subsystem, w.DllCharacteristics, w.MajorSubsystemVersion, w.MinorSubsystemVersion,
			w.ImageBase, w.SizeOfStackReserve, w.SizeOfStackCommit, w.SizeOfHeapReserve, w.SizeOfHeapCommit,
			[2]uint8{w.MajorLinkerVersion, w.MinorLinkerVersion}, dirs(w.DataDirectory[:w.NumberOfRvaAndSizes])}
	default:
		t.Fatalf("debug/pe optional header %T", oh)
	}
	if got != want {
		t.Errorf("OptionalHeader:\n got %+v\nwant %+v (debug/pe)", got, want)
	}
}

func dirs(d []gope.DataDirectory) [16]DataDirectory {
	var out [16]DataDirectory
	for i := range min(len(d), 16) {
		out[i] = DataDirectory{d[i].VirtualAddress, d[i].Size}
	}
	return out
}

// checkImportsAgainstDebugPE: debug/pe's ImportedSymbols lists "function:DLL" for each import
// by name, stopping at the first descriptor without an import lookup table.
func checkImportsAgainstDebugPE(t *testing.T, f *File, want *gope.File) {
	t.Helper()
	syms, err := want.ImportedSymbols()
	if err != nil {
		t.Fatalf("debug/pe ImportedSymbols: %v", err)
	}
	dlls, err := f.Imports()
	if err != nil {
		t.Fatalf("Imports: %v", err)
	}
	var got []string
	for _, d := range dlls {
		if d.ImportLookupTableRVA == 0 {
			break
		}
		for _, fn := range d.Functions {
			if !fn.ByOrdinal {
				got = append(got, fn.Name+":"+d.Name)
			}
		}
	}
	if strings.Join(got, " ") != strings.Join(syms, " ") {
		t.Errorf("imports:\n%v\ndebug/pe:\n%v", got, syms)
	}
}
