package kernel

import "wdbg/engine/cpu"

// Structures no FORMATS.md §5 table covers, written here as single-source facts. PDB types of
// the same name override them (Layout.Field asks the TypeSource first).
type factStruct struct {
	size   uint64
	fields map[string]uint64
}

var codeFacts = map[cpu.Arch]map[string]factStruct{
	cpu.ArchAMD64: {
		// IRP: the public wdm.h declaration (Type CSHORT, Size USHORT, AllocationProcessorNumber
		// USHORT, Reserved USHORT, MdlAddress, Flags ULONG, AssociatedIrp, ThreadListEntry)
		// with x64 natural alignment. The size is left to the PDB.
		"_IRP": {fields: map[string]uint64{"Type": 0, "Size": 2, "MdlAddress": 8, "Flags": 0x10, "ThreadListEntry": 0x20}},
		// KSWITCH_FRAME, Windows 8+ x64: public `dt nt!_KSWITCH_FRAME` output shows P1Home..P5Home
		// at 0..0x20, ApcBypass at 0x28, Rbp at 0x30, Return at 0x38, size 0x40. Single source
		// (FORMATS.md §8.1 and §9 list the layout as a gap); Windows 7 is assumed to match.
		"_KSWITCH_FRAME": {size: 0x40, fields: map[string]uint64{"Rbp": 0x30, "Return": 0x38}},
	},
	cpu.ArchX86: {
		// IRP, wdm.h with 32-bit pointers: Type, Size, MdlAddress @4, Flags @8, AssociatedIrp
		// @0xC, ThreadListEntry @0x10.
		"_IRP": {fields: map[string]uint64{"Type": 0, "Size": 2, "MdlAddress": 4, "Flags": 8, "ThreadListEntry": 0x10}},
		// The x86 switch frame KTHREAD.KernelStack points at: ExceptionList +0, the saved
		// APC-bypass/flags word +4, the return address +8 (single source; see switchframe.go).
		"_KSWITCH_FRAME": {size: 0xC, fields: map[string]uint64{"ExceptionList": 0, "ApcBypassDisable": 4, "RetAddr": 8}},
	},
}

func codeFact(arch cpu.Arch, structName, field string) (uint64, bool) {
	s, ok := codeFacts[arch][structName]
	if !ok {
		return 0, false
	}
	off, ok := s.fields[field]
	return off, ok
}

func codeFactSize(arch cpu.Arch, structName string) (uint64, bool) {
	s, ok := codeFacts[arch][structName]
	return s.size, ok && s.size != 0
}
