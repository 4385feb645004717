package minidump

import "encoding/binary"

// SystemInfo is MINIDUMP_SYSTEM_INFO (SystemInfoStream, FORMATS.md §4.3) with its service-pack
// string decoded.
type SystemInfo struct {
	ProcessorArchitecture uint16 // ProcessorArchitectureIntel, ...
	ProcessorLevel        uint16
	ProcessorRevision     uint16
	NumberOfProcessors    uint8
	ProductType           uint8 // 1 workstation, 2 domain controller, 3 server
	MajorVersion          uint32
	MinorVersion          uint32
	BuildNumber           uint32
	PlatformId            uint32 // 2 = VER_PLATFORM_WIN32_NT
	CSDVersionRva         uint32
	SuiteMask             uint16
	Reserved2             uint16
	Cpu                   CPUInformation

	CSDVersion    string // "Service Pack 2"; "" when none
	CSDVersionErr error  // why CSDVersion could not be read
}

// PROCESSOR_ARCHITECTURE_* values of SystemInfo.ProcessorArchitecture (FORMATS.md §4.3).
const (
	ProcessorArchitectureIntel        = 0
	ProcessorArchitectureMIPS         = 1
	ProcessorArchitectureAlpha        = 2
	ProcessorArchitecturePPC          = 3
	ProcessorArchitectureSHX          = 4
	ProcessorArchitectureARM          = 5
	ProcessorArchitectureIA64         = 6
	ProcessorArchitectureAlpha64      = 7
	ProcessorArchitectureMSIL         = 8
	ProcessorArchitectureAMD64        = 9
	ProcessorArchitectureIA32OnWin64  = 10
	ProcessorArchitectureARM64        = 12
	ProcessorArchitectureARM32OnWin64 = 13
	ProcessorArchitectureIA32OnARM64  = 14
	ProcessorArchitectureUnknown      = 0xFFFF
)

// CPUInformation is the 24-byte CPU_INFORMATION union: X86CpuInfo on x86 dumps, OtherCpuInfo
// (two u64 ProcessorFeatures) elsewhere. Raw keeps the bytes; the methods read either view.
type CPUInformation struct {
	Raw [24]byte
}

// VendorId is X86CpuInfo.VendorId[3] as the 12-character CPUID vendor ("GenuineIntel").
func (c CPUInformation) VendorId() string { return cString(c.Raw[:12]) }

// VersionInformation is X86CpuInfo.VersionInformation (CPUID 1 EAX).
func (c CPUInformation) VersionInformation() uint32 { return binary.LittleEndian.Uint32(c.Raw[12:]) }

// FeatureInformation is X86CpuInfo.FeatureInformation (CPUID 1 EDX).
func (c CPUInformation) FeatureInformation() uint32 { return binary.LittleEndian.Uint32(c.Raw[16:]) }

// AMDExtendedCpuFeatures is X86CpuInfo.AMDExtendedCpuFeatures.
func (c CPUInformation) AMDExtendedCpuFeatures() uint32 {
	return binary.LittleEndian.Uint32(c.Raw[20:])
}

// ProcessorFeatures is OtherCpuInfo.ProcessorFeatures[2].
func (c CPUInformation) ProcessorFeatures() [2]uint64 {
	return [2]uint64{binary.LittleEndian.Uint64(c.Raw[0:]), binary.LittleEndian.Uint64(c.Raw[8:])}
}

// SystemInfo decodes the SystemInfoStream; nil when the dump has none.
func (f *File) SystemInfo() (*SystemInfo, error) {
	return f.systemInfo.Get(func() (*SystemInfo, error) {
		c, err := f.streamCursor(SystemInfoStream, "system info")
		if c == nil {
			return nil, err
		}
		s := &SystemInfo{
			ProcessorArchitecture: c.u16(), ProcessorLevel: c.u16(), ProcessorRevision: c.u16(),
			NumberOfProcessors: c.u8(), ProductType: c.u8(),
			MajorVersion: c.u32(), MinorVersion: c.u32(), BuildNumber: c.u32(), PlatformId: c.u32(),
			CSDVersionRva: c.u32(), SuiteMask: c.u16(), Reserved2: c.u16(),
		}
		copy(s.Cpu.Raw[:], c.take(24))
		if c.err != nil {
			return nil, c.err
		}
		s.CSDVersion, s.CSDVersionErr = f.readString(uint64(s.CSDVersionRva), "service pack string")
		return s, nil
	})
}
