package kdump

import (
	"encoding/binary"
	"fmt"

	"wdbg/engine/cpu"
)

// TriageHeader is TRIAGE_DUMP64 / TRIAGE_DUMP32 (FORMATS.md §1.6), widened to one form. Every
// *Offset is an absolute file offset; 0 means the part is absent.
type TriageHeader struct {
	ServicePackBuild      uint32
	SizeOfDump            uint32
	ValidOffset           uint32
	ContextOffset         uint32
	ExceptionOffset       uint32
	MmOffset              uint32
	UnloadedDriversOffset uint32
	PrcbOffset            uint32
	ProcessOffset         uint32
	ThreadOffset          uint32
	CallStackOffset       uint32
	SizeOfCallStack       uint32
	DriverListOffset      uint32
	DriverCount           uint32
	StringPoolOffset      uint32
	StringPoolSize        uint32
	BrokenDriverOffset    uint32
	TriageOptions         uint32
	TopOfStack            uint64 // virtual address of the bytes at CallStackOffset
	// IA-64 backing store (64-bit header only; unused on x64 and ARM64).
	BStoreOffset  uint32
	SizeOfBStore  uint32
	LimitOfBStore uint64

	DataPageAddress    uint64
	DataPageOffset     uint32
	DataPageSize       uint32
	DebuggerDataOffset uint32 // a decoded KDDEBUGGER_DATA64 copy
	DebuggerDataSize   uint32
	DataBlocksOffset   uint32
	DataBlocksCount    uint32

	Offset int64 // where the triage header is in the file
}

// Sizes of the triage records (FORMATS.md §1.6).
const (
	triageHeader64Size = 0x80
	triageHeader32Size = 0x68
	driverEntry64Size  = 0x90
	driverEntry32Size  = 0x4C
)

// readTriageHeader decodes TRIAGE_DUMP64/32 right after DUMP_HEADER (FORMATS.md §1.6).
func (f *File) readTriageHeader() (*TriageHeader, error) {
	is64 := f.Header.Is64
	off := uint64(f.Header.Size())
	n := uint64(triageHeader32Size)
	what := "TRIAGE_DUMP32"
	if is64 {
		n, what = triageHeader64Size, "TRIAGE_DUMP64"
	}
	b, err := f.block(off, n, what)
	if err != nil {
		return nil, err
	}
	c := newCursor(b, int64(off), what)
	t := &TriageHeader{Offset: int64(off)}
	for _, p := range []*uint32{&t.ServicePackBuild, &t.SizeOfDump, &t.ValidOffset, &t.ContextOffset,
		&t.ExceptionOffset, &t.MmOffset, &t.UnloadedDriversOffset, &t.PrcbOffset, &t.ProcessOffset,
		&t.ThreadOffset, &t.CallStackOffset, &t.SizeOfCallStack, &t.DriverListOffset, &t.DriverCount,
		&t.StringPoolOffset, &t.StringPoolSize, &t.BrokenDriverOffset, &t.TriageOptions} {
		*p = c.u32()
	}
	t.TopOfStack = c.ptr(is64) // @0x48
	if is64 {
		t.BStoreOffset, t.SizeOfBStore, t.LimitOfBStore = c.u32(), c.u32(), c.u64()
	}
	t.DataPageAddress = c.ptr(is64) // 64 @0x60, 32 @0x4C
	for _, p := range []*uint32{&t.DataPageOffset, &t.DataPageSize, &t.DebuggerDataOffset,
		&t.DebuggerDataSize, &t.DataBlocksOffset, &t.DataBlocksCount} {
		*p = c.u32()
	}
	return t, c.err
}

// triage returns the triage header or an error saying the dump is not a small dump.
func (f *File) triage() (*TriageHeader, error) {
	if f.Triage == nil {
		return nil, fmt.Errorf("kdump: not a small (triage) dump (DumpType %s)", f.Header.DumpType)
	}
	return f.Triage, nil
}

// TriageValid reports whether the ULONG at ValidOffset holds the 'TRGD' marker a complete
// triage dump ends with.
func (f *File) TriageValid() bool {
	t := f.Triage
	if t == nil || t.ValidOffset == 0 {
		return false
	}
	b, err := f.block(uint64(t.ValidOffset), 4, "triage valid marker")
	return err == nil && binary.LittleEndian.Uint32(b) == SignatureTriageValid
}

// contextSize is the CONTEXT size of an architecture (FORMATS.md §4.4).
func contextSize(a cpu.Arch) uint64 {
	switch a {
	case cpu.ArchAMD64:
		return 0x4D0
	case cpu.ArchARM64:
		return 0x390
	}
	return 0x2CC
}

// TriageContext decodes the CONTEXT at ContextOffset: the faulting thread's registers.
func (f *File) TriageContext() (cpu.Context, error) {
	t, err := f.triage()
	if err != nil {
		return nil, err
	}
	if t.ContextOffset == 0 {
		return nil, formatErr(t.Offset+0xC, "TRIAGE_DUMP", "no context (ContextOffset is 0)")
	}
	b, err := f.block(uint64(t.ContextOffset), contextSize(f.Arch()), "triage context")
	if err != nil {
		return nil, err
	}
	ctx, err := cpu.Decode(f.Arch(), b)
	if err != nil {
		return nil, formatErr(int64(t.ContextOffset), "triage context", "%v", err)
	}
	return ctx, nil
}

// TriageException decodes the EXCEPTION_RECORD at ExceptionOffset.
func (f *File) TriageException() (*ExceptionRecord, error) {
	t, err := f.triage()
	if err != nil {
		return nil, err
	}
	if t.ExceptionOffset == 0 {
		return nil, formatErr(t.Offset+0x10, "TRIAGE_DUMP", "no exception record (ExceptionOffset is 0)")
	}
	n := uint64(0x50)
	if f.Header.Is64 {
		n = 0x98
	}
	b, err := f.block(uint64(t.ExceptionOffset), n, "triage exception record")
	if err != nil {
		return nil, err
	}
	c := newCursor(b, int64(t.ExceptionOffset), "triage exception record")
	e := decodeException(c, f.Header.Is64)
	return &e, c.err
}

// TriageBlock is one part of a triage dump: where its bytes are in the file, how many, and the
// virtual address they were copied from when that is known.
type TriageBlock struct {
	Offset int64
	Size   uint64
	Addr   uint64
	HasVA  bool
}

// Bytes returns the block's bytes (a slice of the mapping when mapped).
func (f *File) Bytes(b TriageBlock) ([]byte, error) {
	return f.block(uint64(b.Offset), b.Size, "triage block")
}

// kdbgField reads an unsigned field of the triage KDDEBUGGER_DATA64 copy (FORMATS.md §2),
// when the copy and its Header.Size both cover it.
func (f *File) kdbgField(off, size uint32) (uint64, bool) {
	t := f.Triage
	if t == nil || t.DebuggerDataOffset == 0 || off+size > t.DebuggerDataSize {
		return 0, false
	}
	b, err := f.block(uint64(t.DebuggerDataOffset), uint64(t.DebuggerDataSize), "triage debugger data")
	if err != nil || len(b) < 0x18 {
		return 0, false
	}
	if declared := binary.LittleEndian.Uint32(b[0x14:]); off+size > declared {
		return 0, false
	}
	switch size {
	case 2:
		return uint64(binary.LittleEndian.Uint16(b[off:])), true
	case 4:
		return uint64(binary.LittleEndian.Uint32(b[off:])), true
	}
	return binary.LittleEndian.Uint64(b[off:]), true
}

// KDDEBUGGER_DATA64 offsets the triage blocks need (FORMATS.md §2).
const (
	kdbgKiProcessorBlock        = 0x218
	kdbgOffsetKThreadApcProcess = 0x2A0
	kdbgSizeEProcess            = 0x2A8
	kdbgSizePrcb                = 0x2B0
	kdbgOffsetPrcbCurrentThread = 0x2B4
	kdbgOffsetPrcbNumber        = 0x2BE
	kdbgSizeEThread             = 0x2C0
)

// copySize is the size of the PRCB / EPROCESS / ETHREAD copy at off: the structure size the
// debugger data gives for this build, else the distance to the next part of the dump.
func (f *File) copySize(off uint32, kdbgSize uint32) uint64 {
	if v, ok := f.kdbgField(kdbgSize, 2); ok && v > 0 {
		return v
	}
	t := f.Triage
	next := uint64(f.size)
	for _, o := range []uint32{t.ValidOffset, t.ContextOffset, t.ExceptionOffset, t.MmOffset,
		t.UnloadedDriversOffset, t.PrcbOffset, t.ProcessOffset, t.ThreadOffset, t.CallStackOffset,
		t.DriverListOffset, t.StringPoolOffset, t.BrokenDriverOffset, t.DataPageOffset,
		t.DebuggerDataOffset, t.DataBlocksOffset} {
		if o > off && uint64(o) < next {
			next = uint64(o)
		}
	}
	return next - uint64(off)
}

// copyBlock is a PRCB / EPROCESS / ETHREAD copy, checked against the file.
func (f *File) copyBlock(off uint32, fieldOff int64, kdbgSize uint32, what string) (TriageBlock, error) {
	t, err := f.triage()
	if err != nil {
		return TriageBlock{}, err
	}
	if off == 0 {
		return TriageBlock{}, formatErr(t.Offset+fieldOff, "TRIAGE_DUMP", "no %s copy (offset is 0)", what)
	}
	b := TriageBlock{Offset: int64(off), Size: f.copySize(off, kdbgSize)}
	if _, err := f.block(uint64(off), b.Size, what); err != nil {
		return TriageBlock{}, err
	}
	return b, nil
}

// pointerAt reads a pointer inside a block's bytes.
func (f *File) pointerAt(b TriageBlock, off uint64) (uint64, bool) {
	n := uint64(4)
	if f.Header.Is64 {
		n = 8
	}
	if off+n > b.Size {
		return 0, false
	}
	raw, err := f.block(uint64(b.Offset)+off, n, "pointer")
	if err != nil {
		return 0, false
	}
	if n == 8 {
		return binary.LittleEndian.Uint64(raw), true
	}
	return uint64(binary.LittleEndian.Uint32(raw)), true
}

// TriageThread is the ETHREAD copy of the faulting thread. Its address is the PRCB's
// CurrentThread when the debugger data gives that offset.
func (f *File) TriageThread() (TriageBlock, error) {
	b, err := f.copyBlock(f.tr().ThreadOffset, 0x24, kdbgSizeEThread, "ETHREAD")
	if err != nil {
		return b, err
	}
	if prcb, err := f.copyBlock(f.Triage.PrcbOffset, 0x1C, kdbgSizePrcb, "KPRCB"); err == nil {
		if o, ok := f.kdbgField(kdbgOffsetPrcbCurrentThread, 2); ok {
			b.Addr, b.HasVA = f.pointerAt(prcb, o)
		}
	}
	return b, nil
}

// TriageProcess is the EPROCESS copy of the faulting thread's process. Its address is the
// thread's ApcState.Process when the debugger data gives that offset.
func (f *File) TriageProcess() (TriageBlock, error) {
	b, err := f.copyBlock(f.tr().ProcessOffset, 0x20, kdbgSizeEProcess, "EPROCESS")
	if err != nil {
		return b, err
	}
	if th, err := f.copyBlock(f.Triage.ThreadOffset, 0x24, kdbgSizeEThread, "ETHREAD"); err == nil {
		if o, ok := f.kdbgField(kdbgOffsetKThreadApcProcess, 2); ok {
			b.Addr, b.HasVA = f.pointerAt(th, o)
		}
	}
	return b, nil
}

// TriagePrcb is the KPRCB copy of the processor that bug-checked. Its address is found through
// KiProcessorBlock[Number] when a data block holds that array.
func (f *File) TriagePrcb() (TriageBlock, error) {
	b, err := f.copyBlock(f.tr().PrcbOffset, 0x1C, kdbgSizePrcb, "KPRCB")
	if err != nil {
		return b, err
	}
	numOff, ok1 := f.kdbgField(kdbgOffsetPrcbNumber, 2)
	table, ok2 := f.kdbgField(kdbgKiProcessorBlock, 8)
	if !ok1 || !ok2 || numOff+2 > b.Size {
		return b, nil
	}
	raw, err := f.block(uint64(b.Offset)+numOff, 2, "KPRCB Number")
	if err != nil {
		return b, nil
	}
	ps := uint64(4)
	if f.Header.Is64 {
		ps = 8
	}
	slot := table + uint64(binary.LittleEndian.Uint16(raw))*ps
	blocks, _ := f.TriageDataBlocks()
	for _, d := range blocks {
		if slot >= d.VirtualAddress && slot-d.VirtualAddress+ps <= uint64(d.Size) {
			b.Addr, b.HasVA = f.pointerAt(TriageBlock{Offset: int64(d.Offset), Size: uint64(d.Size)}, slot-d.VirtualAddress)
			break
		}
	}
	return b, nil
}

// tr is the triage header or an empty one (so that offsets read as absent).
func (f *File) tr() *TriageHeader {
	if f.Triage == nil {
		return &TriageHeader{}
	}
	return f.Triage
}

// TriageCallStack is the faulting thread's stack memory: SizeOfCallStack bytes from TopOfStack.
func (f *File) TriageCallStack() (TriageBlock, error) {
	t, err := f.triage()
	if err != nil {
		return TriageBlock{}, err
	}
	if t.CallStackOffset == 0 || t.SizeOfCallStack == 0 {
		return TriageBlock{}, formatErr(t.Offset+0x28, "TRIAGE_DUMP", "no call stack")
	}
	b := TriageBlock{Offset: int64(t.CallStackOffset), Size: uint64(t.SizeOfCallStack), Addr: t.TopOfStack, HasVA: true}
	_, err = f.block(uint64(b.Offset), b.Size, "triage call stack")
	return b, err
}

// TriageDebuggerData is the KDDEBUGGER_DATA64 copy; its address is the header's
// KdDebuggerDataBlock.
func (f *File) TriageDebuggerData() (TriageBlock, error) {
	t, err := f.triage()
	if err != nil {
		return TriageBlock{}, err
	}
	if t.DebuggerDataOffset == 0 || t.DebuggerDataSize == 0 {
		return TriageBlock{}, formatErr(t.Offset+0x70, "TRIAGE_DUMP", "no debugger data")
	}
	b := TriageBlock{Offset: int64(t.DebuggerDataOffset), Size: uint64(t.DebuggerDataSize), Addr: f.Header.KdDebuggerDataBlock, HasVA: true}
	_, err = f.block(uint64(b.Offset), b.Size, "triage debugger data")
	return b, err
}

// TriageDataPage is the data page block (DataPageAddress, DataPageOffset, DataPageSize).
func (f *File) TriageDataPage() (TriageBlock, error) {
	t, err := f.triage()
	if err != nil {
		return TriageBlock{}, err
	}
	if t.DataPageOffset == 0 || t.DataPageSize == 0 {
		return TriageBlock{}, formatErr(t.Offset+0x68, "TRIAGE_DUMP", "no data page")
	}
	b := TriageBlock{Offset: int64(t.DataPageOffset), Size: uint64(t.DataPageSize), Addr: t.DataPageAddress, HasVA: true}
	_, err = f.block(uint64(b.Offset), b.Size, "triage data page")
	return b, err
}

// TriageProcessorNumber is the KPRCB.Number of the processor that bug-checked, read from the
// PRCB copy at the offset the debugger data gives (FORMATS.md §2.1, OffsetPrcbNumber).
func (f *File) TriageProcessorNumber() (int, bool) {
	b, err := f.copyBlock(f.tr().PrcbOffset, 0x1C, kdbgSizePrcb, "KPRCB")
	if err != nil {
		return 0, false
	}
	numOff, ok := f.kdbgField(kdbgOffsetPrcbNumber, 2)
	if !ok || numOff+2 > b.Size {
		return 0, false
	}
	raw, err := f.block(uint64(b.Offset)+numOff, 2, "KPRCB Number")
	if err != nil {
		return 0, false
	}
	return int(binary.LittleEndian.Uint16(raw)), true
}
