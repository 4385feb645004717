package unwind

import (
	"encoding/binary"
	"fmt"
	"sort"
	"testing"

	"wdbg/engine/cpu"
)

// fakeMem is a sparse address space of byte regions, for synthetic stacks.
type fakeMem struct {
	regions map[uint64][]byte // start → bytes
}

func newFakeMem() *fakeMem { return &fakeMem{regions: map[uint64][]byte{}} }

// region makes n zero bytes readable at addr.
func (m *fakeMem) region(addr uint64, n int) { m.regions[addr] = make([]byte, n) }

func (m *fakeMem) find(addr uint64) ([]byte, uint64) {
	for start, b := range m.regions {
		if addr >= start && addr < start+uint64(len(b)) {
			return b, start
		}
	}
	return nil, 0
}

func (m *fakeMem) ReadAt(p []byte, addr uint64) (int, error) {
	b, start := m.find(addr)
	if b == nil {
		return 0, fmt.Errorf("memory at %#x is not in the dump", addr)
	}
	n := copy(p, b[addr-start:])
	if n < len(p) {
		return n, fmt.Errorf("memory at %#x is not in the dump", addr+uint64(n))
	}
	return n, nil
}

func (m *fakeMem) put(addr uint64, v []byte) {
	b, start := m.find(addr)
	if b == nil || addr+uint64(len(v)) > start+uint64(len(b)) {
		panic(fmt.Sprintf("fakeMem: %#x+%d outside regions", addr, len(v)))
	}
	copy(b[addr-start:], v)
}

func (m *fakeMem) put64(addr, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	m.put(addr, b[:])
}

func (m *fakeMem) put32(addr uint64, v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	m.put(addr, b[:])
}

// fakeImage is a flat image with a function table, as a PE reader would expose it.
type fakeImage struct {
	bytes   []byte
	entries []RuntimeFunction
}

func newFakeImage(size int) *fakeImage { return &fakeImage{bytes: make([]byte, size)} }

func (im *fakeImage) put(rva uint32, b ...byte) { copy(im.bytes[rva:], b) }

func (im *fakeImage) put32(rva uint32, v ...uint32) {
	for i, x := range v {
		binary.LittleEndian.PutUint32(im.bytes[rva+uint32(4*i):], x)
	}
}

func (im *fakeImage) read(rva uint32, n int) ([]byte, error) {
	if uint64(rva)+uint64(n) > uint64(len(im.bytes)) {
		return nil, fmt.Errorf("image at RVA %#x: outside the image", rva)
	}
	return im.bytes[rva : rva+uint32(n)], nil
}

// table builds the FunctionTable from the entries, through NewFunctionTable's .pdata decoder.
func (im *fakeImage) table(t testing.TB, arch cpu.Arch) *FunctionTable {
	t.Helper()
	sort.Slice(im.entries, func(i, j int) bool { return im.entries[i].Begin < im.entries[j].Begin })
	var pdata []byte
	for _, e := range im.entries {
		if arch == cpu.ArchAMD64 {
			pdata = binary.LittleEndian.AppendUint32(pdata, e.Begin)
			pdata = binary.LittleEndian.AppendUint32(pdata, e.End)
		} else {
			pdata = binary.LittleEndian.AppendUint32(pdata, e.Begin)
		}
		pdata = binary.LittleEndian.AppendUint32(pdata, e.UnwindData)
	}
	ft, err := NewFunctionTable(arch, pdata, im.read)
	if err != nil {
		t.Fatal(err)
	}
	return ft
}

// x64 UNWIND_INFO builders (FORMATS.md §8.1).
func uwc(offset byte, op, info uint8) uint16 {
	return uint16(offset) | uint16(op)<<8 | uint16(info)<<12
}

// unwindInfo encodes an UNWIND_INFO with the given code slots, padded to an even count, followed
// by tail (a chained RUNTIME_FUNCTION or a handler RVA).
func unwindInfo(version, flags, prolog, frameReg, frameOff byte, slots []uint16, tail ...uint32) []byte {
	b := []byte{version | flags<<3, prolog, byte(len(slots)), frameReg | frameOff<<4}
	for _, s := range slots {
		b = binary.LittleEndian.AppendUint16(b, s)
	}
	if len(slots)%2 == 1 {
		b = append(b, 0, 0)
	}
	for _, x := range tail {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

func amd64Regs(kv map[string]uint64) Registers {
	r := Registers{Arch: cpu.ArchAMD64}
	for i := range amd64Names {
		r.set(i, 0xDEAD0000+uint64(i)) // every register known, with a recognisable value
	}
	for k, v := range kv {
		if !r.Set(k, v) {
			panic("no register " + k)
		}
	}
	return r
}

// mustGet returns a known register or fails.
func mustGet(t *testing.T, r *Registers, name string) uint64 {
	t.Helper()
	v, ok := r.Get(name)
	if !ok {
		t.Fatalf("register %s is not known; known: %v", name, r.Names())
	}
	return v
}
