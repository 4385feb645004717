package kernel

import (
	"encoding/binary"
	"strings"
	"testing"

	"wdbg/engine/cpu"
	"wdbg/engine/kdbg"
)

func TestBuiltinLayoutColumns(t *testing.T) {
	// Expected offsets typed from FORMATS.md §5.
	for _, c := range []struct {
		arch         cpu.Arch
		build        uint32
		structName   string
		field        string
		want         uint64
		ok, inferred bool
		column       uint32
	}{
		{cpu.ArchAMD64, 19041, "_EPROCESS", "UniqueProcessId", 0x440, true, false, 19041},
		{cpu.ArchAMD64, 19045, "_EPROCESS", "UniqueProcessId", 0x440, true, false, 19041}, // 22H2 shares 19041
		{cpu.ArchAMD64, 26100, "_EPROCESS", "ActiveProcessLinks", 0x1d8, true, false, 26100},
		{cpu.ArchAMD64, 22621, "_EPROCESS", "Pcb.UserDirectoryTableBase", 0x388, true, true, 22621}, // † mark
		{cpu.ArchAMD64, 22631, "_ETHREAD", "IrpList", 0x500, true, true, 22621},                     // ¶ mark, nearest lower
		{cpu.ArchAMD64, 22621, "_KPRCB", "CurrentThread", 0x8, true, false, 19041},                  // no 22621 KPRCB column
		{cpu.ArchAMD64, 7601, "_KTHREAD", "StackBase", 0x278, true, false, 7601},
		{cpu.ArchAMD64, 9200, "_KTHREAD", "KernelStack", 0x38, true, false, 7601}, // nearest lower of 9200 is 7601
		{cpu.ArchAMD64, 9600, "_KLDR_DATA_TABLE_ENTRY", "DllBase", 0, false, false, 9600},
		{cpu.ArchAMD64, 19041, "_KLDR_DATA_TABLE_ENTRY", "TimeDateStamp", 0x9c, true, false, 19041},
		{cpu.ArchAMD64, 10586, "_POOL_HEADER", "PoolTag", 0, false, false, 10586},
		{cpu.ArchAMD64, 19041, "_KPCR", "Irql", 0x50, true, false, 19041},
		{cpu.ArchAMD64, 19041, "_HANDLE_TABLE", "HandleCount", 0, false, false, 19041},
		{cpu.ArchAMD64, 7601, "_HANDLE_TABLE", "HandleCount", 0x58, true, false, 7601},
		{cpu.ArchX86, 7601, "_KPRCB", "Number", 0x3cc, true, false, 7601},
		{cpu.ArchX86, 19041, "_EPROCESS", "ImageFileName", 0x1ac, true, false, 19041},
		{cpu.ArchX86, 10240, "_KLDR_DATA_TABLE_ENTRY", "TimeDateStamp", 0x58, true, false, 10240},
		{cpu.ArchX86, 7601, "_KPCR", "Irql", 0x24, true, false, 7601},
	} {
		l, err := BuiltinLayout(c.arch, c.build)
		if err != nil {
			t.Fatal(err)
		}
		fi := l.Field(c.structName, c.field)
		if fi.Known != c.ok || (c.ok && (fi.Offset != c.want || fi.Source != SourceTable || fi.Inferred != c.inferred || fi.Column != c.column)) {
			t.Errorf("%s %d %s.%s = %+v; want %#x ok=%v inferred=%v column %d", c.arch, c.build, c.structName, c.field, fi, c.want, c.ok, c.inferred, c.column)
		}
	}
	l, _ := BuiltinLayout(cpu.ArchAMD64, 19041)
	if n, ok := l.Size("_EPROCESS"); !ok || n != 0xa40 {
		t.Errorf("sizeof _EPROCESS %#x %v; FORMATS.md §5 says 0xa40", n, ok)
	}
	if fi := l.Field("_POOL_HEADER", "PoolType"); fi.Offset != 2 || fi.BitPos != 8 {
		t.Errorf("POOL_HEADER.PoolType %+v; FORMATS.md §5: 0x2 bit8", fi)
	}
	if l.Has("_KLDR_DATA_TABLE_ENTRY") != true {
		t.Error("19041 has KLDR_DATA_TABLE_ENTRY")
	}
	if w7, _ := BuiltinLayout(cpu.ArchAMD64, 7601); w7.Has("_KLDR_DATA_TABLE_ENTRY") {
		t.Error("7601's KLDR column is '-'")
	}
}

func TestBuiltinLayoutNotes(t *testing.T) {
	for _, c := range []struct {
		build uint32
		note  []string // substrings; nil: no note
	}{
		{19041, nil},
		{19044, nil},
		{26100, []string{"19041 for _HANDLE_TABLE", "_KPRCB"}},
		{22631, []string{"22621 for _EPROCESS, _ETHREAD, _KTHREAD", "19041 for"}},
		{9200, []string{"7601 for"}},
	} {
		l, err := BuiltinLayout(cpu.ArchAMD64, c.build)
		if err != nil {
			t.Fatal(err)
		}
		if c.note == nil && l.Note() != "" {
			t.Errorf("build %d: unexpected note %q", c.build, l.Note())
		}
		for _, s := range c.note {
			if !strings.Contains(l.Note(), s) {
				t.Errorf("build %d: note %q lacks %q", c.build, l.Note(), s)
			}
		}
	}
	if _, err := BuiltinLayout(cpu.ArchAMD64, 7600); err == nil {
		t.Error("build 7600 precedes every table yet got a layout")
	}
}

// ARM64 has no FORMATS.md §5 tables: its layout knows nothing by itself, takes what the KDBG
// block and the PDB say, and its note says where offsets can come from.
func TestARM64LayoutFromKDBGAndTypes(t *testing.T) {
	l, err := BuiltinLayout(cpu.ArchARM64, 22621)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(l.Note(), "KDBG") || l.PointerSize() != 8 {
		t.Errorf("note %q, pointer size %d", l.Note(), l.PointerSize())
	}
	if _, _, ok := l.Offset("_EPROCESS", "UniqueProcessId"); ok {
		t.Error("an empty layout claims to know _EPROCESS.UniqueProcessId")
	}
	// FORMATS.md §5 _KLDR_DATA_TABLE_ENTRY (x64) 19041: DllBase @0x30, BaseDllName @0x58.
	if off, _, ok := l.Offset("_KLDR_DATA_TABLE_ENTRY", "DllBase"); !ok || off != 0x30 {
		t.Errorf("ARM64 _KLDR_DATA_TABLE_ENTRY.DllBase = %#x %v, want the x64 0x30", off, ok)
	}
	// FORMATS.md §2: OffsetKThreadTeb u16 @0x29A, OffsetEprocessPeb @0x2AA (values are ours).
	l = l.WithKDBG(kdbgBlock(t, map[int]uint16{0x29a: 0xf0, 0x2aa: 0x550}))
	if off, src, ok := l.Offset("_KTHREAD", "Teb"); !ok || off != 0xf0 || src != SourceKDBG {
		t.Errorf("_KTHREAD.Teb = %#x %v %v, want 0xf0 from KDBG", off, src, ok)
	}
	if off, _, ok := l.Offset("_EPROCESS", "Peb"); !ok || off != 0x550 {
		t.Errorf("_EPROCESS.Peb = %#x %v, want 0x550", off, ok)
	}
	l = l.WithTypes(fakeTypes{"_EPROCESS.UniqueProcessId": 0x440, "_EPROCESS": 0xa40})
	if off, src, ok := l.Offset("_EPROCESS", "UniqueProcessId"); !ok || off != 0x440 || src != SourcePDB {
		t.Errorf("_EPROCESS.UniqueProcessId = %#x %v %v, want 0x440 from the PDB", off, src, ok)
	}
	if n, ok := l.Size("_EPROCESS"); !ok || n != 0xa40 {
		t.Errorf("sizeof _EPROCESS = %#x %v", n, ok)
	}
	if _, err := BuiltinLayout(cpu.ArchARM, 9600); err == nil {
		t.Error("32-bit ARM got a layout")
	}
}

// fakeTypes is a TypeSource with a few answers.
type fakeTypes map[string]uint64

func (f fakeTypes) FieldOffset(s, p string) (uint64, bool) { v, ok := f[s+"."+p]; return v, ok }
func (f fakeTypes) StructSize(s string) (uint64, bool)     { v, ok := f[s]; return v, ok }

// kdbgBlock builds a plain KDDEBUGGER_DATA64 of Header.Size 0x380 with a few offsets set
// (field positions from FORMATS.md §2).
func kdbgBlock(t *testing.T, set map[int]uint16) *kdbg.Data {
	t.Helper()
	b := make([]byte, 0x380)
	binary.LittleEndian.PutUint32(b[0x10:], kdbg.OwnerTagKDBG)
	binary.LittleEndian.PutUint32(b[0x14:], 0x380)
	for off, v := range set {
		binary.LittleEndian.PutUint16(b[off:], v)
	}
	d, err := kdbg.Decode(b, 8)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSourcePrecedence(t *testing.T) {
	base := layout19041(t)
	// KDBG: OffsetEprocessPeb @0x2AA, SizeEProcess @0x2A8, OffsetPcrContainedPrcb @0x2E6.
	d := kdbgBlock(t, map[int]uint16{0x2AA: 0x558, 0x2A8: 0xb00, 0x2E6: 0x190})
	withK := base.WithKDBG(d)
	if off, src, ok := withK.Offset("_EPROCESS", "Peb"); !ok || off != 0x558 || src != SourceKDBG {
		t.Errorf("KDBG Peb: %#x %s %v", off, src, ok)
	}
	if off, src, _ := withK.Offset("_EPROCESS", "UniqueProcessId"); off != 0x440 || src != SourceTable {
		t.Errorf("a field the KDBG lacks must come from the table: %#x %s", off, src)
	}
	if off, src, _ := withK.Offset("_KPCR", "Prcb"); off != 0x190 || src != SourceKDBG {
		t.Errorf("KDBG KPCR.Prcb: %#x %s", off, src)
	}
	if n, _ := withK.Size("_EPROCESS"); n != 0xb00 {
		t.Errorf("KDBG SizeEProcess: %#x", n)
	}
	// A zero KDBG field (OffsetEprocessParentCID left 0) is not believed.
	if off, src, _ := withK.Offset("_EPROCESS", "InheritedFromUniqueProcessId"); off != 0x540 || src != SourceTable {
		t.Errorf("zero KDBG field: %#x %s", off, src)
	}
	// PDB types outrank both.
	withPDB := withK.WithTypes(fakeTypes{"_EPROCESS.Peb": 0x560, "_EPROCESS": 0xc00, "_KSWITCH_FRAME.Return": 0x48})
	if off, src, _ := withPDB.Offset("_EPROCESS", "Peb"); off != 0x560 || src != SourcePDB {
		t.Errorf("PDB Peb: %#x %s", off, src)
	}
	if n, _ := withPDB.Size("_EPROCESS"); n != 0xc00 {
		t.Errorf("PDB sizeof: %#x", n)
	}
	if off, src, _ := withPDB.Offset("_KSWITCH_FRAME", "Return"); off != 0x48 || src != SourcePDB {
		t.Errorf("PDB overrides the KSWITCH_FRAME fact: %#x %s", off, src)
	}
	if off, src, _ := base.Offset("_KSWITCH_FRAME", "Return"); off != 0x38 || src != SourceFact {
		t.Errorf("KSWITCH_FRAME fact: %#x %s", off, src)
	}
	// The original layout is unchanged.
	if _, src, _ := base.Offset("_EPROCESS", "Peb"); src != SourceTable {
		t.Errorf("WithKDBG/WithTypes modified the base layout: %s", src)
	}

	// The reader follows the winning source.
	m := newFakeMem(8)
	const p = 0xffffa00000010000
	m.alloc(p, 0xc00)
	m.u8(p, dispatcherProcess)
	m.u64(p+0x550, 1)
	m.u64(p+0x558, 2)
	m.u64(p+0x560, 3)
	for _, c := range []struct {
		l    *Layout
		want uint64
	}{{base, 1}, {withK, 2}, {withPDB, 3}} {
		got, err := (&Reader{Mem: m, Layout: c.l}).Process(p)
		if err != nil || got.Peb != c.want {
			t.Errorf("Peb %d, want %d (%v)", got.Peb, c.want, err)
		}
	}
	if SourcePDB.String() != "pdb" || SourceKDBG.String() != "kdbg" || SourceTable.String() != "table" {
		t.Error("Source names")
	}
}

func TestUnknownFieldsReported(t *testing.T) {
	// 26100 ETHREAD has ThreadName but the 22621 column lacks it ("-"); a thread read with the
	// 22621 layout must still work, and a field missing from every source must be listed.
	l, _ := BuiltinLayout(cpu.ArchAMD64, 22621)
	m := newFakeMem(8)
	const th = 0xffffa00000200000
	m.alloc(th, 0x1000)
	m.u8(th, dispatcherThread)
	r := &Reader{Mem: m, Layout: l.WithTypes(fakeTypes{})}
	got, err := r.Thread(th)
	if err != nil {
		t.Fatal(err)
	}
	// Every field the Thread reads is in the 22621 columns; IrpList's empty list is unreadable
	// zeros (Flink NULL) and must surface as IRPError, not as a panic.
	if len(got.Unknown) != 0 || got.IRPError == nil {
		t.Errorf("unknown %v, IRP error %v", got.Unknown, got.IRPError)
	}
	// An x86 7601 layout has no KLDR entry: LoadedModule still reads the LDR layout fields.
	w7, _ := BuiltinLayout(cpu.ArchX86, 7601)
	if (&Reader{Layout: w7}).moduleStruct() != "_LDR_DATA_TABLE_ENTRY" {
		t.Error("Windows 7 modules must use the LDR_DATA_TABLE_ENTRY layout")
	}
}
