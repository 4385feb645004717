package synth

// Thread is one MINIDUMP_THREAD. The fields may be changed after Thread returns it, until the
// dump is written.
type Thread struct {
	ID            uint32
	SuspendCount  uint32
	PriorityClass uint32
	Priority      uint32
	TEB           uint64
	StackStart    uint64 // lowest address of the captured stack (usually near the stack pointer)
	Context       Context

	stack *blob
}

// Thread adds a thread with its TEB address, the captured stack bytes starting at stackStart,
// and its register context (nil for none). The stack also becomes a memory range: a MemoryList
// entry, or a Memory64List range in a full-memory dump. PriorityClass starts as 0x20
// (NORMAL_PRIORITY_CLASS); change the returned Thread's fields for other values.
func (b *Minidump) Thread(id uint32, teb, stackStart uint64, stack []byte, ctx Context) *Thread {
	t := &Thread{ID: id, PriorityClass: 0x20, TEB: teb, StackStart: stackStart, Context: ctx,
		stack: &blob{append([]byte(nil), stack...)}}
	b.threads = append(b.threads, t)
	b.use(b.threadListType(), b.writeThreadList)
	if len(stack) > 0 {
		b.memory = append(b.memory, memoryRange{addr: stackStart, data: t.stack, stackOf: t})
		b.useMemoryList()
	}
	return t
}

// UseThreadExList writes the threads as a ThreadExList stream (8) of 64-byte MINIDUMP_THREAD_EX
// entries (an empty BackingStore descriptor at 0x30) instead of a ThreadList.
func (b *Minidump) UseThreadExList() {
	if s, ok := b.streams[ThreadListStream]; ok {
		delete(b.streams, ThreadListStream)
		s.typ = ThreadExListStream
		b.streams[ThreadExListStream] = s
	}
	b.threadEx = true
}

func (b *Minidump) threadListType() uint32 {
	if b.threadEx {
		return ThreadExListStream
	}
	return ThreadListStream
}

// writeThreadList writes ThreadList (3): NumberOfThreads u32 @0, then 48-byte MINIDUMP_THREADs
// (FORMATS.md §4.3): ThreadId @0, SuspendCount @4, PriorityClass @8, Priority @0xC, Teb @0x10,
// Stack descriptor @0x18 (start @0x18, DataSize @0x20, Rva @0x24), ThreadContext @0x28; or
// ThreadExList (8), whose 64-byte entries add BackingStore @0x30.
func (b *Minidump) writeThreadList(l *layout) (int, int) {
	entry := 48
	if b.threadEx {
		entry = 64
	}
	size := 4 + entry*len(b.threads)
	off := l.reserve(size)
	l.u32(off, uint32(len(b.threads)))
	for i, t := range b.threads {
		e := off + 4 + entry*i
		l.u32(e+0x00, t.ID)
		l.u32(e+0x04, t.SuspendCount)
		l.u32(e+0x08, t.PriorityClass)
		l.u32(e+0x0C, t.Priority)
		l.u64(e+0x10, t.TEB)
		l.u64(e+0x18, t.StackStart)
		b.writeStackLocation(l, e+0x20, t)
		l.putContext(e+0x28, t.Context)
	}
	return off, size
}

// writeStackLocation points a thread's Stack descriptor at its bytes: the MemoryList copy, or
// the place inside the Memory64List data that holds the stack.
func (b *Minidump) writeStackLocation(l *layout, at int, t *Thread) {
	n := len(t.stack.data)
	if n == 0 {
		return
	}
	if !b.fullUsed {
		l.location(at, n, l.place(t.stack))
		return
	}
	i, _ := containing(l.mem64, t.StackStart, uint64(n))
	l.fixups = append(l.fixups, func() {
		l.location(at, n, int(l.mem64Offset(i, t.StackStart)))
	})
}

// putContext writes a context record and its location descriptor at at; nil writes {0, 0}.
func (l *layout) putContext(at int, ctx Context) {
	if ctx == nil {
		return
	}
	data := ctx.ContextBytes()
	l.location(at, len(data), l.put(data))
}

// ThreadInfo is one MINIDUMP_THREAD_INFO (FORMATS.md §4.3, 64 bytes).
type ThreadInfo struct {
	ThreadID     uint32
	DumpFlags    uint32
	DumpError    uint32
	ExitStatus   uint32
	CreateTime   uint64 // FILETIME
	ExitTime     uint64
	KernelTime   uint64
	UserTime     uint64
	StartAddress uint64
	Affinity     uint64
}

// ThreadInfo adds entries to the ThreadInfoList stream.
func (b *Minidump) ThreadInfo(infos ...ThreadInfo) {
	b.threadInfo = append(b.threadInfo, infos...)
	b.use(ThreadInfoListStream, b.writeThreadInfoList)
}

// writeThreadInfoList writes ThreadInfoList (0x11): {SizeOfHeader 12, SizeOfEntry 64,
// NumberOfEntries} then the entries (FORMATS.md §4.3).
func (b *Minidump) writeThreadInfoList(l *layout) (int, int) {
	size := 12 + 64*len(b.threadInfo)
	off := l.reserve(size)
	l.u32(off, 12)
	l.u32(off+4, 64)
	l.u32(off+8, uint32(len(b.threadInfo)))
	for i, ti := range b.threadInfo {
		e := off + 12 + 64*i
		l.u32(e+0x00, ti.ThreadID)
		l.u32(e+0x04, ti.DumpFlags)
		l.u32(e+0x08, ti.DumpError)
		l.u32(e+0x0C, ti.ExitStatus)
		l.u64(e+0x10, ti.CreateTime)
		l.u64(e+0x18, ti.ExitTime)
		l.u64(e+0x20, ti.KernelTime)
		l.u64(e+0x28, ti.UserTime)
		l.u64(e+0x30, ti.StartAddress)
		l.u64(e+0x38, ti.Affinity)
	}
	return off, size
}

// ThreadName is one entry of the ThreadNames stream.
type ThreadName struct {
	ThreadID uint32
	Name     string
}

// ThreadNames adds entries to the ThreadNames stream.
func (b *Minidump) ThreadNames(names ...ThreadName) {
	b.threadNames = append(b.threadNames, names...)
	b.use(ThreadNamesStream, b.writeThreadNames)
}

// writeThreadNames writes ThreadNames (0x18): NumberOfThreadNames u32, then 12-byte entries
// {ThreadId u32, RvaOfThreadName u64} (packed 4) pointing at MINIDUMP_STRINGs (FORMATS.md §4.3).
func (b *Minidump) writeThreadNames(l *layout) (int, int) {
	size := 4 + 12*len(b.threadNames)
	off := l.reserve(size)
	l.u32(off, uint32(len(b.threadNames)))
	for i, n := range b.threadNames {
		e := off + 4 + 12*i
		l.u32(e, n.ThreadID)
		l.u64(e+4, uint64(l.putString(n.Name)))
	}
	return off, size
}
