package ntuser

// Field offsets of the user-mode structures, per pointer size and build.
//
// Sources: FORMATS.md §5 tables _TEB, _PEB, _PEB_LDR_DATA, _LDR_DATA_TABLE_ENTRY and
// _RTL_USER_PROCESS_PARAMETERS (x64 and x86 columns, builds 7601–19041, identical across those
// builds for every field used here). Fields the tables do not list are marked with their public
// source. Builds older than 7601 are not in the tables; the fields read here sit in the stable
// head of each structure, so the 7601 offsets are used for them too [inferred].
//
// An offset of -1 means the field does not exist in that build; its Value is then invalid.

const noField = -1

type tebOffsets struct {
	// NT_TIB at offset 0. ExceptionList, StackBase, StackLimit, Self are in FORMATS.md §5
	// (_TEB NtTib.*); SubSystemTib, FiberData and ArbitraryUserPointer are the NT_TIB members
	// between StackLimit and Self (one pointer each, public NT_TIB definition in winnt.h).
	exceptionList, stackBase, stackLimit, subSystemTib, fiberData, arbitraryUserPointer, self int

	environmentPointer           int // FORMATS.md §5 _TEB EnvironmentPointer
	clientID                     int // FORMATS.md §5 _TEB ClientId: UniqueProcess, then UniqueThread
	activeRpcHandle              int // FORMATS.md §5 _TEB ActiveRpcHandle
	threadLocalStoragePointer    int // FORMATS.md §5 _TEB ThreadLocalStoragePointer
	processEnvironmentBlock      int // FORMATS.md §5 _TEB ProcessEnvironmentBlock
	lastErrorValue               int // FORMATS.md §5 _TEB LastErrorValue
	countOfOwnedCriticalSections int // FORMATS.md §5 _TEB CountOfOwnedCriticalSections
	lastStatusValue              int // FORMATS.md §5 _TEB LastStatusValue
	deallocationStack            int // FORMATS.md §5 _TEB DeallocationStack
	tlsSlots                     int // FORMATS.md §5 _TEB TlsSlots
	hardErrorMode                int // not in FORMATS.md; see tebLayout
}

type pebOffsets struct {
	// InheritedAddressSpace, ReadImageFileExecOptions and BeingDebugged are the first three
	// bytes (FORMATS.md §5 _PEB BeingDebugged at 0x2; the two before it are one byte each).
	inheritedAddressSpace, readImageFileExecOptions, beingDebugged int

	imageBaseAddress  int // FORMATS.md §5 _PEB ImageBaseAddress
	ldr               int // FORMATS.md §5 _PEB Ldr
	processParameters int // FORMATS.md §5 _PEB ProcessParameters
	subSystemData     int // FORMATS.md §5 _PEB SubSystemData
	processHeap       int // FORMATS.md §5 _PEB ProcessHeap
	ntGlobalFlag      int // FORMATS.md §5 _PEB NtGlobalFlag
	ntGlobalFlag2     int // not in FORMATS.md; see pebLayout
}

type ldrOffsets struct {
	length                          int // FORMATS.md §5 _PEB_LDR_DATA Length
	initialized                     int // FORMATS.md §5 _PEB_LDR_DATA Initialized
	inLoadOrderModuleList           int // FORMATS.md §5 _PEB_LDR_DATA InLoadOrderModuleList
	inMemoryOrderModuleList         int // FORMATS.md §5 _PEB_LDR_DATA InMemoryOrderModuleList
	inInitializationOrderModuleList int // FORMATS.md §5 _PEB_LDR_DATA InInitializationOrderModuleList
}

type entryOffsets struct {
	inLoadOrderLinks int // FORMATS.md §5 _LDR_DATA_TABLE_ENTRY InLoadOrderLinks
	dllBase          int // FORMATS.md §5 _LDR_DATA_TABLE_ENTRY DllBase
	entryPoint       int // FORMATS.md §5 _LDR_DATA_TABLE_ENTRY EntryPoint
	sizeOfImage      int // FORMATS.md §5 _LDR_DATA_TABLE_ENTRY SizeOfImage
	fullDllName      int // FORMATS.md §5 _LDR_DATA_TABLE_ENTRY FullDllName
	baseDllName      int // FORMATS.md §5 _LDR_DATA_TABLE_ENTRY BaseDllName
	timeDateStamp    int // FORMATS.md §5 _LDR_DATA_TABLE_ENTRY TimeDateStamp
}

type paramsOffsets struct {
	flags            int // FORMATS.md §5 _RTL_USER_PROCESS_PARAMETERS Flags
	currentDirectory int // FORMATS.md §5 CurrentDirectory (a CURDIR whose first member is the DosPath UNICODE_STRING)
	dllPath          int // FORMATS.md §5 DllPath
	imagePathName    int // FORMATS.md §5 ImagePathName
	commandLine      int // FORMATS.md §5 CommandLine
	environment      int // FORMATS.md §5 Environment
	windowTitle      int // FORMATS.md §5 WindowTitle
	desktopInfo      int // FORMATS.md §5 DesktopInfo
	shellInfo        int // FORMATS.md §5 ShellInfo
	runtimeData      int // FORMATS.md §5 RuntimeData
	environmentSize  int // FORMATS.md §5 EnvironmentSize
}

// layout is the set of offsets for one pointer size and build.
type layout struct {
	ptrSize int
	build   uint32
	teb     tebOffsets
	peb     pebOffsets
	ldr     ldrOffsets
	entry   entryOffsets
	params  paramsOffsets
}

// Builds at which a field used here appeared.
const (
	buildVista    = 6000  // RTL_USER_PROCESS_PARAMETERS.EnvironmentSize (present in every FORMATS.md column from 7601; Vista is [inferred])
	buildWin10RS5 = 17763 // PEB.NtGlobalFlag2 (ntdiff/headers Win10_1809_RS5 _PEB.h; absent from 17134's smaller PEB, FORMATS.md §5 sizeof)
)

// layoutFor returns the offsets for a pointer size (4 or 8) and a build number (0 when unknown:
// the newest layout is assumed).
func layoutFor(ptrSize int, build uint32) *layout {
	l := &layout{ptrSize: ptrSize, build: build}
	if ptrSize == 8 {
		l.teb = tebOffsets{
			exceptionList: 0x0, stackBase: 0x8, stackLimit: 0x10, subSystemTib: 0x18, fiberData: 0x20,
			arbitraryUserPointer: 0x28, self: 0x30,
			environmentPointer: 0x38, clientID: 0x40, activeRpcHandle: 0x50, threadLocalStoragePointer: 0x58,
			processEnvironmentBlock: 0x60, lastErrorValue: 0x68, countOfOwnedCriticalSections: 0x6c,
			lastStatusValue: 0x1250, deallocationStack: 0x1478, tlsSlots: 0x1480,
			// HardErrorMode: ntdiff/headers Win10_1809_RS5/x64 ntdll _TEB.h (0x16b0), right after
			// DbgSsReserved; the fields before it are FORMATS.md's, unchanged 7601–19041.
			hardErrorMode: 0x16b0,
		}
		l.peb = pebOffsets{
			inheritedAddressSpace: 0x0, readImageFileExecOptions: 0x1, beingDebugged: 0x2,
			imageBaseAddress: 0x10, ldr: 0x18, processParameters: 0x20, subSystemData: 0x28,
			processHeap: 0x30, ntGlobalFlag: 0xbc,
			// NtGlobalFlag2: ntdiff/headers Win10_1809_RS5/x64 ntoskrnl _PEB.h, last member at 0x7c4
			// (sizeof 0x7c8 as in FORMATS.md §5 for 17763–19041).
			ntGlobalFlag2: 0x7c4,
		}
		l.ldr = ldrOffsets{length: 0x0, initialized: 0x4, inLoadOrderModuleList: 0x10,
			inMemoryOrderModuleList: 0x20, inInitializationOrderModuleList: 0x30}
		l.entry = entryOffsets{inLoadOrderLinks: 0x0, dllBase: 0x30, entryPoint: 0x38, sizeOfImage: 0x40,
			fullDllName: 0x48, baseDllName: 0x58, timeDateStamp: 0x80}
		l.params = paramsOffsets{flags: 0x8, currentDirectory: 0x38, dllPath: 0x50, imagePathName: 0x60,
			commandLine: 0x70, environment: 0x80, windowTitle: 0xb0, desktopInfo: 0xc0, shellInfo: 0xd0,
			runtimeData: 0xe0, environmentSize: 0x3f0}
	} else {
		l.teb = tebOffsets{
			exceptionList: 0x0, stackBase: 0x4, stackLimit: 0x8, subSystemTib: 0xc, fiberData: 0x10,
			arbitraryUserPointer: 0x14, self: 0x18,
			environmentPointer: 0x1c, clientID: 0x20, activeRpcHandle: 0x28, threadLocalStoragePointer: 0x2c,
			processEnvironmentBlock: 0x30, lastErrorValue: 0x34, countOfOwnedCriticalSections: 0x38,
			lastStatusValue: 0xbf4, deallocationStack: 0xe0c, tlsSlots: 0xe10,
			// HardErrorMode: a public `dt _teb` capture of a Win10 WOW64 TEB32 (a blog on WOW64
			// system calls) shows +0xf28 HardErrorMode, with LastStatusValue 0xbf4 and TlsSlots
			// 0xe10 as in FORMATS.md [single].
			hardErrorMode: 0xf28,
		}
		l.peb = pebOffsets{
			inheritedAddressSpace: 0x0, readImageFileExecOptions: 0x1, beingDebugged: 0x2,
			imageBaseAddress: 0x8, ldr: 0xc, processParameters: 0x10, subSystemData: 0x14,
			processHeap: 0x18, ntGlobalFlag: 0x68,
			// NtGlobalFlag2: ntdiff/headers Win10_1809_RS5/x86 ntoskrnl _PEB.h (0x478, padding after).
			ntGlobalFlag2: 0x478,
		}
		l.ldr = ldrOffsets{length: 0x0, initialized: 0x4, inLoadOrderModuleList: 0xc,
			inMemoryOrderModuleList: 0x14, inInitializationOrderModuleList: 0x1c}
		l.entry = entryOffsets{inLoadOrderLinks: 0x0, dllBase: 0x18, entryPoint: 0x1c, sizeOfImage: 0x20,
			fullDllName: 0x24, baseDllName: 0x2c, timeDateStamp: 0x44}
		l.params = paramsOffsets{flags: 0x8, currentDirectory: 0x24, dllPath: 0x30, imagePathName: 0x38,
			commandLine: 0x40, environment: 0x48, windowTitle: 0x70, desktopInfo: 0x78, shellInfo: 0x80,
			runtimeData: 0x88, environmentSize: 0x290}
	}
	if build != 0 && build < buildWin10RS5 {
		l.peb.ntGlobalFlag2 = noField
	}
	if build != 0 && build < buildVista {
		l.params.environmentSize = noField
	}
	return l
}
