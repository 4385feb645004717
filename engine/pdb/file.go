package pdb

import (
	"io"
	"sync"
	"sync/atomic"
	lazyv "wdbg/engine/internal/lazy"

	"wdbg/engine/mmap"
)

// File is an open PDB.
type File struct {
	r      io.ReaderAt
	size   int64
	data   []byte // the whole file when memory-mapped, else nil
	closer io.Closer
	closed atomic.Bool

	super       SuperBlock
	dir         []byte   // the stream directory (FORMATS.md §7.1)
	streamStart []uint32 // per stream, the index in dir (in u32 words) of its first block number

	info      lazy[*Info]
	names     lazy[*stringTable]
	dbiHeader lazy[*DBIHeader]
	dbi       lazy[*DBI]
	addrs     lazy[*addressMap]
	publics   lazy[*publicTable]
	pubHash   lazy[*gsiHash]
	globals   lazy[[]Global]
	globHash  lazy[*gsiHash]
	contribs  lazy[[]contribRange]
	functions lazy[[]Function]
	lines     lazy[[]lineEntry]
	fpo       lazy[[]FPOData]
	frameData lazy[[]FrameData]
	types     lazy[*typeStream] // TPI (tpi.go)
	ids       lazy[*typeStream] // IPI

	modMu      sync.Mutex
	modules    map[int]*lazy[*moduleData]   // per module index, created on first use
	inlineMods map[int]*lazy[*inlineModule] // per module index, for inline frames (inline.go)

	// decoded counts the bytes of module streams decoded and of names listed, against
	// budget(): streams may share blocks in a crafted file, and without a bound a file of a
	// few kilobytes could make the reader decode gigabytes.
	decoded atomic.Int64
}

// budget is how many bytes of module streams and listed names one file may cost: twice its size
// (a real PDB's module streams and names are distinct parts of it) and some slack.
func (f *File) budget() int64 { return 2*f.size + 1<<20 }

// spend counts n more decoded bytes; past the budget it returns an error naming w.
func (f *File) spend(w where, n int64, what string) error {
	if f.decoded.Add(n) > f.budget() {
		f.decoded.Add(-n) // not decoded after all
		return w.errorf(0, what, "decoding more than twice the file's %d bytes (streams sharing blocks?)", f.size)
	}
	return nil
}

// lazy is a value decoded on first use (engine/internal/lazy).
type lazy[T any] = lazyv.Value[T]

// Open opens the named PDB, memory-mapped when possible, and reads its stream directory.
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

// NewFile reads the MSF superblock and stream directory of a PDB of the given size from r.
// When r has a Bytes() []byte method returning the whole file (as *mmap.File does), streams
// are sliced from it instead of copied. NewFile does not take ownership of r.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	f := &File{r: r, size: size, modules: map[int]*lazy[*moduleData]{}}
	f.data = mmap.Bytes(r, size)
	if err := f.readSuperBlock(); err != nil {
		return nil, err
	}
	return f, nil
}

// Close releases the file when Open opened it. Values already returned stay valid (they hold
// copies); afterwards accessors that need to read the file return ErrClosed, and lookups
// report not found.
func (f *File) Close() error {
	f.closed.Store(true)
	f.data = nil
	if f.closer != nil {
		c := f.closer
		f.closer = nil
		return c.Close()
	}
	return nil
}

// SuperBlock returns the MSF header.
func (f *File) SuperBlock() SuperBlock { return f.super }
