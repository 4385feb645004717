package kdbg

import (
	"encoding/binary"
	"os"
	"testing"

	"wdbg/internal/corpus"
)

const triageX64 = "rizin-testbins/dmp/triage_x64.dmp"

// triageBlock locates the decoded KDBG copy in the triage dump with the header fields of
// FORMATS.md §1.2/§1.6 (the full triage parser lives elsewhere), and returns it with the
// header's KdDebuggerDataBlock and the first driver-list entry's DllBase and SizeOfImage.
func triageBlock(t testing.TB, path string) (kdbg []byte, kdbgVA, ntBase uint64, ntSize uint32) {
	t.Helper()
	b, err := os.ReadFile(path) // a 1.4 MB fixture; fine for a test
	if err != nil {
		t.Fatal(err)
	}
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	u64 := func(off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
	if string(b[:8]) != "PAGEDU64" || u32(0xF98) != 4 {
		t.Fatalf("%s: not a 64-bit triage dump", path)
	}
	kdbgVA = u64(0x80) // DUMP_HEADER64.KdDebuggerDataBlock, §1.2
	const triage = 0x2000
	off, size := int(u32(triage+0x70)), int(u32(triage+0x74)) // DebuggerDataOffset/Size, §1.6
	if off+size > len(b) {
		t.Fatalf("debugger data %#x+%#x past the end", off, size)
	}
	// Driver list entry 0 (§1.6): LdrEntry at +8; DllBase at LdrEntry+0x30, SizeOfImage +0x40.
	drivers := int(u32(triage + 0x30))
	ntBase, ntSize = u64(drivers+8+0x30), u32(drivers+8+0x40)
	return b[off : off+size], kdbgVA, ntBase, ntSize
}

func TestTriageX64DebuggerData(t *testing.T) {
	raw, kdbgVA, ntBase, ntSize := triageBlock(t, corpus.Path(t, triageX64))
	// rizin's TRIAGE_DUMP64 dump (expected/rizin_test_db_formats_dmp.txt): DebuggerDataSize 0x380.
	if len(raw) != 0x380 {
		t.Fatalf("debugger data is %#x bytes; rizin says 0x380", len(raw))
	}
	d, err := Decode(raw, 8)
	if err != nil {
		t.Fatal(err)
	}
	// The copy is plain (§1.5) and its Header.Size equals the copied size (rizin: 0x380).
	if d.OwnerTag != OwnerTagKDBG || d.Size != 0x380 {
		t.Errorf("OwnerTag %#x Size %#x", d.OwnerTag, d.Size)
	}
	// CATALOG.md / rizin iH: PsLoadedModuleList 0xfffff8047c62a390, PsActiveProcessHead
	// 0xfffff8047c61e200, PfnDataBase 0xfffff8047c6fc500, KdDebuggerDataBlock 0xfffff8047c600b20.
	if kdbgVA != 0xfffff8047c600b20 {
		t.Errorf("header KdDebuggerDataBlock %#x; CATALOG says 0xfffff8047c600b20", kdbgVA)
	}
	if d.PsLoadedModuleList != 0xfffff8047c62a390 {
		t.Errorf("PsLoadedModuleList %#x; CATALOG says 0xfffff8047c62a390", d.PsLoadedModuleList)
	}
	if d.PsActiveProcessHead != 0xfffff8047c61e200 {
		t.Errorf("PsActiveProcessHead %#x; rizin's header dump says 0xfffff8047c61e200", d.PsActiveProcessHead)
	}
	if d.MmPfnDatabase != 0xfffff8047c6fc500 {
		t.Errorf("MmPfnDatabase %#x; the header's PfnDataBase (rizin) is 0xfffff8047c6fc500", d.MmPfnDatabase)
	}
	// KernBase = ntoskrnl.exe's base in the triage driver list (another structure of the
	// dump, written from the loader entry, not from the KDBG); the cdb-checked CATALOG notes
	// give 151 drivers, of which ntoskrnl is the first.
	if d.KernBase != ntBase || d.KernBase != 0xfffff8047ba00000 {
		t.Errorf("KernBase %#x; the driver list's ntoskrnl.exe DllBase is %#x", d.KernBase, ntBase)
	}
	// The block is nt!KdDebuggerDataBlock and its list head nt!KdpDebuggerDataListHead:
	// both lie inside ntoskrnl's image, as do the variables it points to; rizin's backtrace
	// puts KeBugCheckEx at 0xfffff8047bdf5a80, also inside.
	inNT := func(va uint64) bool { return va >= ntBase && va < ntBase+uint64(ntSize) }
	for name, va := range map[string]uint64{
		"KdDebuggerDataBlock": kdbgVA, "List.Flink": d.ListFlink, "PsLoadedModuleList": d.PsLoadedModuleList,
		"KiProcessorBlock": d.KiProcessorBlock, "rizin KeBugCheckEx": 0xfffff8047bdf5a80,
	} {
		if !inNT(va) {
			t.Errorf("%s %#x is outside ntoskrnl [%#x, +%#x)", name, va, ntBase, ntSize)
		}
	}
	// Structure offsets of build 19041 x64 against FORMATS.md §5 (PDB-derived tables) and
	// §1.7 (KPRCB/KPCR facts).
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"OffsetKThreadNextProcessor (KTHREAD.NextProcessor §5)", uint64(d.OffsetKThreadNextProcessor), 0x218},
		{"OffsetKThreadTeb (§5)", uint64(d.OffsetKThreadTeb), 0xF0},
		{"OffsetKThreadKernelStack (§5)", uint64(d.OffsetKThreadKernelStack), 0x58},
		{"OffsetKThreadInitialStack (§5)", uint64(d.OffsetKThreadInitialStack), 0x28},
		{"OffsetKThreadApcProcess (KTHREAD.ApcState.Process §5)", uint64(d.OffsetKThreadApcProcess), 0xB8},
		{"OffsetKThreadState (§5)", uint64(d.OffsetKThreadState), 0x184},
		{"SizeEProcess (EPROCESS sizeof §5)", uint64(d.SizeEProcess), 0xA40},
		{"OffsetEprocessPeb (§5)", uint64(d.OffsetEprocessPeb), 0x550},
		{"OffsetEprocessParentCID (InheritedFromUniqueProcessId §5)", uint64(d.OffsetEprocessParentCID), 0x540},
		{"OffsetEprocessDirectoryTableBase (§5)", uint64(d.OffsetEprocessDirectoryTableBase), 0x28},
		{"OffsetPrcbCurrentThread (§1.7)", uint64(d.OffsetPrcbCurrentThread), 0x8},
		{"OffsetPrcbProcStateContext (§1.7, 15063+)", uint64(d.OffsetPrcbProcStateContext), 0x1F0},
		{"OffsetPrcbNumber (KPRCB.Number §5)", uint64(d.OffsetPrcbNumber), 0x24},
		{"SizeEThread (ETHREAD sizeof §5)", uint64(d.SizeEThread), 0x898},
		{"OffsetPcrContainedPrcb (§1.7 KPCR = KPRCB - 0x180)", uint64(d.OffsetPcrContainedPrcb), 0x180},
		{"OffsetPrcbContext (§1.7 19041)", uint64(d.OffsetPrcbContext), 0x85C0},
		{"OffsetKThreadStackLimit (§5)", uint64(d.OffsetKThreadStackLimit), 0x30},
		{"OffsetKThreadStackBase (§5)", uint64(d.OffsetKThreadStackBase), 0x38},
		{"OffsetEThreadIrpList (§5)", uint64(d.OffsetEThreadIrpList), 0x4B0},
		{"OffsetPrcbIdleThread (§5)", uint64(d.OffsetPrcbIdleThread), 0x18},
		{"OffsetKThreadWaitReason (§5)", uint64(d.OffsetKThreadWaitReason), 0x283},
		{"MmPageSize (x64 pages are 4 KB)", d.MmPageSize, 0x1000},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x; want %#x", c.name, c.got, c.want)
		}
	}
	// Header.Size 0x380 is the RS5–Iron era (§2): the Retpoline fields are there, the
	// shadow-stack fields of Cobalt (0x380+) are not.
	if !d.Has("OffsetEProcessMmHotPatchContext") || d.Has("OffsetKThreadShadowStackLimit") {
		t.Errorf("Has: MmHotPatchContext %v, ShadowStackLimit %v", d.Has("OffsetEProcessMmHotPatchContext"), d.Has("OffsetKThreadShadowStackLimit"))
	}
}

func TestTriageX64EncodeRoundTrip(t *testing.T) {
	raw, _, _, _ := triageBlock(t, corpus.Path(t, triageX64))
	enc := Encode(raw, testWaitNever, testWaitAlways, testEncodedVA)
	d, err := DecodeEncoded(enc, testWaitNever, testWaitAlways, testEncodedVA)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Decode(raw, 8)
	if *d != *want {
		t.Errorf("encoded round trip differs:\n%+v\n%+v", d, want)
	}
}
