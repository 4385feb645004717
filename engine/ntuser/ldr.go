package ntuser

import (
	"fmt"

	"wdbg/engine"
)

// MaxLoaderEntries bounds a loader-list walk: a corrupt list (or one whose links point into other
// data) stops here instead of running on. Real processes load a few hundred modules at most.
const MaxLoaderEntries = 4096

// LoaderData is PEB_LDR_DATA with its module list walked in load order.
type LoaderData struct {
	Address               uint64
	Length                Value
	Initialized           Value
	InLoadOrder           ListHead
	InMemoryOrder         ListHead
	InInitializationOrder ListHead

	// Modules are the LDR_DATA_TABLE_ENTRY records of InLoadOrderModuleList, in list order.
	Modules []LoaderEntry
	// Stop says why the walk ended before coming back to the list head; nil when it did.
	Stop *WalkStop
}

// LoaderEntry is one LDR_DATA_TABLE_ENTRY.
type LoaderEntry struct {
	Address       uint64
	DllBase       Value
	EntryPoint    Value
	SizeOfImage   Value
	TimeDateStamp Value // the loader's copy of the image's PE TimeDateStamp
	FullDllName   UnicodeString
	BaseDllName   UnicodeString
}

// WalkStop explains an incomplete list walk.
type WalkStop struct {
	Reason string // "unreadable", "cycle" or "limit"
	Addr   uint64 // the entry (or link) where the walk stopped
}

func (w *WalkStop) Error() string {
	switch w.Reason {
	case "unreadable":
		return fmt.Sprintf("loader entry at %s is not in the dump", hex(w.Addr))
	case "cycle":
		return fmt.Sprintf("loader list loops back to %s", hex(w.Addr))
	}
	return fmt.Sprintf("loader list longer than %d entries (stopped at %s)", MaxLoaderEntries, hex(w.Addr))
}

// ReadLoaderData reads the PEB_LDR_DATA at addr and walks its InLoadOrderModuleList. The error is
// a *NotInDumpError when the structure itself is missing; a walk cut short is reported in Stop.
func ReadLoaderData(mem engine.Memory, addr uint64, ptrSize int) (*LoaderData, error) {
	if err := checkPointerSize(ptrSize); err != nil {
		return nil, err
	}
	r := reader{mem, ptrSize}
	l := layoutFor(ptrSize, 0)
	o := l.ldr
	d := &LoaderData{
		Address:               addr,
		Length:                r.u32(addr, o.length),
		Initialized:           r.u8(addr, o.initialized),
		InLoadOrder:           r.list(addr, o.inLoadOrderModuleList),
		InMemoryOrder:         r.list(addr, o.inMemoryOrderModuleList),
		InInitializationOrder: r.list(addr, o.inInitializationOrderModuleList),
	}
	if !d.InLoadOrder.Flink.Valid {
		if !anyValid(d.Length, d.Initialized, d.InMemoryOrder.Flink, d.InInitializationOrder.Flink) {
			return nil, &NotInDumpError{Struct: "PEB_LDR_DATA", Addr: addr}
		}
		d.Stop = &WalkStop{Reason: "unreadable", Addr: addr + uint64(o.inLoadOrderModuleList)}
		return d, nil
	}
	d.Modules, d.Stop = walkLoadOrder(r, l, addr+uint64(o.inLoadOrderModuleList), d.InLoadOrder.Flink.V)
	return d, nil
}

// walkLoadOrder follows Flink from the list head until it returns to the head. InLoadOrderLinks
// is the entry's first member, so a link is the entry's address.
func walkLoadOrder(r reader, l *layout, head, first uint64) ([]LoaderEntry, *WalkStop) {
	var entries []LoaderEntry
	seen := map[uint64]bool{head: true}
	for link := first; link != head; {
		if seen[link] {
			return entries, &WalkStop{Reason: "cycle", Addr: link}
		}
		if len(entries) >= MaxLoaderEntries {
			return entries, &WalkStop{Reason: "limit", Addr: link}
		}
		seen[link] = true
		entry := link - uint64(l.entry.inLoadOrderLinks)
		next := r.ptr(entry, l.entry.inLoadOrderLinks)
		if !next.Valid {
			return entries, &WalkStop{Reason: "unreadable", Addr: entry}
		}
		entries = append(entries, readLoaderEntry(r, l, entry))
		link = next.V
	}
	return entries, nil
}

func readLoaderEntry(r reader, l *layout, addr uint64) LoaderEntry {
	o := l.entry
	return LoaderEntry{
		Address:       addr,
		DllBase:       r.ptr(addr, o.dllBase),
		EntryPoint:    r.ptr(addr, o.entryPoint),
		SizeOfImage:   r.u32(addr, o.sizeOfImage),
		TimeDateStamp: r.u32(addr, o.timeDateStamp),
		FullDllName:   readUnicodeString(r, addr+uint64(o.fullDllName), 0),
		BaseDllName:   readUnicodeString(r, addr+uint64(o.baseDllName), 0),
	}
}
