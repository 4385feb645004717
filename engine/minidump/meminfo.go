package minidump

// MemoryInfo is MINIDUMP_MEMORY_INFO (MemoryInfoListStream, FORMATS.md §4.3): one region as
// VirtualQuery saw it, whether or not its bytes are in the dump.
type MemoryInfo struct {
	BaseAddress       uint64
	AllocationBase    uint64
	AllocationProtect uint32
	RegionSize        uint64
	State             uint32 // MemCommit, MemReserve, MemFree
	Protect           uint32 // PAGE_* bits
	Type              uint32 // MemPrivate, MemMapped, MemImage
}

// MEM_* values of MemoryInfo.State and Type (FORMATS.md §4.3).
const (
	MemCommit  = 0x1000
	MemReserve = 0x2000
	MemFree    = 0x10000
	MemPrivate = 0x20000
	MemMapped  = 0x40000
	MemImage   = 0x1000000
)

const memoryInfoSize = 48

// MemoryInfoList decodes the MemoryInfoListStream; nil when the dump has none.
func (f *File) MemoryInfoList() ([]MemoryInfo, error) {
	return f.memoryInfoList.Get(func() ([]MemoryInfo, error) {
		c, err := f.streamCursor(MemoryInfoListStream, "memory info list")
		if c == nil {
			return nil, err
		}
		// MINIDUMP_MEMORY_INFO_LIST: SizeOfHeader u32, SizeOfEntry u32, NumberOfEntries u64.
		hdr, ent, n := c.u32(), c.u32(), c.u64()
		seekTable(c, hdr, ent, n, 16, memoryInfoSize)
		if c.err != nil {
			return nil, c.err
		}
		infos := make([]MemoryInfo, n)
		for i := range infos {
			e := c.entry(uint64(hdr), i, int(ent))
			mi := &infos[i]
			mi.BaseAddress, mi.AllocationBase, mi.AllocationProtect = e.u64(), e.u64(), e.u32()
			e.skip(4) // __alignment1
			mi.RegionSize, mi.State, mi.Protect, mi.Type = e.u64(), e.u32(), e.u32(), e.u32()
			if e.err != nil {
				return nil, e.err
			}
		}
		return infos, nil
	})
}
