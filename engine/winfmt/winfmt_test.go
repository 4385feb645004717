package winfmt_test

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/engine/pe"
	"wdbg/engine/winfmt"
	"wdbg/internal/corpus"
)

// crashGUID is symbolic/crash.pdb's GUID as CATALOG.md gives it (and crash.sym's MODULE line).
const crashGUID = "3249D99D0C4049318610F4E4FB0B6936"

// rsds builds an RSDS record by hand from the FORMATS.md §4.3 layout: 'RSDS' @0, GUID @4 (Data1
// u32, Data2 u16, Data3 u16 little-endian, Data4 in order), Age @0x14, name @0x18.
func rsds(age uint32, name string) []byte {
	b := []byte("RSDS")
	b = append(b, 0x9D, 0xD9, 0x49, 0x32, 0x40, 0x0C, 0x31, 0x49, 0x86, 0x10, 0xF4, 0xE4, 0xFB, 0x0B, 0x69, 0x36)
	b = binary.LittleEndian.AppendUint32(b, age)
	return append(b, name...)
}

func TestParseRSDS(t *testing.T) {
	cv, err := winfmt.ParseCodeView(rsds(0x1A, "C:\\src\\crash.pdb\x00junk"))
	if err != nil {
		t.Fatal(err)
	}
	if cv.Signature != winfmt.CvSignatureRSDS || cv.Age != 0x1A || cv.PDBName != `C:\src\crash.pdb` || cv.PDBFileName() != "crash.pdb" {
		t.Errorf("record %+v", cv)
	}
	// Upper case with dashes, as WinDbg's lmv prints it; the store key has no dashes and the age
	// in hex (FORMATS.md §7.6).
	if got := cv.GUID.String(); got != "3249D99D-0C40-4931-8610-F4E4FB0B6936" {
		t.Errorf("GUID = %s", got)
	}
	if got := cv.StoreKey(); got != crashGUID+"1A" {
		t.Errorf("StoreKey = %s", got)
	}
	if b := cv.GUID.Bytes(); string(b[:]) != string(rsds(0, "")[4:20]) {
		t.Errorf("Bytes = % x", b)
	}
}

func TestParseNB10(t *testing.T) {
	// FORMATS.md §4.3: 'NB10', Offset @4, Signature @8, Age @0xC, name @0x10 (no NUL here).
	b := []byte("NB10\x00\x00\x00\x00\x7d\x6c\x5b\x3a\x05\x00\x00\x00old.pdb")
	cv, err := winfmt.ParseCodeView(b)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Signature != winfmt.CvSignatureNB10 || cv.Timestamp != 0x3a5b6c7d || cv.Age != 5 || cv.PDBName != "old.pdb" || cv.StoreKey() != "3A5B6C7D5" {
		t.Errorf("record %+v key %s", cv, cv.StoreKey())
	}
}

func TestParseCodeViewBad(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "truncated (need 4 bytes for the signature, have 0)"},
		{"unknown", []byte("XXXXabcd"), "unknown CodeView signature 0x58585858"},
		{"short RSDS", rsds(1, "")[:0x17], "truncated RSDS record (need 24 bytes, have 23)"},
		{"short NB10", []byte("NB10\x00\x00\x00\x00"), "truncated NB10 record (need 16 bytes, have 8)"},
	} {
		if _, err := winfmt.ParseCodeView(c.b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	// A name without its NUL is cut at MaxPDBName bytes.
	cv, err := winfmt.ParseCodeView(rsds(1, strings.Repeat("a", 2*winfmt.MaxPDBName)))
	if err != nil || len(cv.PDBName) != winfmt.MaxPDBName {
		t.Errorf("long name: %d bytes, %v", len(cv.PDBName), err)
	}
}

func TestFixedFileInfo(t *testing.T) {
	// 13 DWORDs in VS_FIXEDFILEINFO order: FileVersion 10.0.19041.1, ProductVersion 6.2.3.4.
	words := []uint32{0xFEEF04BD, 0x10000, 0x000A0000, 0x4A610001, 0x00060002, 0x00030004, 0x3F, 1, 0x40004, 2, 0, 7, 8}
	var b []byte
	for _, w := range words {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	v := winfmt.DecodeFixedFileInfo(b)
	if !v.Valid() || v.FileVersion() != [4]uint16{10, 0, 19041, 1} || v.ProductVersion() != [4]uint16{6, 2, 3, 4} ||
		v.FileFlagsMask != 0x3F || v.FileOS != 0x40004 || v.FileDateMS != 7 || v.FileDateLS != 8 {
		t.Errorf("decoded %+v", v)
	}
	if v := winfmt.DecodeFixedFileInfo(b[:51]); v.Valid() || v != (winfmt.FixedFileInfo{}) {
		t.Errorf("short input decoded %+v", v)
	}
}

// crashRecord is the bytes of symbolic/crash.exe's CodeView debug entry.
func crashRecord(tb testing.TB, path string) []byte {
	f, err := pe.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	entries, err := f.DebugDirectory()
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		if e.Type == pe.DebugTypeCodeView {
			b, err := f.DebugData(e)
			if err != nil {
				tb.Fatal(err)
			}
			return b
		}
	}
	tb.Fatalf("%s has no CodeView entry", path)
	return nil
}

func TestCrashExeRecord(t *testing.T) {
	cv, err := winfmt.ParseCodeView(crashRecord(t, corpus.Path(t, "symbolic/crash.exe")))
	if err != nil {
		t.Fatal(err)
	}
	// CATALOG.md, symbolic/crash.exe: RSDS 3249D99D0C4049318610F4E4FB0B6936 age 1
	// C:\projects\breakpad-tools\windows\Release\crash.pdb.
	if strings.ReplaceAll(cv.GUID.String(), "-", "") != crashGUID || cv.Age != 1 || cv.PDBName != `C:\projects\breakpad-tools\windows\Release\crash.pdb` {
		t.Errorf("record %s age %d %q", cv.GUID, cv.Age, cv.PDBName)
	}
}

func FuzzParseCodeView(f *testing.F) {
	f.Add(rsds(1, "a.pdb\x00"))
	f.Add([]byte("NB10\x00\x00\x00\x00\x7d\x6c\x5b\x3a\x05\x00\x00\x00old.pdb\x00"))
	if dir := corpus.Find(); dir != "" {
		f.Add(crashRecord(f, filepath.Join(dir, "symbolic", "crash.exe")))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cv, err := winfmt.ParseCodeView(b)
		if (cv == nil) == (err == nil) {
			t.Fatalf("record %v with error %v", cv, err)
		}
		if cv != nil && (len(cv.PDBName) > winfmt.MaxPDBName || cv.GUID.Bytes() != winfmt.GUIDFromBytes(cv.GUID.Bytes()).Bytes()) {
			t.Fatalf("record %+v", cv)
		}
		winfmt.DecodeFixedFileInfo(b)
	})
}
