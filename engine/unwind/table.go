package unwind

import (
	"encoding/binary"
	"fmt"
	"sort"

	"wdbg/engine/cpu"
)

// FunctionTable is an UnwindSource built from a module's raw exception directory (.pdata) and a
// function that reads the image at an RVA. It is what a PE reader hands to the walker.
type FunctionTable struct {
	arch    cpu.Arch
	entries []RuntimeFunction // sorted by Begin
	read    func(rva uint32, n int) ([]byte, error)
}

// NewFunctionTable decodes pdata, the bytes of IMAGE_DIRECTORY_ENTRY_EXCEPTION: 12-byte
// RUNTIME_FUNCTION entries on x64, 8-byte entries on ARM64 (FORMATS.md §8.1). A trailing partial
// entry and all-zero entries are ignored; entries are sorted by Begin if the image did not sort
// them.
//
// x86 images have no function table; NewFunctionTable(cpu.ArchX86, nil, read) still gives the
// walker the image bytes, with which a stack scan checks that a candidate return address
// follows a call instruction.
func NewFunctionTable(arch cpu.Arch, pdata []byte, read func(rva uint32, n int) ([]byte, error)) (*FunctionTable, error) {
	size := 12
	switch arch {
	case cpu.ArchAMD64:
	case cpu.ArchARM64:
		size = 8
	case cpu.ArchX86:
		if len(pdata) != 0 {
			return nil, fmt.Errorf("unwind: x86 images have no function table")
		}
	default:
		return nil, fmt.Errorf("unwind: no function table for %s", arch)
	}
	t := &FunctionTable{arch: arch, read: read, entries: make([]RuntimeFunction, 0, len(pdata)/size)}
	for off := 0; off+size <= len(pdata); off += size {
		rf := RuntimeFunction{
			Begin:      binary.LittleEndian.Uint32(pdata[off:]),
			UnwindData: binary.LittleEndian.Uint32(pdata[off+4:]),
		}
		if size == 12 {
			rf.End = rf.UnwindData
			rf.UnwindData = binary.LittleEndian.Uint32(pdata[off+8:])
			if rf.Begin == 0 && rf.End == 0 && rf.UnwindData == 0 {
				continue // zero padding at the end of .pdata
			}
		} else if rf.Begin == 0 && rf.UnwindData == 0 {
			continue
		}
		t.entries = append(t.entries, rf)
	}
	if !sort.SliceIsSorted(t.entries, func(i, j int) bool { return t.entries[i].Begin < t.entries[j].Begin }) {
		sort.SliceStable(t.entries, func(i, j int) bool { return t.entries[i].Begin < t.entries[j].Begin })
	}
	return t, nil
}

// Len is the number of entries.
func (t *FunctionTable) Len() int { return len(t.entries) }

// Entry returns entry i in Begin order.
func (t *FunctionTable) Entry(i int) RuntimeFunction { return t.entries[i] }

// RuntimeFunction finds the entry for rva by binary search (see UnwindSource).
func (t *FunctionTable) RuntimeFunction(rva uint32) (RuntimeFunction, bool) {
	i := sort.Search(len(t.entries), func(i int) bool { return t.entries[i].Begin > rva }) - 1
	if i < 0 {
		return RuntimeFunction{}, false
	}
	rf := t.entries[i]
	if t.arch != cpu.ArchARM64 && rva >= rf.End {
		return RuntimeFunction{}, false
	}
	return rf, true
}

// ReadRVA reads the image through the function given to NewFunctionTable.
func (t *FunctionTable) ReadRVA(rva uint32, n int) ([]byte, error) {
	if t.read == nil {
		return nil, fmt.Errorf("unwind: image bytes at RVA %#x are not available", rva)
	}
	b, err := t.read(rva, n)
	if err != nil {
		return nil, err
	}
	if len(b) < n {
		return nil, fmt.Errorf("unwind: image at RVA %#x: truncated (need %d bytes, have %d)", rva, n, len(b))
	}
	return b[:n], nil
}
