package pe

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readobjRecord is one record of a recorded llvm-readobj transcript: its fields in order.
type readobjRecord struct {
	kind    string // "export", "debug", "x64", "arm64", "import"
	fields  map[string]string
	symbols []string // an import's "Symbol" lines, in order
}

// readobjOracles maps each transcript in testdata/oracles (made by capture.sh) to its image.
var readobjOracles = map[string]string{
	"user32.dll":              "rizin-testbins/pdb/user32.dll",
	"basic32.dll":             "mozilla-dump_syms/basic32.dll",
	"mozwer.dll":              "mozilla-dump_syms/mozwer.dll",
	"crash.exe":               "symbolic/crash.exe",
	"amdppm.sys":              "test-pdb-repository/amdppm.sys/c9c030003b000/amdppm.sys",
	"Wdf01000.sys":            "test-pdb-repository/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys",
	"CrashWithException.exe":  "symbolic/CrashWithException.exe",
	"dump_syms_regtest64.exe": "breakpad/dump_syms_testdata/dump_syms_regtest64.exe",
	"arm64-test.exe":          "symbolic/arm64/test.exe",
}

// parseReadobj splits a transcript into records: a new record starts at the first key of
// each kind (Ordinal, Characteristics, StartAddress, Function).
func parseReadobj(t *testing.T, path string) []readobjRecord {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	starts := map[string]string{"Ordinal": "export", "Characteristics": "debug", "StartAddress": "x64", "Function": "arm64", "Import {": "import"}
	var recs []readobjRecord
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, ": ")
		if !ok {
			key, val = strings.TrimSuffix(line, ":"), ""
		}
		if kind, ok := starts[key]; ok {
			recs = append(recs, readobjRecord{kind: kind, fields: map[string]string{}})
		}
		if len(recs) == 0 {
			continue
		}
		if r := &recs[len(recs)-1]; key == "Symbol" {
			r.symbols = append(r.symbols, val)
		} else {
			r.fields[key] = val
		}
	}
	return recs
}

// num reads a number as llvm-readobj prints it: "0x1A", "12", "(0x140001000)",
// "2018-03-22 10:07:51 (0x5AB38077)", "CodeView (0x2)".
func num(t *testing.T, s string) uint64 {
	t.Helper()
	if i := strings.LastIndex(s, "(0x"); i >= 0 {
		s = strings.TrimSuffix(s[i+1:], ")")
	}
	v, err := strconv.ParseUint(strings.TrimSpace(s), 0, 64)
	if err != nil {
		t.Fatalf("llvm-readobj number %q: %v", s, err)
	}
	return v
}

// TestReadobjOracle compares exports, debug directories and runtime functions with
// llvm-readobj 19's, recorded in testdata/oracles/*.readobj.txt by capture.sh.
func TestReadobjOracle(t *testing.T) {
	for _, name := range sortedKeys(readobjOracles) {
		t.Run(name, func(t *testing.T) {
			f := openCorpus(t, readobjOracles[name])
			recs := parseReadobj(t, filepath.Join("testdata", "oracles", name+".readobj.txt"))
			byKind := map[string][]readobjRecord{}
			for _, r := range recs {
				byKind[r.kind] = append(byKind[r.kind], r)
			}
			checkReadobjExports(t, f, byKind["export"])
			checkReadobjDebug(t, f, byKind["debug"])
			if strings.HasSuffix(name, ".dll") {
				checkReadobjImports(t, f, byKind["import"])
			}
			if strings.Contains(name, "Exception") || strings.Contains(name, "regtest") || strings.Contains(name, "arm64") {
				if len(byKind["x64"])+len(byKind["arm64"]) == 0 {
					t.Fatal("transcript has no runtime functions")
				}
				checkReadobjX64(t, f, byKind["x64"])
				checkReadobjARM64(t, f, byKind["arm64"])
			}
		})
	}
}

func checkReadobjExports(t *testing.T, f *File, want []readobjRecord) {
	t.Helper()
	d, err := f.Exports()
	if err != nil {
		t.Fatalf("Exports: %v", err)
	}
	var got []Export
	if d != nil {
		got = d.Exports
	}
	// llvm-readobj lists every slot of the address table; the unused ones (RVA 0, no name) are
	// not exports and the package leaves them out.
	unused := 0
	for _, w := range want {
		if w.fields["RVA"] == "0x0" && w.fields["Name"] == "" {
			unused++
		}
	}
	if len(got) != len(want)-unused {
		t.Fatalf("%d exports, llvm-readobj %d of which %d unused", len(got), len(want), unused)
	}
	byOrdinal := map[uint32]Export{}
	for _, e := range got {
		byOrdinal[e.Ordinal] = e
	}
	forwarders := 0
	for _, w := range want {
		ord := uint32(num(t, w.fields["Ordinal"]))
		e, ok := byOrdinal[ord]
		if w.fields["RVA"] == "0x0" && w.fields["Name"] == "" {
			if ok {
				t.Errorf("unused ordinal %d listed as %+v", ord, e)
			}
			continue
		}
		if !ok {
			t.Errorf("ordinal %d missing", ord)
			continue
		}
		if e.Name != w.fields["Name"] {
			t.Errorf("ordinal %d: name %q, llvm-readobj %q", ord, e.Name, w.fields["Name"])
		}
		if fwd, ok := w.fields["ForwardedTo"]; ok {
			forwarders++
			if e.Forwarder != fwd {
				t.Errorf("ordinal %d: forwarder %q, llvm-readobj %q", ord, e.Forwarder, fwd)
			}
			continue
		}
		if e.Forwarder != "" || uint64(e.RVA) != num(t, w.fields["RVA"]) {
			t.Errorf("ordinal %d: RVA %#x forwarder %q, llvm-readobj RVA %s", ord, e.RVA, e.Forwarder, w.fields["RVA"])
		}
		// Each export is found by its name and by its RVA.
		if e.Name != "" {
			if x, ok := d.ByName(e.Name); !ok || x.RVA != e.RVA {
				t.Errorf("ByName(%q) = %+v, %v", e.Name, x, ok)
			}
		}
		if x, ok := d.Lookup(e.RVA); !ok || x.RVA != e.RVA {
			t.Errorf("Lookup(%#x) = %+v, %v", e.RVA, x, ok)
		}
		if x, ok := d.ByOrdinal(ord); !ok || x != e {
			t.Errorf("ByOrdinal(%d) = %+v, %v", ord, x, ok)
		}
	}
	if len(want) > 0 && d.DLLName == "" {
		t.Errorf("export DLL name is empty")
	}
	t.Logf("%d exports (%d forwarded, %d unused slots) agree", len(want)-unused, forwarders, unused)
}

func checkReadobjDebug(t *testing.T, f *File, want []readobjRecord) {
	t.Helper()
	got, err := f.DebugDirectory()
	if err != nil {
		t.Fatalf("DebugDirectory: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d debug entries, llvm-readobj %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		wantEntry := DebugEntry{
			Characteristics: uint32(num(t, w.fields["Characteristics"])), TimeDateStamp: uint32(num(t, w.fields["TimeDateStamp"])),
			MajorVersion: uint16(num(t, w.fields["MajorVersion"])), MinorVersion: uint16(num(t, w.fields["MinorVersion"])),
			Type: uint32(num(t, w.fields["Type"])), SizeOfData: uint32(num(t, w.fields["SizeOfData"])),
			AddressOfRawData: uint32(num(t, w.fields["AddressOfRawData"])), PointerToRawData: uint32(num(t, w.fields["PointerToRawData"])),
		}
		if g != wantEntry {
			t.Errorf("debug entry %d = %+v, llvm-readobj %+v", i, g, wantEntry)
		}
		if _, ok := w.fields["PDBGUID"]; !ok {
			continue
		}
		cv, err := f.CodeView()
		if err != nil || cv == nil {
			t.Fatalf("CodeView: %v, %v", cv, err)
		}
		if uint64(cv.Signature) != num(t, w.fields["PDBSignature"]) || "{"+cv.GUID.String()+"}" != w.fields["PDBGUID"] ||
			uint64(cv.Age) != num(t, w.fields["PDBAge"]) || cv.PDBName != w.fields["PDBFileName"] {
			t.Errorf("CodeView %#x %s %d %q, llvm-readobj %s %s %s %q", cv.Signature, cv.GUID, cv.Age, cv.PDBName,
				w.fields["PDBSignature"], w.fields["PDBGUID"], w.fields["PDBAge"], w.fields["PDBFileName"])
		}
	}
}

func checkReadobjX64(t *testing.T, f *File, want []readobjRecord) {
	t.Helper()
	if len(want) == 0 {
		return
	}
	tab, err := f.ExceptionTable()
	if err != nil || tab == nil {
		t.Fatalf("ExceptionTable: %v, %v", tab, err)
	}
	if len(tab.X64) != len(want) {
		t.Fatalf("%d runtime functions, llvm-readobj %d", len(tab.X64), len(want))
	}
	base := f.ImageBase
	for i, w := range want {
		// llvm-readobj prints ImageBase-relative addresses as virtual addresses.
		wantRF := RuntimeFunction{uint32(num(t, w.fields["StartAddress"]) - base), uint32(num(t, w.fields["EndAddress"]) - base),
			uint32(num(t, w.fields["UnwindInfoAddress"]) - base)}
		if tab.X64[i] != wantRF {
			t.Errorf("runtime function %d = %+v, llvm-readobj %+v", i, tab.X64[i], wantRF)
		}
		for _, rva := range []uint32{wantRF.BeginAddress, wantRF.EndAddress - 1, (wantRF.BeginAddress + wantRF.EndAddress) / 2} {
			e, ok, err := f.LookupFunction(rva)
			if err != nil || !ok || e.Index != i || e.UnwindData != wantRF.UnwindInfoAddress {
				t.Errorf("LookupFunction(%#x) = %+v, %v, %v; want entry %d", rva, e, ok, err, i)
			}
		}
	}
}

func checkReadobjARM64(t *testing.T, f *File, want []readobjRecord) {
	t.Helper()
	if len(want) == 0 {
		return
	}
	tab, err := f.ExceptionTable()
	if err != nil || tab == nil {
		t.Fatalf("ExceptionTable: %v, %v", tab, err)
	}
	if len(tab.ARM64) != len(want) {
		t.Fatalf("%d ARM64 runtime functions, llvm-readobj %d", len(tab.ARM64), len(want))
	}
	base := f.ImageBase
	packed := 0
	for i, w := range want {
		r := tab.ARM64[i]
		e, err := tab.Entry(i)
		if err != nil {
			t.Fatalf("Entry(%d): %v", i, err)
		}
		if uint64(r.BeginAddress) != num(t, w.fields["Function"])-base {
			t.Errorf("entry %d: begin %#x, llvm-readobj Function %s", i, r.BeginAddress, w.fields["Function"])
		}
		// FunctionLength is in bytes in llvm-readobj's output, for both forms.
		if uint64(e.EndAddress-e.BeginAddress) != num(t, w.fields["FunctionLength"]) {
			t.Errorf("entry %d: length %d, llvm-readobj FunctionLength %s", i, e.EndAddress-e.BeginAddress, w.fields["FunctionLength"])
		}
		if xdata, ok := w.fields["ExceptionRecord"]; ok {
			if r.Flag() != ARM64FlagXData || uint64(r.XDataRVA()) != num(t, xdata)-base {
				t.Errorf("entry %d: flag %d xdata %#x, llvm-readobj ExceptionRecord %s", i, r.Flag(), r.XDataRVA(), xdata)
			}
		} else {
			packed++
			fragment := map[bool]string{true: "Yes", false: "No"}
			if fragment[r.Flag() == ARM64FlagPackedFragment] != w.fields["Fragment"] || fragment[r.H()] != w.fields["HomedParameters"] ||
				uint64(r.RegF()) != num(t, w.fields["RegF"]) || uint64(r.RegI()) != num(t, w.fields["RegI"]) ||
				uint64(r.CR()) != num(t, w.fields["CR"]) || uint64(r.FrameSize()) != num(t, w.fields["FrameSize"]) {
				t.Errorf("entry %d: packed %#x (flag %d RegF %d RegI %d H %v CR %d FrameSize %d), llvm-readobj %v",
					i, r.UnwindData, r.Flag(), r.RegF(), r.RegI(), r.H(), r.CR(), r.FrameSize(), w.fields)
			}
		}
		for _, rva := range []uint32{e.BeginAddress, e.EndAddress - 1} {
			got, ok, err := f.LookupFunction(rva)
			if err != nil || !ok || got.Index != i {
				t.Errorf("LookupFunction(%#x) = %+v, %v, %v; want entry %d", rva, got, ok, err, i)
			}
		}
	}
	if packed == 0 || packed == len(want) {
		t.Errorf("%d of %d entries packed: the oracle should cover both forms", packed, len(want))
	}
}

func checkReadobjImports(t *testing.T, f *File, want []readobjRecord) {
	t.Helper()
	got, err := f.Imports()
	if err != nil {
		t.Fatalf("Imports: %v", err)
	}
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("%d imported DLLs, llvm-readobj %d", len(got), len(want))
	}
	n := 0
	for i, w := range want {
		d := got[i]
		if d.Name != w.fields["Name"] || uint64(d.ImportLookupTableRVA) != num(t, w.fields["ImportLookupTableRVA"]) ||
			uint64(d.ImportAddressTableRVA) != num(t, w.fields["ImportAddressTableRVA"]) {
			t.Errorf("import %d: %s ILT %#x IAT %#x; llvm-readobj %v", i, d.Name, d.ImportLookupTableRVA, d.ImportAddressTableRVA, w.fields)
		}
		if len(d.Functions) != len(w.symbols) {
			t.Errorf("%s: %d functions, llvm-readobj %d", d.Name, len(d.Functions), len(w.symbols))
			continue
		}
		for j, sym := range w.symbols {
			// "Name (hint)", or " (ordinal)" for an import by ordinal.
			name, hint, _ := strings.Cut(sym, " (")
			fn := d.Functions[j]
			v := uint16(num(t, strings.TrimSuffix(hint, ")")))
			if fn.Name != name || (fn.ByOrdinal && fn.Ordinal != v) || (!fn.ByOrdinal && fn.Hint != v) {
				t.Errorf("%s function %d = %+v; llvm-readobj %q", d.Name, j, fn, sym)
			}
			// The address-table slots follow one another.
			if step := uint32(4 << b2i(f.Is64())); fn.IATRVA != d.ImportAddressTableRVA+uint32(j)*step {
				t.Errorf("%s function %d: IAT slot %#x", d.Name, j, fn.IATRVA)
			}
			n++
		}
	}
	t.Logf("%d imports from %d DLLs agree", n, len(want))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
