package minidump

import "fmt"

// Thread is MINIDUMP_THREAD (ThreadListStream) or MINIDUMP_THREAD_EX (ThreadExListStream, which
// adds BackingStore). FORMATS.md §4.3.
type Thread struct {
	ThreadId      uint32
	SuspendCount  uint32
	PriorityClass uint32
	Priority      uint32
	Teb           uint64
	Stack         MemoryDescriptor
	ThreadContext LocationDescriptor // the raw CONTEXT record; see File.Data
	BackingStore  MemoryDescriptor   // MINIDUMP_THREAD_EX only
}

const (
	threadSize   = 48 // MINIDUMP_THREAD
	threadExSize = 64 // MINIDUMP_THREAD_EX
)

// Threads decodes the ThreadListStream; nil when the dump has none.
func (f *File) Threads() ([]Thread, error) {
	return f.threads.Get(func() ([]Thread, error) {
		return f.decodeThreads(ThreadListStream, "thread list", threadSize)
	})
}

// ThreadsEx decodes the ThreadExListStream; nil when the dump has none.
func (f *File) ThreadsEx() ([]Thread, error) {
	return f.threadsEx.Get(func() ([]Thread, error) {
		return f.decodeThreads(ThreadExListStream, "thread ex list", threadExSize)
	})
}

func (f *File) decodeThreads(t StreamType, what string, size int) ([]Thread, error) {
	c, err := f.streamCursor(t, what)
	if c == nil {
		return nil, err
	}
	n := uint64(c.u32())
	seekArray(c, n, size)
	if c.err != nil {
		return nil, c.err
	}
	threads := make([]Thread, n)
	for i := range threads {
		th := &threads[i]
		th.ThreadId = c.u32()
		th.SuspendCount = c.u32()
		th.PriorityClass = c.u32()
		th.Priority = c.u32()
		th.Teb = c.u64()
		th.Stack = c.memoryDescriptor()
		th.ThreadContext = c.location()
		if size == threadExSize {
			th.BackingStore = c.memoryDescriptor()
		}
	}
	return threads, c.err
}

// ThreadContext returns the raw CONTEXT record of a thread (decode it with cpu.Decode).
func (f *File) ThreadContext(t Thread) ([]byte, error) {
	return f.block(uint64(t.ThreadContext.Rva), uint64(t.ThreadContext.DataSize),
		fmt.Sprintf("context of thread %#x", t.ThreadId))
}

// ThreadInfo is MINIDUMP_THREAD_INFO (ThreadInfoListStream, FORMATS.md §4.3).
type ThreadInfo struct {
	ThreadId     uint32
	DumpFlags    uint32 // ThreadInfoErrorThread, ...
	DumpError    uint32 // HRESULT of a failure to write the thread
	ExitStatus   uint32
	CreateTime   uint64 // FILETIME
	ExitTime     uint64
	KernelTime   uint64 // 100 ns units
	UserTime     uint64
	StartAddress uint64
	Affinity     uint64
}

// MINIDUMP_THREAD_INFO DumpFlags (FORMATS.md §4.3).
const (
	ThreadInfoErrorThread    = 0x01
	ThreadInfoWritingThread  = 0x02
	ThreadInfoExitedThread   = 0x04
	ThreadInfoInvalidInfo    = 0x08
	ThreadInfoInvalidContext = 0x10
	ThreadInfoInvalidTeb     = 0x20
)

const threadInfoSize = 64

// ThreadInfoList decodes the ThreadInfoListStream; nil when the dump has none.
func (f *File) ThreadInfoList() ([]ThreadInfo, error) {
	return f.threadInfo.Get(func() ([]ThreadInfo, error) {
		c, err := f.streamCursor(ThreadInfoListStream, "thread info list")
		if c == nil {
			return nil, err
		}
		// MINIDUMP_THREAD_INFO_LIST: SizeOfHeader, SizeOfEntry, NumberOfEntries (12 bytes).
		hdr, ent, n := c.u32(), c.u32(), uint64(c.u32())
		seekTable(c, hdr, ent, n, 12, threadInfoSize)
		if c.err != nil {
			return nil, c.err
		}
		infos := make([]ThreadInfo, n)
		for i := range infos {
			e := c.entry(uint64(hdr), i, int(ent))
			infos[i] = ThreadInfo{
				ThreadId: e.u32(), DumpFlags: e.u32(), DumpError: e.u32(), ExitStatus: e.u32(),
				CreateTime: e.u64(), ExitTime: e.u64(), KernelTime: e.u64(), UserTime: e.u64(),
				StartAddress: e.u64(), Affinity: e.u64(),
			}
			if e.err != nil {
				return nil, e.err
			}
		}
		return infos, nil
	})
}

// ThreadName is MINIDUMP_THREAD_NAME with its name decoded (ThreadNamesStream, FORMATS.md §4.3).
type ThreadName struct {
	ThreadId        uint32
	RvaOfThreadName uint64
	Name            string
	NameErr         error // why Name could not be read, nil when it was
}

const threadNameSize = 12 // u32 + RVA64, packed to 4

// ThreadNames decodes the ThreadNamesStream; nil when the dump has none.
func (f *File) ThreadNames() ([]ThreadName, error) {
	return f.threadNames.Get(func() ([]ThreadName, error) {
		c, err := f.streamCursor(ThreadNamesStream, "thread names")
		if c == nil {
			return nil, err
		}
		n := uint64(c.u32())
		seekArray(c, n, threadNameSize)
		if c.err != nil {
			return nil, c.err
		}
		names := make([]ThreadName, n)
		for i := range names {
			tn := &names[i]
			tn.ThreadId = c.u32()
			tn.RvaOfThreadName = c.u64()
			if c.err != nil {
				return nil, c.err
			}
			tn.Name, tn.NameErr = f.readString(tn.RvaOfThreadName, fmt.Sprintf("name of thread %#x", tn.ThreadId))
		}
		return names, nil
	})
}
