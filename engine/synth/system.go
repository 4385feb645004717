package synth

import "encoding/binary"

// SystemInfo is the MINIDUMP_SYSTEM_INFO stream. A zero ProcessorArchitecture means the dump's
// own architecture (x86's value is 0 too).
type SystemInfo struct {
	ProcessorArchitecture Arch
	ProcessorLevel        uint16
	ProcessorRevision     uint16
	NumberOfProcessors    uint8
	ProductType           uint8 // 1 workstation, 2 domain controller, 3 server
	MajorVersion          uint32
	MinorVersion          uint32
	BuildNumber           uint32
	PlatformID            uint32 // 2 = VER_PLATFORM_WIN32_NT
	CSDVersion            string
	SuiteMask             uint16

	// x86 CPU information: VendorID is 12 ASCII characters ("GenuineIntel").
	VendorID               string
	VersionInformation     uint32
	FeatureInformation     uint32
	AMDExtendedCPUFeatures uint32
	// ProcessorFeatures is the CPU information of the other architectures.
	ProcessorFeatures [2]uint64
}

// Windows10 is a typical SystemInfo: Windows 10 build 19041 workstation on 4 processors.
func Windows10(arch Arch) SystemInfo {
	si := SystemInfo{
		ProcessorArchitecture: arch, ProcessorLevel: 6, ProcessorRevision: 0x9E0A,
		NumberOfProcessors: 4, ProductType: 1, MajorVersion: 10, BuildNumber: 19041,
		PlatformID: 2, SuiteMask: 0x100,
	}
	if arch == ArchX86 {
		si.VendorID = "GenuineIntel"
	}
	return si
}

// SystemInfo sets the SystemInfo stream.
func (b *Minidump) SystemInfo(si SystemInfo) {
	if si.ProcessorArchitecture == 0 {
		si.ProcessorArchitecture = b.arch
	}
	b.systemInfo = &si
	b.use(SystemInfoStream, b.writeSystemInfo)
}

// writeSystemInfo writes SystemInfo (7, 56 bytes, FORMATS.md §4.3): ProcessorArchitecture u16
// @0, ProcessorLevel @2, ProcessorRevision @4, NumberOfProcessors u8 @6, ProductType u8 @7,
// MajorVersion @8, MinorVersion @0xC, BuildNumber @0x10, PlatformId @0x14, CSDVersionRva @0x18,
// SuiteMask u16 @0x1C, Reserved2 @0x1E, Cpu @0x20 (24 bytes).
func (b *Minidump) writeSystemInfo(l *layout) (int, int) {
	si := b.systemInfo
	off := l.reserve(56)
	l.u16(off+0x00, uint16(si.ProcessorArchitecture))
	l.u16(off+0x02, si.ProcessorLevel)
	l.u16(off+0x04, si.ProcessorRevision)
	l.u8(off+0x06, si.NumberOfProcessors)
	l.u8(off+0x07, si.ProductType)
	l.u32(off+0x08, si.MajorVersion)
	l.u32(off+0x0C, si.MinorVersion)
	l.u32(off+0x10, si.BuildNumber)
	l.u32(off+0x14, si.PlatformID)
	l.u32(off+0x18, uint32(l.putString(si.CSDVersion)))
	l.u16(off+0x1C, si.SuiteMask)
	if si.ProcessorArchitecture == ArchX86 {
		// x86: VendorId[3] u32, VersionInformation, FeatureInformation, AMDExtendedCpuFeatures.
		var vendor [12]byte
		copy(vendor[:], si.VendorID)
		copy(l.buf[off+0x20:], vendor[:])
		l.u32(off+0x2C, si.VersionInformation)
		l.u32(off+0x30, si.FeatureInformation)
		l.u32(off+0x34, si.AMDExtendedCPUFeatures)
	} else {
		l.u64(off+0x20, si.ProcessorFeatures[0])
		l.u64(off+0x28, si.ProcessorFeatures[1])
	}
	return off, 56
}

// Exception is the exception stream's record; fields may be changed until the dump is written.
type Exception struct {
	ThreadID   uint32
	Code       uint32
	Flags      uint32
	Record     uint64 // address of a chained EXCEPTION_RECORD
	Address    uint64
	Parameters []uint64 // at most 15 are stored; NumberParameters says len(Parameters)
	Context    Context
}

// Exception sets the exception stream: the thread, code, address, parameters and the context
// at the exception (nil for none).
func (b *Minidump) Exception(tid, code uint32, addr uint64, params []uint64, ctx Context) *Exception {
	b.exception = &Exception{ThreadID: tid, Code: code, Address: addr, Parameters: append([]uint64(nil), params...), Context: ctx}
	b.use(ExceptionStream, b.writeException)
	return b.exception
}

// writeException writes Exception (6, 168 bytes, FORMATS.md §4.3): ThreadId @0, alignment @4,
// ExceptionCode @8, ExceptionFlags @0xC, ExceptionRecord @0x10, ExceptionAddress @0x18,
// NumberParameters @0x20, ExceptionInformation[15] @0x28, ThreadContext location @0xA0.
func (b *Minidump) writeException(l *layout) (int, int) {
	e := b.exception
	off := l.reserve(168)
	l.u32(off+0x00, e.ThreadID)
	l.u32(off+0x08, e.Code)
	l.u32(off+0x0C, e.Flags)
	l.u64(off+0x10, e.Record)
	l.u64(off+0x18, e.Address)
	l.u32(off+0x20, uint32(len(e.Parameters)))
	for i, p := range e.Parameters {
		if i == 15 {
			break
		}
		l.u64(off+0x28+8*i, p)
	}
	l.putContext(off+0xA0, e.Context)
	return off, 168
}

// MISC_INFO sizes, FORMATS.md §4.3.
const (
	MiscInfoV1Size = 24
	MiscInfoV2Size = 44
	MiscInfoV3Size = 232
	MiscInfoV4Size = 832
	MiscInfoV5Size = 1364
)

// MiscInfo Flags1 bits, FORMATS.md §4.3.
const (
	MiscProcessID           uint32 = 0x1
	MiscProcessTimes        uint32 = 0x2
	MiscProcessorPowerInfo  uint32 = 0x4
	MiscProcessIntegrity    uint32 = 0x10
	MiscProcessExecuteFlags uint32 = 0x20
	MiscTimezone            uint32 = 0x40
	MiscProtectedProcess    uint32 = 0x80
	MiscBuildString         uint32 = 0x100
	MiscProcessCookie       uint32 = 0x200
)

// SystemTime is a SYSTEMTIME (eight u16), as TIME_ZONE_INFORMATION's transition dates use it.
type SystemTime struct {
	Year, Month, DayOfWeek, Day, Hour, Minute, Second, Milliseconds uint16
}

// TimeZone is a TIME_ZONE_INFORMATION (172 bytes): Bias is minutes west of UTC.
type TimeZone struct {
	Bias         int32
	StandardName string // at most 31 characters are kept
	StandardDate SystemTime
	StandardBias int32
	DaylightName string
	DaylightDate SystemTime
	DaylightBias int32
}

// MiscInfo is the MINIDUMP_MISC_INFO stream in any of its five sizes. Size selects the version
// (MiscInfoV1Size … MiscInfoV5Size, or any other value to write a damaged one); fields beyond the
// size are not written. Flags1 zero means: derive it from the fields that fit and are non-zero.
type MiscInfo struct {
	Size   int
	Flags1 uint32

	ProcessID         uint32
	ProcessCreateTime uint32 // time_t
	ProcessUserTime   uint32 // seconds
	ProcessKernelTime uint32

	// v2
	ProcessorMaxMhz, ProcessorCurrentMhz, ProcessorMhzLimit uint32
	ProcessorMaxIdleState, ProcessorCurrentIdleState        uint32

	// v3
	ProcessIntegrityLevel uint32
	ProcessExecuteFlags   uint32
	ProtectedProcess      uint32
	TimeZoneID            uint32
	TimeZone              *TimeZone

	// v4
	BuildString string // at most 259 characters are kept
	DbgBldStr   string // at most 39

	// v5
	XStateData    []byte // XSTATE_CONFIG_FEATURE_MSC_INFO, up to 528 bytes, written as given
	ProcessCookie uint32
}

// MiscInfo sets the MiscInfo stream.
func (b *Minidump) MiscInfo(m MiscInfo) {
	if m.Size == 0 {
		m.Size = MiscInfoV5Size
	}
	b.misc = &m
	b.use(MiscInfoStream, b.writeMiscInfo)
}

func (m *MiscInfo) derivedFlags() uint32 {
	if m.Flags1 != 0 {
		return m.Flags1
	}
	var f uint32
	if m.ProcessID != 0 {
		f |= MiscProcessID
	}
	if m.ProcessCreateTime != 0 || m.ProcessUserTime != 0 || m.ProcessKernelTime != 0 {
		f |= MiscProcessTimes
	}
	if m.Size >= MiscInfoV2Size && m.ProcessorMaxMhz != 0 {
		f |= MiscProcessorPowerInfo
	}
	if m.Size >= MiscInfoV3Size {
		if m.ProcessIntegrityLevel != 0 {
			f |= MiscProcessIntegrity
		}
		if m.ProcessExecuteFlags != 0 {
			f |= MiscProcessExecuteFlags
		}
		if m.TimeZone != nil {
			f |= MiscTimezone
		}
		if m.ProtectedProcess != 0 {
			f |= MiscProtectedProcess
		}
	}
	if m.Size >= MiscInfoV4Size && (m.BuildString != "" || m.DbgBldStr != "") {
		f |= MiscBuildString
	}
	if m.Size >= MiscInfoV5Size && m.ProcessCookie != 0 {
		f |= MiscProcessCookie
	}
	return f
}

// writeMiscInfo writes MiscInfo (0xF) with the offsets of FORMATS.md §4.3: SizeOfInfo @0,
// Flags1 @4, ProcessId @8, ProcessCreateTime @0xC, ProcessUserTime @0x10, ProcessKernelTime
// @0x14; v2 processor power @0x18..0x28; v3 ProcessIntegrityLevel @0x2C, ProcessExecuteFlags
// @0x30, ProtectedProcess @0x34, TimeZoneId @0x38, TimeZone @0x3C; v4 BuildString @0xE8,
// DbgBldStr @0x2F0; v5 XStateData @0x340, ProcessCookie @0x550.
func (b *Minidump) writeMiscInfo(l *layout) (int, int) {
	m := b.misc
	full := make([]byte, max(m.Size, MiscInfoV5Size))
	le := binary.LittleEndian
	le.PutUint32(full[0x00:], uint32(m.Size))
	le.PutUint32(full[0x04:], m.derivedFlags())
	le.PutUint32(full[0x08:], m.ProcessID)
	le.PutUint32(full[0x0C:], m.ProcessCreateTime)
	le.PutUint32(full[0x10:], m.ProcessUserTime)
	le.PutUint32(full[0x14:], m.ProcessKernelTime)
	le.PutUint32(full[0x18:], m.ProcessorMaxMhz)
	le.PutUint32(full[0x1C:], m.ProcessorCurrentMhz)
	le.PutUint32(full[0x20:], m.ProcessorMhzLimit)
	le.PutUint32(full[0x24:], m.ProcessorMaxIdleState)
	le.PutUint32(full[0x28:], m.ProcessorCurrentIdleState)
	le.PutUint32(full[0x2C:], m.ProcessIntegrityLevel)
	le.PutUint32(full[0x30:], m.ProcessExecuteFlags)
	le.PutUint32(full[0x34:], m.ProtectedProcess)
	le.PutUint32(full[0x38:], m.TimeZoneID)
	if m.TimeZone != nil {
		writeTimeZone(full[0x3C:0x3C+172], m.TimeZone)
	}
	putFixedUTF16(full[0xE8:0x2F0], m.BuildString)
	putFixedUTF16(full[0x2F0:0x340], m.DbgBldStr)
	copy(full[0x340:0x550], m.XStateData)
	le.PutUint32(full[0x550:], m.ProcessCookie)
	body := full[:m.Size]
	return l.put(body), len(body)
}

// writeTimeZone fills a TIME_ZONE_INFORMATION: Bias @0, StandardName WCHAR[32] @4,
// StandardDate @0x44, StandardBias @0x54, DaylightName @0x58, DaylightDate @0x98,
// DaylightBias @0xA8 (the Win32 structure; 172 bytes as FORMATS.md §4.3 says).
func writeTimeZone(b []byte, tz *TimeZone) {
	le := binary.LittleEndian
	le.PutUint32(b[0x00:], uint32(tz.Bias))
	putFixedUTF16(b[0x04:0x44], tz.StandardName)
	putSystemTime(b[0x44:], tz.StandardDate)
	le.PutUint32(b[0x54:], uint32(tz.StandardBias))
	putFixedUTF16(b[0x58:0x98], tz.DaylightName)
	putSystemTime(b[0x98:], tz.DaylightDate)
	le.PutUint32(b[0xA8:], uint32(tz.DaylightBias))
}

func putSystemTime(b []byte, t SystemTime) {
	for i, v := range []uint16{t.Year, t.Month, t.DayOfWeek, t.Day, t.Hour, t.Minute, t.Second, t.Milliseconds} {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
}

// putFixedUTF16 writes s into a fixed WCHAR array, always leaving room for the terminating NUL.
func putFixedUTF16(dst []byte, s string) {
	text := utf16LE(s)
	if n := len(dst) - 2; len(text) > n {
		text = text[:n&^1]
	}
	copy(dst, text)
}
