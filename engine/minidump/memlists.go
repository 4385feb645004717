package minidump

// memoryDescriptorSize is the size of MINIDUMP_MEMORY_DESCRIPTOR and of
// MINIDUMP_MEMORY_DESCRIPTOR64 (FORMATS.md §4.1, §4.3).
const memoryDescriptorSize = 16

// MemoryList decodes the MemoryListStream (the ranges of a normal minidump, each with its own
// RVA); nil when the dump has none.
func (f *File) MemoryList() ([]MemoryDescriptor, error) {
	return f.memoryList.Get(func() ([]MemoryDescriptor, error) {
		c, err := f.streamCursor(MemoryListStream, "memory list")
		if c == nil {
			return nil, err
		}
		n := uint64(c.u32())
		seekArray(c, n, memoryDescriptorSize)
		if c.err != nil {
			return nil, c.err
		}
		ranges := make([]MemoryDescriptor, n)
		for i := range ranges {
			ranges[i] = c.memoryDescriptor()
		}
		return ranges, c.err
	})
}

// Memory64List is MINIDUMP_MEMORY64_LIST (full-memory dumps, FORMATS.md §4.3): the bytes of
// range i start at BaseRva plus the sizes of ranges 0..i-1.
type Memory64List struct {
	NumberOfMemoryRanges uint64
	BaseRva              uint64
	MemoryRanges         []MemoryDescriptor64
}

// Memory64List decodes the Memory64ListStream; nil when the dump has none.
func (f *File) Memory64List() (*Memory64List, error) {
	return f.memory64List.Get(func() (*Memory64List, error) {
		c, err := f.streamCursor(Memory64ListStream, "memory64 list")
		if c == nil {
			return nil, err
		}
		l := &Memory64List{NumberOfMemoryRanges: c.u64(), BaseRva: c.u64()}
		if c.err != nil {
			return nil, c.err
		}
		if n := l.NumberOfMemoryRanges; n > uint64(c.remaining())/memoryDescriptorSize {
			return nil, formatErr(c.base, c.what, "truncated (%d ranges of %d bytes do not fit in the %d bytes after the 16-byte header)",
				n, memoryDescriptorSize, c.remaining())
		}
		l.MemoryRanges = make([]MemoryDescriptor64, l.NumberOfMemoryRanges)
		for i := range l.MemoryRanges {
			l.MemoryRanges[i] = MemoryDescriptor64{StartOfMemoryRange: c.u64(), DataSize: c.u64()}
		}
		return l, c.err
	})
}
