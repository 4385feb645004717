package symstore

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// guidBytes turns a GUID written as 32 hex digits (Data1 Data2 Data3 Data4, as CATALOG.md and
// breakpad MODULE lines print it) into the 16 bytes an RSDS record stores (Data1..3 little-endian).
func guidBytes(t testing.TB, s string) [16]byte {
	t.Helper()
	raw, err := hex.DecodeString(s)
	if err != nil || len(raw) != 16 {
		t.Fatalf("bad GUID %q", s)
	}
	var g [16]byte
	binary.LittleEndian.PutUint32(g[0:], binary.BigEndian.Uint32(raw[0:]))
	binary.LittleEndian.PutUint16(g[4:], binary.BigEndian.Uint16(raw[4:]))
	binary.LittleEndian.PutUint16(g[6:], binary.BigEndian.Uint16(raw[6:]))
	copy(g[8:], raw[8:])
	return g
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name string
		key  Key
		want string
	}{
		// FORMATS.md §7.6 example: ntkrnlmp.pdb/3844DBB920174967BE7AA4A2C20430FA2/ntkrnlmp.pdb.
		{"pdb FORMATS example", PDBKey("ntkrnlmp.pdb", guidBytes(t, "3844DBB920174967BE7AA4A2C20430FA"), 2),
			"ntkrnlmp.pdb/3844DBB920174967BE7AA4A2C20430FA2/ntkrnlmp.pdb"},
		// WINDBG-SPEC §2.4 example: ntkrnlmp.pdb\D9424FC4861E47C10FAD1B35DEC6DCC81\ntkrnlmp.pdb.
		{"pdb WINDBG-SPEC example", PDBKey("ntkrnlmp.pdb", guidBytes(t, "D9424FC4861E47C10FAD1B35DEC6DCC8"), 1),
			"ntkrnlmp.pdb/D9424FC4861E47C10FAD1B35DEC6DCC81/ntkrnlmp.pdb"},
		// CATALOG.md: amdppm.sys RSDS 1C19FDDB27BB3399D9B45973EFEAFCF3 age 1, stored in the real
		// store test-pdb-repository as amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb.
		{"pdb test-pdb-repository", PDBKey("amdppm.pdb", guidBytes(t, "1C19FDDB27BB3399D9B45973EFEAFCF3"), 1),
			"amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb"},
		// CATALOG.md: basic32.dll RSDS path C:\Users\Calixte\dump_syms\test_data\basic32.pdb; dump_syms
		// prints its id as MODULE windows x86 34060D222DBB44E5AA72243CE8326C2F2 basic32.pdb.
		{"pdb from full path", PDBKey(`C:\Users\Calixte\dump_syms\test_data\basic32.pdb`, guidBytes(t, "34060D222DBB44E5AA72243CE8326C2F"), 2),
			"basic32.pdb/34060D222DBB44E5AA72243CE8326C2F2/basic32.pdb"},
		{"breakpad", BreakpadKey("basic32.pdb", guidBytes(t, "34060D222DBB44E5AA72243CE8326C2F"), 2),
			"basic32.pdb/34060D222DBB44E5AA72243CE8326C2F2/basic32.sym"},
		// Age in hex without leading zeros: 0x1a → "1A".
		{"pdb age hex", PDBKey("a.pdb", guidBytes(t, "000000000000000000000000000000AB"), 0x1a),
			"a.pdb/000000000000000000000000000000AB1A/a.pdb"},
		// FORMATS.md §7.6 / SSQP: ntoskrnl.exe TimeDateStamp 0x542d5742 SizeOfImage 0x32000.
		{"image FORMATS example", ImageKey("ntoskrnl.exe", 0x542d5742, 0x32000), "ntoskrnl.exe/542D574232000/ntoskrnl.exe"},
		// Timestamp upper case with leading zeros, size lower case.
		{"image case and padding", ImageKey(`C:\Windows\System32\x.dll`, 0xabc, 0xd1000), "x.dll/00000ABCd1000/x.dll"},
		// FORMATS.md §7.6: NB10 = signature as 8 hex digits + age.
		{"nb10", NB10Key("old.pdb", 0x3EBF1F14, 1), "old.pdb/3EBF1F141/old.pdb"},
	}
	for _, tt := range tests {
		if got := tt.key.Path(); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
		if err := tt.key.Validate(); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}

	// The real store names the amdppm.sys and Wdf01000.sys directories in lower case (CATALOG.md:
	// ts 0xc9c03000 size 0x3b000; ts 0xa9a9d36e size 0xd1000): equal to our keys but for case.
	for _, c := range []struct {
		k   Key
		dir string
	}{
		{ImageKey("amdppm.sys", 0xc9c03000, 0x3b000), "c9c030003b000"},
		{ImageKey("Wdf01000.sys", 0xa9a9d36e, 0xd1000), "a9a9d36ed1000"},
	} {
		if !strings.EqualFold(c.k.ID, c.dir) || c.k.ID == c.dir {
			t.Errorf("%s: id %s, want %s in another case", c.k.Name, c.k.ID, c.dir)
		}
	}
}

func TestKeyValidate(t *testing.T) {
	bad := []Key{
		{},
		{Name: "..", ID: "AB"},
		{Name: "a.pdb", ID: ".."},
		{Name: "../x.pdb", ID: "AB"},
		{Name: `..\x.pdb`, ID: "AB"},
		{Name: "a.pdb", ID: "AB/../.."},
		{Name: "a.pdb", ID: "AB CD"},
		{Name: "a.pdb", ID: "AB", File: "../../etc/passwd"},
		{Name: "a\x00.pdb", ID: "AB"},
		{Name: "c:x.pdb", ID: "AB"},
		{Name: strings.Repeat("a", 300), ID: "AB"},
		{Name: "a.pdb", ID: "AB", ImageExt: "../dll"},
	}
	for _, k := range bad {
		if err := k.Validate(); err == nil {
			t.Errorf("%q: valid, want an error", k.Path())
		}
	}
	good := Key{Name: "foo bar.pdb", ID: "elf-buildid-180a373d6afbabf0eb1f09be1bc45bd796a71085"}
	if err := good.Validate(); err != nil {
		t.Error(err)
	}
}
