package pdb

import (
	"bytes"
	"fmt"
	"sync"
)

// The "/names" string table (FORMATS.md §7.2): Signature, HashVersion, ByteSize, then ByteSize
// bytes of NUL-terminated strings that source file names (C13 file checksums) and frame data
// program strings point into.
const (
	namesSignature  = 0xEFFEEFFE
	namesHeaderSize = 12
	// maxNameLen bounds one string: source paths and program strings are far shorter.
	maxNameLen = 1 << 16
)

// stringTable reads strings from "/names" on demand (it can hold megabytes of paths of which a
// lookup needs a few) and remembers those it has read.
type stringTable struct {
	s     *Stream
	size  int64 // ByteSize
	mu    sync.Mutex
	cache map[uint32]string
}

func (f *File) stringTable() (*stringTable, error) {
	return f.names.Get(func() (*stringTable, error) {
		in, err := f.Info()
		if err != nil {
			return nil, err
		}
		idx, ok := in.NamedStreams["/names"]
		if !ok {
			return nil, fmt.Errorf("pdb: /names string table: %w", ErrNoStream)
		}
		s, err := f.stream(idx, "/names")
		if err != nil {
			return nil, err
		}
		c, err := s.cursor(0, namesHeaderSize, "string table header")
		if err != nil {
			return nil, err
		}
		sig, _, size := c.u32(), c.u32(), c.u32()
		if sig != namesSignature {
			return nil, s.w.errorf(0, "string table header", "signature %#x, want %#x", sig, namesSignature)
		}
		if int64(size) > s.Size()-namesHeaderSize {
			return nil, s.w.errorf(8, "string table header", "%d bytes of strings in a stream of %d", size, s.Size())
		}
		return &stringTable{s: s, size: int64(size), cache: map[uint32]string{}}, nil
	})
}

// at is the string at offset off of the string bytes.
func (t *stringTable) at(off uint32) (string, error) {
	t.mu.Lock()
	v, ok := t.cache[off]
	t.mu.Unlock()
	if ok {
		return v, nil
	}
	if int64(off) >= t.size {
		return "", t.s.w.errorf(namesHeaderSize, "string table", "string at %d is past the %d bytes of strings", off, t.size)
	}
	start := namesHeaderSize + int64(off)
	end := namesHeaderSize + t.size
	// Read a little at a time: most strings are short, and the bytes may have to be copied.
	for n := int64(256); ; n *= 4 {
		n = min(n, end-start, maxNameLen)
		b, err := t.s.view(start, n, "string table")
		if err != nil {
			return "", err
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			v = string(b[:i])
			break
		}
		if start+n >= end || n >= maxNameLen {
			return "", t.s.w.errorf(start, "string table", "string without its terminating NUL in %d bytes", n)
		}
	}
	t.mu.Lock()
	t.cache[off] = v
	t.mu.Unlock()
	return v, nil
}

// String returns the "/names" string at offset off (as FRAMEDATA program strings and C13 file
// checksums give them).
func (f *File) String(off uint32) (string, error) {
	t, err := f.stringTable()
	if err != nil {
		return "", err
	}
	return t.at(off)
}
