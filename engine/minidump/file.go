// Package minidump reads Windows user-mode minidump files (the 'MDMP' format written by
// MiniDumpWriteDump, procdump, WER, Breakpad and Crashpad).
//
// The layouts follow minidumpapiset.h as summarised in ../shared/spec/FORMATS.md §4; structs and
// constants keep the header's names (MINIDUMP_HEADER is Header, MINIDUMP_THREAD is Thread, the
// stream types are ThreadListStream, ModuleListStream, ...).
//
// Open and NewFile read only the header and the stream directory. Each stream is decoded on the
// first call of its accessor and the result is cached. Nothing in the file is trusted: every read
// is checked against the stream and the file size, counts are checked against the bytes that
// could hold them before anything is allocated, and errors name the file offset and what was
// expected there (*FormatError). A stream that fails to decode does not stop the others.
//
// When the file is memory-mapped (Open does that where it can, and NewFile does it for any
// io.ReaderAt with a Bytes() []byte method), the byte slices the File returns point into the
// mapping and are only valid until Close.
package minidump

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	lazyv "wdbg/engine/internal/lazy"

	"wdbg/engine/mmap"
)

// ErrNotMinidump is returned (wrapped) when the file does not start with 'MDMP'.
var ErrNotMinidump = errors.New("minidump: not a minidump file")

// maxStringBytes bounds a MINIDUMP_STRING: the longest Windows path is 32767 UTF-16 units.
const maxStringBytes = 0x10000

// stringBudget bounds the bytes of all the strings decoded from one file: twice its size plus
// some slack. Without it a crafted dump whose thousands of records all name the same 64 KiB
// string would make decoding cost far more than reading the file.
func (f *File) stringBudget() int64 { return 2*f.size + 1<<24 }

// File is an open minidump.
type File struct {
	Header    Header
	Directory []Directory // the stream directory, in file order

	r      io.ReaderAt
	size   int64
	data   []byte // the whole file when memory-mapped, else nil
	closer io.Closer
	closed bool
	// stringBytes counts the bytes readString has decoded, against stringBudget.
	stringBytes atomic.Int64

	threads        lazy[[]Thread]
	threadsEx      lazy[[]Thread]
	threadInfo     lazy[[]ThreadInfo]
	threadNames    lazy[[]ThreadName]
	modules        lazy[[]Module]
	unloaded       lazy[[]UnloadedModule]
	memoryList     lazy[[]MemoryDescriptor]
	memory64List   lazy[*Memory64List]
	exception      lazy[*ExceptionInfo]
	systemInfo     lazy[*SystemInfo]
	miscInfo       lazy[*MiscInfo]
	memoryInfoList lazy[[]MemoryInfo]
	handles        lazy[[]HandleDescriptor]
	comments       lazy[[]Comment]
	memory         lazy[*Memory]
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

// NewFile reads the header and stream directory of a minidump of the given size from r. When r
// has a Bytes() []byte method returning the whole file (as *mmap.File does), streams and memory
// are sliced from it instead of copied. NewFile does not take ownership of r.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	f := &File{r: r, size: size}
	f.data = mmap.Bytes(r, size)
	if err := f.readHeader(); err != nil {
		return nil, err
	}
	if err := f.readDirectory(); err != nil {
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

// readHeader decodes MINIDUMP_HEADER (FORMATS.md §4.1).
func (f *File) readHeader() error {
	b, err := f.block(0, headerSize, "header")
	if err != nil {
		if f.size < 4 {
			return fmt.Errorf("%w (file is %d bytes)", ErrNotMinidump, f.size)
		}
		if sig, _ := f.block(0, 4, "signature"); sig != nil && string(sig) != "MDMP" {
			return fmt.Errorf("%w (signature at 0x0 is % x)", ErrNotMinidump, sig)
		}
		return err
	}
	c := newCursor(b, 0, "header")
	h := Header{
		Signature:          c.u32(),
		Version:            c.u32(),
		NumberOfStreams:    c.u32(),
		StreamDirectoryRva: c.u32(),
		CheckSum:           c.u32(),
		TimeDateStamp:      c.u32(),
		Flags:              c.u64(),
	}
	if h.Signature != Signature {
		return fmt.Errorf("%w (signature at 0x0 is % x)", ErrNotMinidump, b[:4])
	}
	f.Header = h
	return nil
}

// readDirectory decodes the MINIDUMP_DIRECTORY array (FORMATS.md §4.1). A directory that does
// not fit in the file is fatal: without it no stream can be found.
func (f *File) readDirectory() error {
	h := f.Header
	n := uint64(h.NumberOfStreams)
	b, err := f.block(uint64(h.StreamDirectoryRva), n*directorySize, "stream directory")
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Msg = fmt.Sprintf("%s for %d streams", fe.Msg, n)
		}
		return err
	}
	c := newCursor(b, int64(h.StreamDirectoryRva), "stream directory")
	f.Directory = make([]Directory, n)
	for i := range f.Directory {
		f.Directory[i] = Directory{StreamType: StreamType(c.u32()), Location: c.location()}
	}
	return c.err
}

// block returns n bytes of the file at off: a slice of the mapping, or a fresh copy read through
// the io.ReaderAt. It fails with a *FormatError when the range is not inside the file.
func (f *File) block(off, n uint64, what string) ([]byte, error) {
	if f.closed {
		return nil, errors.New("minidump: file is closed")
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

// Data returns the bytes a location descriptor points at (for example a thread's CONTEXT
// record or a CodeView record).
func (f *File) Data(loc LocationDescriptor) ([]byte, error) {
	return f.block(uint64(loc.Rva), uint64(loc.DataSize), "location")
}

// Stream returns the directory entry of the first stream of type t.
func (f *File) Stream(t StreamType) (Directory, bool) {
	for _, d := range f.Directory {
		if d.StreamType == t {
			return d, true
		}
	}
	return Directory{}, false
}

// StreamData returns a stream's raw bytes. Use it for streams this package does not decode
// (FunctionTableStream, TokenStream, SystemMemoryInfoStream, writer-specific streams ...).
func (f *File) StreamData(d Directory) ([]byte, error) {
	return f.block(uint64(d.Location.Rva), uint64(d.Location.DataSize), streamWhat(d.StreamType))
}

// streamWhat names a stream in error messages.
func streamWhat(t StreamType) string {
	return t.String()
}

// streamCursor returns a cursor over the first stream of type t, or nil when the dump has
// none. what names the stream in errors ("thread list").
func (f *File) streamCursor(t StreamType, what string) (*cursor, error) {
	d, ok := f.Stream(t)
	if !ok {
		return nil, nil
	}
	b, err := f.block(uint64(d.Location.Rva), uint64(d.Location.DataSize), what)
	if err != nil {
		return nil, err
	}
	return newCursor(b, int64(d.Location.Rva), what), nil
}

// ReadString reads the MINIDUMP_STRING at rva: a u32 byte length, then that many bytes of
// UTF-16LE text (FORMATS.md §4.1). An rva of 0 is an absent string and reads as "".
func (f *File) ReadString(rva uint64) (string, error) {
	return f.readString(rva, "string")
}

func (f *File) readString(rva uint64, what string) (string, error) {
	if rva == 0 {
		return "", nil
	}
	lb, err := f.block(rva, 4, what)
	if err != nil {
		return "", err
	}
	n := uint64(lb[0]) | uint64(lb[1])<<8 | uint64(lb[2])<<16 | uint64(lb[3])<<24
	if n > maxStringBytes {
		return "", formatErr(int64(rva), what, "string length %d exceeds the limit of %d bytes", n, maxStringBytes)
	}
	b, err := f.block(rva+4, n, what)
	if err != nil {
		return "", err
	}
	if f.stringBytes.Add(int64(n)) > f.stringBudget() {
		return "", formatErr(int64(rva), what, "the dump's strings add up to more than %d bytes; not decoding more", f.stringBudget())
	}
	// Writers are inconsistent about a terminating NUL inside Length; stop at the first one.
	return decodeUTF16(b, true), nil
}
