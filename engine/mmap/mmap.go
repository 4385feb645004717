// Package mmap opens a file read-only as a byte slice shared with the operating system's page
// cache, so that a multi-gigabyte crash dump can be opened without reading it into memory.
//
// On unix systems the file is mapped with mmap(2). Elsewhere, and whenever mapping is impossible
// (an empty file, a file larger than the address space, a file system that refuses mmap), the
// File falls back to reading through os.File.ReadAt; Bytes then returns nil and callers use
// ReadAt instead.
package mmap

import (
	"errors"
	"io"
	"os"
)

// File is a read-only file, memory-mapped when the platform allows it.
type File struct {
	data []byte   // the mapping; nil when not mapped
	f    *os.File // open only when not mapped
	size int64
	// unmap releases data; nil when not mapped.
	unmap func([]byte) error
}

// Open opens path read-only and maps it when possible. A zero-length file opens without error
// (with nothing mapped: mapping zero bytes is an error on Linux).
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: path, Err: errors.New("is a directory")}
	}
	size := fi.Size()
	mf := &File{size: size}
	if size > 0 && int64(int(size)) == size {
		if data, unmap, err := mapFile(f, int(size)); err == nil {
			mf.data, mf.unmap = data, unmap
			// The mapping stays valid after the descriptor is closed.
			f.Close()
			return mf, nil
		}
	}
	mf.f = f
	return mf, nil
}

// Bytes returns the whole mapped file, or nil when the file is not mapped. The slice must not
// be written to and must not be used after Close.
func (f *File) Bytes() []byte { return f.data }

// Size is the file's length in bytes.
func (f *File) Size() int64 { return f.size }

// ReadAt implements io.ReaderAt, from the mapping when there is one.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.data == nil {
		if f.f == nil {
			return 0, os.ErrClosed
		}
		return f.f.ReadAt(p, off)
	}
	if off < 0 {
		return 0, errors.New("mmap: negative offset")
	}
	if off >= int64(len(f.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Close releases the mapping or the file. It is safe to call more than once.
func (f *File) Close() error {
	var err error
	if f.data != nil {
		data := f.data
		f.data = nil
		err = f.unmap(data)
	}
	if f.f != nil {
		if cerr := f.f.Close(); err == nil {
			err = cerr
		}
		f.f = nil
	}
	return err
}

// Bytes returns the whole file's bytes when r is a memory-mapped file of the given size (or any
// reader with a Bytes() []byte method holding exactly size bytes), so that parsers can slice
// instead of copy; nil otherwise.
func Bytes(r io.ReaderAt, size int64) []byte {
	if b, ok := r.(interface{ Bytes() []byte }); ok {
		if data := b.Bytes(); data != nil && int64(len(data)) == size {
			return data
		}
	}
	return nil
}
