package commands

import "wdbg/engine"

// readUnits fills buf with the memory at addr and marks which units of unitSize bytes could be
// read whole (valid[i] for buf[i*unitSize:(i+1)*unitSize]). It reads the block in one call; only
// when the dump has a hole does it go on unit by unit past the first missing byte, so that memory
// resuming inside the block (adjacent or nearby ranges) is still shown.
func readUnits(m engine.Memory, buf []byte, addr uint64, unitSize int, valid []bool) {
	for i := range valid {
		valid[i] = false
	}
	if m == nil {
		return
	}
	off := 0
	for off < len(buf) {
		n, _ := m.ReadAt(buf[off:], addr+uint64(off))
		if n < 0 {
			n = 0
		}
		if n > len(buf)-off {
			n = len(buf) - off
		}
		for u := off / unitSize; (u+1)*unitSize <= off+n; u++ {
			valid[u] = true
		}
		if off+n >= len(buf) {
			return
		}
		// The byte at off+n is missing: its unit is unreadable; try again at the next unit.
		off = ((off+n)/unitSize + 1) * unitSize
	}
}
