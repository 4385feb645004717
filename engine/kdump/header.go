package kdump

import (
	"fmt"
	"time"

	"wdbg/engine/cpu"
)

// Signatures and sizes of the two header forms (FORMATS.md §1.1).
const (
	SignaturePage = 0x45474150 // 'PAGE': Signature, and the fill pattern of unwritten header bytes
	ValidDump32   = 0x504D5544 // 'DUMP': ValidDump of DUMP_HEADER32
	ValidDump64   = 0x34365544 // 'DU64': ValidDump of DUMP_HEADER64

	Header32Size = 0x1000
	Header64Size = 0x2000

	PageSize = 0x1000
)

// Absent32 reports whether a 32-bit header field still holds the writer's 'PAGE' fill pattern,
// i.e. the writer never set it (FORMATS.md §1.1).
func Absent32(v uint32) bool { return v == SignaturePage }

// Absent64 is Absent32 for 64-bit fields.
func Absent64(v uint64) bool { return v == SignaturePage<<32|SignaturePage }

// Machine image types (FORMATS.md §1.1).
const (
	MachineI386  = 0x014C
	MachineAMD64 = 0x8664
	MachineARM64 = 0xAA64
	MachineARMNT = 0x01C4
)

// DumpType says how the dump stores memory (FORMATS.md §1.4).
type DumpType uint32

const (
	DumpTypeUnknown             DumpType = 0
	DumpTypeFull                DumpType = 1
	DumpTypeSummary             DumpType = 2
	DumpTypeHeader              DumpType = 3
	DumpTypeTriage              DumpType = 4
	DumpTypeBitmapFull          DumpType = 5
	DumpTypeBitmapKernel        DumpType = 6
	DumpTypeAutomatic           DumpType = 7
	DumpTypeKernelMemory        DumpType = 8
	DumpTypeKernelAndUserMemory DumpType = 9
	DumpTypeCompleteMemory      DumpType = 0xA
	DumpTypeInvalid             DumpType = 0xFFFFFFFF
)

var dumpTypeNames = map[DumpType]string{
	DumpTypeUnknown:             "DUMP_TYPE_UNKNOWN",
	DumpTypeFull:                "DUMP_TYPE_FULL",
	DumpTypeSummary:             "DUMP_TYPE_SUMMARY",
	DumpTypeHeader:              "DUMP_TYPE_HEADER",
	DumpTypeTriage:              "DUMP_TYPE_TRIAGE",
	DumpTypeBitmapFull:          "DUMP_TYPE_BITMAP_FULL",
	DumpTypeBitmapKernel:        "DUMP_TYPE_BITMAP_KERNEL",
	DumpTypeAutomatic:           "DUMP_TYPE_AUTOMATIC",
	DumpTypeKernelMemory:        "KernelMemoryDump",
	DumpTypeKernelAndUserMemory: "KernelAndUserMemoryDump",
	DumpTypeCompleteMemory:      "CompleteMemoryDump",
	DumpTypeInvalid:             "DUMP_TYPE_INVALID",
}

func (t DumpType) String() string {
	if n, ok := dumpTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("DumpType(%#x)", uint32(t))
}

// MiniDumpFields bits: which parts a triage dump holds (FORMATS.md §1.6).
const (
	TriageDumpContext      = 0x1
	TriageDumpException    = 0x2
	TriageDumpPrcb         = 0x4
	TriageDumpProcess      = 0x8
	TriageDumpThread       = 0x10
	TriageDumpStack        = 0x20
	TriageDumpDriverList   = 0x40
	TriageDumpBrokenDriver = 0x80
	TriageDumpBasicInfo    = 0xFF
	TriageDumpMmInfo       = 0x100
	TriageDumpDataPage     = 0x200
	TriageDumpDebuggerData = 0x400
	TriageDumpDataBlocks   = 0x800
)

// DUMP_FILE_ATTRIBUTES bits of Header.Attributes (FORMATS.md §1.2).
const (
	AttrHiberCrash               = 1 << 0
	AttrDumpDevicePowerOff       = 1 << 1
	AttrInsufficientDumpfileSize = 1 << 2
	AttrKernelGeneratedTriage    = 1 << 3
	AttrLiveDumpGenerated        = 1 << 4
	AttrDumpIsGeneratedOffline   = 1 << 5
	AttrFilterDumpFile           = 1 << 6
	AttrEarlyBootCrash           = 1 << 7
	AttrEncryptedDumpData        = 1 << 8
	AttrDecryptedDump            = 1 << 9
)

// Header is DUMP_HEADER64 or DUMP_HEADER32 (FORMATS.md §1.2, §1.3) widened to one form.
// Fields that only one form has are zero in the other. Secondary fields the writer did not set
// keep the 'PAGE' pattern (test them with Absent32/Absent64).
type Header struct {
	Is64                bool // 'PAGEDU64' (else 'PAGEDUMP')
	Signature           uint32
	ValidDump           uint32
	MajorVersion        uint32 // 0xF free build, 0xC checked
	MinorVersion        uint32 // NT build number
	DirectoryTableBase  uint64
	PfnDataBase         uint64
	PsLoadedModuleList  uint64
	PsActiveProcessHead uint64
	MachineImageType    uint32
	NumberProcessors    uint32
	BugCheckCode        uint32
	BugCheckParameters  [4]uint64
	VersionUser         [32]byte
	PaeEnabled          bool  // 32-bit only (FORMATS.md §1.3 @0x5C)
	KdSecondaryVersion  uint8 // 32-bit @0x5D, 64-bit @0x104D
	KdDebuggerDataBlock uint64
	// PhysicalMemoryBlock is the run list; nil when NumberOfRuns holds the 'PAGE' pattern.
	PhysicalMemoryBlock *PhysicalMemoryDescriptor
	// ContextRecord is the raw CONTEXT area of the bug-checking processor (3000 bytes in 64-bit
	// dumps, 1200 in 32-bit ones); decode it with File.Context or cpu.Decode.
	ContextRecord      []byte
	Exception          ExceptionRecord
	DumpType           DumpType
	RequiredDumpSpace  uint64
	SystemTime         uint64 // FILETIME
	SystemUpTime       uint64 // 100 ns units
	Comment            string
	MiniDumpFields     uint32
	SecondaryDataState uint32
	ProductType        uint32
	SuiteMask          uint32
	WriterStatus       uint32
	Attributes         uint32
	BootID             uint32

	// runsErr is why PhysicalMemoryBlock could not be decoded: fatal for full dumps, which need
	// it, and only an issue for the others.
	runsErr error
}

// PhysicalMemoryDescriptor is PHYSICAL_MEMORY_DESCRIPTOR32/64: the machine's RAM as runs of
// page frames. In full dumps the pages are stored in run order right after the header.
type PhysicalMemoryDescriptor struct {
	NumberOfRuns  uint32
	NumberOfPages uint64
	Runs          []PhysicalMemoryRun
}

// PhysicalMemoryRun is PHYSICAL_MEMORY_RUN32/64.
type PhysicalMemoryRun struct {
	BasePage  uint64
	PageCount uint64
}

// ExceptionRecord is EXCEPTION_RECORD64 (or EXCEPTION_RECORD32 widened).
type ExceptionRecord struct {
	ExceptionCode        uint32
	ExceptionFlags       uint32
	ExceptionRecord      uint64
	ExceptionAddress     uint64
	NumberParameters     uint32
	ExceptionInformation [15]uint64
}

// Parameters is ExceptionInformation cut to NumberParameters (at most 15).
func (e *ExceptionRecord) Parameters() []uint64 {
	return e.ExceptionInformation[:min(int(e.NumberParameters), len(e.ExceptionInformation))]
}

// Size is the header's length in the file: 0x2000 or 0x1000.
func (h *Header) Size() int64 {
	if h.Is64 {
		return Header64Size
	}
	return Header32Size
}

// Arch is the processor architecture MachineImageType names.
func (h *Header) Arch() cpu.Arch {
	switch h.MachineImageType {
	case MachineI386:
		return cpu.ArchX86
	case MachineAMD64:
		return cpu.ArchAMD64
	case MachineARM64:
		return cpu.ArchARM64
	case MachineARMNT:
		return cpu.ArchARM
	}
	return cpu.ArchUnknown
}

// Time is SystemTime as a UTC time; zero when the field is unset.
func (h *Header) Time() time.Time {
	if h.SystemTime == 0 || Absent64(h.SystemTime) {
		return time.Time{}
	}
	return filetime(h.SystemTime)
}

// UpTime is SystemUpTime as a duration; zero when the field is unset.
func (h *Header) UpTime() time.Duration {
	if Absent64(h.SystemUpTime) || h.SystemUpTime > 1<<62 {
		return 0
	}
	return time.Duration(h.SystemUpTime) * 100
}

// filetime converts 100 ns ticks since 1601-01-01 UTC.
func filetime(v uint64) time.Time {
	const epochDelta = 116444736000000000 // 1601 → 1970 in 100 ns ticks
	t := int64(v/10_000_000) - epochDelta/10_000_000
	return time.Unix(t, int64(v%10_000_000)*100).UTC()
}

// maxRuns64 and maxRuns32 are how many runs the 700-byte descriptor buffer can hold
// (FORMATS.md §1.2: (700-16)/16; §1.3: (700-8)/8).
const (
	maxRuns64 = (700 - 16) / 16
	maxRuns32 = (700 - 8) / 8
)

// decodeHeader64 decodes DUMP_HEADER64 (FORMATS.md §1.2) from the first 0x2000 bytes.
func decodeHeader64(b []byte) (Header, error) {
	c := newCursor(b, 0, "DUMP_HEADER64")
	h := Header{Is64: true}
	h.Signature, h.ValidDump = c.u32(), c.u32()
	h.MajorVersion, h.MinorVersion = c.u32(), c.u32()
	h.DirectoryTableBase = c.u64()
	h.PfnDataBase = c.u64()
	h.PsLoadedModuleList = c.u64()
	h.PsActiveProcessHead = c.u64()
	h.MachineImageType = c.u32()
	h.NumberProcessors = c.u32()
	h.BugCheckCode = c.u32()
	c.skip(4)
	for i := range h.BugCheckParameters {
		h.BugCheckParameters[i] = c.u64()
	}
	copy(h.VersionUser[:], c.take(32))
	h.KdDebuggerDataBlock = c.u64() // @0x80
	h.PhysicalMemoryBlock, h.runsErr = decodeRuns(c.take(700), 0x88, true)
	c.seek(0x348)
	h.ContextRecord = append([]byte(nil), c.take(3000)...)
	c.seek(0xF00)
	h.Exception = decodeException(c, true)
	c.seek(0xF98)
	h.DumpType = DumpType(c.u32())
	c.skip(4)
	h.RequiredDumpSpace = c.u64() // @0xFA0
	h.SystemTime = c.u64()
	h.Comment = cString(c.take(128))
	h.SystemUpTime = c.u64() // @0x1030
	h.MiniDumpFields = c.u32()
	h.SecondaryDataState = c.u32()
	h.ProductType = c.u32()
	h.SuiteMask = c.u32()
	h.WriterStatus = c.u32()
	c.skip(1) // Unused1 @0x104C
	h.KdSecondaryVersion = c.u8()
	c.skip(2)
	h.Attributes = c.u32() // @0x1050
	h.BootID = c.u32()
	return h, c.err
}

// decodeHeader32 decodes DUMP_HEADER32 (FORMATS.md §1.3) from the first 0x1000 bytes.
func decodeHeader32(b []byte) (Header, error) {
	c := newCursor(b, 0, "DUMP_HEADER32")
	h := Header{}
	h.Signature, h.ValidDump = c.u32(), c.u32()
	h.MajorVersion, h.MinorVersion = c.u32(), c.u32()
	h.DirectoryTableBase = uint64(c.u32())
	h.PfnDataBase = uint64(c.u32())
	h.PsLoadedModuleList = uint64(c.u32())
	h.PsActiveProcessHead = uint64(c.u32())
	h.MachineImageType = c.u32()
	h.NumberProcessors = c.u32()
	h.BugCheckCode = c.u32()
	for i := range h.BugCheckParameters {
		h.BugCheckParameters[i] = uint64(c.u32())
	}
	copy(h.VersionUser[:], c.take(32))
	h.PaeEnabled = c.u8() != 0 // @0x5C
	h.KdSecondaryVersion = c.u8()
	c.skip(2)
	h.KdDebuggerDataBlock = uint64(c.u32()) // @0x60
	h.PhysicalMemoryBlock, h.runsErr = decodeRuns(c.take(700), 0x64, false)
	c.seek(0x320)
	h.ContextRecord = append([]byte(nil), c.take(1200)...)
	h.Exception = decodeException(c, false) // @0x7D0
	h.Comment = cString(c.take(128))        // @0x820
	h.Attributes = c.u32()                  // @0x8A0
	h.BootID = c.u32()
	c.seek(0xF88)
	h.DumpType = DumpType(c.u32())
	h.MiniDumpFields = c.u32()
	h.SecondaryDataState = c.u32()
	h.ProductType = c.u32()
	h.SuiteMask = c.u32()
	h.WriterStatus = c.u32()
	h.RequiredDumpSpace = c.u64() // @0xFA0
	c.skip(16)
	h.SystemUpTime = c.u64() // @0xFB8
	h.SystemTime = c.u64()   // @0xFC0
	return h, c.err
}

// decodeException reads EXCEPTION_RECORD64 (0x98 bytes) or EXCEPTION_RECORD32 (0x50 bytes).
func decodeException(c *cursor, is64 bool) ExceptionRecord {
	var e ExceptionRecord
	e.ExceptionCode = c.u32()
	e.ExceptionFlags = c.u32()
	e.ExceptionRecord = c.ptr(is64)
	e.ExceptionAddress = c.ptr(is64)
	e.NumberParameters = c.u32()
	if is64 {
		c.skip(4)
	}
	for i := range e.ExceptionInformation {
		e.ExceptionInformation[i] = c.ptr(is64)
	}
	return e
}

// decodeRuns reads PHYSICAL_MEMORY_DESCRIPTOR64/32 from the header's 700-byte buffer at file
// offset off. A NumberOfRuns of 'PAGE' means the writer left it out: nil, no error.
func decodeRuns(b []byte, off int64, is64 bool) (*PhysicalMemoryDescriptor, error) {
	what := "PhysicalMemoryBlock"
	c := newCursor(b, off, what)
	n := c.u32()
	if c.err != nil || Absent32(n) {
		return nil, c.err
	}
	d := &PhysicalMemoryDescriptor{NumberOfRuns: n}
	limit := maxRuns32
	if is64 {
		c.skip(4)
		d.NumberOfPages = c.u64()
		limit = maxRuns64
	} else {
		d.NumberOfPages = uint64(c.u32())
	}
	if n > uint32(limit) {
		return nil, formatErr(off, what, "NumberOfRuns %d is more than the %d runs the header has room for", n, limit)
	}
	d.Runs = make([]PhysicalMemoryRun, n)
	for i := range d.Runs {
		d.Runs[i] = PhysicalMemoryRun{BasePage: c.ptr(is64), PageCount: c.ptr(is64)}
	}
	return d, c.err
}
