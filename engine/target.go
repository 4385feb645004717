// Package engine is wdbg's dump engine: it opens a crash dump and answers questions about the
// process or system it captured (identity, memory, threads, modules, the exception) as Go values.
// It never prints; the commands package turns its values into WinDbg's text and JSON.
//
// A Target is the same shape for every kind of dump. Format parsers live in sub-packages
// (engine/minidump for user-mode minidumps); the adapters in this package translate their format
// structs into Target values, so that a command asks the target and never the file format.
package engine

import (
	"time"

	"wdbg/engine/cpu"
	"wdbg/engine/kdbg"
	"wdbg/engine/kernel"
	"wdbg/engine/vmem"
)

// Arch re-exports cpu.Arch so that most callers need only this package.
type Arch = cpu.Arch

// DumpKind says what sort of dump a Target came from; it selects banner sentences and prompts.
type DumpKind uint8

const (
	KindUnknown      DumpKind = iota
	KindUserMini              // user-mode minidump without full memory
	KindUserFull              // user-mode minidump with full memory (MiniDumpWithFullMemory)
	KindKernelSmall           // kernel small/triage dump (DumpType 4)
	KindKernel                // kernel memory dump (kernel pages only)
	KindKernelFull            // complete memory dump
	KindKernelBitmap          // bitmap kernel dump
)

// IsKernel reports whether the dump holds a kernel-mode (system) capture.
func (k DumpKind) IsKernel() bool { return k >= KindKernelSmall }

// Target is one opened dump. Metadata is decoded when the dump is opened; memory contents are
// read lazily, through Memory, from the memory-mapped file.
type Target struct {
	Path   string
	Kind   DumpKind
	Format string // "minidump", ...
	Arch   Arch   // the machine the dump was taken on (x64 for a WOW64 process)

	System  SystemInfo
	Process ProcessInfo

	// DumpTime is when the dump was written; zero when the dump does not say.
	DumpTime time.Time
	// TimeZone is the writer's time zone when the dump records it.
	TimeZone *TimeZone

	Threads  []Thread
	Modules  []Module
	Unloaded []UnloadedModule
	// Exception is the exception of interest, nil when the dump holds none.
	Exception *Exception
	// Kernel is what a kernel dump says about the system; nil for user-mode dumps.
	Kernel *KernelInfo

	Comments   []string
	Handles    []Handle
	MemoryInfo []MemoryRegion // the MemoryInfoList: every region's state, protection and type
	Streams    []StreamInfo   // every stream in the dump's directory, known or not

	// Notes lists what was skipped or repaired while opening (an unknown stream, a truncated list),
	// in words a user can act on. A dump that opens with notes is still usable.
	Notes []string

	Memory Memory
	closer func() error
}

// Close releases the dump file.
func (t *Target) Close() error {
	if t.closer == nil {
		return nil
	}
	c := t.closer
	t.closer = nil
	return c()
}

// PointerSize is the width of the target's pointers in bytes.
func (t *Target) PointerSize() int { return t.Arch.PointerSize() }

// ThreadByID finds a thread by its OS thread id.
func (t *Target) ThreadByID(id uint32) (int, bool) {
	for i := range t.Threads {
		if t.Threads[i].ID == id {
			return i, true
		}
	}
	return -1, false
}

// ModuleAt finds the module whose image contains addr.
func (t *Target) ModuleAt(addr uint64) (*Module, bool) {
	for i := range t.Modules {
		m := &t.Modules[i]
		if addr >= m.Base && addr < m.End() {
			return m, true
		}
	}
	return nil, false
}

// SystemInfo is the OS and processor identity of the machine the dump came from.
type SystemInfo struct {
	ProcessorArchitecture uint16 // PROCESSOR_ARCHITECTURE_* as stored
	ProcessorLevel        uint16
	ProcessorRevision     uint16
	NumberOfProcessors    int
	ProductType           uint8 // 1 workstation, 2 domain controller, 3 server
	MajorVersion          uint32
	MinorVersion          uint32
	BuildNumber           uint32
	PlatformID            uint32
	CSDVersion            string // "Service Pack 2", "" when none
	SuiteMask             uint16
	BuildString           string // "19041.1.amd64fre.vb_release.191206-1406" when the dump has it
	CPUVendor             string // "GenuineIntel" on x86 dumps
}

// ProcessInfo is what a user-mode dump records about its process.
type ProcessInfo struct {
	ID         uint32
	HasID      bool
	CreateTime time.Time // zero when unknown
	UserTime   time.Duration
	KernelTime time.Duration
	HasTimes   bool
}

// TimeZone is the dump writer's time zone (TIME_ZONE_INFORMATION): Bias is minutes west of UTC.
type TimeZone struct {
	ID           uint32
	Bias         int32
	StandardName string
	DaylightName string
	StandardBias int32
	DaylightBias int32
}

// Thread is one thread of the process (user dumps) or one processor's thread (kernel dumps).
type Thread struct {
	ID            uint32
	SuspendCount  uint32
	PriorityClass uint32
	Priority      uint32
	TEB           uint64
	StackStart    uint64
	StackSize     uint64
	// Context is the thread's registers; nil when the dump has none or they could not be decoded
	// (ContextError then says why).
	Context      cpu.Context
	ContextError error
	Name         string
	Info         *ThreadInfo
}

// ThreadInfo is the optional MINIDUMP_THREAD_INFO record for a thread.
type ThreadInfo struct {
	DumpFlags    uint32
	DumpError    uint32
	ExitStatus   uint32
	CreateTime   uint64 // FILETIME
	ExitTime     uint64
	KernelTime   uint64 // 100 ns units
	UserTime     uint64
	StartAddress uint64
	Affinity     uint64
}

// Module is one loaded image.
type Module struct {
	Base          uint64
	Size          uint32
	Checksum      uint32
	TimeDateStamp uint32
	Path          string // the full path the dump stores, e.g. C:\Windows\System32\ntdll.dll
	ImageName     string // file part of Path: ntdll.dll
	Name          string // WinDbg's module name: ntdll (identifier-safe, unique in the target)
	Version       *FixedFileInfo
	CodeView      *CodeView
}

// End is the first address past the image.
func (m *Module) End() uint64 { return m.Base + uint64(m.Size) }

// FixedFileInfo is the VS_FIXEDFILEINFO of a module's version resource.
type FixedFileInfo struct {
	FileVersion    [4]uint16 // major, minor, build, revision
	ProductVersion [4]uint16
	FileFlagsMask  uint32
	FileFlags      uint32
	FileOS         uint32
	FileType       uint32
	FileSubtype    uint32
	FileDate       uint64
}

// CodeView identifies a module's debug information file (the PDB).
type CodeView struct {
	Signature string // "RSDS" or "NB10"
	GUID      [16]byte
	Age       uint32
	Timestamp uint32 // NB10 only
	PDBName   string
}

// UnloadedModule is an entry of the unloaded-module list.
type UnloadedModule struct {
	Base          uint64
	Size          uint32
	Checksum      uint32
	TimeDateStamp uint32
	Path          string
	ImageName     string
}

// Exception is the exception of interest stored in the dump.
type Exception struct {
	ThreadID   uint32
	Code       uint32
	Flags      uint32
	Record     uint64 // address of a chained EXCEPTION_RECORD, 0 if none
	Address    uint64
	Parameters []uint64
	// Context is the register state at the exception (what .ecxr switches to), nil when absent.
	Context      cpu.Context
	ContextError error
}

// Handle is one MINIDUMP_HANDLE_DESCRIPTOR.
type Handle struct {
	Handle        uint64
	TypeName      string
	ObjectName    string
	Attributes    uint32
	GrantedAccess uint32
	HandleCount   uint32
	PointerCount  uint32
}

// MemoryRegion is one MINIDUMP_MEMORY_INFO entry (VirtualQuery's view of a region).
type MemoryRegion struct {
	BaseAddress       uint64
	AllocationBase    uint64
	AllocationProtect uint32
	RegionSize        uint64
	State             uint32
	Protect           uint32
	Type              uint32
}

// StreamInfo describes one entry of a minidump's stream directory.
type StreamInfo struct {
	Type   uint32
	Name   string // "ThreadListStream", or "" for a type wdbg does not know
	Offset uint32 // file offset of the stream
	Size   uint32
	Known  bool
}

// KernelInfo is the identity of a kernel dump: the bug check and where the kernel's lists are.
type KernelInfo struct {
	BugCheck            BugCheck
	KernelBase          uint64
	PsLoadedModuleList  uint64
	PsActiveProcessHead uint64
	KdDebuggerDataBlock uint64
	DirectoryTableBase  uint64
	MachineName         string
	// Processor is the processor that bug-checked (the prompt's N in `N: kd>`).
	Processor int
	// CurrentThread, CurrentProcess and CurrentPrcb are the ETHREAD, EPROCESS and KPRCB that were
	// running on that processor (0 when unknown).
	CurrentThread, CurrentProcess, CurrentPrcb uint64
	// SystemUptime is how long the system had run, when the dump records it.
	SystemUptime    time.Duration
	HasSystemUptime bool
	// Debugger is the decoded KDDEBUGGER_DATA64, nil when the dump's block could not be read.
	Debugger *kdbg.Data
	// KiProcessorBlock is the address of the array of KPRCB pointers (FORMATS.md §1.7).
	KiProcessorBlock uint64
	// Processors are the KPRCBs read from KiProcessorBlock (full and bitmap dumps).
	Processors []kernel.Processor
	// Layout gives structure offsets for this build (FORMATS.md §5, KDBG §2.1); nil when the
	// build has no table (layoutErr says why).
	Layout    *kernel.Layout
	layoutErr error

	phys   vmem.Physical    // the dump's physical memory (nil for small dumps)
	pae    bool             // x86: the page tables are PAE
	paging *vmem.Translator // the kernel address space (nil for small dumps)
}

// BugCheck is a stop code and its four parameters.
type BugCheck struct {
	Code       uint32
	Parameters [4]uint64
}
