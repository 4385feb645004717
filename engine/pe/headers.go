package pe

// Machine types of IMAGE_FILE_HEADER.Machine (PE Format, "Machine Types"; FORMATS.md §1.1).
const (
	MachineI386  = 0x014c
	MachineARMNT = 0x01c4
	MachineAMD64 = 0x8664
	MachineARM64 = 0xaa64
)

// Optional header magic numbers (PE Format, "Optional Header Standard Fields").
const (
	MagicPE32     = 0x10b
	MagicPE32Plus = 0x20b
)

// Data directory indices (PE Format, "Optional Header Data Directories").
const (
	DirectoryExport        = 0
	DirectoryImport        = 1
	DirectoryResource      = 2
	DirectoryException     = 3
	DirectorySecurity      = 4 // a file offset, not an RVA
	DirectoryBaseReloc     = 5
	DirectoryDebug         = 6
	DirectoryArchitecture  = 7
	DirectoryGlobalPtr     = 8
	DirectoryTLS           = 9
	DirectoryLoadConfig    = 10
	DirectoryBoundImport   = 11
	DirectoryIAT           = 12
	DirectoryDelayImport   = 13
	DirectoryCLRRuntime    = 14
	NumDirectoryEntries    = 16
	sizeofDataDirectory    = 8
	sizeofFileHeader       = 20
	sizeofSectionHeader    = 40
	optionalDataDirsPE32   = 96  // offset of DataDirectory in a PE32 optional header
	optionalDataDirsPE32Pl = 112 // in a PE32+ optional header
)

// Subsystem values (PE Format, "Windows Subsystem").
const (
	SubsystemUnknown     = 0
	SubsystemNative      = 1
	SubsystemWindowsGUI  = 2
	SubsystemWindowsCUI  = 3
	SubsystemEFIApp      = 10
	SubsystemWindowsBoot = 16
)

// FileHeader is IMAGE_FILE_HEADER, the COFF header after the "PE\0\0" signature.
type FileHeader struct {
	Machine              uint16
	NumberOfSections     uint16
	TimeDateStamp        uint32
	PointerToSymbolTable uint32
	NumberOfSymbols      uint32
	SizeOfOptionalHeader uint16
	Characteristics      uint16
}

// DataDirectory is IMAGE_DATA_DIRECTORY: where a table is (an RVA, except the security
// directory's file offset) and its size in bytes.
type DataDirectory struct {
	VirtualAddress uint32
	Size           uint32
}

// OptionalHeader is IMAGE_OPTIONAL_HEADER32 or IMAGE_OPTIONAL_HEADER64 in one struct: the
// fields that are 32-bit in PE32 and 64-bit in PE32+ are widened, BaseOfData is PE32 only.
type OptionalHeader struct {
	Magic                       uint16 // MagicPE32 or MagicPE32Plus
	MajorLinkerVersion          uint8
	MinorLinkerVersion          uint8
	SizeOfCode                  uint32
	SizeOfInitializedData       uint32
	SizeOfUninitializedData     uint32
	AddressOfEntryPoint         uint32
	BaseOfCode                  uint32
	BaseOfData                  uint32 // PE32 only
	ImageBase                   uint64
	SectionAlignment            uint32
	FileAlignment               uint32
	MajorOperatingSystemVersion uint16
	MinorOperatingSystemVersion uint16
	MajorImageVersion           uint16
	MinorImageVersion           uint16
	MajorSubsystemVersion       uint16
	MinorSubsystemVersion       uint16
	Win32VersionValue           uint32
	SizeOfImage                 uint32
	SizeOfHeaders               uint32
	CheckSum                    uint32
	Subsystem                   uint16
	DllCharacteristics          uint16
	SizeOfStackReserve          uint64
	SizeOfStackCommit           uint64
	SizeOfHeapReserve           uint64
	SizeOfHeapCommit            uint64
	LoaderFlags                 uint32
	NumberOfRvaAndSizes         uint32
	// DataDirectory holds the first min(NumberOfRvaAndSizes, 16) entries; the rest are zero.
	DataDirectory [NumDirectoryEntries]DataDirectory
}

// Section is IMAGE_SECTION_HEADER with its name as a string (trailing NULs removed; a "/n"
// long name stays as written, images have no string table to resolve it).
type Section struct {
	Name                 string
	VirtualSize          uint32
	VirtualAddress       uint32
	SizeOfRawData        uint32
	PointerToRawData     uint32
	PointerToRelocations uint32
	PointerToLineNumbers uint32
	NumberOfRelocations  uint16
	NumberOfLineNumbers  uint16
	Characteristics      uint32
}

// Contains reports whether rva falls in the section as loaded (VirtualSize bytes, or
// SizeOfRawData when VirtualSize is 0).
func (s *Section) Contains(rva uint32) bool {
	size := s.VirtualSize
	if size == 0 {
		size = s.SizeOfRawData
	}
	return rva >= s.VirtualAddress && uint64(rva) < uint64(s.VirtualAddress)+uint64(size)
}
