package unwind

import (
	"encoding/binary"
	"fmt"
)

// readFull reads len(p) bytes at addr or reports the first address it could not read.
func readFull(m Memory, p []byte, addr uint64) error {
	if m == nil {
		return fmt.Errorf("memory at %#x: no memory", addr)
	}
	n, err := m.ReadAt(p, addr)
	if n >= len(p) {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("memory at %#x is not readable", addr+uint64(n))
	}
	return err
}

func readU32(m Memory, addr uint64) (uint32, error) {
	var b [4]byte
	if err := readFull(m, b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

func readU64(m Memory, addr uint64) (uint64, error) {
	var b [8]byte
	if err := readFull(m, b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

func readPtr(m Memory, addr uint64, size int) (uint64, error) {
	if size == 4 {
		v, err := readU32(m, addr)
		return uint64(v), err
	}
	return readU64(m, addr)
}

func read128(m Memory, addr uint64) ([16]byte, error) {
	var b [16]byte
	err := readFull(m, b[:], addr)
	return b, err
}
