package ksynth

// The bug check. x64: DRIVER_IRQL_NOT_LESS_OR_EQUAL (0xD1) — synthdrv read a paged-out
// address at DISPATCH_LEVEL: P1 the address, P2 the IRQL (2), P3 0 (a read), P4 the faulting
// instruction. x86: KERNEL_MODE_EXCEPTION_NOT_HANDLED (0x8E) — an access violation in synthdrv:
// P1 the exception code, P2 the faulting instruction, P3 the trap frame, P4 0.

const (
	statusAccessViolation = 0xC0000005
	// systemTime is the crash time, 2024-03-01 12:00:00 UTC as a FILETIME; systemUpTime is
	// 1 h 2 min 3 s in 100 ns units.
	systemTime   = 133537680000000000
	systemUpTime = (3600 + 2*60 + 3) * 10_000_000
	// timeIncrement is the value at KDBG.KeTimeIncrement: 15.625 ms in 100 ns units.
	timeIncrement = 156250
)

// tickCount is KUSER_SHARED_DATA.TickCountQuad at the crash.
func tickCount() uint64 { return systemUpTime / timeIncrement }

// referencedAddress is the address whose access faulted: the pagefile page on x64 (not present
// at DISPATCH_LEVEL), an unmapped one on x86 (an access violation).
func (b *builder) referencedAddress() uint64 {
	if b.p.is64 {
		return b.p.pageFileVA + 0x10
	}
	return b.p.unmappedVA + 0x10
}

func (b *builder) bugCheck() BugCheck {
	if b.p.arm64 {
		return armBugCheck() // arm64_stacks.go
	}
	if b.p.is64 {
		return BugCheck{Code: 0xD1, Name: "DRIVER_IRQL_NOT_LESS_OR_EQUAL",
			Parameters: [4]uint64{b.referencedAddress(), 2, 0, b.m.FaultingIP}}
	}
	return BugCheck{Code: 0x8E, Name: "KERNEL_MODE_EXCEPTION_NOT_HANDLED",
		Parameters: [4]uint64{statusAccessViolation, b.m.FaultingIP, b.m.TrapFrame, 0}}
}
