package engine

import (
	"encoding/binary"
	"fmt"
)

// Memory is the target's virtual address space as far as the dump captured it.
//
// ReadAt copies bytes starting at addr into p. It may return fewer bytes than asked when the
// dump holds only a prefix; the error is then a *ReadError naming the first address that could
// not be read. A read that starts in a hole returns 0 and a *ReadError for addr.
type Memory interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// ReadError reports the first virtual address the dump does not hold.
type ReadError struct {
	Addr uint64
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("memory at %#x is not in the dump", e.Addr)
}

// ReadFull reads exactly len(p) bytes at addr or returns the error of the first missing byte.
func ReadFull(m Memory, p []byte, addr uint64) error {
	n, err := m.ReadAt(p, addr)
	if n == len(p) {
		return nil
	}
	if err == nil {
		err = &ReadError{Addr: addr + uint64(n)}
	}
	return err
}

// ReadU16 reads a little-endian 16-bit value.
func ReadU16(m Memory, addr uint64) (uint16, error) {
	var b [2]byte
	if err := ReadFull(m, b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b[:]), nil
}

// ReadU32 reads a little-endian 32-bit value.
func ReadU32(m Memory, addr uint64) (uint32, error) {
	var b [4]byte
	if err := ReadFull(m, b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// ReadU64 reads a little-endian 64-bit value.
func ReadU64(m Memory, addr uint64) (uint64, error) {
	var b [8]byte
	if err := ReadFull(m, b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// ReadPointer reads a pointer of the given width (4 or 8 bytes), zero-extended.
func ReadPointer(m Memory, addr uint64, size int) (uint64, error) {
	if size == 4 {
		v, err := ReadU32(m, addr)
		return uint64(v), err
	}
	return ReadU64(m, addr)
}
