package kdbg

// Data is a decoded KDDEBUGGER_DATA64 (FORMATS.md §2). Most fields are addresses of kernel
// variables (PsLoadedModuleList is &nt!PsLoadedModuleList), not their values; Offset*/Size*
// fields are structure layouts of this build (§2.1). A field the block is too short to hold
// (older builds have a smaller Header.Size) stays zero: ask Has before trusting a zero.
//
// The kdbg tag of each field is its offset in the block, transcribed from the table of §2;
// TestLayoutIsNaturallyAligned re-derives every offset from the field order.
type Data struct {
	PointerSize int    // 4 or 8: 4 means every 64-bit field was masked to 32 bits (§1.3, §2)
	ListFlink   uint64 // Header.List: links into nt!KdpDebuggerDataListHead
	ListBlink   uint64
	OwnerTag    uint32 // 'KDBG'
	Size        uint32 // Header.Size: the block's size for this build
	decoded     uint32 // bytes actually decoded: min(Size, len(input))

	KernBase                            uint64 `kdbg:"0x018"`
	BreakpointWithStatus                uint64 `kdbg:"0x020"`
	SavedContext                        uint64 `kdbg:"0x028"`
	ThCallbackStack                     uint16 `kdbg:"0x030"`
	NextCallback                        uint16 `kdbg:"0x032"`
	FramePointer                        uint16 `kdbg:"0x034"`
	Flags                               uint16 `kdbg:"0x036"` // bitfield: PaeEnabled 0, KiBugCheckRecoveryActive 1, PagingLevels 5:2
	KiCallUserMode                      uint64 `kdbg:"0x038"`
	KeUserCallbackDispatcher            uint64 `kdbg:"0x040"`
	PsLoadedModuleList                  uint64 `kdbg:"0x048"`
	PsActiveProcessHead                 uint64 `kdbg:"0x050"`
	PspCidTable                         uint64 `kdbg:"0x058"`
	ExpSystemResourcesList              uint64 `kdbg:"0x060"`
	ExpPagedPoolDescriptor              uint64 `kdbg:"0x068"`
	ExpNumberOfPagedPools               uint64 `kdbg:"0x070"`
	KeTimeIncrement                     uint64 `kdbg:"0x078"`
	KeBugCheckCallbackListHead          uint64 `kdbg:"0x080"`
	KiBugcheckData                      uint64 `kdbg:"0x088"`
	IopErrorLogListHead                 uint64 `kdbg:"0x090"`
	ObpRootDirectoryObject              uint64 `kdbg:"0x098"`
	ObpTypeObjectType                   uint64 `kdbg:"0x0a0"`
	MmSystemCacheStart                  uint64 `kdbg:"0x0a8"`
	MmSystemCacheEnd                    uint64 `kdbg:"0x0b0"`
	MmSystemCacheWs                     uint64 `kdbg:"0x0b8"`
	MmPfnDatabase                       uint64 `kdbg:"0x0c0"`
	MmSystemPtesStart                   uint64 `kdbg:"0x0c8"`
	MmSystemPtesEnd                     uint64 `kdbg:"0x0d0"`
	MmSubsectionBase                    uint64 `kdbg:"0x0d8"`
	MmNumberOfPagingFiles               uint64 `kdbg:"0x0e0"`
	MmLowestPhysicalPage                uint64 `kdbg:"0x0e8"`
	MmHighestPhysicalPage               uint64 `kdbg:"0x0f0"`
	MmNumberOfPhysicalPages             uint64 `kdbg:"0x0f8"`
	MmMaximumNonPagedPoolInBytes        uint64 `kdbg:"0x100"`
	MmNonPagedSystemStart               uint64 `kdbg:"0x108"`
	MmNonPagedPoolStart                 uint64 `kdbg:"0x110"`
	MmNonPagedPoolEnd                   uint64 `kdbg:"0x118"`
	MmPagedPoolStart                    uint64 `kdbg:"0x120"`
	MmPagedPoolEnd                      uint64 `kdbg:"0x128"`
	MmPagedPoolInformation              uint64 `kdbg:"0x130"`
	MmPageSize                          uint64 `kdbg:"0x138"`
	MmSizeOfPagedPoolInBytes            uint64 `kdbg:"0x140"`
	MmTotalCommitLimit                  uint64 `kdbg:"0x148"`
	MmTotalCommittedPages               uint64 `kdbg:"0x150"`
	MmSharedCommit                      uint64 `kdbg:"0x158"`
	MmDriverCommit                      uint64 `kdbg:"0x160"`
	MmProcessCommit                     uint64 `kdbg:"0x168"`
	MmPagedPoolCommit                   uint64 `kdbg:"0x170"`
	MmExtendedCommit                    uint64 `kdbg:"0x178"`
	MmZeroedPageListHead                uint64 `kdbg:"0x180"`
	MmFreePageListHead                  uint64 `kdbg:"0x188"`
	MmStandbyPageListHead               uint64 `kdbg:"0x190"`
	MmModifiedPageListHead              uint64 `kdbg:"0x198"`
	MmModifiedNoWritePageListHead       uint64 `kdbg:"0x1a0"`
	MmAvailablePages                    uint64 `kdbg:"0x1a8"`
	MmResidentAvailablePages            uint64 `kdbg:"0x1b0"`
	PoolTrackTable                      uint64 `kdbg:"0x1b8"`
	NonPagedPoolDescriptor              uint64 `kdbg:"0x1c0"`
	MmHighestUserAddress                uint64 `kdbg:"0x1c8"`
	MmSystemRangeStart                  uint64 `kdbg:"0x1d0"`
	MmUserProbeAddress                  uint64 `kdbg:"0x1d8"`
	KdPrintCircularBuffer               uint64 `kdbg:"0x1e0"`
	KdPrintCircularBufferEnd            uint64 `kdbg:"0x1e8"`
	KdPrintWritePointer                 uint64 `kdbg:"0x1f0"`
	KdPrintRolloverCount                uint64 `kdbg:"0x1f8"`
	MmLoadedUserImageList               uint64 `kdbg:"0x200"`
	NtBuildLab                          uint64 `kdbg:"0x208"`
	KiNormalSystemCall                  uint64 `kdbg:"0x210"`
	KiProcessorBlock                    uint64 `kdbg:"0x218"`
	MmUnloadedDrivers                   uint64 `kdbg:"0x220"`
	MmLastUnloadedDriver                uint64 `kdbg:"0x228"`
	MmTriageActionTaken                 uint64 `kdbg:"0x230"`
	MmSpecialPoolTag                    uint64 `kdbg:"0x238"`
	KernelVerifier                      uint64 `kdbg:"0x240"`
	MmVerifierData                      uint64 `kdbg:"0x248"`
	MmAllocatedNonPagedPool             uint64 `kdbg:"0x250"`
	MmPeakCommitment                    uint64 `kdbg:"0x258"`
	MmTotalCommitLimitMaximum           uint64 `kdbg:"0x260"`
	CmNtCSDVersion                      uint64 `kdbg:"0x268"`
	MmPhysicalMemoryBlock               uint64 `kdbg:"0x270"`
	MmSessionBase                       uint64 `kdbg:"0x278"`
	MmSessionSize                       uint64 `kdbg:"0x280"`
	MmSystemParentTablePage             uint64 `kdbg:"0x288"`
	MmVirtualTranslationBase            uint64 `kdbg:"0x290"`
	OffsetKThreadNextProcessor          uint16 `kdbg:"0x298"`
	OffsetKThreadTeb                    uint16 `kdbg:"0x29a"`
	OffsetKThreadKernelStack            uint16 `kdbg:"0x29c"`
	OffsetKThreadInitialStack           uint16 `kdbg:"0x29e"`
	OffsetKThreadApcProcess             uint16 `kdbg:"0x2a0"`
	OffsetKThreadState                  uint16 `kdbg:"0x2a2"`
	OffsetKThreadBStore                 uint16 `kdbg:"0x2a4"`
	OffsetKThreadBStoreLimit            uint16 `kdbg:"0x2a6"`
	SizeEProcess                        uint16 `kdbg:"0x2a8"`
	OffsetEprocessPeb                   uint16 `kdbg:"0x2aa"`
	OffsetEprocessParentCID             uint16 `kdbg:"0x2ac"`
	OffsetEprocessDirectoryTableBase    uint16 `kdbg:"0x2ae"`
	SizePrcb                            uint16 `kdbg:"0x2b0"`
	OffsetPrcbDpcRoutine                uint16 `kdbg:"0x2b2"`
	OffsetPrcbCurrentThread             uint16 `kdbg:"0x2b4"`
	OffsetPrcbMhz                       uint16 `kdbg:"0x2b6"`
	OffsetPrcbCpuType                   uint16 `kdbg:"0x2b8"`
	OffsetPrcbVendorString              uint16 `kdbg:"0x2ba"`
	OffsetPrcbProcStateContext          uint16 `kdbg:"0x2bc"`
	OffsetPrcbNumber                    uint16 `kdbg:"0x2be"`
	SizeEThread                         uint16 `kdbg:"0x2c0"`
	L1tfHighPhysicalBitIndex            uint8  `kdbg:"0x2c2"`
	L1tfSwizzleBitIndex                 uint8  `kdbg:"0x2c3"`
	Padding0                            uint32 `kdbg:"0x2c4"`
	KdPrintCircularBufferPtr            uint64 `kdbg:"0x2c8"`
	KdPrintBufferSize                   uint64 `kdbg:"0x2d0"`
	KeLoaderBlock                       uint64 `kdbg:"0x2d8"`
	SizePcr                             uint16 `kdbg:"0x2e0"`
	OffsetPcrSelfPcr                    uint16 `kdbg:"0x2e2"`
	OffsetPcrCurrentPrcb                uint16 `kdbg:"0x2e4"`
	OffsetPcrContainedPrcb              uint16 `kdbg:"0x2e6"`
	OffsetPcrInitialBStore              uint16 `kdbg:"0x2e8"`
	OffsetPcrBStoreLimit                uint16 `kdbg:"0x2ea"`
	OffsetPcrInitialStack               uint16 `kdbg:"0x2ec"`
	OffsetPcrStackLimit                 uint16 `kdbg:"0x2ee"`
	OffsetPrcbPcrPage                   uint16 `kdbg:"0x2f0"`
	OffsetPrcbProcStateSpecialReg       uint16 `kdbg:"0x2f2"`
	GdtR0Code                           uint16 `kdbg:"0x2f4"`
	GdtR0Data                           uint16 `kdbg:"0x2f6"`
	GdtR0Pcr                            uint16 `kdbg:"0x2f8"`
	GdtR3Code                           uint16 `kdbg:"0x2fa"`
	GdtR3Data                           uint16 `kdbg:"0x2fc"`
	GdtR3Teb                            uint16 `kdbg:"0x2fe"`
	GdtLdt                              uint16 `kdbg:"0x300"`
	GdtTss                              uint16 `kdbg:"0x302"`
	Gdt64R3CmCode                       uint16 `kdbg:"0x304"`
	Gdt64R3CmTeb                        uint16 `kdbg:"0x306"`
	IopNumTriageDumpDataBlocks          uint64 `kdbg:"0x308"`
	IopTriageDumpDataBlocks             uint64 `kdbg:"0x310"`
	VfCrashDataBlock                    uint64 `kdbg:"0x318"`
	MmBadPagesDetected                  uint64 `kdbg:"0x320"`
	MmZeroedPageSingleBitErrorsDetected uint64 `kdbg:"0x328"`
	EtwpDebuggerData                    uint64 `kdbg:"0x330"`
	OffsetPrcbContext                   uint16 `kdbg:"0x338"`
	OffsetPrcbMaxBreakpoints            uint16 `kdbg:"0x33a"`
	OffsetPrcbMaxWatchpoints            uint16 `kdbg:"0x33c"`
	OffsetKThreadStackLimit             uint32 `kdbg:"0x340"`
	OffsetKThreadStackBase              uint32 `kdbg:"0x344"`
	OffsetKThreadQueueListEntry         uint32 `kdbg:"0x348"`
	OffsetEThreadIrpList                uint32 `kdbg:"0x34c"`
	OffsetPrcbIdleThread                uint16 `kdbg:"0x350"`
	OffsetPrcbNormalDpcState            uint16 `kdbg:"0x352"`
	OffsetPrcbDpcStack                  uint16 `kdbg:"0x354"`
	OffsetPrcbIsrStack                  uint16 `kdbg:"0x356"`
	SizeKDPC_STACK_FRAME                uint16 `kdbg:"0x358"`
	OffsetKPriQueueThreadListHead       uint16 `kdbg:"0x35a"`
	OffsetKThreadWaitReason             uint16 `kdbg:"0x35c"`
	Padding1                            uint16 `kdbg:"0x35e"`
	PteBase                             uint64 `kdbg:"0x360"`
	RetpolineStubFunctionTable          uint64 `kdbg:"0x368"`
	RetpolineStubFunctionTableSize      uint32 `kdbg:"0x370"`
	RetpolineStubOffset                 uint32 `kdbg:"0x374"`
	RetpolineStubSize                   uint32 `kdbg:"0x378"`
	OffsetEProcessMmHotPatchContext     uint16 `kdbg:"0x37c"`
	OffsetKThreadShadowStackLimit       uint32 `kdbg:"0x380"`
	OffsetKThreadShadowStackBase        uint32 `kdbg:"0x384"`
	ShadowStackEnabled                  uint64 `kdbg:"0x388"`
	PointerAuthMask                     uint64 `kdbg:"0x390"`
	OffsetPrcbExceptionStack            uint16 `kdbg:"0x398"`
	PointerIgnoreBits                   uint64 `kdbg:"0x3a0"`
}
