package pe_test

import (
	"testing"

	"wdbg/engine"
	"wdbg/engine/pe"
	"wdbg/internal/corpus"
)

// TestDumpModules reads every module of a full-memory WOW64 process dump as an image mapped in
// the dump's memory and checks it against the dump's module list, which the dump writer
// (dbghelp) filled from the same loaded images: TimeDateStamp, SizeOfImage, CheckSum, the
// CodeView record and VS_FIXEDFILEINFO.
func TestDumpModules(t *testing.T) {
	path := corpus.Path(t, "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp")
	tg, err := engine.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if len(tg.Modules) == 0 {
		t.Fatal("no modules")
	}
	var withVersion, withPdata, withExports int
	for _, mod := range tg.Modules {
		t.Run(mod.ImageName, func(t *testing.T) {
			f, err := pe.NewMapped(tg.Memory, mod.Base)
			if err != nil {
				t.Fatalf("NewMapped at %#x: %v", mod.Base, err)
			}
			if f.TimeDateStamp != mod.TimeDateStamp || f.SizeOfImage != mod.Size || f.CheckSum != mod.Checksum {
				t.Errorf("ts %#x size %#x checksum %#x; module list %#x %#x %#x",
					f.TimeDateStamp, f.SizeOfImage, f.CheckSum, mod.TimeDateStamp, mod.Size, mod.Checksum)
			}
			cv, err := f.CodeView()
			if err != nil {
				t.Fatalf("CodeView: %v", err)
			}
			if want := mod.CodeView; want != nil {
				if cv == nil || cv.GUID.Bytes() != want.GUID || cv.Age != want.Age || cv.PDBName != want.PDBName {
					t.Errorf("CodeView %+v; module list %+v", cv, want)
				}
			}
			v, err := f.VersionInfo()
			if err != nil {
				t.Fatalf("VersionInfo: %v", err)
			}
			if want := mod.Version; want != nil && want.FileVersion != [4]uint16{} {
				withVersion++
				if v == nil || v.Fixed == nil {
					t.Fatalf("no version resource; module list has %+v", want)
				}
				x := v.Fixed
				if x.FileVersion() != want.FileVersion || x.ProductVersion() != want.ProductVersion ||
					x.FileFlagsMask != want.FileFlagsMask || x.FileFlags != want.FileFlags || x.FileOS != want.FileOS ||
					x.FileType != want.FileType || x.FileSubtype != want.FileSubtype {
					t.Errorf("VS_FIXEDFILEINFO %+v; module list %+v", x, want)
				}
			}
			tab, err := f.ExceptionTable()
			if err != nil {
				t.Fatalf("ExceptionTable: %v", err)
			}
			if tab != nil && tab.Len() > 0 {
				withPdata++
				// Each entry is found from its own start.
				for i := range tab.Len() {
					e, err := tab.Entry(i)
					if err != nil {
						t.Fatal(err)
					}
					if got, ok, err := f.LookupFunction(e.BeginAddress); !ok || err != nil || got != e {
						t.Fatalf("LookupFunction(%#x) = %+v, %v, %v; want %+v", e.BeginAddress, got, ok, err, e)
					}
				}
			}
			imports, err := f.Imports()
			if err != nil {
				t.Fatalf("Imports: %v", err)
			}
			for _, dll := range imports {
				for _, fn := range dll.Functions {
					if fn.Name == "" && !fn.ByOrdinal {
						t.Fatalf("%s: nameless import %+v", dll.Name, fn)
					}
				}
			}
			d, err := f.Exports()
			if err != nil {
				t.Fatalf("Exports: %v", err)
			}
			if d != nil && len(d.Exports) > 0 {
				withExports++
				if d.Damaged != nil {
					t.Errorf("export names damaged in a full-memory dump: %v", d.Damaged)
				}
			}
		})
	}
	// The dump holds a 64-bit ntdll with .pdata and the 32-bit system DLLs with exports.
	if withVersion < 5 || withPdata == 0 || withExports < 5 {
		t.Errorf("only %d modules with version, %d with .pdata, %d with exports", withVersion, withPdata, withExports)
	}
}

// engine.Memory is what NewMapped is given for a dump's modules.
var _ pe.ReaderAtAddr = engine.Memory(nil)
