package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"wdbg/engine/kdump"
	"wdbg/engine/minidump"
	"wdbg/engine/mmap"
)

// ErrNotDump is returned (wrapped) when a file is not a crash dump wdbg recognises.
var ErrNotDump = errors.New("not a dump file")

// ErrUnsupportedDump is returned (wrapped) for a dump format wdbg recognises but cannot open yet.
var ErrUnsupportedDump = errors.New("unsupported dump format")

// Open opens a crash dump, memory-mapped, and decodes its metadata. The format is chosen by the
// signature at offset 0 (FORMATS.md §1.1, §4.1).
func Open(path string) (*Target, error) {
	mf, err := mmap.Open(path)
	if err != nil {
		return nil, err
	}
	t, err := NewTarget(mf, mf.Size())
	if err != nil {
		mf.Close()
		return nil, err
	}
	t.Path = path
	inner := t.closer
	t.closer = func() error {
		err := inner()
		if cerr := mf.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return t, nil
}

// NewTarget opens a dump of the given size read through r (tests and fuzzing use a
// bytes.Reader). If r has a Bytes() []byte method returning the whole file, memory is sliced
// from it. Target.Close does not close r.
func NewTarget(r io.ReaderAt, size int64) (*Target, error) {
	sig := make([]byte, min(size, 8))
	if _, err := r.ReadAt(sig, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the signature at offset 0: %w", err)
	}
	switch {
	case bytes.HasPrefix(sig, []byte("MDMP")):
		f, err := minidump.NewFile(r, size)
		if err != nil {
			return nil, err
		}
		return newUserTarget(f)
	case bytes.Equal(sig, []byte("PAGEDU64")), bytes.Equal(sig, []byte("PAGEDUMP")):
		f, err := kdump.NewFile(r, size)
		if err != nil {
			return nil, err
		}
		return newKernelTarget(f)
	case bytes.Equal(sig, []byte("USERDU64")), bytes.Equal(sig, []byte("USERDUMP")):
		return nil, fmt.Errorf("%w: legacy full user dumps are not supported (signature %q at offset 0)", ErrUnsupportedDump, sig)
	case size == 0:
		return nil, fmt.Errorf("%w: the file is empty", ErrNotDump)
	}
	return nil, fmt.Errorf("%w: the bytes at offset 0 are % x (%s), not MDMP, PAGEDUMP or PAGEDU64",
		ErrNotDump, sig, printable(sig))
}

// printable shows bytes as ASCII with '.' for anything else, like a hex dump's text column.
func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 0x20 && c < 0x7f {
			out[i] = c
		} else {
			out[i] = '.'
		}
	}
	return `"` + string(out) + `"`
}
