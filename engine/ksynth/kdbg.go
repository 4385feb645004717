package ksynth

// KDDEBUGGER_DATA64 (FORMATS.md §2), in plain form as a bug-check dump holds it (§1.5): a
// block in nt's data, linked from KdpDebuggerDataListHead, with the addresses of the kernel
// variables and, §2.1, the structure offsets of the build. 32-bit kernels use the same layout
// with pointers sign-extended.

// kdbgOffsets are the field offsets of §2's table that the writer sets, by their §2 names.
var kdbgOffsets = map[string]uint64{
	"KernBase": 0x018, "PsLoadedModuleList": 0x048, "PsActiveProcessHead": 0x050, "PspCidTable": 0x058,
	"KeTimeIncrement": 0x078, "MmPfnDatabase": 0x0c0, "MmNumberOfPhysicalPages": 0x0f8,
	"MmHighestPhysicalPage": 0x0f0, "MmLowestPhysicalPage": 0x0e8,
	"MmHighestUserAddress": 0x1c8, "MmSystemRangeStart": 0x1d0, "MmUserProbeAddress": 0x1d8,
	"NtBuildLab": 0x208, "KiProcessorBlock": 0x218, "MmUnloadedDrivers": 0x220,
	"MmLastUnloadedDriver": 0x228, "CmNtCSDVersion": 0x268, "PoolTrackTable": 0x1b8,
	"MmPhysicalMemoryBlock": 0x270,
}

// kdbgOffsets16 are the u16 Offset*/Size* fields (§2, §2.1).
var kdbgOffsets16 = map[string]uint64{
	"OffsetKThreadNextProcessor": 0x298, "OffsetKThreadTeb": 0x29a, "OffsetKThreadKernelStack": 0x29c,
	"OffsetKThreadInitialStack": 0x29e, "OffsetKThreadApcProcess": 0x2a0, "OffsetKThreadState": 0x2a2,
	"SizeEProcess": 0x2a8, "OffsetEprocessPeb": 0x2aa, "OffsetEprocessParentCID": 0x2ac,
	"OffsetEprocessDirectoryTableBase": 0x2ae, "SizePrcb": 0x2b0, "OffsetPrcbCurrentThread": 0x2b4,
	"OffsetPrcbMhz": 0x2b6, "OffsetPrcbCpuType": 0x2b8, "OffsetPrcbVendorString": 0x2ba,
	"OffsetPrcbProcStateContext": 0x2bc, "OffsetPrcbNumber": 0x2be, "SizeEThread": 0x2c0,
	"SizePcr": 0x2e0, "OffsetPcrSelfPcr": 0x2e2, "OffsetPcrCurrentPrcb": 0x2e4,
	"OffsetPcrContainedPrcb": 0x2e6, "OffsetPrcbContext": 0x338,
	// Windows 8 and later (past the Win7 Size of 0x340):
	"OffsetPrcbIdleThread": 0x350, "OffsetPrcbDpcStack": 0x354, "OffsetPrcbIsrStack": 0x356,
	"OffsetKThreadWaitReason": 0x35c,
}

// kdbgOffsets32 are the u32 offset fields at 0x340.. (Windows 8 and later).
var kdbgOffsets32 = map[string]uint64{
	"OffsetKThreadStackLimit": 0x340, "OffsetKThreadStackBase": 0x344, "OffsetEThreadIrpList": 0x34c,
}

func (b *builder) buildKdbg() error {
	p := b.p
	size := uint64(p.kdbgSize)
	block := b.global("KdDebuggerDataBlock", size)
	listHead := b.global("KdpDebuggerDataListHead", 16)
	// Header: List (LIST_ENTRY64), OwnerTag 'KDBG', Size.
	b.u64(block, p.canon(listHead))
	b.u64(block+8, p.canon(listHead))
	b.u64(listHead, p.canon(block))
	b.u64(listHead+8, p.canon(block))
	b.write(block+0x10, []byte("KDBG"))
	b.u32(block+0x14, p.kdbgSize)
	flags := uint16(0)
	switch {
	case p.is64 && p.build >= 9200:
		flags = 4 << 2 // PagingLevels 4
	case p.is64:
		// Windows 7: the §2 sizes put the PagingLevels bits in a later era; 0 says "not set",
		// which readers must take as "four levels".
	case p.pae:
		flags = 1 // PaeEnabled
	}
	b.u16(block+0x36, flags)

	// Variables the pointer fields name (their addresses go in the block).
	timeInc := b.global("KeTimeIncrement", 4)
	b.u32(timeInc, timeIncrement)
	pfnVar := b.global("MmPfnDatabase", 8)
	b.ptr(pfnVar, p.pfnDatabase)
	pages := b.global("MmNumberOfPhysicalPages", 8)
	b.ptr(pages, b.mem.maxPFN-1-(ramHoleEnd-ramHoleFirst))
	highest := b.global("MmHighestPhysicalPage", 8)
	b.ptr(highest, b.mem.maxPFN-1)
	lowest := b.global("MmLowestPhysicalPage", 8)
	b.ptr(lowest, 1)
	hiUser := b.global("MmHighestUserAddress", 8)
	b.ptr(hiUser, p.highestUserAddress)
	sysRange := b.global("MmSystemRangeStart", 8)
	b.ptr(sysRange, p.systemRangeStart)
	probe := b.global("MmUserProbeAddress", 8)
	b.ptr(probe, p.highestUserAddress+1-0x10000)
	cid := b.global("PspCidTable", 8)
	unloaded := b.global("MmUnloadedDrivers", 8)
	lastUnloaded := b.global("MmLastUnloadedDriver", 4)
	csd := b.global("CmNtCSDVersion", 4)
	poolTrack := b.global("PoolTrackTable", 8)
	physBlock := b.global("MmPhysicalMemoryBlock", 8)
	lab := "19041.1.amd64fre.vb_release.191206-1406"
	switch {
	case !p.is64:
		lab = "7601.24545.x86fre.win7sp1_ldr_escrow.200102-1707"
	case p.build == 7601:
		lab = "7601.24545.amd64fre.win7sp1_ldr_escrow.200102-1707"
	case p.arm64:
		lab = "22621.1.arm64fre.ni_release.220506-1250"
	}
	if p.build == 7601 {
		b.u32(csd, 0x100) // Service Pack 1
	}
	buildLab := b.global("NtBuildLab", uint64(len(lab)+1))
	b.write(buildLab, []byte(lab))

	values := map[string]uint64{
		"KernBase": b.nt.base, "PsLoadedModuleList": b.m.PsLoadedModuleList,
		"PsActiveProcessHead": b.m.PsActiveProcessHead, "PspCidTable": cid, "KeTimeIncrement": timeInc,
		"MmPfnDatabase": pfnVar, "MmNumberOfPhysicalPages": pages, "MmHighestPhysicalPage": highest,
		"MmLowestPhysicalPage": lowest, "MmHighestUserAddress": hiUser, "MmSystemRangeStart": sysRange,
		"MmUserProbeAddress": probe, "NtBuildLab": buildLab, "KiProcessorBlock": b.globals["KiProcessorBlock"],
		"MmUnloadedDrivers": unloaded, "MmLastUnloadedDriver": lastUnloaded, "CmNtCSDVersion": csd,
		"PoolTrackTable": poolTrack, "MmPhysicalMemoryBlock": physBlock,
	}
	e, kt, et, pr, pc := p.eprocess, p.kthread, p.ethread, p.kprcb, p.kpcr
	offsets := map[string]uint64{
		"OffsetKThreadNextProcessor": kt.nextProcessor, "OffsetKThreadTeb": kt.teb,
		"OffsetKThreadKernelStack": kt.kernelStack, "OffsetKThreadInitialStack": kt.initialStack,
		"OffsetKThreadApcProcess": kt.apcProcess, "OffsetKThreadState": kt.state,
		"SizeEProcess": e.size, "OffsetEprocessPeb": e.peb, "OffsetEprocessParentCID": e.parentPID,
		"OffsetEprocessDirectoryTableBase": e.dirBase, "SizePrcb": pr.size,
		"OffsetPrcbCurrentThread": pr.currentThread, "OffsetPrcbMhz": pr.mhz, "OffsetPrcbCpuType": pr.cpuType,
		"OffsetPrcbVendorString": pr.vendorString, "OffsetPrcbProcStateContext": pr.contextFrame,
		"OffsetPrcbNumber": pr.number, "SizeEThread": et.size, "SizePcr": pc.size,
		"OffsetPcrSelfPcr": pc.self, "OffsetPcrCurrentPrcb": pc.currentPrcb, "OffsetPcrContainedPrcb": pc.prcb,
		"OffsetPrcbContext": pr.context, "OffsetPrcbIdleThread": pr.idleThread, "OffsetPrcbDpcStack": pr.dpcStack,
		"OffsetPrcbIsrStack": pr.isrStack, "OffsetKThreadWaitReason": kt.waitReason,
		"OffsetKThreadStackLimit": kt.stackLimit, "OffsetKThreadStackBase": kt.stackBase,
		"OffsetEThreadIrpList": et.irpList,
	}
	facts := map[string]uint64{}
	for name, off := range kdbgOffsets {
		if off+8 <= size {
			b.u64(block+off, p.canon(values[name]))
			facts[name] = values[name]
		}
	}
	for name, off := range kdbgOffsets16 {
		if off+2 <= size && offsets[name] != 0 {
			b.u16(block+off, uint16(offsets[name]))
			facts[name] = offsets[name]
		}
	}
	for name, off := range kdbgOffsets32 {
		if off+4 <= size {
			b.u32(block+off, uint32(offsets[name]))
			facts[name] = offsets[name]
		}
	}
	if p.is64 && size >= 0x368 {
		b.u64(block+0x360, p.pteBase) // PteBase: the value of MmPteBase (§2)
		facts["PteBase"] = p.pteBase
	}
	if err := b.buildL1TF(block, facts); err != nil { // L1tf* fields and the swizzled page (l1tf.go)
		return err
	}
	// DBGKD_GET_VERSION64.PsLoadedModuleList and DebuggerDataList (§2.2).
	v := b.m.KdVersionBlock
	b.u64(v+0x18, p.canon(b.m.PsLoadedModuleList))
	b.u64(v+0x20, p.canon(listHead))
	b.m.KdDebuggerDataBlock = block
	b.m.KDBG = KDBGFacts{Address: block, Size: p.kdbgSize, Fields: facts}
	return nil
}
