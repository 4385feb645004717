package ksynth

// profile is everything that differs between the machines: pointer size, paging, where
// things go in the kernel's address space, and the structure offsets of the build. The offsets
// are typed from the FORMATS.md §5 tables (columns 19041 and 7601 of the x64 tables, column
// 7601 of the x86 ones) without looking at any reader.
type profile struct {
	name       string
	is64       bool
	pae        bool // x86: PAE paging (ntkrpamp) rather than two-level 32-bit paging (ntkrnlmp)
	arm64      bool // ARM64 (is64 is also set): translation tables, CONTEXT, code and unwind data differ (arm64_*.go)
	ptr        int  // pointer size
	build      uint32
	machine    uint32 // MachineImageType (§1.1)
	osMajor    uint32
	osMinor    uint32
	kdbgSize   uint32 // KDDEBUGGER_DATA64 Header.Size for the era (§2)
	kernelFile string // the kernel's file and PDB name
	halFile    string

	// Virtual layout.
	ntBase, halBase     uint64
	driverBase          uint64 // first driver; the next ones follow 2 MiB apart
	kuserSharedData     uint64 // §5.1
	arena               uint64 // objects: processes, threads, PCRs, handle tables, tokens, IRPs
	stacks              uint64 // kernel stacks
	transitionVA        uint64 // a page whose PTE is in transition (§3.2)
	pageFileVA          uint64 // a page whose PTE says "in the pagefile"
	unmappedVA          uint64 // no table maps it
	gigPageVA           uint64 // x64: a 1 GiB page mapping physical 0 (0: none)
	pfnDatabase         uint64 // MmPfnDatabase value (not mapped: the writer builds no PFN database)
	pteBase             uint64 // x64: the self-map base (PML4 index selfIndex)
	selfIndex           int    // x64 PML4 self-map index; PAE: unused (the PDs map at 0xC0600000)
	pebBase             uint64 // first process's PEB; the next ones follow
	highestUserAddress  uint64
	systemRangeStart    uint64
	stackSize           uint64 // KERNEL_STACK_SIZE
	initialStackReserve uint64 // StackBase - InitialStack
	objectRoom          uint64 // bytes left free before every object for pool/object headers (issue 5)
	// User-mode values that are only pointers (the images are not in the dump): the first
	// process image base and the step between processes, and RtlUserThreadStart.
	imageBase, imageStep, userThreadStart uint64

	eprocess eprocessLayout
	kthread  kthreadLayout
	ethread  ethreadLayout
	kprcb    kprcbLayout
	kpcr     kpcrLayout
	ldr      ldrLayout
	handles  handleTableLayout
	peb      pebLayout
	irp      irpLayout
}

type eprocessLayout struct {
	size, dirBase, pcbThreadListHead, kernelTime, userTime, basePriority uint64
	uniqueProcessID, activeProcessLinks, createTime, token, objectTable  uint64
	parentPID, peb, imageFileName, priorityClass, threadListHead         uint64
	activeThreads, virtualSize, sectionBaseAddress                       uint64
	commitCharge                                                         uint64 // 0: not written
}

type kthreadLayout struct {
	initialStack, stackLimit, stackBase, kernelStack, trapFrame, apcProcess uint64
	priority, teb, contextSwitches, state, waitIrql, waitMode, waitTime     uint64
	nextProcessor, process, previousMode, basePriority, affinity            uint64
	waitReason, kernelTime, userTime, threadListEntry                       uint64
}

type ethreadLayout struct {
	size, createTime, startAddress, cid, irpList, win32StartAddress, threadListEntry uint64
}

type kprcbLayout struct {
	size, currentThread, nextThread, idleThread, number, contextFrame, context uint64
	cpuType, mhz, dpcStack, isrStack, vendorString, kernelDirectoryTableBase   uint64
}

type kpcrLayout struct {
	size, self, currentPrcb, irql, kdVersionBlock, prcb, number uint64
}

// ldrLayout is KLDR_DATA_TABLE_ENTRY (x64 19041) or LDR_DATA_TABLE_ENTRY (Win7 x86, whose
// kernel module list uses that layout, §5.1).
type ldrLayout struct {
	size, inLoadOrderLinks, dllBase, entryPoint, sizeOfImage, fullDllName, baseDllName uint64
	flags, loadCount, checkSum, timeDateStamp, sizeOfImageNotRounded                   uint64
	exceptionTable, exceptionTableSize                                                 uint64 // 0: not in this layout
}

type handleTableLayout struct {
	size, nextHandleNeedingPool, tableCode, quotaProcess, handleTableList, uniqueProcessID uint64
	handleCount                                                                            uint64 // 0: not in this build
}

type pebLayout struct {
	imageBaseAddress, ldr, processParameters, numberOfProcessors           uint64
	osMajorVersion, osMinorVersion, osBuildNumber, osPlatformID, sessionID uint64
}

// irpLayout: the public wdm.h IRP (Type u16 @0, Size u16 @2, MdlAddress, Flags, ThreadListEntry).
type irpLayout struct {
	size, mdlAddress, flags, threadListEntry uint64
}

var profileX64 = profile{
	name: "x64", is64: true, ptr: 8, build: 19041, machine: 0x8664, osMajor: 10, osMinor: 0,
	kdbgSize:   0x380, // §2: RS5–Iron layouts end at 0x380; 19041 (Vibranium) is between them
	kernelFile: "ntkrnlmp", halFile: "hal",

	ntBase: 0xFFFFF80312400000, halBase: 0xFFFFF80311800000, driverBase: 0xFFFFF80315A00000,
	kuserSharedData:     0xFFFFF78000000000, // §5.1
	arena:               0xFFFFA60000000000,
	stacks:              0xFFFFF58000000000,
	transitionVA:        0xFFFFA60000F00000,
	pageFileVA:          0xFFFFA60000F01000,
	unmappedVA:          0xFFFFB00000000000,
	gigPageVA:           0xFFFFC00000000000,
	pfnDatabase:         0xFFFFE70000000000,
	pteBase:             0xFFFFF68000000000, // sign-extended 0x1ED << 39
	selfIndex:           0x1ED,
	pebBase:             0x000000C0DE000000,
	highestUserAddress:  0x00007FFFFFFEFFFF,
	systemRangeStart:    0xFFFF800000000000,
	stackSize:           0x6000,
	initialStackReserve: 0x30,
	objectRoom:          0x80,
	imageBase:           0x00007FF6A1200000, imageStep: 0x10000000, userThreadStart: 0x00007FFB4C4A0000 + 0x1234,

	// §5 _EPROCESS (x64), column 19041.
	eprocess: eprocessLayout{size: 0xa40, dirBase: 0x28, pcbThreadListHead: 0x30, kernelTime: 0x37c,
		userTime: 0x380, basePriority: 0x280, uniqueProcessID: 0x440, activeProcessLinks: 0x448,
		createTime: 0x468, token: 0x4b8, objectTable: 0x570, parentPID: 0x540, peb: 0x550,
		imageFileName: 0x5a8, priorityClass: 0x5b7, threadListHead: 0x5e0, activeThreads: 0x5f0,
		virtualSize: 0x498, sectionBaseAddress: 0x520,
		// Not in FORMATS.md §5: public dumps of the 19041 PDB's _EPROCESS (whose other offsets
		// agree with the column above) place CommitCharge at 0x648.
		commitCharge: 0x648},
	// §5 _KTHREAD (x64), column 19041.
	kthread: kthreadLayout{initialStack: 0x28, stackLimit: 0x30, stackBase: 0x38, kernelStack: 0x58,
		trapFrame: 0x90, apcProcess: 0xb8, priority: 0xc3, teb: 0xf0, contextSwitches: 0x154,
		state: 0x184, waitIrql: 0x186, waitMode: 0x187, waitTime: 0x1b4, nextProcessor: 0x218,
		process: 0x220, previousMode: 0x232, basePriority: 0x233, affinity: 0x240, waitReason: 0x283,
		kernelTime: 0x28c, userTime: 0x2dc, threadListEntry: 0x2f8},
	// §5 _ETHREAD (x64), column 19041.
	ethread: ethreadLayout{size: 0x898, createTime: 0x430, startAddress: 0x450, cid: 0x478,
		irpList: 0x4b0, win32StartAddress: 0x4d0, threadListEntry: 0x4e8},
	// §5 _KPRCB (x64), column 19041.
	kprcb: kprcbLayout{size: 0xaf00, currentThread: 0x8, nextThread: 0x10, idleThread: 0x18, number: 0x24,
		contextFrame: 0x1f0, context: 0x85c0, cpuType: 0x40, mhz: 0x44, dpcStack: 0x3110,
		isrStack: 0x85d8, vendorString: 0x8590, kernelDirectoryTableBase: 0x8e80},
	// §5 _KPCR (x64), column 19041; §1.7 KPCR = KPRCB - 0x180.
	kpcr: kpcrLayout{size: 0xb080, self: 0x18, currentPrcb: 0x20, irql: 0x50, kdVersionBlock: 0x108, prcb: 0x180},
	// §5 _KLDR_DATA_TABLE_ENTRY (x64), column 19041.
	ldr: ldrLayout{size: 0xa0, inLoadOrderLinks: 0, exceptionTable: 0x10, exceptionTableSize: 0x18,
		dllBase: 0x30, entryPoint: 0x38, sizeOfImage: 0x40, fullDllName: 0x48, baseDllName: 0x58,
		flags: 0x68, loadCount: 0x6c, checkSum: 0x78, sizeOfImageNotRounded: 0x98, timeDateStamp: 0x9c},
	// §5 _HANDLE_TABLE (x64), column 19041 (no HandleCount field in this build).
	handles: handleTableLayout{size: 0x80, nextHandleNeedingPool: 0x0, tableCode: 0x8, quotaProcess: 0x10,
		handleTableList: 0x18, uniqueProcessID: 0x28},
	// §5 _PEB (x64), column 19041.
	peb: pebLayout{imageBaseAddress: 0x10, ldr: 0x18, processParameters: 0x20, numberOfProcessors: 0xb8,
		osMajorVersion: 0x118, osMinorVersion: 0x11c, osBuildNumber: 0x120, osPlatformID: 0x124, sessionID: 0x2c0},
	// wdm.h IRP on x64: 0xD0 bytes plus one 0x48-byte IO_STACK_LOCATION.
	irp: irpLayout{size: 0x118, mdlAddress: 0x8, flags: 0x10, threadListEntry: 0x20},
}

var profileX86 = profile{
	name: "x86pae", is64: false, pae: true, ptr: 4, build: 7601, machine: 0x14C, osMajor: 6, osMinor: 1,
	kdbgSize:   0x340, // §2: Win7 ends after OffsetPrcbContext
	kernelFile: "ntkrpamp", halFile: "hal",

	ntBase: 0x82A00000, halBase: 0x82C00000, driverBase: 0x8B000000,
	kuserSharedData:     0xFFDF0000, // §5.1
	arena:               0x84800000,
	stacks:              0x8D000000,
	transitionVA:        0x84F00000,
	pageFileVA:          0x84F01000,
	unmappedVA:          0xA0000000,
	pfnDatabase:         0x84000000,
	pebBase:             0x7FFD3000,
	highestUserAddress:  0x7FFEFFFF,
	systemRangeStart:    0x80000000, // §3.3
	stackSize:           0x3000,
	initialStackReserve: 0x210, // room for the NPX save area below StackBase
	objectRoom:          0x40,
	imageBase:           0x00A30000, imageStep: 0x100000, userThreadStart: 0x77A1C000 + 0x9D,

	// §5 _EPROCESS (x86), column 7601.
	eprocess: eprocessLayout{size: 0x2c0, dirBase: 0x18, pcbThreadListHead: 0x2c, kernelTime: 0x88,
		userTime: 0x8c, basePriority: 0x60, uniqueProcessID: 0xb4, activeProcessLinks: 0xb8,
		createTime: 0xa0, token: 0xf8, objectTable: 0xf4, parentPID: 0x140, peb: 0x1a8,
		imageFileName: 0x16c, priorityClass: 0x17b, threadListHead: 0x188, activeThreads: 0x198,
		virtualSize: 0xe0, sectionBaseAddress: 0x12c,
		// Not in FORMATS.md §5: public dumps of the Windows 7 x86 PDB's _EPROCESS (whose other
		// offsets agree with the column above) place CommitCharge (a ULONG) at 0xd0.
		commitCharge: 0xd0},
	// §5 _KTHREAD (x86), column 7601.
	kthread: kthreadLayout{initialStack: 0x28, stackLimit: 0x2c, stackBase: 0x190, kernelStack: 0x30,
		trapFrame: 0x128, apcProcess: 0x50, priority: 0x57, teb: 0x88, contextSwitches: 0x64,
		state: 0x68, waitIrql: 0x6a, waitMode: 0x6b, waitTime: 0x80, nextProcessor: 0x58,
		process: 0x150, previousMode: 0x13a, basePriority: 0x135, affinity: 0x154, waitReason: 0x187,
		kernelTime: 0x198, userTime: 0x1c4, threadListEntry: 0x1e0},
	// §5 _ETHREAD (x86), column 7601.
	ethread: ethreadLayout{size: 0x2b8, createTime: 0x200, startAddress: 0x218, cid: 0x22c,
		irpList: 0x24c, win32StartAddress: 0x260, threadListEntry: 0x268},
	// §5 _KPRCB (x86), column 7601.
	kprcb: kprcbLayout{size: 0x3628, currentThread: 0x4, nextThread: 0x8, idleThread: 0xc, number: 0x3cc,
		contextFrame: 0x18, context: 0x3618, cpuType: 0x14, mhz: 0x3c0, dpcStack: 0x1908,
		vendorString: 0x336c},
	// §5 _KPCR (x86), column 7601; §1.7 KPCR = KPRCB - 0x120.
	kpcr: kpcrLayout{size: 0x3748, self: 0x1c, currentPrcb: 0x20, irql: 0x24, kdVersionBlock: 0x34, prcb: 0x120, number: 0x51},
	// §5 _LDR_DATA_TABLE_ENTRY (x86), column 7601; CheckSum @0x40 as in the fixed KLDR layout of §1.6.
	ldr: ldrLayout{size: 0x78, inLoadOrderLinks: 0, dllBase: 0x18, entryPoint: 0x1c, sizeOfImage: 0x20,
		fullDllName: 0x24, baseDllName: 0x2c, flags: 0x34, loadCount: 0x38, checkSum: 0x40, timeDateStamp: 0x44},
	// §5 _HANDLE_TABLE (x86), column 7601.
	handles: handleTableLayout{size: 0x3c, nextHandleNeedingPool: 0x34, tableCode: 0x0, quotaProcess: 0x4,
		handleTableList: 0x10, uniqueProcessID: 0x8, handleCount: 0x30},
	// §5 _PEB (x86), column 7601.
	peb: pebLayout{imageBaseAddress: 0x8, ldr: 0xc, processParameters: 0x10, numberOfProcessors: 0x64,
		osMajorVersion: 0xa4, osMinorVersion: 0xa8, osBuildNumber: 0xac, osPlatformID: 0xb0, sessionID: 0x1d4},
	// wdm.h IRP on x86: 0x70 bytes plus one 0x24-byte IO_STACK_LOCATION.
	irp: irpLayout{size: 0x94, mdlAddress: 0x4, flags: 0x8, threadListEntry: 0x10},
}

func profileOf(m Machine) *profile {
	var p profile
	switch m {
	case X64Win10_19041:
		p = profileX64
	case X86PAEWin7_7601:
		p = profileX86
	case X86Win7_7601:
		p = profileX86NoPAE()
	case X64Win7_7601:
		p = profileX64Win7
	case ARM64Win11_22621:
		p = profileARM64
	default:
		return nil
	}
	return &p
}

// largePage is the size of the large page nt is mapped with: 4 MiB with two-level x86 paging,
// 2 MiB with PAE and x64 (FORMATS.md §3.1).
func (p *profile) largePage() uint64 {
	if !p.is64 && !p.pae {
		return 1 << 22
	}
	return 1 << 21
}

// largePFN is the first frame of nt's large page: at physical 2 MiB, or 4 MiB for a 4 MiB page
// (a large page's frame is aligned to its size).
func (p *profile) largePFN() uint64 { return p.largePage() / pageSize }

// firstFreePFN is where 4 KiB allocations start: above nt's large page.
func (p *profile) firstFreePFN() uint64 { return 2 * p.largePFN() }

// minPhysical leaves room for the large page and the pages the writer fills.
func (p *profile) minPhysical() uint64 { return p.firstFreePFN()*pageSize + 4<<20 }

// canon sign-extends a pointer-sized value for the 64-bit fields of KDDEBUGGER_DATA64 and
// DBGKD_GET_VERSION64 (FORMATS.md §1.3: 32-bit pointers are stored sign-extended).
func (p *profile) canon(v uint64) uint64 {
	if p.is64 {
		return v
	}
	return uint64(int64(int32(uint32(v))))
}

// profileX86NoPAE is Windows 7 SP1 x86 on two-level paging (ntkrnlmp). The structures are the
// x86 7601 columns of FORMATS.md §5, whose tables are headed "Win7 = non-PAE ntkrnlmp": they do
// not depend on the paging mode. Only the paging differs: 4-byte entries, the PTE self-map at
// 0xC0000000 with the page directory at 0xC0300000, and 4 MiB large pages, so nt's base must
// be 4 MiB aligned (§3.1, §3.3).
func profileX86NoPAE() profile {
	p := profileX86
	p.name, p.pae, p.kernelFile = "x86", false, "ntkrnlmp"
	p.ntBase = 0x82800000 // its 4 MiB page ends where hal starts
	return p
}

var profileX64Win7 = profile{
	name: "x64win7", is64: true, ptr: 8, build: 7601, machine: 0x8664, osMajor: 6, osMinor: 1,
	kdbgSize:   0x340, // §2: Win7 ends after OffsetPrcbContext (no PteBase: the self-map is fixed)
	kernelFile: "ntkrnlmp", halFile: "hal",

	ntBase: 0xFFFFF80002A00000, halBase: 0xFFFFF80002C00000, driverBase: 0xFFFFF88000E00000,
	kuserSharedData:     0xFFFFF78000000000, // §5.1
	arena:               0xFFFFFA8001000000,
	stacks:              0xFFFFF88003000000,
	transitionVA:        0xFFFFFA8001F00000,
	pageFileVA:          0xFFFFFA8001F01000,
	unmappedVA:          0xFFFFFB0000000000,
	gigPageVA:           0xFFFFFC0000000000,
	pfnDatabase:         0xFFFFFA8000000000,
	pteBase:             0xFFFFF68000000000, // §3: Windows 7 has the fixed self-map (PML4 index 0x1ED)
	selfIndex:           0x1ED,
	pebBase:             0x000007FFFF000000,
	highestUserAddress:  0x000007FFFFFEFFFF, // 8 TB user space before Windows 8.1
	systemRangeStart:    0xFFFF080000000000,
	stackSize:           0x6000,
	initialStackReserve: 0x30,
	objectRoom:          0x80,
	imageBase:           0x000000013F6E0000, imageStep: 0x1000000, userThreadStart: 0x0000000077B52C00 + 0x21,

	// §5 _EPROCESS (x64), column 7601.
	eprocess: eprocessLayout{size: 0x4d0, dirBase: 0x28, pcbThreadListHead: 0x30, kernelTime: 0xf8,
		userTime: 0xfc, basePriority: 0xb4, uniqueProcessID: 0x180, activeProcessLinks: 0x188,
		createTime: 0x168, token: 0x208, objectTable: 0x200, parentPID: 0x290, peb: 0x338,
		imageFileName: 0x2e0, priorityClass: 0x2ef, threadListHead: 0x308, activeThreads: 0x328,
		virtualSize: 0x1d8, sectionBaseAddress: 0x270,
		// Not in FORMATS.md §5: public dumps of the Windows 7 x64 PDB's _EPROCESS (whose other
		// offsets agree with the column above) place CommitCharge at 0x1b8.
		commitCharge: 0x1b8},
	// §5 _KTHREAD (x64), column 7601.
	kthread: kthreadLayout{initialStack: 0x28, stackLimit: 0x30, stackBase: 0x278, kernelStack: 0x38,
		trapFrame: 0x1d8, apcProcess: 0x70, priority: 0x7b, teb: 0xb8, contextSwitches: 0x134,
		state: 0x164, waitIrql: 0x166, waitMode: 0x167, waitTime: 0x194, nextProcessor: 0x7c,
		process: 0x210, previousMode: 0x1f6, basePriority: 0x1f1, affinity: 0x218, waitReason: 0x26b,
		kernelTime: 0x284, userTime: 0x2d4, threadListEntry: 0x2f8},
	// §5 _ETHREAD (x64), column 7601.
	ethread: ethreadLayout{size: 0x498, createTime: 0x360, startAddress: 0x388, cid: 0x3b0,
		irpList: 0x3e8, win32StartAddress: 0x410, threadListEntry: 0x420},
	// §5 _KPRCB (x64), column 7601 (no IsrStack, no KernelDirectoryTableBase).
	kprcb: kprcbLayout{size: 0x4d00, currentThread: 0x8, nextThread: 0x10, idleThread: 0x18, number: 0x24,
		contextFrame: 0x120, context: 0x4bd8, cpuType: 0x5f0, mhz: 0x5f4, dpcStack: 0x21c0,
		vendorString: 0x4bb8},
	// §5 _KPCR (x64), column 7601; §1.7 KPCR = KPRCB - 0x180.
	kpcr: kpcrLayout{size: 0x4e80, self: 0x18, currentPrcb: 0x20, irql: 0x50, kdVersionBlock: 0x108, prcb: 0x180},
	// §5.1: Windows 7 kernel module entries use the LDR_DATA_TABLE_ENTRY layout (§5 x64, column
	// 7601); CheckSum @0x78 as in the fixed loader-entry layout of §1.6. No ExceptionTable field:
	// the unwinder must take .pdata from the image's exception directory.
	ldr: ldrLayout{size: 0xe0, inLoadOrderLinks: 0, dllBase: 0x30, entryPoint: 0x38, sizeOfImage: 0x40,
		fullDllName: 0x48, baseDllName: 0x58, flags: 0x68, loadCount: 0x6c, checkSum: 0x78, timeDateStamp: 0x80},
	// §5 _HANDLE_TABLE (x64), column 7601.
	handles: handleTableLayout{size: 0x68, nextHandleNeedingPool: 0x5c, tableCode: 0x0, quotaProcess: 0x8,
		handleTableList: 0x20, uniqueProcessID: 0x10, handleCount: 0x58},
	// §5 _PEB (x64), column 7601.
	peb: pebLayout{imageBaseAddress: 0x10, ldr: 0x18, processParameters: 0x20, numberOfProcessors: 0xb8,
		osMajorVersion: 0x118, osMinorVersion: 0x11c, osBuildNumber: 0x120, osPlatformID: 0x124, sessionID: 0x2c0},
	// wdm.h IRP on x64: 0xD0 bytes plus one 0x48-byte IO_STACK_LOCATION.
	irp: irpLayout{size: 0x118, mdlAddress: 0x8, flags: 0x10, threadListEntry: 0x20},
}

// profileARM64 is Windows 11 22H2 (build 22621) on ARM64. FORMATS.md has no ARM64 structure
// tables (§9 item 10), so every offset below is OURS, synthetic: the x64 19041 offsets moved by
// a fixed amount per structure (EPROCESS +0x20, KTHREAD +0x10, ETHREAD +0x20, KPRCB +0x10,
// KPCR +0x10 with the KPRCB at 0x980, HANDLE_TABLE +0x8), deliberately different from the x64
// ones, so that a reader that falls back on the x64 tables reads the wrong fields and the tests
// fail. They reach wdbg only through the dump's KDBG block and the kernel PDB's types. The
// structures whose layout follows from the pointer size alone keep the x64 offsets: the loader
// entry (wdbg borrows the x64 _KLDR_DATA_TABLE_ENTRY table for ARM64), the PEB and wdm.h's IRP.
// The virtual addresses are ours too; nt, hal and the drivers lie within the ±128 MiB reach of
// a BL instruction, since the synthetic code calls across modules directly.
var profileARM64 = profile{
	name: "arm64", is64: true, arm64: true, ptr: 8, build: 22621, machine: 0xAA64, osMajor: 10, osMinor: 0,
	kdbgSize:   0x3A0, // §2: Nickel (22H2) ends after PointerAuthMask
	kernelFile: "ntkrnlmp", halFile: "hal",

	ntBase: 0xFFFFF8043C200000, halBase: 0xFFFFF8043B800000, driverBase: 0xFFFFF8043F000000,
	kuserSharedData:     0xFFFFF78000000000, // §5.1
	arena:               0xFFFFD10000000000,
	stacks:              0xFFFFC88000000000,
	unmappedVA:          0xFFFFB80000000000,
	gigPageVA:           0xFFFFE00000000000, // a level-1 block descriptor (1 GiB)
	pfnDatabase:         0xFFFFDE0000000000,
	pteBase:             0xFFFFF98000000000, // level-0 index 0x1F3 maps the top table itself
	selfIndex:           0x1F3,
	pebBase:             0x000000E5A0000000,
	highestUserAddress:  0x00007FFFFFFEFFFF,
	systemRangeStart:    0xFFFF800000000000,
	stackSize:           0x6000,
	initialStackReserve: 0x40, // keeps the stack pointer 16-byte aligned (the ARM64 ABI)
	objectRoom:          0x80,
	imageBase:           0x00007FF7B3400000, imageStep: 0x10000000, userThreadStart: 0x00007FFC2E8E0000 + 0x30,

	eprocess: eprocessLayout{size: 0xa60, dirBase: 0x48, pcbThreadListHead: 0x50, kernelTime: 0x39c,
		userTime: 0x3a0, basePriority: 0x2a0, uniqueProcessID: 0x460, activeProcessLinks: 0x468,
		createTime: 0x488, token: 0x4d8, objectTable: 0x590, parentPID: 0x560, peb: 0x570,
		imageFileName: 0x5c8, priorityClass: 0x5d7, threadListHead: 0x600, activeThreads: 0x610,
		virtualSize: 0x4b8, sectionBaseAddress: 0x540},
	kthread: kthreadLayout{initialStack: 0x38, stackLimit: 0x40, stackBase: 0x48, kernelStack: 0x68,
		trapFrame: 0xa0, apcProcess: 0xc8, priority: 0xd3, teb: 0x100, contextSwitches: 0x164,
		state: 0x194, waitIrql: 0x196, waitMode: 0x197, waitTime: 0x1c4, nextProcessor: 0x228,
		process: 0x230, previousMode: 0x242, basePriority: 0x243, affinity: 0x250, waitReason: 0x293,
		kernelTime: 0x29c, userTime: 0x2ec, threadListEntry: 0x308},
	ethread: ethreadLayout{size: 0x8c0, createTime: 0x450, startAddress: 0x470, cid: 0x498,
		irpList: 0x4d0, win32StartAddress: 0x4f0, threadListEntry: 0x508},
	// No KernelDirectoryTableBase (an x64 KVA-shadow field); ProcessorState.ContextFrame holds
	// the 0x390-byte ARM64 CONTEXT (§4.4).
	kprcb: kprcbLayout{size: 0xaf80, currentThread: 0x18, nextThread: 0x20, idleThread: 0x28, number: 0x34,
		contextFrame: 0x400, context: 0x85d0, cpuType: 0x50, mhz: 0x54, dpcStack: 0x3120,
		isrStack: 0x85e8, vendorString: 0x85a0},
	kpcr: kpcrLayout{size: 0xb900, self: 0x28, currentPrcb: 0x30, irql: 0x60, kdVersionBlock: 0x118,
		prcb: 0x980, number: 0x62},
	// The x64 19041 KLDR_DATA_TABLE_ENTRY: the same layout on every 64-bit machine.
	ldr: ldrLayout{size: 0xa0, inLoadOrderLinks: 0, exceptionTable: 0x10, exceptionTableSize: 0x18,
		dllBase: 0x30, entryPoint: 0x38, sizeOfImage: 0x40, fullDllName: 0x48, baseDllName: 0x58,
		flags: 0x68, loadCount: 0x6c, checkSum: 0x78, sizeOfImageNotRounded: 0x98, timeDateStamp: 0x9c},
	handles: handleTableLayout{size: 0x88, nextHandleNeedingPool: 0x4, tableCode: 0x10, quotaProcess: 0x18,
		handleTableList: 0x20, uniqueProcessID: 0x30},
	peb: pebLayout{imageBaseAddress: 0x10, ldr: 0x18, processParameters: 0x20, numberOfProcessors: 0xb8,
		osMajorVersion: 0x118, osMinorVersion: 0x11c, osBuildNumber: 0x120, osPlatformID: 0x124, sessionID: 0x2c0},
	irp: irpLayout{size: 0x118, mdlAddress: 0x8, flags: 0x10, threadListEntry: 0x20},
}
