package minidump

// MiscInfo is MINIDUMP_MISC_INFO through MINIDUMP_MISC_INFO_5 (MiscInfoStream, FORMATS.md §4.3).
// SizeOfInfo says which version the writer used; fields past it are zero. Flags1 says which
// fields hold values.
type MiscInfo struct {
	SizeOfInfo        uint32
	Flags1            uint32 // MiscInfoProcessID, ...
	ProcessId         uint32
	ProcessCreateTime uint32 // time_t
	ProcessUserTime   uint32 // seconds
	ProcessKernelTime uint32 // seconds

	// MINIDUMP_MISC_INFO_2
	ProcessorMaxMhz           uint32
	ProcessorCurrentMhz       uint32
	ProcessorMhzLimit         uint32
	ProcessorMaxIdleState     uint32
	ProcessorCurrentIdleState uint32

	// MINIDUMP_MISC_INFO_3
	ProcessIntegrityLevel uint32
	ProcessExecuteFlags   uint32
	ProtectedProcess      uint32
	TimeZoneId            uint32
	TimeZone              TimeZoneInformation

	// MINIDUMP_MISC_INFO_4
	BuildString string // WCHAR[260]
	DbgBldStr   string // WCHAR[40]

	// MINIDUMP_MISC_INFO_5
	XStateData    XStateConfigFeatureMscInfo
	ProcessCookie uint32
}

// MINIDUMP_MISC_INFO Flags1 bits (FORMATS.md §4.3).
const (
	MiscInfoProcessID          = 0x001
	MiscInfoProcessTimes       = 0x002
	MiscInfoProcessorPowerInfo = 0x004
	MiscInfoProcessIntegrity   = 0x010
	MiscInfoProcessExecuteFlag = 0x020
	MiscInfoTimezone           = 0x040
	MiscInfoProtectedProcess   = 0x080
	MiscInfoBuildString        = 0x100
	MiscInfoProcessCookie      = 0x200
)

// Sizes of the MiscInfo versions (FORMATS.md §4.3). Breakpad notes that compilers pad v5 to
// 1368; anything at least 1364 bytes is read as v5.
const (
	MiscInfoSize1 = 24
	MiscInfoSize2 = 44
	MiscInfoSize3 = 232
	MiscInfoSize4 = 832
	MiscInfoSize5 = 1364
)

// Version is the MINIDUMP_MISC_INFO version (1..5) that SizeOfInfo covers, 0 when it is smaller
// than version 1.
func (m *MiscInfo) Version() int {
	switch s := m.SizeOfInfo; {
	case s >= MiscInfoSize5:
		return 5
	case s >= MiscInfoSize4:
		return 4
	case s >= MiscInfoSize3:
		return 3
	case s >= MiscInfoSize2:
		return 2
	case s >= MiscInfoSize1:
		return 1
	}
	return 0
}

// TimeZoneInformation is TIME_ZONE_INFORMATION (172 bytes). Bias is minutes west of UTC.
type TimeZoneInformation struct {
	Bias         int32
	StandardName string // WCHAR[32]
	StandardDate SystemTime
	StandardBias int32
	DaylightName string // WCHAR[32]
	DaylightDate SystemTime
	DaylightBias int32
}

// SystemTime is SYSTEMTIME (16 bytes).
type SystemTime struct {
	Year, Month, DayOfWeek, Day, Hour, Minute, Second, Milliseconds uint16
}

// XStateConfigFeatureMscInfo is XSTATE_CONFIG_FEATURE_MSC_INFO (528 bytes): which XSAVE features
// the thread contexts carry and where.
type XStateConfigFeatureMscInfo struct {
	SizeOfInfo      uint32
	ContextSize     uint32
	EnabledFeatures uint64
	Features        [64]XStateFeature
}

// XStateFeature is XSTATE_FEATURE: one feature's offset and size in the XSAVE area.
type XStateFeature struct {
	Offset uint32
	Size   uint32
}

// MiscInfo decodes the MiscInfoStream; nil when the dump has none. Fields of versions past
// SizeOfInfo stay zero; a SizeOfInfo larger than the stream is an error.
func (f *File) MiscInfo() (*MiscInfo, error) {
	return f.miscInfo.Get(func() (*MiscInfo, error) {
		c, err := f.streamCursor(MiscInfoStream, "misc info")
		if c == nil {
			return nil, err
		}
		m := &MiscInfo{SizeOfInfo: c.u32()}
		if c.err != nil {
			return nil, c.err
		}
		if m.SizeOfInfo < MiscInfoSize1 {
			return nil, formatErr(c.base, c.what, "SizeOfInfo %d is smaller than version 1 (%d bytes)", m.SizeOfInfo, MiscInfoSize1)
		}
		if uint64(m.SizeOfInfo) > uint64(len(c.b)) {
			return nil, truncated(c.base, c.what, uint64(m.SizeOfInfo), uint64(len(c.b)))
		}
		c.b = c.b[:m.SizeOfInfo] // never read past what the writer said it wrote
		m.Flags1, m.ProcessId, m.ProcessCreateTime, m.ProcessUserTime, m.ProcessKernelTime = c.u32(), c.u32(), c.u32(), c.u32(), c.u32()
		v := m.Version()
		if v >= 2 { // @0x18
			m.ProcessorMaxMhz, m.ProcessorCurrentMhz, m.ProcessorMhzLimit = c.u32(), c.u32(), c.u32()
			m.ProcessorMaxIdleState, m.ProcessorCurrentIdleState = c.u32(), c.u32()
		}
		if v >= 3 { // @0x2C
			m.ProcessIntegrityLevel, m.ProcessExecuteFlags, m.ProtectedProcess, m.TimeZoneId = c.u32(), c.u32(), c.u32(), c.u32()
			m.TimeZone = c.timeZone() // @0x3C
		}
		if v >= 4 { // @0xE8
			m.BuildString = c.utf16z(260)
			m.DbgBldStr = c.utf16z(40)
		}
		if v >= 5 { // @0x340
			x := &m.XStateData
			x.SizeOfInfo, x.ContextSize, x.EnabledFeatures = c.u32(), c.u32(), c.u64()
			for i := range x.Features {
				x.Features[i] = XStateFeature{Offset: c.u32(), Size: c.u32()}
			}
			m.ProcessCookie = c.u32() // @0x550
		}
		if c.err != nil {
			return nil, c.err
		}
		return m, nil
	})
}

func (c *cursor) timeZone() TimeZoneInformation {
	var tz TimeZoneInformation
	tz.Bias = c.i32()
	tz.StandardName = c.utf16z(32)
	tz.StandardDate = c.systemTime()
	tz.StandardBias = c.i32()
	tz.DaylightName = c.utf16z(32)
	tz.DaylightDate = c.systemTime()
	tz.DaylightBias = c.i32()
	return tz
}

func (c *cursor) systemTime() SystemTime {
	return SystemTime{c.u16(), c.u16(), c.u16(), c.u16(), c.u16(), c.u16(), c.u16(), c.u16()}
}
