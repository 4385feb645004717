package pe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/internal/corpus"
)

// catalogFacts are the "facts" column of ../shared/fixtures/CATALOG.md for each image: machine,
// TimeDateStamp, SizeOfImage, whether there is .pdata, the RSDS record, the section names.
// CATALOG.md lists at most ten section names; Wdf01000.sys has twelve.
var catalogFacts = []struct {
	path     string
	machine  uint16
	ts, size uint32
	pdata    bool
	guid     string // "" = no CodeView record
	age      uint32
	pdb      string
	sections string
}{
	{"lldb/test-pdb-types.exe", MachineAMD64, 0x5bb6db98, 0x7000, true, "62BE7DC16FCE49E8A180FFAC1524842A", 1, `D:\upstream\lldb\unittests\SymbolFile\PDB\Inputs\test-pdb-types.pdb`, ".text,.rdata,.data,.pdata,.reloc"},
	{"lldb/test-pdb.exe", MachineI386, 0x56d0bc86, 0x5000, false, "C16A11CA886C4AE8AF7698A42C39DADD", 1, `D:\src\llvm\tools\lldb\unittests\SymbolFile\PDB\Inputs\test-pdb.pdb`, ".text,.rdata,.reloc"},
	{"symbolic/CrashWithException.exe", MachineAMD64, 0x5c9e0959, 0x9000, true, "F535C5FB2AE84BB8AA206C30BE566C5A", 1, `C:\Users\sentry\source\repos\CrashWithException\x64\Release\CrashWithException.pdb`, ".text,.rdata,.data,.pdata,.rsrc,.reloc"},
	{"symbolic/cfi_chained_loop.exe", MachineAMD64, 0, 0x400, true, "", 0, "", ".pdata"},
	{"symbolic/crash.exe", MachineI386, 0x5ab38077, 0x9000, false, "3249D99D0C4049318610F4E4FB0B6936", 1, `C:\projects\breakpad-tools\windows\Release\crash.pdb`, ".text,.rdata,.data,.rsrc,.reloc"},
	{"symbolic/integration.dll", MachineI386, 0xaadada8f, 0x8000, false, "1D6929B4468B4DB893899A12BD257E1B", 1, "/Users/swatinem/Coding/sentry-dotnet/samples/foo/obj/Debug/net6.0/foo.pdb", ".text,.rsrc,.reloc"},
	{"symbolic/arm64/test.exe", MachineARM64, 0x69fe3f7d, 0x37000, true, "", 0, "", ".text,.rdata,.data,.pdata,.fptable,.reloc"},
	{"breakpad/dump_syms_testdata/dump_syms_regtest64.exe", MachineAMD64, 0x589dfd11, 0x1a000, true, "72E103A85CB249078B76B2E7C06257B1", 3, `C:\cygwin64\wip\breakpad-depot\src\src\tools\windows\dump_syms\testdata\dump_syms_regtest64.pdb`, ".text,.rdata,.data,.pdata,.reloc"},
	{"breakpad/dump_syms_testdata/pe_only_symbol_test.dll", MachineAMD64, 0x5c8ad05f, 0x12000, true, "2A5EAB481FAB4A17A9761CDC14FE531A", 1, `C:\Users\nbilling\source\repos\pe_only_symbol_test\x64\Debug\pe_only_symbol_test.pdb`, ".text,.rdata,.data,.pdata,.idata,.00cfg,.rsrc,.reloc"},
	{"rizin-testbins/pdb/SimplePDB.exe", MachineI386, 0x5a9a9754, 0x6000, false, "1516D2A3E6864C06BD82C50FBE615236", 3, `E:\msvc\SimplePDB\Release\SimplePDB.pdb`, ".text,.rdata,.data,.rsrc,.reloc"},
	{"rizin-testbins/pdb/exceptions-test.exe", MachineAMD64, 0x61f53923, 0x18000, true, "2A7ED8A5D796443D80CF7200044EDF83", 3, `C:\Users\Segev\junk\exceptions-test\build\Debug\exceptions-test.pdb`, ".text,.rdata,.data,.pdata,.idata,.00cfg,.rsrc,.reloc"},
	{"rizin-testbins/pdb/user32.dll", MachineAMD64, 0x4a5be088, 0xfa000, true, "15F778B3671D4EFDBDCDE79905308B79", 2, "user32.pdb", ".text,.rdata,.data,.pdata,.rsrc,.reloc"},
	{"rizin-testbins/pdb/vs2019_cpp_override.exe", MachineI386, 0x60635ae1, 0x8000, false, "5E2A1B471FA94370907E67AAFB4A94C3", 2, `d:\sources\Project1\Release\Project1.pdb`, ".text,.rdata,.data,.rsrc,.reloc"},
	{"mozilla-dump_syms/basic-opt64.dll", MachineAMD64, 0x5ddc1e9e, 0x8b000, true, "2B02EEDFFB7C497B9F3A107E5193B365", 2, `C:\Users\Calixte\dump_syms\test_data\basic-opt64.pdb`, ".text,.rdata,.data,.pdata,.idata,.00cfg,.reloc"},
	{"mozilla-dump_syms/basic32-min.dll", MachineI386, 0x5ddc1e9b, 0x6c000, false, "878E82E5E282481B88FCBBA2CFF8C7F1", 2, `C:\Users\Calixte\dump_syms\test_data\basic32-min.pdb`, ".text,.rdata,.data,.idata,.00cfg,.reloc"},
	{"mozilla-dump_syms/basic32.dll", MachineI386, 0x5ddc1e9a, 0x6c000, false, "34060D222DBB44E5AA72243CE8326C2F", 2, `C:\Users\Calixte\dump_syms\test_data\basic32.pdb`, ".text,.rdata,.data,.idata,.00cfg,.reloc"},
	{"mozilla-dump_syms/basic64.dll", MachineAMD64, 0x5ddc1e99, 0x8c000, true, "D09EA7D6D2C24C1EBFFE78B0C866BB7F", 2, `C:\Users\Calixte\dump_syms\test_data\basic64.pdb`, ".text,.rdata,.data,.pdata,.idata,.00cfg,.reloc"},
	{"mozilla-dump_syms/mozwer.dll", MachineAMD64, 0x5fdb6a28, 0x71000, true, "5A9EC5FA8DE834784C4C44205044422E", 1, `c:\Users\gsvelto\projects\firefox-build\toolkit\crashreporter\mozwer\mozwer.pdb`, ".text,.rdata,.data,.pdata,.00cfg,.gehcont,_RDATA,.rsrc,.reloc"},
	{"test-pdb-repository/amdppm.sys/c9c030003b000/amdppm.sys", MachineAMD64, 0xc9c03000, 0x3b000, true, "1C19FDDB27BB3399D9B45973EFEAFCF3", 1, "amdppm.pdb", ".text,.rdata,.data,.pdata,.idata,PAGE,INIT,GFIDS,.rsrc,.reloc"},
	{"test-pdb-repository/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys", MachineAMD64, 0xa9a9d36e, 0xd1000, true, "6D6E9C327875C47856AC7DA750AB1C5E", 1, "Wdf01000.pdb", ".text,.rdata,.data,.pdata,.idata,NONPAGE,PAGEWdfV,PAGE,INIT,GFIDS"},
}

// TestCatalogFacts checks each image against the facts CATALOG.md records for it.
func TestCatalogFacts(t *testing.T) {
	for _, c := range catalogFacts {
		t.Run(c.path, func(t *testing.T) {
			f := openCorpus(t, c.path)
			// CATALOG.md: "PE AMD64|x86|ARM64; ts ...; SizeOfImage ...".
			if f.Machine != c.machine || f.TimeDateStamp != c.ts || f.SizeOfImage != c.size {
				t.Errorf("machine %#x ts %#x size %#x; CATALOG %#x %#x %#x", f.Machine, f.TimeDateStamp, f.SizeOfImage, c.machine, c.ts, c.size)
			}
			var names []string
			for _, s := range f.Sections {
				names = append(names, s.Name)
			}
			if got := strings.Join(names, ","); !strings.HasPrefix(got, c.sections) {
				t.Errorf("sections %s; CATALOG %s", got, c.sections)
			}
			// CATALOG.md: ".pdata yes|no".
			tab, err := f.ExceptionTable()
			if err != nil {
				t.Fatalf("ExceptionTable: %v", err)
			}
			if (tab != nil && tab.Len() > 0) != c.pdata {
				t.Errorf("exception table %v; CATALOG .pdata %v", tab != nil, c.pdata)
			}
			// CATALOG.md: "RSDS GUID age N path" or "no CodeView".
			cv, err := f.CodeView()
			if err != nil {
				t.Fatalf("CodeView: %v", err)
			}
			if c.guid == "" {
				if cv != nil {
					t.Errorf("CodeView %+v; CATALOG says none", cv)
				}
				return
			}
			if cv == nil {
				t.Fatal("no CodeView record")
			}
			if cv.Signature != CvSignatureRSDS || strings.ReplaceAll(cv.GUID.String(), "-", "") != c.guid || cv.Age != c.age || cv.PDBName != c.pdb {
				t.Errorf("CodeView %s %s age %d %q; CATALOG %s age %d %q", sig(cv.Signature), cv.GUID, cv.Age, cv.PDBName, c.guid, c.age, c.pdb)
			}
			// The symbol-store keys are the directory names CATALOG.md lists for the
			// test-pdb-repository store (a real store: amdppm.sys/c9c030003b000/...).
			if want := c.guid + strings.ToUpper(hexAge(c.age)); cv.StoreKey() != want {
				t.Errorf("StoreKey = %s, want %s", cv.StoreKey(), want)
			}
			if strings.HasPrefix(c.path, "test-pdb-repository/") {
				if dir := strings.Split(c.path, "/")[2]; !strings.EqualFold(f.ImageStoreKey(), dir) {
					t.Errorf("ImageStoreKey = %s, store directory %s", f.ImageStoreKey(), dir)
				}
			}
			// Where the store (test-pdb-repository, a real symbol store) holds the image's
			// PDB (amdppm.pdb, user32.pdb for rizin's user32.dll), it is under name.pdb/StoreKey/.
			store := filepath.Join(corpus.Dir(t), "test-pdb-repository", cv.PDBFileName())
			if _, err := os.Stat(store); err == nil {
				if _, err := os.Stat(filepath.Join(store, cv.StoreKey(), cv.PDBFileName())); err != nil {
					t.Errorf("the store has no PDB at the key: %v", err)
				}
			}
		})
	}
}

func sig(s uint32) string { return string([]byte{byte(s), byte(s >> 8), byte(s >> 16), byte(s >> 24)}) }

func hexAge(a uint32) string {
	const digits = "0123456789abcdef"
	s := ""
	for {
		s = string(digits[a&0xf]) + s
		if a >>= 4; a == 0 {
			return s
		}
	}
}
