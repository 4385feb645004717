package synth

// Range is one range of full memory (a Memory64List entry, FORMATS.md §4.3). Its contents are
// Data when set; otherwise Size bytes produced by Fill (called with the offset inside the range
// and a buffer to fill, a chunk at a time), or zeros when Fill is nil — zero ranges stay holes
// in a sparse file written by WriteFile.
type Range struct {
	Addr uint64
	Data []byte
	Size uint64
	Fill func(offset uint64, p []byte)
}

func (r Range) size() uint64 {
	if r.Data != nil {
		return uint64(len(r.Data))
	}
	return r.Size
}

// memoryRange is one MemoryList entry; stackOf marks the implicit entry of a thread's stack.
type memoryRange struct {
	addr    uint64
	data    *blob
	stackOf *Thread
}

// Memory adds a range to the MemoryList stream (the memory of an ordinary minidump). Ranges may
// overlap or touch each other: the writer keeps them exactly as given, which is how tests build
// overlapping and adjacent memory.
func (b *Minidump) Memory(addr uint64, data []byte) {
	b.memory = append(b.memory, memoryRange{addr: addr, data: &blob{append([]byte(nil), data...)}})
	b.useMemoryList()
}

func (b *Minidump) useMemoryList() {
	b.use(MemoryListStream, b.writeMemoryList)
}

// FullMemory adds ranges to the Memory64List stream (a full-memory dump). Their data is stored
// back to back at the end of the file. Thread stacks not inside one of these ranges are added as
// ranges of their own, and the MemoryList then holds only what Memory added.
func (b *Minidump) FullMemory(ranges ...Range) {
	b.full = append(b.full, ranges...)
	b.fullUsed = true
	b.use(Memory64ListStream, b.writeMemory64List)
}

// memoryListEntries is the MemoryList as it will be written.
func (b *Minidump) memoryListEntries() []memoryRange {
	var out []memoryRange
	for _, m := range b.memory {
		if m.stackOf != nil && b.fullUsed {
			continue
		}
		out = append(out, m)
	}
	return out
}

// writeMemoryList writes MemoryList (5): NumberOfMemoryRanges u32 @0, then 16-byte
// MINIDUMP_MEMORY_DESCRIPTORs {StartOfMemoryRange u64, DataSize u32, Rva u32} (FORMATS.md §4.1, §4.3).
func (b *Minidump) writeMemoryList(l *layout) (int, int) {
	entries := b.memoryListEntries()
	size := 4 + 16*len(entries)
	off := l.reserve(size)
	l.u32(off, uint32(len(entries)))
	for i, m := range entries {
		d := off + 4 + 16*i
		l.u64(d, m.addr)
		l.location(d+8, len(m.data.data), l.place(m.data))
	}
	return off, size
}

// memory64Ranges is the Memory64List as it will be written: the FullMemory ranges, then each
// thread stack that none of them contains.
func (b *Minidump) memory64Ranges() []Range {
	if !b.fullUsed {
		return nil
	}
	out := append([]Range(nil), b.full...)
	for _, t := range b.threads {
		if t.stack == nil || len(t.stack.data) == 0 {
			continue
		}
		if _, ok := containing(out, t.StackStart, uint64(len(t.stack.data))); !ok {
			out = append(out, Range{Addr: t.StackStart, Data: t.stack.data})
		}
	}
	return out
}

// containing finds the range holding [addr, addr+n).
func containing(ranges []Range, addr, n uint64) (int, bool) {
	for i, r := range ranges {
		if addr >= r.Addr && addr-r.Addr <= r.size() && n <= r.size()-(addr-r.Addr) {
			return i, true
		}
	}
	return -1, false
}

// writeMemory64List writes Memory64List (9): NumberOfMemoryRanges u64 @0, BaseRva u64 @8, then
// MINIDUMP_MEMORY_DESCRIPTOR64 {StartOfMemoryRange u64, DataSize u64} (FORMATS.md §4.3).
func (b *Minidump) writeMemory64List(l *layout) (int, int) {
	size := 16 + 16*len(l.mem64)
	off := l.reserve(size)
	l.u64(off, uint64(len(l.mem64)))
	l.fixups = append(l.fixups, func() { l.u64(off+8, uint64(l.tailBase)) })
	for i, r := range l.mem64 {
		l.u64(off+16+16*i, r.Addr)
		l.u64(off+24+16*i, r.size())
	}
	return off, size
}
