package pe

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func newSynth(t *testing.T, s synthPE) *File {
	t.Helper()
	b := s.bytes()
	f, err := NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	return f
}

// wantErr checks that err is a *FormatError whose text has each of the parts.
func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T); want a *FormatError", err, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q lacks %q", err, p)
		}
	}
}

// TestBadHeaders: each broken header gives an error naming where and what, never a panic.
func TestBadHeaders(t *testing.T) {
	good := synthPE{sections: []synthSection{{name: ".text", va: 0x1000, data: []byte{0xc3}}}}.bytes()
	edit := func(fn func(b []byte) []byte) []byte {
		return fn(append([]byte(nil), good...))
	}
	cases := []struct {
		name  string
		data  []byte
		notPE bool
		parts []string
	}{
		{"empty", nil, false, []string{"DOS header at RVA 0x0 (file offset 0x0)", "need 64 bytes, have 0"}},
		{"not MZ", edit(func(b []byte) []byte { b[0] = 'Z'; return b }), true, []string{"bad magic", `want "MZ"`}},
		{"e_lfanew past the file", edit(func(b []byte) []byte { return put32(b, 0x3c, 0x10000) }), false, []string{"NT headers at RVA 0x10000", "the file ends"}},
		{"e_lfanew past 4 GiB", edit(func(b []byte) []byte { return put32(b, 0x3c, 0xfffffff0) }), false, []string{"DOS header at RVA 0x3c", "past the 32-bit RVA space"}},
		{"bad signature", edit(func(b []byte) []byte { b[synthNT+1] = 'X'; return b }), true, []string{"NT headers at RVA 0x40", `want "PE\0\0"`}},
		{"bad optional magic", edit(func(b []byte) []byte { return put16(b, synthOpt, 0x1234) }), false, []string{"optional header at RVA 0x58", "bad magic 0x1234"}},
		{"optional header too small", edit(func(b []byte) []byte { return put16(b, synthNT+20, 16) }), false, []string{"SizeOfOptionalHeader 16 is too small for PE32+"}},
		{"65535 sections", edit(func(b []byte) []byte { return put16(b, synthNT+6, 0xffff) }), false, []string{"section table at RVA 0x148", "65535 sections need"}},
		{"truncated file", good[:0x50], false, []string{"NT headers", "the file ends"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewFile(bytes.NewReader(c.data), int64(len(c.data)))
			wantErr(t, err, c.parts...)
			if errors.Is(err, ErrNotPE) != c.notPE {
				t.Errorf("errors.Is(err, ErrNotPE) = %v, want %v", !c.notPE, c.notPE)
			}
		})
	}
}

// exportSection builds an export directory at RVA 0x1000 with the given counts and tables.
func exportSection(nFuncs, nNames uint32, funcs []uint32, names []uint32, ords []uint16, strs map[int]string) []byte {
	b := make([]byte, 0x200)
	// IMAGE_EXPORT_DIRECTORY: Name @12, Base @16, NumberOfFunctions @20, NumberOfNames @24,
	// AddressOfFunctions @28, AddressOfNames @32, AddressOfNameOrdinals @36.
	b = put32(b, 12, 0x1000+0x180, 1, nFuncs, nNames, 0x1000+0x40, 0x1000+0x80, 0x1000+0xc0)
	b = put32(b, 0x40, funcs...)
	b = put32(b, 0x80, names...)
	b = put16(b, 0xc0, ords...)
	copy(b[0x180:], "synth.dll\x00")
	for off, s := range strs {
		copy(b[off:], s)
	}
	return b
}

func TestBadExports(t *testing.T) {
	dir := func(size uint32) [16]DataDirectory {
		var d [16]DataDirectory
		d[DirectoryExport] = DataDirectory{0x1000, size}
		return d
	}
	t.Run("good with forwarder", func(t *testing.T) {
		sec := exportSection(3, 2, []uint32{0x2000, 0x1000 + 0x1a0, 0}, []uint32{0x1000 + 0x100, 0x1000 + 0x110}, []uint16{1, 0},
			map[int]string{0x100: "Fwd\x00", 0x110: "Alpha\x00", 0x1a0: "NTDLL.RtlFoo\x00"})
		f := newSynth(t, synthPE{dirs: dir(0x1c0), sections: []synthSection{{".edata", 0x1000, sec, 0}, {".text", 0x2000, []byte{0xc3}, 0}}})
		d, err := f.Exports()
		if err != nil {
			t.Fatal(err)
		}
		want := []Export{{Name: "Alpha", Ordinal: 1, RVA: 0x2000}, {Name: "Fwd", Ordinal: 2, RVA: 0x11a0, Forwarder: "NTDLL.RtlFoo"}}
		if d.DLLName != "synth.dll" || len(d.Exports) != 2 || d.Exports[0] != want[1] || d.Exports[1] != want[0] {
			t.Errorf("exports %q %+v; want %+v (sorted by RVA)", d.DLLName, d.Exports, want)
		}
		// Lookup skips forwarders: they are not code.
		if e, ok := d.Lookup(0x2010); !ok || e.Name != "Alpha" {
			t.Errorf("Lookup(0x2010) = %+v, %v", e, ok)
		}
		if _, ok := d.Lookup(0x11a0); ok {
			t.Error("Lookup found a forwarder")
		}
	})
	cases := []struct {
		name  string
		sec   []byte
		parts []string
	}{
		{"huge NumberOfFunctions", exportSection(0x7fffffff, 0, nil, nil, nil, nil), []string{"export directory at RVA 0x1014", "NumberOfFunctions 2147483647 is more than 65536"}},
		{"more names than functions", exportSection(1, 5, []uint32{0x2000}, nil, nil, nil), []string{"NumberOfNames 5 is more than NumberOfFunctions 1"}},
		{"ordinal out of range", exportSection(1, 1, []uint32{0x2000}, []uint32{0x1100}, []uint16{7}, map[int]string{0x100: "A\x00"}), []string{"export ordinal table at RVA 0x10c0", "index 7 is outside the address table (1 entries)"}},
		{"tables outside the image", func() []byte {
			b := exportSection(4, 0, nil, nil, nil, nil)
			return put32(b, 28, 0x90000)
		}(), []string{"export address table at RVA 0x90000", "need 16 bytes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newSynth(t, synthPE{dirs: dir(0x40), sections: []synthSection{{".edata", 0x1000, c.sec, 0}}})
			_, err := f.Exports()
			wantErr(t, err, c.parts...)
		})
	}
	t.Run("name runs off the image", func(t *testing.T) {
		// The name fills the last bytes of the image: nothing after it can end it.
		sec := exportSection(1, 1, []uint32{0x1010}, []uint32{0x1000 + 0xffc}, []uint16{0}, nil)
		sec = append(sec, make([]byte, 0x1000-len(sec))...)
		copy(sec[0xffc:], "ABCD")
		f := newSynth(t, synthPE{dirs: dir(0x40), sections: []synthSection{{".edata", 0x1000, sec, 0}}})
		d, err := f.Exports()
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Exports) != 1 || d.Exports[0].Name != "" {
			t.Errorf("exports %+v; want one nameless", d.Exports)
		}
		wantErr(t, d.Damaged, "export name (pointer at RVA 0x1080) at RVA 0x1ffc", "not terminated")
	})
}

func TestBadDebugDirectory(t *testing.T) {
	entry := func(typ, size, rva uint32) []byte {
		// IMAGE_DEBUG_DIRECTORY: Type @12, SizeOfData @16, AddressOfRawData @20, PointerToRawData @24.
		return put32(make([]byte, 28), 12, typ, size, rva, 0)
	}
	build := func(dirSize uint32, data []byte) *File {
		var d [16]DataDirectory
		d[DirectoryDebug] = DataDirectory{0x1000, dirSize}
		return newSynth(t, synthPE{dirs: d, sections: []synthSection{{".rdata", 0x1000, data, 0}}})
	}
	t.Run("too many entries", func(t *testing.T) {
		_, err := build(28*1000, make([]byte, 0x100)).DebugDirectory()
		wantErr(t, err, "debug directory at RVA 0x1000", "1000 entries (at most 256)")
	})
	t.Run("unknown CodeView signature", func(t *testing.T) {
		data := append(entry(DebugTypeCodeView, 24, 0x1020), make([]byte, 4)...)
		data = append(data, "XXXX"...)
		_, err := build(28, data).CodeView()
		wantErr(t, err, "CodeView record at RVA 0x1020", "unknown CodeView signature 0x58585858")
	})
	t.Run("truncated RSDS", func(t *testing.T) {
		data := append(entry(DebugTypeCodeView, 8, 0x1020), make([]byte, 4)...)
		data = append(data, "RSDS\x01\x02\x03\x04"...)
		_, err := build(28, data).CodeView()
		wantErr(t, err, "CodeView record at RVA 0x1020", "truncated RSDS record (need 24 bytes, have 8)")
	})
	t.Run("NB10", func(t *testing.T) {
		// FORMATS.md §4.3: 'NB10', Offset @4, Signature @8, Age @0xC, name @0x10.
		data := append(entry(DebugTypeCodeView, 0x1a, 0x1020), make([]byte, 4)...)
		data = append(data, "NB10"...)
		data = put32(data, 0x24, 0, 0x3a5b6c7d, 5)
		data = append(data, "old.pdb\x00"...)
		cv, err := build(28, data).CodeView()
		if err != nil {
			t.Fatal(err)
		}
		if cv.Signature != CvSignatureNB10 || cv.Timestamp != 0x3a5b6c7d || cv.Age != 5 || cv.PDBName != "old.pdb" || cv.StoreKey() != "3A5B6C7D5" {
			t.Errorf("NB10 record %+v key %s", cv, cv.StoreKey())
		}
	})
	t.Run("huge SizeOfData", func(t *testing.T) {
		_, err := build(28, entry(DebugTypeCodeView, 0x7fffffff, 0x1020)).CodeView()
		wantErr(t, err, "debug data", "SizeOfData 0x7fffffff is more than")
	})
}

func TestExceptionTableOddities(t *testing.T) {
	build := func(machine uint16, data []byte) *File {
		var d [16]DataDirectory
		d[DirectoryException] = DataDirectory{0x1000, uint32(len(data))}
		return newSynth(t, synthPE{machine: machine, dirs: d, sections: []synthSection{{".pdata", 0x1000, data, 0}, {".text", 0x2000, make([]byte, 0x100), 0}}})
	}
	t.Run("x86 has none", func(t *testing.T) {
		_, err := build(MachineI386, make([]byte, 24)).ExceptionTable()
		wantErr(t, err, "exception directory", "machine 0x14c are not supported")
	})
	t.Run("unsorted with zero padding", func(t *testing.T) {
		data := put32(nil, 0, 0x2040, 0x2050, 0x3000, 0x2000, 0x2010, 0x3010, 0, 0, 0)
		tab, err := build(MachineAMD64, data).ExceptionTable()
		if err != nil {
			t.Fatal(err)
		}
		if tab.Dropped != 1 || len(tab.X64) != 2 || tab.X64[0].BeginAddress != 0x2000 {
			t.Errorf("table %+v; want two sorted entries and one dropped", tab.X64)
		}
		if e, ok, err := tab.Lookup(0x2045); !ok || err != nil || e.BeginAddress != 0x2040 {
			t.Errorf("Lookup(0x2045) = %+v, %v, %v", e, ok, err)
		}
		if _, ok, _ := tab.Lookup(0x2020); ok {
			t.Error("Lookup in a gap found a function")
		}
	})
	t.Run("ARM64 reserved flag and .xdata off the image", func(t *testing.T) {
		data := put32(nil, 0, 0x2000, 0x3, 0x2010, 0x90000)
		f := build(MachineARM64, data)
		_, _, err := f.LookupFunction(0x2004)
		wantErr(t, err, "ARM64 .pdata entry at RVA 0x2000", "reserved flag 3")
		_, _, err = f.LookupFunction(0x2014)
		wantErr(t, err, ".xdata header at RVA 0x90000")
	})
	t.Run("huge directory", func(t *testing.T) {
		f := build(MachineAMD64, make([]byte, 12))
		f.DataDirectory[DirectoryException].Size = 0xfffffff0
		_, err := f.ExceptionTable()
		wantErr(t, err, "exception directory at RVA 0x1000", "at most")
	})
}

// resourceTree builds a resource section at RVA 0x1000: root → type 16 → name 1 → language
// 0x409 → data entry → the data at 0x1000+0x100.
func resourceTree(data []byte) []byte {
	b := make([]byte, 0x100)
	// Each IMAGE_RESOURCE_DIRECTORY (16 bytes) with NumberOfIdEntries @14 = 1, then one entry.
	b = put16(b, 0x0e, 1)
	b = put32(b, 0x10, 16, 0x80000000|0x18)
	b = put16(b, 0x18+0x0e, 1)
	b = put32(b, 0x28, 1, 0x80000000|0x30)
	b = put16(b, 0x30+0x0e, 1)
	b = put32(b, 0x40, 0x409, 0x48)
	b = put32(b, 0x48, 0x1100, uint32(len(data)), 0, 0)
	return append(b, data...)
}

// versionBlock builds a VS_VERSIONINFO-style block: wLength, wValueLength, wType, key,
// padding, value, padding, children.
func verBlock(key string, text bool, value []byte, children ...[]byte) []byte {
	b := put16(nil, 0, 0, 0, 0)
	if text {
		b = put16(b, 2, uint16(len(value)/2))
		b = put16(b, 4, 1)
	} else {
		b = put16(b, 2, uint16(len(value)))
	}
	b = append(b, utf16z(key)...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = append(b, value...)
	for _, c := range children {
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		b = append(b, c...)
	}
	return put16(b, 0, uint16(len(b)))
}

func TestVersionResource(t *testing.T) {
	build := func(data []byte, patch func([]byte) []byte) *File {
		sec := resourceTree(data)
		if patch != nil {
			sec = patch(sec)
		}
		var d [16]DataDirectory
		d[DirectoryResource] = DataDirectory{0x1000, uint32(len(sec))}
		return newSynth(t, synthPE{dirs: d, sections: []synthSection{{".rsrc", 0x1000, sec, 0}}})
	}
	fixed := put32(nil, 0, FixedFileInfoSignature, 0x10000, 0x000a0000, 0x4a610001)
	fixed = append(fixed, make([]byte, 52-len(fixed))...)
	good := verBlock("VS_VERSION_INFO", false, fixed,
		verBlock("StringFileInfo", true, nil,
			verBlock("040904b0", true, nil,
				verBlock("CompanyName", true, utf16z("Synth Corp")),
				verBlock("FileVersion", true, utf16z("10.0.19041.1")))),
		verBlock("VarFileInfo", false, nil, verBlock("Translation", false, put16(nil, 0, 0x409, 0x4b0))))
	t.Run("good", func(t *testing.T) {
		v, err := build(good, nil).VersionInfo()
		if err != nil {
			t.Fatal(err)
		}
		if v.Fixed == nil || v.Fixed.FileVersion() != [4]uint16{10, 0, 19041, 1} {
			t.Errorf("fixed %+v", v.Fixed)
		}
		if s, _ := v.Lookup("FileVersion"); s != "10.0.19041.1" || len(v.StringTables) != 1 || v.StringTables[0].Language != 0x409 || v.StringTables[0].CodePage != 0x4b0 {
			t.Errorf("strings %+v", v.StringTables)
		}
		if len(v.Translations) != 1 || v.Translations[0].String() != "0409.04b0" {
			t.Errorf("translations %+v", v.Translations)
		}
	})
	cases := []struct {
		name  string
		data  []byte
		patch func([]byte) []byte
		parts []string
	}{
		{"zero-length child", func() []byte {
			b := append([]byte(nil), good...)
			return put16(b, 0x5c, 0) // the StringFileInfo block's wLength
		}(), nil, []string{"version resource at RVA 0x115c", "block length 0"}},
		{"child longer than parent", func() []byte {
			b := append([]byte(nil), good...)
			return put16(b, 0x5c, 0x7000)
		}(), nil, []string{"block length 28672 does not fit"}},
		{"wrong root key", verBlock("VS_VERSION_INFX", false, fixed), nil, []string{`key "VS_VERSION_INFX"`}},
		{"directory points at itself", good, func(b []byte) []byte {
			return put32(b, 0x2c, 0x80000000) // the name level's entry → the root again
		}, []string{"resource directory at RVA 0x1000", "language entry points at subdirectory"}},
		{"entry count past the directory", good, func(b []byte) []byte {
			return put16(b, 0x0c, 0xffff, 0xffff)
		}, []string{"resource directory at RVA 0x1000", "outside the directory"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := build(c.data, c.patch).VersionInfo()
			wantErr(t, err, c.parts...)
		})
	}
}

func TestReadLimits(t *testing.T) {
	f := newSynth(t, synthPE{sections: []synthSection{{".text", 0x1000, []byte{1, 2, 3}, 0x2000}}})
	if _, err := f.ReadRVA(0, maxRead+1); err == nil {
		t.Error("ReadRVA beyond the limit: no error")
	}
	if _, err := f.ReadRVA(0, -1); err == nil {
		t.Error("ReadRVA of a negative size: no error")
	}
	if _, err := f.ReadRVA(0xfffffffe, 4); err == nil {
		t.Error("ReadRVA across 4 GiB: no error")
	}
	// Past the raw data, up to the section's VirtualSize, reads zeros.
	b, err := f.ReadRVA(0x1000, 0x2000)
	if err != nil || b[0] != 1 || b[2] != 3 || bytes.ContainsFunc(b[3:], func(r rune) bool { return r != 0 }) {
		t.Errorf("ReadRVA(0x1000, 0x2000) = %v, %v", b[:4], err)
	}
	if _, err := f.ReadRVA(0x3000, 1); err == nil || !strings.Contains(err.Error(), "in no section") {
		t.Errorf("ReadRVA past the sections: %v", err)
	}
	// A section whose raw data runs past the end of the file.
	b2 := synthPE{sections: []synthSection{{".text", 0x1000, make([]byte, 0x400), 0}}}.bytes()
	g, err := NewFile(bytes.NewReader(b2[:0x300]), 0x300)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.ReadRVA(0x1000, 0x200); err == nil || !strings.Contains(err.Error(), "the file ends") {
		t.Errorf("ReadRVA past the end of the file: %v", err)
	}
}

func TestImportsSynthetic(t *testing.T) {
	build := func(sec []byte) *File {
		var d [16]DataDirectory
		d[DirectoryImport] = DataDirectory{0x1000, 40}
		return newSynth(t, synthPE{dirs: d, sections: []synthSection{{".idata", 0x1000, sec, 0}}})
	}
	// One descriptor (ILT 0x1040, name 0x1100, IAT 0x1080), then the all-zero one. The ILT
	// (8-byte entries, PE32+) holds an ordinal import and a named one (hint 7 at 0x1120).
	sec := put32(make([]byte, 0x200), 0, 0x1040, 0, 0, 0x1100, 0x1080)
	sec = put32(sec, 0x40, 0x2a, 0x80000000, 0x1120, 0)
	copy(sec[0x100:], "dep.dll\x00")
	sec = put16(sec, 0x120, 7)
	copy(sec[0x122:], "DoThing\x00")
	dlls, err := build(sec).Imports()
	if err != nil {
		t.Fatal(err)
	}
	want := []ImportedFunction{{Ordinal: 0x2a, ByOrdinal: true, IATRVA: 0x1080}, {Name: "DoThing", Hint: 7, IATRVA: 0x1088}}
	if len(dlls) != 1 || dlls[0].Name != "dep.dll" || len(dlls[0].Functions) != 2 || dlls[0].Functions[0] != want[0] || dlls[0].Functions[1] != want[1] {
		t.Errorf("imports %+v; want dep.dll with %+v", dlls, want)
	}
	// A name pointer off the image.
	bad := append([]byte(nil), sec...)
	bad = put32(bad, 12, 0x90000)
	_, err = build(bad).Imports()
	wantErr(t, err, "imported DLL name at RVA 0x90000")
	// A lookup table that never ends within the image: the read runs off the end.
	bad = append([]byte(nil), sec...)
	for off := 0x40; off < 0x200; off += 8 {
		bad = put32(bad, off, 0x2a, 0x80000000)
	}
	f := newSynth(t, synthPE{dirs: func() (d [16]DataDirectory) {
		d[DirectoryImport] = DataDirectory{0x1000, 40}
		return
	}(), sections: []synthSection{{".idata", 0x1000, append(bad, bytes.Repeat([]byte{0x2a, 0, 0, 0, 0, 0, 0, 0x80}, (0x1000-0x200)/8)...), 0}}})
	_, err = f.Imports()
	wantErr(t, err, "import lookup table at RVA 0x2000", "in no section")
}
