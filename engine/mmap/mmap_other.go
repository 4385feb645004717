//go:build !unix

package mmap

import (
	"errors"
	"os"
)

// mapFile is not implemented on this platform (Windows included): Open falls back to
// os.File.ReadAt, which the dump parsers handle through io.ReaderAt.
func mapFile(f *os.File, size int) ([]byte, func([]byte) error, error) {
	return nil, nil, errors.New("mmap: not supported on this platform")
}
