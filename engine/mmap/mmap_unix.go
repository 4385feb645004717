//go:build unix

package mmap

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f read-only and shared, so that pages come from the page cache
// and are only read when touched.
func mapFile(f *os.File, size int) ([]byte, func([]byte) error, error) {
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, syscall.Munmap, nil
}
