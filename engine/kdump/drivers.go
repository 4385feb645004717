package kdump

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// UnicodeString is a UNICODE_STRING as stored in the dump: Buffer is a virtual address in the
// crashed machine, not a file offset.
type UnicodeString struct {
	Length        uint16 // bytes
	MaximumLength uint16
	Buffer        uint64
}

// Driver is one DUMP_DRIVER_ENTRY of a triage dump's driver list (FORMATS.md §1.6): the name
// from the string pool and the fields of the embedded (old, fixed-layout) loader entry.
type Driver struct {
	Name           string // from the string pool: usually the image path, e.g. \SystemRoot\system32\ntoskrnl.exe
	NameOffset     uint32 // DriverNameOffset: file offset of the DUMP_STRING
	DllBase        uint64
	EntryPoint     uint64
	SizeOfImage    uint32
	FullDllName    UnicodeString
	BaseDllName    UnicodeString
	Flags          uint32
	LoadCount      uint16
	SectionPointer uint64
	CheckSum       uint32
	TimeDateStamp  uint32
}

// UnloadedDriver is one entry of a triage dump's unloaded driver list (FORMATS.md §1.6).
type UnloadedDriver struct {
	Name         string // the inline copy: at most 12 characters
	NameString   UnicodeString
	StartAddress uint64
	EndAddress   uint64
}

// DataBlock is a TRIAGE_DATA_BLOCK: Size bytes of virtual memory at VirtualAddress, stored at
// file offset Offset (FORMATS.md §1.6).
type DataBlock struct {
	VirtualAddress uint64
	Offset         uint32
	Size           uint32
}

// maxDumpString bounds a DUMP_STRING: the longest Windows path is 32767 UTF-16 units.
const maxDumpString = 0x7FFF

// TriageDrivers decodes the driver list (DriverCount entries at DriverListOffset).
func (f *File) TriageDrivers() ([]Driver, error) {
	return f.drivers.Get(f.readDrivers)
}

func (f *File) readDrivers() ([]Driver, error) {
	t, err := f.triage()
	if err != nil {
		return nil, err
	}
	if t.DriverListOffset == 0 || t.DriverCount == 0 {
		return nil, nil
	}
	const what = "driver list"
	is64 := f.Header.Is64
	esize := uint64(driverEntry32Size)
	if is64 {
		esize = driverEntry64Size
	}
	// block checks the whole list against the file before anything is allocated.
	b, err := f.block(uint64(t.DriverListOffset), uint64(t.DriverCount)*esize, what)
	if err != nil {
		return nil, err
	}
	out := make([]Driver, t.DriverCount)
	for i := range out {
		base := int64(t.DriverListOffset) + int64(i)*int64(esize)
		c := newCursor(b[uint64(i)*esize:uint64(i+1)*esize], base, what)
		d := &out[i]
		d.NameOffset = c.u32()
		if is64 {
			c.skip(4)
		}
		// The embedded KLDR_DATA_TABLE_ENTRY (old fixed layout, FORMATS.md §1.6).
		ps := 4
		if is64 {
			ps = 8
		}
		c.skip(2*ps + 3*ps + ps) // InLoadOrderLinks, ExceptionTable/Size/GpValue, NonPagedDebugInfo
		d.DllBase = c.ptr(is64)
		d.EntryPoint = c.ptr(is64)
		d.SizeOfImage = c.u32()
		if is64 {
			c.skip(4)
		}
		d.FullDllName = readUnicodeString(c, is64)
		d.BaseDllName = readUnicodeString(c, is64)
		d.Flags = c.u32()
		d.LoadCount = c.u16()
		c.skip(2)
		d.SectionPointer = c.ptr(is64)
		d.CheckSum = c.u32()
		if is64 {
			c.skip(4)
		}
		d.TimeDateStamp = c.u32()
		if c.err != nil {
			return nil, c.err
		}
		if d.NameOffset != 0 {
			name, err := f.dumpString(d.NameOffset)
			if err != nil {
				return nil, err
			}
			d.Name = name
		}
	}
	return out, nil
}

// readUnicodeString reads UNICODE_STRING64 (16 bytes) or UNICODE_STRING32 (8 bytes).
func readUnicodeString(c *cursor, is64 bool) UnicodeString {
	u := UnicodeString{Length: c.u16(), MaximumLength: c.u16()}
	if is64 {
		c.skip(4)
	}
	u.Buffer = c.ptr(is64)
	return u
}

// dumpString reads a DUMP_STRING: u32 length in UTF-16 units, then the text (FORMATS.md §1.6).
func (f *File) dumpString(off uint32) (string, error) {
	const what = "driver name string"
	lb, err := f.block(uint64(off), 4, what)
	if err != nil {
		return "", err
	}
	n := binary.LittleEndian.Uint32(lb)
	if n > maxDumpString {
		return "", formatErr(int64(off), what, "length %d UTF-16 units exceeds the limit of %d", n, maxDumpString)
	}
	b, err := f.block(uint64(off)+4, uint64(n)*2, what)
	if err != nil {
		return "", err
	}
	return decodeUTF16(b), nil
}

// TriageUnloadedDrivers decodes the unloaded driver list at UnloadedDriversOffset.
func (f *File) TriageUnloadedDrivers() ([]UnloadedDriver, error) {
	return f.unloaded.Get(f.readUnloaded)
}

func (f *File) readUnloaded() ([]UnloadedDriver, error) {
	t, err := f.triage()
	if err != nil {
		return nil, err
	}
	if t.UnloadedDriversOffset == 0 {
		return nil, nil
	}
	const what = "unloaded driver list"
	is64 := f.Header.Is64
	ps := uint64(4)
	if is64 {
		ps = 8
	}
	// Entry: UNICODE_STRING, 12 inline UTF-16 characters, StartAddress, EndAddress.
	esize := 2*ps + 24 + 2*ps
	cb, err := f.block(uint64(t.UnloadedDriversOffset), ps, what)
	if err != nil {
		return nil, err
	}
	count := newCursor(cb, int64(t.UnloadedDriversOffset), what).ptr(is64)
	avail := (uint64(f.size) - uint64(t.UnloadedDriversOffset) - ps) / esize
	if count > avail {
		return nil, formatErr(int64(t.UnloadedDriversOffset), what, "count %d needs %d bytes but the file has room for %d entries", count, count*esize, avail)
	}
	b, err := f.block(uint64(t.UnloadedDriversOffset)+ps, count*esize, what)
	if err != nil {
		return nil, err
	}
	c := newCursor(b, int64(t.UnloadedDriversOffset+uint32(ps)), what)
	out := make([]UnloadedDriver, count)
	for i := range out {
		u := &out[i]
		u.NameString = readUnicodeString(c, is64)
		inline := c.take(24)
		u.Name = decodeUTF16(inline[:min(int(u.NameString.Length)&^1, len(inline))])
		u.StartAddress = c.ptr(is64)
		u.EndAddress = c.ptr(is64)
	}
	return out, c.err
}

// TriageDataBlocks decodes the TRIAGE_DATA_BLOCK array (DataBlocksCount entries at
// DataBlocksOffset).
func (f *File) TriageDataBlocks() ([]DataBlock, error) {
	return f.dataBlocks.Get(f.readDataBlocks)
}

func (f *File) readDataBlocks() ([]DataBlock, error) {
	t, err := f.triage()
	if err != nil {
		return nil, err
	}
	if t.DataBlocksOffset == 0 || t.DataBlocksCount == 0 {
		return nil, nil
	}
	const what = "triage data blocks"
	is64 := f.Header.Is64
	esize := uint64(12)
	if is64 {
		esize = 16
	}
	b, err := f.block(uint64(t.DataBlocksOffset), uint64(t.DataBlocksCount)*esize, what)
	if err != nil {
		return nil, err
	}
	c := newCursor(b, int64(t.DataBlocksOffset), what)
	out := make([]DataBlock, t.DataBlocksCount)
	for i := range out {
		out[i] = DataBlock{VirtualAddress: c.ptr(is64), Offset: c.u32(), Size: c.u32()}
	}
	return out, c.err
}

// VirtualBlock is a range of the crashed machine's virtual memory whose bytes a triage dump
// holds: Size bytes at Addr, stored at file offset Offset.
type VirtualBlock struct {
	Addr   uint64
	Offset int64
	Size   uint64
	What   string // "stack", "thread", "process", "prcb", "debugger data", "data page", "data block"
}

// End is the first address past the block.
func (b VirtualBlock) End() uint64 { return b.Addr + b.Size }

// VirtualBlocks lists the virtual memory a triage dump holds (FORMATS.md §1.6): the faulting
// thread's stack, the ETHREAD/EPROCESS/KPRCB copies whose addresses are known, the debugger
// data, the data page and every data block, sorted by address (ties keep that order). Blocks
// may overlap; where they do, the bytes are copies of the same memory. Blocks whose bytes are
// not inside the file, or that wrap past the top of the address space, are left out with an
// issue (see Issues).
func (f *File) VirtualBlocks() ([]VirtualBlock, error) {
	return f.virtual.Get(f.buildVirtualBlocks)
}

func (f *File) buildVirtualBlocks() ([]VirtualBlock, error) {
	if _, err := f.triage(); err != nil {
		return nil, err
	}
	var out []VirtualBlock
	add := func(b TriageBlock, err error, what string) {
		if err == nil && b.HasVA && b.Size > 0 && b.Addr+b.Size > b.Addr {
			out = append(out, VirtualBlock{Addr: b.Addr, Offset: b.Offset, Size: b.Size, What: what})
		}
	}
	b, err := f.TriageCallStack()
	add(b, err, "stack")
	b, err = f.TriageThread()
	add(b, err, "thread")
	b, err = f.TriageProcess()
	add(b, err, "process")
	b, err = f.TriagePrcb()
	add(b, err, "prcb")
	b, err = f.TriageDebuggerData()
	add(b, err, "debugger data")
	b, err = f.TriageDataPage()
	add(b, err, "data page")
	blocks, err := f.TriageDataBlocks()
	if err != nil {
		return nil, err
	}
	t := f.Triage
	esize := int64(12)
	if f.Header.Is64 {
		esize = 16
	}
	for i, d := range blocks {
		at := int64(t.DataBlocksOffset) + int64(i)*esize
		if uint64(d.Offset)+uint64(d.Size) > uint64(f.size) {
			f.issue(at, "triage data blocks", "block %d (%#x bytes at %#x) has its bytes at file offset %#x, past the end of the file (%#x)", i, d.Size, d.VirtualAddress, d.Offset, f.size)
			continue
		}
		if d.VirtualAddress+uint64(d.Size) < d.VirtualAddress {
			f.issue(at, "triage data blocks", "block %d (%#x bytes at %#x) wraps past the top of the address space", i, d.Size, d.VirtualAddress)
			continue
		}
		if d.Size > 0 {
			out = append(out, VirtualBlock{Addr: d.VirtualAddress, Offset: int64(d.Offset), Size: uint64(d.Size), What: "data block"})
		}
	}
	slices.SortStableFunc(out, func(a, b VirtualBlock) int { return cmp.Compare(a.Addr, b.Addr) })
	return out, nil
}
