// Package kdump reads Windows kernel crash dumps: the 'PAGEDUMP' (32-bit) and 'PAGEDU64'
// (64-bit) files that a blue screen, `.dump` in kd, or Task Manager's live kernel dump write.
//
// The layouts follow FORMATS.md §1 (../shared/spec): DUMP_HEADER32/64 is Header, the physical
// memory run list is PhysicalMemoryDescriptor, the bitmap header of summary/bitmap dumps is
// BitmapHeader, TRIAGE_DUMP32/64 is TriageHeader.
//
// Open and NewFile decode the fixed headers only (the dump header, and the secondary header that
// says where physical pages or triage blocks are). The physical page index, the triage driver
// list, data blocks and the rest are built on first use and cached. Nothing in the file is
// trusted: reads are checked against the file size, counts against the bytes that could hold
// them before anything is allocated, and errors name the file offset (*FormatError) or the
// physical address (*PhysicalError) that could not be served.
//
// This package only reads the container: it does not translate virtual addresses (the kernel
// memory layer does that through ReadPhysical, or through VirtualBlocks for triage dumps).
//
// When the file is memory-mapped (Open does that where it can, and NewFile does it for any
// io.ReaderAt with a Bytes() []byte method) slices returned by the File point into the mapping
// and are only valid until Close.
package kdump

import (
	"errors"
	"fmt"
	"io"
	"sync"
	lazyv "wdbg/engine/internal/lazy"

	"wdbg/engine/cpu"
	"wdbg/engine/mmap"
)

// ErrNotKernelDump is returned (wrapped) when the file does not start with 'PAGEDUMP' or
// 'PAGEDU64'.
var ErrNotKernelDump = errors.New("kdump: not a kernel crash dump")

// File is an open kernel crash dump.
type File struct {
	Header Header
	// Storage says how physical pages are stored; Bitmap or Ranges hold its secondary header.
	Storage Storage
	Bitmap  *BitmapHeader // StorageBitmap only
	Ranges  *RangeHeader  // StorageRanges ('RDMP') only
	// Triage is the TRIAGE_DUMP header of a small dump (DumpType 4), else nil.
	Triage *TriageHeader

	r      io.ReaderAt
	size   int64
	data   []byte // the whole file when memory-mapped, else nil
	closer io.Closer
	closed bool

	mu     sync.Mutex // guards issues
	issues []error

	phys       lazy[physIndex]
	drivers    lazy[[]Driver]
	unloaded   lazy[[]UnloadedDriver]
	dataBlocks lazy[[]DataBlock]
	virtual    lazy[[]VirtualBlock]
}

// lazy is a value decoded on first use (engine/internal/lazy).
type lazy[T any] = lazyv.Value[T]

// Open opens the named file, memory-mapped when possible.
func Open(path string) (*File, error) {
	mf, err := mmap.Open(path)
	if err != nil {
		return nil, err
	}
	f, err := NewFile(mf, mf.Size())
	if err != nil {
		mf.Close()
		return nil, err
	}
	f.closer = mf
	return f, nil
}

// NewFile decodes the headers of a kernel dump of the given size read through r. When r has a
// Bytes() []byte method returning the whole file (as *mmap.File does) page data is sliced from
// it instead of copied. NewFile does not take ownership of r.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	f := &File{r: r, size: size}
	f.data = mmap.Bytes(r, size)
	if err := f.readHeader(); err != nil {
		return nil, err
	}
	if err := f.readSecondaryHeader(); err != nil {
		return nil, err
	}
	return f, nil
}

// Close releases the file when Open opened it. Slices returned by the File must not be used
// after Close.
func (f *File) Close() error {
	f.closed = true
	f.data = nil
	if f.closer == nil {
		return nil
	}
	c := f.closer
	f.closer = nil
	return c.Close()
}

// Size is the file's length in bytes.
func (f *File) Size() int64 { return f.size }

// Mapped reports whether the file's bytes are memory-mapped (zero-copy reads).
func (f *File) Mapped() bool { return f.data != nil }

// Arch is the processor architecture of the dumped machine.
func (f *File) Arch() cpu.Arch { return f.Header.Arch() }

// Context decodes the header's CONTEXT record: the registers of the processor that bug-checked.
func (f *File) Context() (cpu.Context, error) {
	ctx, err := cpu.Decode(f.Arch(), f.Header.ContextRecord)
	if err != nil {
		off := int64(0x348)
		if !f.Header.Is64 {
			off = 0x320
		}
		return nil, formatErr(off, "ContextRecord", "%v", err)
	}
	return ctx, nil
}

// readHeader identifies the file and decodes DUMP_HEADER32/64 (FORMATS.md §1.1–§1.3).
func (f *File) readHeader() error {
	sig, err := f.block(0, 8, "signature")
	if err != nil {
		return fmt.Errorf("%w (file is %d bytes)", ErrNotKernelDump, f.size)
	}
	var hsize uint64
	var decode func([]byte) (Header, error)
	switch string(sig) {
	case "PAGEDU64":
		hsize, decode = Header64Size, decodeHeader64
	case "PAGEDUMP":
		hsize, decode = Header32Size, decodeHeader32
	default:
		return fmt.Errorf("%w (signature at 0x0 is % x)", ErrNotKernelDump, sig)
	}
	b, err := f.block(0, hsize, headerName(hsize))
	if err != nil {
		return err
	}
	h, err := decode(b)
	if err != nil {
		return err
	}
	f.Header = h
	return nil
}

func headerName(size uint64) string {
	if size == Header64Size {
		return "DUMP_HEADER64"
	}
	return "DUMP_HEADER32"
}

// block returns n bytes of the file at off: a slice of the mapping, or a fresh copy read through
// the io.ReaderAt. It fails with a *FormatError when the range is not inside the file.
func (f *File) block(off, n uint64, what string) ([]byte, error) {
	if f.closed {
		return nil, errors.New("kdump: file is closed")
	}
	size := uint64(f.size)
	if off > size || (off == size && n > 0) {
		return nil, formatErr(int64(min(off, 1<<63-1)), what, "points past the end of the file (%d bytes, need %d bytes there)", f.size, n)
	}
	if n > size-off {
		return nil, truncated(int64(off), what, n, size-off)
	}
	if f.data != nil {
		return f.data[off : off+n : off+n], nil
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, int64(off)); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, formatErr(int64(off), what, "read error: %v", err)
	}
	return b, nil
}

// Data returns size bytes at a file offset (for example a triage block's bytes).
func (f *File) Data(off int64, size uint64) ([]byte, error) {
	if off < 0 {
		return nil, formatErr(off, "data", "negative offset")
	}
	return f.block(uint64(off), size, "data")
}
