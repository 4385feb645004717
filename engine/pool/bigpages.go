package pool

import (
	"encoding/binary"
	"fmt"
)

// BigPage is one POOL_TRACKER_BIG_PAGES entry: an allocation of a page or more, which has no
// POOL_HEADER (FORMATS.md §6.2).
type BigPage struct {
	Addr     uint64 // Va with the free bit cleared
	Tag      Tag
	PoolType uint32 // POOL_TYPE as the table stores it
	Bytes    uint64 // NumberOfBytes
	Free     bool   // Va bit 0 (POOL_BIG_TABLE_ENTRY_FREE)
}

// Contains says whether addr lies inside the allocation.
func (b BigPage) Contains(addr uint64) bool {
	return addr >= b.Addr && addr-b.Addr < max(b.Bytes, 1)
}

// bigPageEntrySize is sizeof(POOL_TRACKER_BIG_PAGES): 0x18 on x64, 0x10 on x86 (§6.2).
func bigPageEntrySize(ptrSize int) int {
	if ptrSize == 4 {
		return 0x10
	}
	return 0x18
}

// ParseBigPages decodes the entries in b, keeping the used slots (Key ≠ 0, §6.2); free slots
// that still carry a tag are kept with Free set. build selects the PoolType encoding: Win10
// (10240) and later pack Pattern:8, PoolType:12, SlushSize:12 into the u32 (§6.2).
func ParseBigPages(b []byte, ptrSize int, build uint32) []BigPage {
	size := bigPageEntrySize(ptrSize)
	var out []BigPage
	for off := 0; off+size <= len(b); off += size {
		e := b[off : off+size]
		var va, bytes uint64
		var key, typ uint32
		if ptrSize == 4 {
			va = uint64(binary.LittleEndian.Uint32(e))
			key = binary.LittleEndian.Uint32(e[4:])
			typ = binary.LittleEndian.Uint32(e[8:])
			bytes = uint64(binary.LittleEndian.Uint32(e[0xC:]))
		} else {
			va = binary.LittleEndian.Uint64(e)
			key = binary.LittleEndian.Uint32(e[8:])
			typ = binary.LittleEndian.Uint32(e[0xC:])
			bytes = binary.LittleEndian.Uint64(e[0x10:])
		}
		if key == 0 {
			continue
		}
		if build >= 10240 {
			typ = typ >> 8 & 0xFFF // bitfield Pattern:8 (bits 7:0), PoolType:12 (19:8), SlushSize:12
		}
		out = append(out, BigPage{Addr: va &^ 1, Tag: Tag(key), PoolType: typ, Bytes: bytes, Free: va&1 != 0})
	}
	return out
}

// MaxBigPageEntries caps nt!PoolBigPageTableSize read from a dump.
const MaxBigPageEntries = 1 << 22

// BigPages is the big-page table.
type BigPages struct {
	Table   uint64 // address of the first entry
	Size    uint64 // entry count as the kernel gives it
	Entries []BigPage
	Notes   []string
}

// End is the address after the table (for "Scanning large pool allocation table ... (start : end)").
func (t *BigPages) End(ptrSize int) uint64 {
	return t.Table + min(t.Size, MaxBigPageEntries)*uint64(bigPageEntrySize(ptrSize))
}

// ReadBigPages reads nt!PoolBigPageTable with nt!PoolBigPageTableSize entries; both come only
// from the kernel's symbols (the KDBG has no field for them, FORMATS.md §2).
func ReadBigPages(k *Kernel) (*BigPages, error) {
	varAddr, ok := k.symbol("PoolBigPageTable")
	sizeAddr, ok2 := k.symbol("PoolBigPageTableSize")
	if !ok || !ok2 {
		return nil, fmt.Errorf("not available without the kernel's symbols: nt!PoolBigPageTable and nt!PoolBigPageTableSize are not in the KDBG (FORMATS.md §2)")
	}
	table, err := k.readPtr(varAddr)
	if err != nil {
		return nil, fmt.Errorf("not available in this dump: nt!PoolBigPageTable (%#x) cannot be read: %v", varAddr, err)
	}
	size, err := k.readPtr(sizeAddr)
	if err != nil {
		return nil, fmt.Errorf("not available in this dump: nt!PoolBigPageTableSize (%#x) cannot be read: %v", sizeAddr, err)
	}
	t := &BigPages{Table: table, Size: size}
	if size > MaxBigPageEntries {
		t.Notes = append(t.Notes, fmt.Sprintf("PoolBigPageTableSize %d is absurd: only the first %d entries were read", size, MaxBigPageEntries))
		size = MaxBigPageEntries
	}
	es := uint64(bigPageEntrySize(k.ptrSize()))
	const chunk = 4096
	buf := make([]byte, chunk*es)
	unread, firstBad := uint64(0), uint64(0)
	for i := uint64(0); i < size; {
		n := min(size-i, chunk)
		at := table + i*es
		got, _ := k.Mem.ReadAt(buf[:n*es], at)
		t.Entries = append(t.Entries, ParseBigPages(buf[:got], k.ptrSize(), k.Build)...)
		whole := uint64(got) / es
		if whole == n {
			i += n
			continue
		}
		bad := at + whole*es
		if unread == 0 {
			firstBad = bad
		}
		next := (bad&^0xFFF + 0x1000 - table + es - 1) / es
		if next <= i+whole {
			next = i + whole + 1
		}
		unread += min(next, size) - (i + whole)
		i = next
	}
	if unread > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("%d of %d big-page table entries are not in the dump (first at %#x)", unread, size, firstBad))
	}
	return t, nil
}

// Find is the allocated big page holding addr.
func (t *BigPages) Find(addr uint64) (BigPage, bool) {
	if t == nil {
		return BigPage{}, false
	}
	for _, e := range t.Entries {
		if !e.Free && e.Contains(addr) {
			return e, true
		}
	}
	return BigPage{}, false
}
