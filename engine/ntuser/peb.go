package ntuser

import "wdbg/engine"

// PEB is the part of a process environment block that !peb shows, with the loader data and the
// process parameters it points to. Offsets: layout.go (FORMATS.md §5 _PEB).
type PEB struct {
	Address     uint64
	PointerSize int

	InheritedAddressSpace    Value
	ReadImageFileExecOptions Value
	BeingDebugged            Value
	ImageBaseAddress         Value
	Ldr                      Value
	ProcessParameters        Value
	SubSystemData            Value
	ProcessHeap              Value
	NtGlobalFlag             Value
	NtGlobalFlag2            Value // builds 17763 and later; invalid before
	// NoNtGlobalFlag2 is true when the target's build predates the NtGlobalFlag2 field (rather
	// than the field being missing from the dump).
	NoNtGlobalFlag2 bool

	// Loader is the PEB_LDR_DATA that Ldr points to; nil when Ldr is unreadable or NULL, or the
	// structure is not in the dump (LoaderError then says which).
	Loader      *LoaderData
	LoaderError error
	// Parameters is the RTL_USER_PROCESS_PARAMETERS that ProcessParameters points to; nil (with
	// ParametersError) when it cannot be read.
	Parameters      *ProcessParameters
	ParametersError error
}

// ReadPEB reads the PEB at addr, then its loader data (walking the module list) and its process
// parameters (with the environment). ptrSize is 4 for x86 and for the PEB32 of a WOW64 process, 8
// for x64; build is the target's OS build (engine.Target.System.BuildNumber, 0 when unknown).
// The error is a *NotInDumpError only when none of the PEB's fields is in the dump.
func ReadPEB(mem engine.Memory, addr uint64, ptrSize int, build uint32) (*PEB, error) {
	if err := checkPointerSize(ptrSize); err != nil {
		return nil, err
	}
	r := reader{mem, ptrSize}
	o := layoutFor(ptrSize, build).peb
	p := &PEB{
		Address:                  addr,
		PointerSize:              ptrSize,
		InheritedAddressSpace:    r.u8(addr, o.inheritedAddressSpace),
		ReadImageFileExecOptions: r.u8(addr, o.readImageFileExecOptions),
		BeingDebugged:            r.u8(addr, o.beingDebugged),
		ImageBaseAddress:         r.ptr(addr, o.imageBaseAddress),
		Ldr:                      r.ptr(addr, o.ldr),
		ProcessParameters:        r.ptr(addr, o.processParameters),
		SubSystemData:            r.ptr(addr, o.subSystemData),
		ProcessHeap:              r.ptr(addr, o.processHeap),
		NtGlobalFlag:             r.u32(addr, o.ntGlobalFlag),
		NtGlobalFlag2:            r.u32(addr, o.ntGlobalFlag2),
		NoNtGlobalFlag2:          o.ntGlobalFlag2 == noField,
	}
	if !anyValid(p.InheritedAddressSpace, p.ReadImageFileExecOptions, p.BeingDebugged, p.ImageBaseAddress,
		p.Ldr, p.ProcessParameters, p.SubSystemData, p.ProcessHeap, p.NtGlobalFlag, p.NtGlobalFlag2) {
		return nil, &NotInDumpError{Struct: "PEB", Addr: addr}
	}
	switch {
	case !p.Ldr.Valid:
		p.LoaderError = &engine.ReadError{Addr: addr + uint64(o.ldr)}
	case p.Ldr.V == 0:
		p.LoaderError = &NotInDumpError{Struct: "PEB_LDR_DATA", Addr: 0}
	default:
		p.Loader, p.LoaderError = ReadLoaderData(mem, p.Ldr.V, ptrSize)
	}
	switch {
	case !p.ProcessParameters.Valid:
		p.ParametersError = &engine.ReadError{Addr: addr + uint64(o.processParameters)}
	case p.ProcessParameters.V == 0:
		p.ParametersError = &NotInDumpError{Struct: "RTL_USER_PROCESS_PARAMETERS", Addr: 0}
	default:
		p.Parameters, p.ParametersError = ReadProcessParameters(mem, p.ProcessParameters.V, ptrSize, build)
	}
	return p, nil
}

// LdrFieldAddress is the address of PEB.Ldr (PEB + 0x18 on x64, + 0xc on x86): WinDbg names it in
// its "PEB is paged out (Peb.Ldr = ...)" message.
func LdrFieldAddress(peb uint64, ptrSize int) uint64 {
	return peb + uint64(layoutFor(ptrSize, 0).peb.ldr)
}
