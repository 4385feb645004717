package pdbwrite

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/engine/pdb"
)

// The type records are read back by engine/pdb, written separately from FORMATS.md §7.5: every
// structure by name, its size, members in order with offsets and type names as `dt` spells them
// (cvinfo.h primitive names), structures that refer to each other, and offsets that need the
// 32- and 64-bit numeric leaves.
func TestTypesRoundTrip(t *testing.T) {
	p := samplePDB(2, 4096)
	uchar := UChar
	p.Types = []Struct{
		{Name: "_LIST_ENTRY", Size: 16, Members: []Member{
			{"Flink", 0, Pointer(8, ptrTo(Named("_LIST_ENTRY")))},
			{"Blink", 8, Pointer(8, ptrTo(Named("_LIST_ENTRY")))},
		}},
		{Name: "_EPROCESS", Size: 0x850, Members: []Member{
			{"Pcb", 0, Named("_KPROCESS")},
			{"UniqueProcessId", 0x440, Pointer(8, nil)},
			{"ActiveProcessLinks", 0x448, Named("_LIST_ENTRY")},
			{"ImageFileName", 0x5a8, ArrayOf(UChar, 15)},
			{"Peb", 0x550, Pointer(8, &uchar)},
			{"Huge", 0x12345678, UQuad},
			{"Huger", 0x1_0000_0000, ULong},
		}},
		{Name: "_KPROCESS", Size: 0x438, Members: []Member{
			{"DirectoryTableBase", 0x28, UQuad},
			{"BasePriority", 0x2fe, Char},
		}},
		{Name: "_U", Size: 8, Union: true, Members: []Member{{"A", 0, ULong}, {"B", 0, UQuad}}},
	}
	data, err := p.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := pdb.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	ep, err := f.StructByName("_EPROCESS")
	if err != nil {
		t.Fatal(err)
	}
	if ep.Size != 0x850 || ep.Leaf != pdb.LF_STRUCTURE {
		t.Errorf("_EPROCESS size %#x leaf %#x", ep.Size, ep.Leaf)
	}
	want := []struct {
		name string
		off  uint64
		typ  string
	}{
		{"Pcb", 0, "_KPROCESS"}, {"UniqueProcessId", 0x440, "Ptr64 Void"}, {"ActiveProcessLinks", 0x448, "_LIST_ENTRY"},
		{"ImageFileName", 0x5a8, "[15] UChar"}, {"Peb", 0x550, "Ptr64 UChar"}, {"Huge", 0x12345678, "Uint8B"},
		{"Huger", 0x1_0000_0000, "Uint4B"},
	}
	if len(ep.Fields) != len(want) {
		t.Fatalf("%d fields, want %d: %+v", len(ep.Fields), len(want), ep.Fields)
	}
	for i, w := range want {
		fl := ep.Fields[i]
		if fl.Name != w.name || fl.Offset != w.off || f.DtTypeName(fl.Type) != w.typ {
			t.Errorf("field %d = %s @%#x %q, want %s @%#x %q", i, fl.Name, fl.Offset, f.DtTypeName(fl.Type), w.name, w.off, w.typ)
		}
	}
	kp, err := f.Struct(ep.Fields[0].Type) // through the forward reference
	if err != nil || kp.Name != "_KPROCESS" || kp.Size != 0x438 || len(kp.Fields) != 2 || kp.Fields[1].Offset != 0x2fe {
		t.Errorf("Pcb's type = %+v, %v", kp, err)
	}
	le, err := f.StructByName("_LIST_ENTRY")
	if err != nil || f.DtTypeName(le.Fields[0].Type) != "Ptr64 _LIST_ENTRY" {
		t.Errorf("_LIST_ENTRY.Flink: %+v %v", le, err)
	}
	u, err := f.StructByName("_U")
	if err != nil || u.Leaf != pdb.LF_UNION || u.Size != 8 || len(u.Fields) != 2 {
		t.Errorf("_U = %+v, %v", u, err)
	}
	// The publics are still there.
	if _, ok := f.PublicByName("Func0000"); !ok {
		t.Error("Func0000 lost")
	}
}

func ptrTo(t Type) *Type { return &t }

func TestTypesErrors(t *testing.T) {
	for name, types := range map[string][]Struct{
		"unknown member type": {{Name: "_A", Size: 8, Members: []Member{{"X", 0, Named("_B")}}}},
		"duplicate":           {{Name: "_A", Size: 8}, {Name: "_A", Size: 8}},
		"no name":             {{Size: 8}},
	} {
		p := samplePDB(1, 4096)
		p.Types = types
		if _, err := p.Bytes(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestTypesPdbutil asks LLVM's reader, when installed (../shared/tools/install-oracles.sh), how it
// sees the records: another implementation of the CodeView layouts than engine/pdb.
func TestTypesPdbutil(t *testing.T) {
	tool, err := exec.LookPath("llvm-pdbutil-19")
	if err != nil {
		t.Skip("llvm-pdbutil-19 not installed")
	}
	p := samplePDB(1, 4096)
	p.Types = []Struct{
		{Name: "_LIST_ENTRY", Size: 16, Members: []Member{{"Flink", 0, Pointer(8, ptrTo(Named("_LIST_ENTRY")))}}},
		{Name: "_E", Size: 0x850, Members: []Member{{"L", 0x448, Named("_LIST_ENTRY")}, {"N", 0x5a8, ArrayOf(UChar, 15)},
			{"H", 0x12345678, UQuad}}},
	}
	path := filepath.Join(t.TempDir(), "t.pdb")
	if err := p.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "dump", "-types", path).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"Showing 8 records",
		"LF_MEMBER [name = `L`, Type = 0x1001, offset = 1096, attrs = public]",
		"LF_MEMBER [name = `N`, Type = 0x1002, offset = 1448, attrs = public]",
		"LF_MEMBER [name = `H`, Type = 0x0023 (unsigned __int64), offset = 305419896, attrs = public]",
		"size: 15, index type: 0x0022 (unsigned long), element type: 0x0020 (unsigned char)",
		"referent = 0x1001, mode = pointer, opts = None, kind = ptr64",
		"options: , sizeof 2128",
		"options: forward ref, sizeof 0",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("llvm-pdbutil output lacks %q:\n%s", want, text)
		}
	}
}
