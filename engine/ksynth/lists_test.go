package ksynth

import (
	"encoding/binary"
	"testing"
	"unicode/utf16"

	"wdbg/engine/kdbg"
	"wdbg/engine/vmem"
)

// TestLists walks the kernel lists through the dump as a debugger would, with offsets written
// down again here from FORMATS.md (§1.6's fixed loader-entry layout for the module list, §5 for
// the process and thread lists, the KDBG for KiProcessorBlock), and compares with the manifest.
func TestLists(t *testing.T) {
	type offs struct {
		dllBase, sizeOfImage, baseDllName               uint64 // §1.6 fixed KLDR layout
		pid, links, threadHead, threadEntry, tid, state uint64 // §5 EPROCESS / ETHREAD / KTHREAD
		prcbCurrent                                     uint64 // §1.7
	}
	for _, c := range []struct {
		m Machine
		o offs
	}{
		{X64Win10_19041, offs{0x30, 0x40, 0x58, 0x440, 0x448, 0x5e0, 0x4e8, 0x480, 0x184, 0x8}},
		{X86PAEWin7_7601, offs{0x18, 0x20, 0x2c, 0xb4, 0xb8, 0x188, 0x268, 0x230, 0x68, 0x4}},
		// The x86 7601 columns are headed "Win7 = non-PAE ntkrnlmp": the same offsets.
		{X86Win7_7601, offs{0x18, 0x20, 0x2c, 0xb4, 0xb8, 0x188, 0x268, 0x230, 0x68, 0x4}},
		// x64 7601: LDR_DATA_TABLE_ENTRY (§5.1), EPROCESS/ETHREAD/KTHREAD column 7601.
		{X64Win7_7601, offs{0x30, 0x40, 0x58, 0x180, 0x188, 0x308, 0x420, 0x3b8, 0x164, 0x8}},
	} {
		d, _, tr := open(t, Spec{Machine: c.m, Processors: 3})
		m := d.Manifest()
		ps := uint64(m.PointerSize)
		ptr := func(va uint64) uint64 {
			b := make([]byte, ps)
			if _, err := tr.ReadAt(b, va); err != nil {
				t.Fatalf("%s: read %#x: %v", c.m, va, err)
			}
			if ps == 4 {
				return uint64(binary.LittleEndian.Uint32(b))
			}
			return binary.LittleEndian.Uint64(b)
		}
		walk := func(head uint64) []uint64 {
			var out []uint64
			for e := ptr(head); e != head && len(out) < 100; e = ptr(e) {
				if ptr(ptr(e)+ps) != e {
					t.Errorf("%s: Flink->Blink of %#x is not %#x", c.m, e, e)
				}
				out = append(out, e)
			}
			return out
		}
		mods := walk(m.PsLoadedModuleList)
		if len(mods) != len(m.Modules) {
			t.Fatalf("%s: %d modules on the list, manifest %d", c.m, len(mods), len(m.Modules))
		}
		for i, e := range mods {
			want := m.Modules[i]
			name := readUnicode(t, tr, e+c.o.baseDllName, ps)
			size := make([]byte, 4)
			tr.ReadAt(size, e+c.o.sizeOfImage)
			if ptr(e+c.o.dllBase) != want.Base || binary.LittleEndian.Uint32(size) != want.Size || name != want.BaseDllName {
				t.Errorf("%s: module %d: base %#x size % x name %q, manifest %#x %#x %q", c.m, i, ptr(e+c.o.dllBase), size, name, want.Base, want.Size, want.BaseDllName)
			}
		}
		procs := walk(m.PsActiveProcessHead)
		if len(procs) != len(m.Processes) {
			t.Fatalf("%s: %d processes, manifest %d", c.m, len(procs), len(m.Processes))
		}
		for i, link := range procs {
			ep := link - c.o.links
			want := m.Processes[i]
			if ep != want.Address || ptr(ep+c.o.pid) != want.PID {
				t.Errorf("%s: process %d at %#x pid %#x, manifest %#x pid %#x", c.m, i, ep, ptr(ep+c.o.pid), want.Address, want.PID)
			}
			threads := walk(ep + c.o.threadHead)
			if len(threads) != len(want.Threads) {
				t.Errorf("%s: %s has %d threads, manifest %d", c.m, want.ImageFileName, len(threads), len(want.Threads))
				continue
			}
			for j, tl := range threads {
				et := tl - c.o.threadEntry
				mt := m.Thread(want.Threads[j])
				st := make([]byte, 1)
				tr.ReadAt(st, et+c.o.state)
				if et != mt.Address || ptr(et+c.o.tid) != mt.TID || st[0] != mt.State {
					t.Errorf("%s: thread %#x tid %#x state %d, manifest %#x %#x %d", c.m, et, ptr(et+c.o.tid), st[0], mt.Address, mt.TID, mt.State)
				}
			}
		}
		// Processors through KDBG.KiProcessorBlock.
		b := make([]byte, m.KDBG.Size)
		tr.ReadAt(b, m.KDBG.Address)
		k, err := kdbg.Decode(b, m.PointerSize)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range m.Processors {
			prcb := ptr(k.KiProcessorBlock + uint64(i)*ps)
			if prcb != p.Prcb || ptr(prcb+c.o.prcbCurrent) != p.CurrentThread {
				t.Errorf("%s: processor %d: KPRCB %#x current %#x, manifest %#x %#x", c.m, i, prcb, ptr(prcb+c.o.prcbCurrent), p.Prcb, p.CurrentThread)
			}
		}
		if ptr(k.KiProcessorBlock+uint64(len(m.Processors))*ps) != 0 {
			t.Errorf("%s: KiProcessorBlock is not NULL-terminated", c.m)
		}
		if crash := m.Processors[m.BugCheckProcessor].CurrentThread; crash != m.CrashThread {
			t.Errorf("%s: bug-check processor runs %#x, crash thread %#x", c.m, crash, m.CrashThread)
		}
	}
}

// readUnicode reads a UNICODE_STRING {Length, MaximumLength, Buffer}.
func readUnicode(t *testing.T, tr *vmem.Translator, va, ps uint64) string {
	hdr := make([]byte, 2*ps)
	if _, err := tr.ReadAt(hdr, va); err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint16(hdr)
	buf := binary.LittleEndian.Uint64(append(hdr[ps:], 0, 0, 0, 0)[:8])
	if ps == 4 {
		buf &= 0xFFFFFFFF
	}
	b := make([]byte, n)
	if _, err := tr.ReadAt(b, buf); err != nil {
		t.Fatal(err)
	}
	u := make([]uint16, n/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}
