package minidump

import "fmt"

// Signature is 'MDMP' read as a little-endian u32 (FORMATS.md §4.1).
const Signature = 0x504D444D

// HeaderVersion is the low 16 bits of Header.Version (MINIDUMP_VERSION, FORMATS.md §4.1); the high
// 16 bits are implementation-specific.
const HeaderVersion = 0xA793

// Header is MINIDUMP_HEADER, the first 32 bytes of the file (FORMATS.md §4.1).
type Header struct {
	Signature          uint32
	Version            uint32
	NumberOfStreams    uint32
	StreamDirectoryRva uint32
	CheckSum           uint32
	TimeDateStamp      uint32 // time_t
	Flags              uint64 // MINIDUMP_TYPE bits: MiniDumpWithFullMemory, ...
}

// headerSize and directorySize are the on-disk sizes of MINIDUMP_HEADER and MINIDUMP_DIRECTORY.
const (
	headerSize    = 32
	directorySize = 12
)

// MINIDUMP_TYPE flags stored in Header.Flags (FORMATS.md §4.1). They describe what the writer
// was asked to include and are informational only.
const (
	MiniDumpNormal                         = 0x00000000
	MiniDumpWithDataSegs                   = 0x00000001
	MiniDumpWithFullMemory                 = 0x00000002
	MiniDumpWithHandleData                 = 0x00000004
	MiniDumpFilterMemory                   = 0x00000008
	MiniDumpScanMemory                     = 0x00000010
	MiniDumpWithUnloadedModules            = 0x00000020
	MiniDumpWithIndirectlyReferencedMemory = 0x00000040
	MiniDumpFilterModulePaths              = 0x00000080
	MiniDumpWithProcessThreadData          = 0x00000100
	MiniDumpWithPrivateReadWriteMemory     = 0x00000200
	MiniDumpWithoutOptionalData            = 0x00000400
	MiniDumpWithFullMemoryInfo             = 0x00000800
	MiniDumpWithThreadInfo                 = 0x00001000
	MiniDumpWithCodeSegs                   = 0x00002000
	MiniDumpWithoutAuxiliaryState          = 0x00004000
	MiniDumpWithFullAuxiliaryState         = 0x00008000
	MiniDumpWithPrivateWriteCopyMemory     = 0x00010000
	MiniDumpIgnoreInaccessibleMemory       = 0x00020000
	MiniDumpWithTokenInformation           = 0x00040000
	MiniDumpWithModuleHeaders              = 0x00080000
	MiniDumpFilterTriage                   = 0x00100000
	MiniDumpWithAvxXStateContext           = 0x00200000
	MiniDumpWithIptTrace                   = 0x00400000
)

// LocationDescriptor is MINIDUMP_LOCATION_DESCRIPTOR: a block of the file.
type LocationDescriptor struct {
	DataSize uint32
	Rva      uint32 // file offset
}

// MemoryDescriptor is MINIDUMP_MEMORY_DESCRIPTOR: a range of the process's memory and where its
// bytes are in the file.
type MemoryDescriptor struct {
	StartOfMemoryRange uint64
	Memory             LocationDescriptor
}

// MemoryDescriptor64 is MINIDUMP_MEMORY_DESCRIPTOR64 (Memory64List entries; the bytes are stored
// back to back from Memory64List.BaseRva).
type MemoryDescriptor64 struct {
	StartOfMemoryRange uint64
	DataSize           uint64
}

// Directory is MINIDUMP_DIRECTORY: one stream's type and location.
type Directory struct {
	StreamType StreamType
	Location   LocationDescriptor
}

// StreamType is MINIDUMP_STREAM_TYPE (FORMATS.md §4.2).
type StreamType uint32

const (
	UnusedStream              StreamType = 0
	ReservedStream0           StreamType = 1
	ReservedStream1           StreamType = 2
	ThreadListStream          StreamType = 3
	ModuleListStream          StreamType = 4
	MemoryListStream          StreamType = 5
	ExceptionStream           StreamType = 6
	SystemInfoStream          StreamType = 7
	ThreadExListStream        StreamType = 8
	Memory64ListStream        StreamType = 9
	CommentStreamA            StreamType = 10
	CommentStreamW            StreamType = 11
	HandleDataStream          StreamType = 12
	FunctionTableStream       StreamType = 13
	UnloadedModuleListStream  StreamType = 14
	MiscInfoStream            StreamType = 15
	MemoryInfoListStream      StreamType = 16
	ThreadInfoListStream      StreamType = 17
	HandleOperationListStream StreamType = 18
	TokenStream               StreamType = 19
	JavaScriptDataStream      StreamType = 20
	SystemMemoryInfoStream    StreamType = 21
	ProcessVmCountersStream   StreamType = 22
	IptTraceStream            StreamType = 23
	ThreadNamesStream         StreamType = 24

	// Windows CE streams (FORMATS.md §4.2).
	CeStreamNull                StreamType = 0x8000
	CeStreamSystemInfo          StreamType = 0x8001
	CeStreamException           StreamType = 0x8002
	CeStreamModuleList          StreamType = 0x8003
	CeStreamProcessList         StreamType = 0x8004
	CeStreamThreadList          StreamType = 0x8005
	CeStreamThreadContextList   StreamType = 0x8006
	CeStreamThreadCallStackList StreamType = 0x8007
	CeStreamMemoryVirtualList   StreamType = 0x8008
	CeStreamMemoryPhysicalList  StreamType = 0x8009
	CeStreamBucketParameters    StreamType = 0x800A
	CeStreamProcessModuleMap    StreamType = 0x800B
	CeStreamDiagnosisList       StreamType = 0x800C

	// LastReservedStream ends Microsoft's range; writers put their own streams above it.
	LastReservedStream StreamType = 0xFFFF

	// Streams that Breakpad and Crashpad writers add (user stream range, FORMATS.md §4.2).
	BreakpadInfoStream    StreamType = 0x47670001
	BreakpadAssertionInfo StreamType = 0x47670002
	LinuxCPUInfo          StreamType = 0x47670003
	LinuxProcStatus       StreamType = 0x47670004
	LinuxLsbRelease       StreamType = 0x47670005
	LinuxCmdLine          StreamType = 0x47670006
	LinuxEnviron          StreamType = 0x47670007
	LinuxAuxv             StreamType = 0x47670008
	LinuxMaps             StreamType = 0x47670009
	LinuxDsoDebug         StreamType = 0x4767000A
	CrashpadInfoStream    StreamType = 0x43500001
)

var streamNames = map[StreamType]string{
	UnusedStream:                "UnusedStream",
	ReservedStream0:             "ReservedStream0",
	ReservedStream1:             "ReservedStream1",
	ThreadListStream:            "ThreadListStream",
	ModuleListStream:            "ModuleListStream",
	MemoryListStream:            "MemoryListStream",
	ExceptionStream:             "ExceptionStream",
	SystemInfoStream:            "SystemInfoStream",
	ThreadExListStream:          "ThreadExListStream",
	Memory64ListStream:          "Memory64ListStream",
	CommentStreamA:              "CommentStreamA",
	CommentStreamW:              "CommentStreamW",
	HandleDataStream:            "HandleDataStream",
	FunctionTableStream:         "FunctionTableStream",
	UnloadedModuleListStream:    "UnloadedModuleListStream",
	MiscInfoStream:              "MiscInfoStream",
	MemoryInfoListStream:        "MemoryInfoListStream",
	ThreadInfoListStream:        "ThreadInfoListStream",
	HandleOperationListStream:   "HandleOperationListStream",
	TokenStream:                 "TokenStream",
	JavaScriptDataStream:        "JavaScriptDataStream",
	SystemMemoryInfoStream:      "SystemMemoryInfoStream",
	ProcessVmCountersStream:     "ProcessVmCountersStream",
	IptTraceStream:              "IptTraceStream",
	ThreadNamesStream:           "ThreadNamesStream",
	CeStreamNull:                "ceStreamNull",
	CeStreamSystemInfo:          "ceStreamSystemInfo",
	CeStreamException:           "ceStreamException",
	CeStreamModuleList:          "ceStreamModuleList",
	CeStreamProcessList:         "ceStreamProcessList",
	CeStreamThreadList:          "ceStreamThreadList",
	CeStreamThreadContextList:   "ceStreamThreadContextList",
	CeStreamThreadCallStackList: "ceStreamThreadCallStackList",
	CeStreamMemoryVirtualList:   "ceStreamMemoryVirtualList",
	CeStreamMemoryPhysicalList:  "ceStreamMemoryPhysicalList",
	CeStreamBucketParameters:    "ceStreamBucketParameters",
	CeStreamProcessModuleMap:    "ceStreamProcessModuleMap",
	CeStreamDiagnosisList:       "ceStreamDiagnosisList",
	BreakpadInfoStream:          "BreakpadInfoStream",
	BreakpadAssertionInfo:       "BreakpadAssertionInfoStream",
	LinuxCPUInfo:                "LinuxCpuInfoStream",
	LinuxProcStatus:             "LinuxProcStatusStream",
	LinuxLsbRelease:             "LinuxLsbReleaseStream",
	LinuxCmdLine:                "LinuxCmdLineStream",
	LinuxEnviron:                "LinuxEnvironStream",
	LinuxAuxv:                   "LinuxAuxvStream",
	LinuxMaps:                   "LinuxMapsStream",
	LinuxDsoDebug:               "LinuxDsoDebugStream",
	CrashpadInfoStream:          "CrashpadInfoStream",
}

// Name is the stream type's name as minidumpapiset.h (or the writer that defines it) spells it,
// or "" when the type is not known.
func (t StreamType) Name() string { return streamNames[t] }

// Known reports whether the stream type has a name.
func (t StreamType) Known() bool { _, ok := streamNames[t]; return ok }

func (t StreamType) String() string {
	if n := t.Name(); n != "" {
		return n
	}
	return fmt.Sprintf("StreamType(%#x)", uint32(t))
}
