package pool

import (
	"encoding/binary"
	"fmt"

	"wdbg/engine/kdbg"
	"wdbg/engine/vmem"
)

// Memory is the kernel's virtual address space (engine.Memory's contract: a short read comes
// with an error naming the first address that could not be read).
type Memory interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// Range is a half-open address range [Start, End).
type Range struct {
	Start, End uint64
}

// Contains says whether addr is inside the range.
func (r Range) Contains(addr uint64) bool { return addr >= r.Start && addr < r.End }

// Kernel is what the pool readers need from a kernel dump.
type Kernel struct {
	Mem         Memory
	Paging      *vmem.Translator // kernel page tables; nil when the dump has none (triage)
	PointerSize int              // 4 or 8
	Build       uint32           // Windows build number (7601, 19041, ...)
	Debugger    *kdbg.Data       // KDBG, nil when not found
	// Symbol gives the address of an ntoskrnl global by its bare name ("PoolTrackTableSize");
	// nil or false when the kernel's symbols are not at hand.
	Symbol func(name string) (uint64, bool)
	// Images are the loaded images (kernel and drivers): the segment-heap scan skips them.
	Images []Range
	// Processors is the processor count (the dump header's, or the processor blocks found):
	// how many nt!ExPoolTagTables slots the per-processor reader reads. 0 = not known.
	Processors int
	// Field gives a structure field's offset from the kernel PDB's types (for example
	// "_MM_SESSION_SPACE", "PoolTrackTableExpansion"); nil or false when the PDB has no types
	// or not that field. Offsets asked this way have no built-in fallback.
	Field func(structName, field string) (uint64, bool)
}

// SegmentHeap says the kernel pool of this build is built on the segment heap (Win10 19H1,
// build 18362, and later; FORMATS.md §6.4).
func (k *Kernel) SegmentHeap() bool { return k.Build >= 18362 }

func (k *Kernel) ptrSize() int {
	if k.PointerSize == 4 {
		return 4
	}
	return 8
}

// symbol resolves an ntoskrnl global.
func (k *Kernel) symbol(name string) (uint64, bool) {
	if k.Symbol == nil {
		return 0, false
	}
	return k.Symbol(name)
}

// field resolves a structure field through the PDB types.
func (k *Kernel) field(structName, name string) (uint64, bool) {
	if k.Field == nil {
		return 0, false
	}
	return k.Field(structName, name)
}

// kernelAddress says whether a pointer read from the dump can be a kernel-space address: the
// upper half of the canonical x64 space (bits 63..47 set), or on x86 MmSystemRangeStart's
// usual 0x80000000 and above (FORMATS.md §3.3).
func (k *Kernel) kernelAddress(addr uint64) bool {
	if k.ptrSize() == 4 {
		return addr >= 0x80000000 && addr <= 0xFFFFFFFF
	}
	return addr >= 0xFFFF800000000000
}

// readPtr reads a pointer-sized value (zero-extended on x86).
func (k *Kernel) readPtr(addr uint64) (uint64, error) {
	if k.ptrSize() == 4 {
		v, err := k.readU32(addr)
		return uint64(v), err
	}
	return k.readU64(addr)
}

func (k *Kernel) readU32(addr uint64) (uint32, error) {
	var b [4]byte
	if err := k.readFull(b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

func (k *Kernel) readU64(addr uint64) (uint64, error) {
	var b [8]byte
	if err := k.readFull(b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

func (k *Kernel) readFull(p []byte, addr uint64) error {
	if k.Mem == nil {
		return fmt.Errorf("no memory")
	}
	n, err := k.Mem.ReadAt(p, addr)
	if n >= len(p) {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("memory at %#x is not in the dump", addr+uint64(n))
	}
	return err
}

// global finds the address of an ntoskrnl variable: from the symbols, else from the KDBG
// field that holds its address (kdbgAddr 0 = no such field).
func (k *Kernel) global(name string, kdbgAddr uint64) (addr uint64, source string, ok bool) {
	if a, ok := k.symbol(name); ok && a != 0 {
		return a, "nt!" + name, true
	}
	if kdbgAddr != 0 {
		return kdbgAddr, "KDBG." + name, true
	}
	return 0, "", false
}

// canonical drops the sign extension a caller may have given a 32-bit kernel address
// (0xffffffff8480a040): the x86 page tables and the pool headers use 32-bit addresses.
func (k *Kernel) canonical(addr uint64) uint64 {
	if k.ptrSize() == 4 {
		return addr & 0xFFFFFFFF
	}
	return addr
}
