package synth

import "encoding/binary"

// Handle is one MINIDUMP_HANDLE_DESCRIPTOR (or _2 with ObjectInfo).
type Handle struct {
	Handle        uint64
	TypeName      string // "" writes RVA 0
	ObjectName    string
	Attributes    uint32
	GrantedAccess uint32
	HandleCount   uint32
	PointerCount  uint32
	// ObjectInfo is the raw body of one MINIDUMP_HANDLE_OBJECT_INFORMATION (written with
	// InfoType 0 after its 12-byte header); descriptors of 40 bytes only.
	ObjectInfo []byte
}

// Handle descriptor sizes, FORMATS.md §4.3.
const (
	HandleDescriptorSize  = 32
	HandleDescriptor2Size = 40
)

// Handles adds entries to the HandleData stream. descriptorSize is 32 or 40
// (MINIDUMP_HANDLE_DESCRIPTOR_2); the first call fixes it, later calls may pass 0.
func (b *Minidump) Handles(descriptorSize int, handles ...Handle) {
	if b.handleSize == 0 {
		b.handleSize = descriptorSize
	}
	if b.handleSize == 0 {
		b.handleSize = HandleDescriptorSize
	}
	b.handles = append(b.handles, handles...)
	b.use(HandleDataStream, b.writeHandleData)
}

// writeHandleData writes HandleData (0xC): {SizeOfHeader 16, SizeOfDescriptor,
// NumberOfDescriptors, Reserved}, then descriptors: Handle u64 @0, TypeNameRva @8,
// ObjectNameRva @0xC, Attributes @0x10, GrantedAccess @0x14, HandleCount @0x18,
// PointerCount @0x1C, and in the 40-byte form ObjectInfoRva @0x20, Reserved0 @0x24
// (FORMATS.md §4.3).
func (b *Minidump) writeHandleData(l *layout) (int, int) {
	ds := b.handleSize
	size := 16 + ds*len(b.handles)
	off := l.reserve(size)
	l.u32(off, 16)
	l.u32(off+4, uint32(ds))
	l.u32(off+8, uint32(len(b.handles)))
	for i, h := range b.handles {
		e := off + 16 + ds*i
		if ds >= 8 {
			l.u64(e, h.Handle)
		}
		if ds < 32 {
			continue // a damaged descriptor size: only the handle value fits
		}
		l.u32(e+0x08, uint32(l.putOptionalString(h.TypeName)))
		l.u32(e+0x0C, uint32(l.putOptionalString(h.ObjectName)))
		l.u32(e+0x10, h.Attributes)
		l.u32(e+0x14, h.GrantedAccess)
		l.u32(e+0x18, h.HandleCount)
		l.u32(e+0x1C, h.PointerCount)
		if ds >= 40 && h.ObjectInfo != nil {
			// {NextInfoRva u32, InfoType u32, SizeOfInfo u32} + data.
			info := make([]byte, 12, 12+len(h.ObjectInfo))
			binary.LittleEndian.PutUint32(info[8:], uint32(len(h.ObjectInfo)))
			info = append(info, h.ObjectInfo...)
			l.u32(e+0x20, uint32(l.put(info)))
		}
	}
	return off, size
}

// MemoryInfo is one MINIDUMP_MEMORY_INFO (what VirtualQuery reports for a region).
type MemoryInfo struct {
	BaseAddress       uint64
	AllocationBase    uint64
	AllocationProtect uint32
	RegionSize        uint64
	State             uint32 // 0x1000 MEM_COMMIT, 0x2000 MEM_RESERVE, 0x10000 MEM_FREE
	Protect           uint32
	Type              uint32 // 0x20000 MEM_PRIVATE, 0x40000 MEM_MAPPED, 0x1000000 MEM_IMAGE
}

// MemoryInfo adds entries to the MemoryInfoList stream.
func (b *Minidump) MemoryInfo(regions ...MemoryInfo) {
	b.memoryInfo = append(b.memoryInfo, regions...)
	b.use(MemoryInfoListStream, b.writeMemoryInfoList)
}

// writeMemoryInfoList writes MemoryInfoList (0x10): {SizeOfHeader u32 16, SizeOfEntry u32 48,
// NumberOfEntries u64}, then 48-byte entries: BaseAddress @0, AllocationBase @8,
// AllocationProtect @0x10, RegionSize @0x18, State @0x20, Protect @0x24, Type @0x28
// (FORMATS.md §4.3).
func (b *Minidump) writeMemoryInfoList(l *layout) (int, int) {
	size := 16 + 48*len(b.memoryInfo)
	off := l.reserve(size)
	l.u32(off, 16)
	l.u32(off+4, 48)
	l.u64(off+8, uint64(len(b.memoryInfo)))
	for i, m := range b.memoryInfo {
		e := off + 16 + 48*i
		l.u64(e+0x00, m.BaseAddress)
		l.u64(e+0x08, m.AllocationBase)
		l.u32(e+0x10, m.AllocationProtect)
		l.u64(e+0x18, m.RegionSize)
		l.u32(e+0x20, m.State)
		l.u32(e+0x24, m.Protect)
		l.u32(e+0x28, m.Type)
	}
	return off, size
}
