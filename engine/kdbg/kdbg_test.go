package kdbg

import (
	"encoding/binary"
	"errors"
	"testing"
)

// TestLayoutIsNaturallyAligned re-derives every field offset from the field order and sizes
// with natural alignment, the rule FORMATS.md §2 says the table was computed by; a typo in a
// kdbg tag of data.go shows here.
func TestLayoutIsNaturallyAligned(t *testing.T) {
	next := HeaderSize
	for _, f := range layout() {
		want := (next + f.Size - 1) &^ (f.Size - 1)
		if f.Offset != want {
			t.Errorf("%s at %#x; natural alignment after the previous field puts it at %#x", f.Name, f.Offset, want)
		}
		next = f.Offset + f.Size
	}
	// FORMATS.md §2: the newest SDK layout ends with PointerIgnoreBits, size 0x3A8.
	if next != 0x3A8 {
		t.Errorf("layout ends at %#x; want 0x3a8", next)
	}
	// The fields §2 lists as those a debugger uses without a PDB, at the offsets it gives.
	for name, off := range map[string]int{
		"KernBase": 0x18, "PsLoadedModuleList": 0x48, "PsActiveProcessHead": 0x50, "PspCidTable": 0x58,
		"MmPfnDatabase": 0xC0, "MmNumberOfPhysicalPages": 0xF8, "MmSystemRangeStart": 0x1D0,
		"MmHighestUserAddress": 0x1C8, "KiProcessorBlock": 0x218, "MmUnloadedDrivers": 0x220,
		"MmLastUnloadedDriver": 0x228, "NtBuildLab": 0x208, "CmNtCSDVersion": 0x268,
		"PoolTrackTable": 0x1B8, "PteBase": 0x360, "OffsetPrcbContext": 0x338,
		"OffsetPrcbProcStateContext": 0x2BC, "L1tfHighPhysicalBitIndex": 0x2C2,
	} {
		found := false
		for _, f := range layout() {
			if f.Name == name {
				found = true
				if f.Offset != off {
					t.Errorf("%s at %#x; FORMATS.md §2 says %#x", name, f.Offset, off)
				}
			}
		}
		if !found {
			t.Errorf("%s missing from the layout", name)
		}
	}
}

// block builds a plain block of the given Header.Size with a few fields set.
func block(size uint32, set map[int]uint64) []byte {
	b := make([]byte, size)
	binary.LittleEndian.PutUint64(b[0:], 0xFFFFF80000001000)
	binary.LittleEndian.PutUint64(b[8:], 0xFFFFF80000001000)
	binary.LittleEndian.PutUint32(b[0x10:], OwnerTagKDBG)
	binary.LittleEndian.PutUint32(b[0x14:], size)
	for off, v := range set {
		if off+8 <= len(b) {
			binary.LittleEndian.PutUint64(b[off:], v)
		}
	}
	return b
}

func TestDecodeSizesByEra(t *testing.T) {
	// Win7 ends at 0x340 (no PteBase), RS1 at 0x368 (PteBase at 0x360), §2 "Size by era".
	set := map[int]uint64{0x18: 0xFFFFF80001000000, 0x360: 0xFFFFF68000000000}
	win7, err := Decode(block(0x340, set), 8)
	if err != nil {
		t.Fatal(err)
	}
	if win7.KernBase != 0xFFFFF80001000000 || win7.Has("PteBase") || win7.PteBase != 0 || !win7.Has("OffsetPrcbContext") {
		t.Errorf("Win7-size block: KernBase %#x, Has(PteBase) %v, PteBase %#x", win7.KernBase, win7.Has("PteBase"), win7.PteBase)
	}
	rs1, err := Decode(block(0x368, set), 8)
	if err != nil || !rs1.Has("PteBase") || rs1.PteBase != 0xFFFFF68000000000 || rs1.Has("RetpolineStubFunctionTableSize") {
		t.Errorf("RS1-size block: %v, PteBase %#x", err, rs1.PteBase)
	}
	if rs1.Has("NoSuchField") {
		t.Error("Has(unknown) = true")
	}
}

func TestDecode32BitMasksPointers(t *testing.T) {
	// §1.3/§2: 32-bit kernels store pointers sign-extended to 64 bits.
	b := block(0x340, map[int]uint64{0x18: 0xFFFFFFFF82A00000, 0x48: 0xFFFFFFFF82B4E850})
	binary.LittleEndian.PutUint64(b[0:], 0xFFFFFFFF82B70C38)
	binary.LittleEndian.PutUint16(b[0x36:], 1|2<<2) // PaeEnabled, PagingLevels 2 → bits 5:2
	d, err := Decode(b, 4)
	if err != nil {
		t.Fatal(err)
	}
	if d.KernBase != 0x82A00000 || d.PsLoadedModuleList != 0x82B4E850 || d.ListFlink != 0x82B70C38 {
		t.Errorf("KernBase %#x PsLoadedModuleList %#x Flink %#x", d.KernBase, d.PsLoadedModuleList, d.ListFlink)
	}
	if !d.PaeEnabled() || d.KiBugCheckRecoveryActive() || d.PagingLevels() != 2 {
		t.Errorf("flags %#x: PAE %v, recovery %v, levels %d", d.Flags, d.PaeEnabled(), d.KiBugCheckRecoveryActive(), d.PagingLevels())
	}
}

func TestDecodeBadInput(t *testing.T) {
	good := block(0x380, nil)
	cases := []struct {
		name string
		b    []byte
		ptr  int
		is   error
	}{
		{"header cut", good[:0x17], 8, ErrTruncated},
		{"not KDBG", append([]byte{}, good[:0x10]...), 8, ErrTruncated},
		{"bad pointer size", good, 2, nil},
	}
	for _, c := range cases {
		if d, err := Decode(c.b, c.ptr); err == nil || d != nil || (c.is != nil && !errors.Is(err, c.is)) {
			t.Errorf("%s: Decode = %v, %v", c.name, d, err)
		}
	}
	tag := append([]byte{}, good...)
	copy(tag[0x10:], "GBDK")
	if _, err := Decode(tag, 8); !errors.Is(err, ErrNotKDBG) {
		t.Errorf("wrong tag: %v", err)
	}
	for _, size := range []uint32{0x10, 0x2000} {
		bad := append([]byte{}, good...)
		binary.LittleEndian.PutUint32(bad[0x14:], size)
		if _, err := Decode(bad, 8); err == nil {
			t.Errorf("Size %#x accepted", size)
		}
	}
	// A block cut short of its Header.Size: the fields that fit, and ErrTruncated.
	short := block(0x380, map[int]uint64{0x18: 0xFFFFF8047BA00000, 0x218: 0xFFFFF8047C6FDC80})
	d, err := Decode(short[:0x100], 8)
	if !errors.Is(err, ErrTruncated) || d == nil || d.KernBase != 0xFFFFF8047BA00000 || d.Has("KiProcessorBlock") || d.KiProcessorBlock != 0 {
		t.Errorf("truncated: %+v, %v", d, err)
	}
}

func TestFieldsListing(t *testing.T) {
	d, err := Decode(block(0x340, map[int]uint64{0x50: 0xFFFFF80002C4BB90}), 8)
	if err != nil {
		t.Fatal(err)
	}
	var present, absent int
	for _, f := range d.Fields() {
		if f.Name == "PsActiveProcessHead" && (f.Value != 0xFFFFF80002C4BB90 || f.Offset != 0x50 || !f.Present) {
			t.Errorf("PsActiveProcessHead field = %+v", f)
		}
		if f.Present {
			present++
		} else {
			absent++
		}
	}
	if present == 0 || absent == 0 {
		t.Errorf("present %d absent %d; a 0x340 block has both", present, absent)
	}
}
