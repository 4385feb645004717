package pe

import (
	"encoding/binary"
	"slices"
	"sort"
)

// RuntimeFunction is an x64 RUNTIME_FUNCTION of the exception directory (FORMATS.md §8.1), as
// stored: the unwinder decodes the UNWIND_INFO it points at (File.ReadRVA).
type RuntimeFunction struct {
	BeginAddress      uint32
	EndAddress        uint32 // exclusive
	UnwindInfoAddress uint32
}

// Indirect reports an entry whose UnwindInfoAddress has bit 0 set: it then points at another
// RUNTIME_FUNCTION (at UnwindInfoAddress &^ 1) rather than at UNWIND_INFO (FORMATS.md §8.1).
func (r RuntimeFunction) Indirect() bool { return r.UnwindInfoAddress&1 != 0 }

// ARM64RuntimeFunction is an ARM64 .pdata entry (IMAGE_ARM64_RUNTIME_FUNCTION_ENTRY; Microsoft
// "ARM64 exception handling", ".pdata records"): the function's start and one word that is
// either the RVA of its .xdata record or packed unwind data, told apart by the low two bits.
type ARM64RuntimeFunction struct {
	BeginAddress uint32
	UnwindData   uint32
}

// ARM64 .pdata Flag values (the low two bits of UnwindData).
const (
	ARM64FlagXData          = 0 // UnwindData is the .xdata RVA
	ARM64FlagPacked         = 1 // packed unwind data
	ARM64FlagPackedFragment = 2 // packed unwind data of a fragment: no prologue
	ARM64FlagReserved       = 3
)

// Flag is the entry's kind, one of the ARM64Flag constants.
func (r ARM64RuntimeFunction) Flag() uint32 { return r.UnwindData & 3 }

// XDataRVA is the RVA of the .xdata record when Flag is ARM64FlagXData.
func (r ARM64RuntimeFunction) XDataRVA() uint32 { return r.UnwindData &^ 3 }

// The packed fields, meaningful when Flag is ARM64FlagPacked or ARM64FlagPackedFragment:
// FunctionLength bits 2-12 (×4 bytes), RegF 13-15, RegI 16-19, H 20, CR 21-22, FrameSize 23-31
// (×16 bytes).

// PackedFunctionLength is the function's length in bytes.
func (r ARM64RuntimeFunction) PackedFunctionLength() uint32 { return (r.UnwindData >> 2 & 0x7ff) * 4 }

// RegF is the number of saved non-volatile FP registers d8.. beyond the first (0-7).
func (r ARM64RuntimeFunction) RegF() uint32 { return r.UnwindData >> 13 & 7 }

// RegI is the number of saved non-volatile integer registers x19.. (0-10).
func (r ARM64RuntimeFunction) RegI() uint32 { return r.UnwindData >> 16 & 0xf }

// H reports homed integer parameter registers x0-x7.
func (r ARM64RuntimeFunction) H() bool { return r.UnwindData>>20&1 != 0 }

// CR is the frame-chain/link-register kind (0-3).
func (r ARM64RuntimeFunction) CR() uint32 { return r.UnwindData >> 21 & 3 }

// FrameSize is the function's stack allocation in bytes.
func (r ARM64RuntimeFunction) FrameSize() uint32 { return (r.UnwindData >> 23 & 0x1ff) * 16 }

// ExceptionTable is the exception directory (.pdata) of an x64 or ARM64 image: one of X64 and
// ARM64 is set, sorted by BeginAddress. Entries that cannot describe a function (x64 records
// with EndAddress <= BeginAddress, all-zero ARM64 records: padding at the table's end) are left
// out and counted in Dropped.
type ExceptionTable struct {
	Machine uint16
	X64     []RuntimeFunction
	ARM64   []ARM64RuntimeFunction
	Dropped int
	f       *File
}

// FunctionEntry is one exception-table entry in a machine-neutral view.
type FunctionEntry struct {
	Index        int    // position in ExceptionTable.X64 or .ARM64
	BeginAddress uint32 // RVA of the function's first byte
	EndAddress   uint32 // RVA past its last byte
	// UnwindData is the entry's unwind word as stored: x64 UnwindInfoAddress, ARM64 the
	// .xdata RVA or packed data (see ARM64RuntimeFunction).
	UnwindData uint32
}

const (
	sizeofRuntimeFunction      = 12
	sizeofARM64RuntimeFunction = 8
	maxRuntimeFunctions        = 1 << 21
)

// ExceptionTable decodes the exception directory; nil with no error when the image has none
// (x86 images never do).
func (f *File) ExceptionTable() (*ExceptionTable, error) {
	return f.functions.Get(f.readExceptionTable)
}

func (f *File) readExceptionTable() (*ExceptionTable, error) {
	const what = "exception directory"
	dir := f.Directory(DirectoryException)
	if dir.VirtualAddress == 0 || dir.Size == 0 {
		return nil, nil
	}
	size := sizeofRuntimeFunction
	switch f.Machine {
	case MachineAMD64:
	case MachineARM64:
		size = sizeofARM64RuntimeFunction
	default:
		return nil, f.formatErr(dir.VirtualAddress, what, "entries of machine %#x are not supported (only x64 and ARM64)", f.Machine)
	}
	n := int(dir.Size) / size
	if n > maxRuntimeFunctions {
		return nil, f.formatErr(dir.VirtualAddress, what, "size %#x holds %d entries (at most %d)", dir.Size, n, maxRuntimeFunctions)
	}
	b, err := f.read(dir.VirtualAddress, n*size, what)
	if err != nil {
		return nil, err
	}
	t := &ExceptionTable{Machine: f.Machine, f: f}
	le := binary.LittleEndian
	if f.Machine == MachineAMD64 {
		t.X64 = make([]RuntimeFunction, 0, n)
		for i := 0; i+size <= len(b); i += size {
			r := RuntimeFunction{le.Uint32(b[i:]), le.Uint32(b[i+4:]), le.Uint32(b[i+8:])}
			if r.EndAddress <= r.BeginAddress {
				t.Dropped++
				continue
			}
			t.X64 = append(t.X64, r)
		}
		if !slices.IsSortedFunc(t.X64, func(a, b RuntimeFunction) int { return cmpU32(a.BeginAddress, b.BeginAddress) }) {
			slices.SortStableFunc(t.X64, func(a, b RuntimeFunction) int { return cmpU32(a.BeginAddress, b.BeginAddress) })
		}
		return t, nil
	}
	t.ARM64 = make([]ARM64RuntimeFunction, 0, n)
	for i := 0; i+size <= len(b); i += size {
		r := ARM64RuntimeFunction{le.Uint32(b[i:]), le.Uint32(b[i+4:])}
		if r.BeginAddress == 0 && r.UnwindData == 0 {
			t.Dropped++
			continue
		}
		t.ARM64 = append(t.ARM64, r)
	}
	if !slices.IsSortedFunc(t.ARM64, func(a, b ARM64RuntimeFunction) int { return cmpU32(a.BeginAddress, b.BeginAddress) }) {
		slices.SortStableFunc(t.ARM64, func(a, b ARM64RuntimeFunction) int { return cmpU32(a.BeginAddress, b.BeginAddress) })
	}
	return t, nil
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Len is the number of entries.
func (t *ExceptionTable) Len() int { return len(t.X64) + len(t.ARM64) }

// Entry is entry i, 0 <= i < Len(), in BeginAddress order. For an ARM64 entry with .xdata its length comes from the .xdata header's
// FunctionLength field (bits 0-17, ×4 bytes), which is read here; that read can fail on a page
// missing from a dump.
func (t *ExceptionTable) Entry(i int) (FunctionEntry, error) {
	if t.X64 != nil {
		r := t.X64[i]
		return FunctionEntry{Index: i, BeginAddress: r.BeginAddress, EndAddress: r.EndAddress, UnwindData: r.UnwindInfoAddress}, nil
	}
	r := t.ARM64[i]
	e := FunctionEntry{Index: i, BeginAddress: r.BeginAddress, UnwindData: r.UnwindData}
	var length uint32
	switch r.Flag() {
	case ARM64FlagPacked, ARM64FlagPackedFragment:
		length = r.PackedFunctionLength()
	case ARM64FlagXData:
		b, err := t.f.read(r.XDataRVA(), 4, ".xdata header")
		if err != nil {
			return e, err
		}
		length = (binary.LittleEndian.Uint32(b) & 0x3ffff) * 4
	default:
		return e, t.f.formatErr(r.BeginAddress, "ARM64 .pdata entry", "reserved flag 3 in unwind word %#x", r.UnwindData)
	}
	e.EndAddress = uint32(min(uint64(r.BeginAddress)+uint64(length), 0xFFFFFFFF))
	return e, nil
}

// Lookup finds the entry whose function contains rva by binary search; false with no error
// when no entry does (a leaf function, or code outside any function).
func (t *ExceptionTable) Lookup(rva uint32) (FunctionEntry, bool, error) {
	var i int
	if t.X64 != nil {
		i = sort.Search(len(t.X64), func(i int) bool { return t.X64[i].BeginAddress > rva }) - 1
	} else {
		i = sort.Search(len(t.ARM64), func(i int) bool { return t.ARM64[i].BeginAddress > rva }) - 1
	}
	if i < 0 {
		return FunctionEntry{}, false, nil
	}
	e, err := t.Entry(i)
	if err != nil {
		return e, false, err
	}
	return e, rva < e.EndAddress, nil
}

// LookupFunction finds the exception-table entry covering rva: false with no error when the
// image has no exception table or no entry covers rva.
func (f *File) LookupFunction(rva uint32) (FunctionEntry, bool, error) {
	t, err := f.ExceptionTable()
	if t == nil || err != nil {
		return FunctionEntry{}, false, err
	}
	return t.Lookup(rva)
}
