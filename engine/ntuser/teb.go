package ntuser

import (
	"errors"

	"wdbg/engine"
)

var errTLSIndex = errors.New("ntuser: TLS slot index out of range 0..63")

// TEB is the part of a thread environment block that !teb shows, plus the fields the engine uses
// (DeallocationStack, TlsSlots). Offsets: layout.go (FORMATS.md §5 _TEB).
type TEB struct {
	Address     uint64
	PointerSize int

	// NT_TIB
	ExceptionList        Value
	StackBase            Value
	StackLimit           Value
	SubSystemTib         Value
	FiberData            Value
	ArbitraryUserPointer Value
	Self                 Value

	EnvironmentPointer           Value
	UniqueProcess                Value // ClientId.UniqueProcess: the process id
	UniqueThread                 Value // ClientId.UniqueThread: the thread id
	ActiveRpcHandle              Value
	ThreadLocalStoragePointer    Value
	ProcessEnvironmentBlock      Value
	LastErrorValue               Value
	CountOfOwnedCriticalSections Value
	LastStatusValue              Value
	DeallocationStack            Value
	HardErrorMode                Value
}

// ReadTEB reads the TEB at addr for a target with the given pointer size (4 for x86 and for the
// 32-bit TEB of a WOW64 thread, 8 for x64). Fields the dump does not hold are invalid Values; the
// error is a *NotInDumpError only when none of them is there.
func ReadTEB(mem engine.Memory, addr uint64, ptrSize int) (*TEB, error) {
	if err := checkPointerSize(ptrSize); err != nil {
		return nil, err
	}
	r := reader{mem, ptrSize}
	o := layoutFor(ptrSize, 0).teb
	t := &TEB{
		Address:                      addr,
		PointerSize:                  ptrSize,
		ExceptionList:                r.ptr(addr, o.exceptionList),
		StackBase:                    r.ptr(addr, o.stackBase),
		StackLimit:                   r.ptr(addr, o.stackLimit),
		SubSystemTib:                 r.ptr(addr, o.subSystemTib),
		FiberData:                    r.ptr(addr, o.fiberData),
		ArbitraryUserPointer:         r.ptr(addr, o.arbitraryUserPointer),
		Self:                         r.ptr(addr, o.self),
		EnvironmentPointer:           r.ptr(addr, o.environmentPointer),
		UniqueProcess:                r.ptr(addr, o.clientID),
		UniqueThread:                 r.ptr(addr, o.clientID+ptrSize),
		ActiveRpcHandle:              r.ptr(addr, o.activeRpcHandle),
		ThreadLocalStoragePointer:    r.ptr(addr, o.threadLocalStoragePointer),
		ProcessEnvironmentBlock:      r.ptr(addr, o.processEnvironmentBlock),
		LastErrorValue:               r.u32(addr, o.lastErrorValue),
		CountOfOwnedCriticalSections: r.u32(addr, o.countOfOwnedCriticalSections),
		LastStatusValue:              r.u32(addr, o.lastStatusValue),
		DeallocationStack:            r.ptr(addr, o.deallocationStack),
		HardErrorMode:                r.u32(addr, o.hardErrorMode),
	}
	if !anyValid(t.ExceptionList, t.StackBase, t.StackLimit, t.SubSystemTib, t.FiberData,
		t.ArbitraryUserPointer, t.Self, t.EnvironmentPointer, t.UniqueProcess, t.UniqueThread,
		t.ActiveRpcHandle, t.ThreadLocalStoragePointer, t.ProcessEnvironmentBlock, t.LastErrorValue,
		t.CountOfOwnedCriticalSections, t.LastStatusValue, t.DeallocationStack, t.HardErrorMode) {
		return nil, &NotInDumpError{Struct: "TEB", Addr: addr}
	}
	return t, nil
}

// PEBAddress reads TEB.ProcessEnvironmentBlock (x64 +0x60, x86 +0x30; FORMATS.md §5 _TEB).
func PEBAddress(mem engine.Memory, teb uint64, ptrSize int) (uint64, error) {
	if err := checkPointerSize(ptrSize); err != nil {
		return 0, err
	}
	o := layoutFor(ptrSize, 0).teb
	v := reader{mem, ptrSize}.ptr(teb, o.processEnvironmentBlock)
	if !v.Valid {
		return 0, &NotInDumpError{Struct: "TEB", Addr: teb}
	}
	return v.V, nil
}

// TLSSlot reads TEB.TlsSlots[i] (FORMATS.md §5 _TEB TlsSlots: 64 pointer-sized slots).
func TLSSlot(mem engine.Memory, teb uint64, ptrSize int, i int) (uint64, error) {
	if err := checkPointerSize(ptrSize); err != nil {
		return 0, err
	}
	if i < 0 || i >= 64 {
		return 0, errTLSIndex
	}
	o := layoutFor(ptrSize, 0).teb
	v := reader{mem, ptrSize}.ptr(teb, o.tlsSlots+i*ptrSize)
	if !v.Valid {
		return 0, &engine.ReadError{Addr: teb + uint64(o.tlsSlots+i*ptrSize)}
	}
	return v.V, nil
}
