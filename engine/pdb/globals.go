package pdb

import (
	"fmt"
	"sort"
)

// Global is a global or static data symbol (S_GDATA32, S_LDATA32, S_GTHREAD32, S_LTHREAD32) from
// the globals table (FORMATS.md §7.4).
type Global struct {
	Name      string
	RVA       uint32 // image RVA (for thread-local kinds: the offset in the TLS block's section)
	Section   uint16
	Offset    uint32
	TypeIndex uint32 // the variable's type in the TPI stream
	Kind      uint16
}

func isData(kind uint16) bool {
	switch kind {
	case S_GDATA32, S_LDATA32, S_GTHREAD32, S_LTHREAD32:
		return true
	}
	return false
}

// globalHash reads the globals stream: a GSI name hash with no header before it.
func (f *File) globalHash() (*gsiHash, error) {
	return f.globHash.Get(func() (*gsiHash, error) {
		h, err := f.DBIHeader()
		if err != nil {
			return nil, err
		}
		if h.GlobalStreamIndex == noStream {
			return nil, fmt.Errorf("pdb: globals stream: %w", ErrNoStream)
		}
		s, err := f.stream(int(h.GlobalStreamIndex), globalsStreamName)
		if err != nil {
			return nil, err
		}
		return readGSIHash(s, 0, s.Size())
	})
}

// Globals returns the data symbols of the globals table, sorted by RVA. It reads every record
// the table indexes, so it is for listing (`x module!*`), not for lookups by name.
func (f *File) Globals() ([]Global, error) {
	gs, err := f.globals.Get(f.readGlobals)
	return append([]Global(nil), gs...), err
}

func (f *File) readGlobals() ([]Global, error) {
	h, err := f.globalHash()
	if err != nil {
		return nil, err
	}
	sym, err := f.symRecordStream()
	if err != nil {
		return nil, err
	}
	addr, err := f.addressMap()
	if err != nil {
		return nil, err
	}
	var out []Global
	var names int64
	for _, off := range h.records {
		kind, rec, err := readRecord(sym, int64(off))
		if err != nil {
			return out, err
		}
		if !isData(kind) {
			continue
		}
		g, err := decodeGlobal(sym.w, int64(off), kind, rec, addr)
		if err != nil {
			return out, err
		}
		if names += int64(len(g.Name)); names > f.budget() {
			return out, tooManyNames(sym.w, int64(off), "globals", f.budget())
		}
		out = append(out, g)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].RVA < out[j].RVA })
	return out, nil
}

func decodeGlobal(w where, off int64, kind uint16, rec []byte, addr *addressMap) (Global, error) {
	r, err := decodeSymRef(w, off, rec)
	if err != nil {
		return Global{}, err
	}
	g := Global{Name: r.name, Section: r.segment, Offset: r.offset, TypeIndex: r.word, Kind: kind}
	if in, ok := addr.internalRVA(r.segment, r.offset); ok {
		g.RVA, _ = addr.toImage(in)
	}
	return g, nil
}

// GlobalByName finds a data symbol by its exact name through the globals name hash.
func (f *File) GlobalByName(name string) (Global, bool) {
	h, err := f.globalHash()
	if err != nil {
		return Global{}, false
	}
	sym, err := f.symRecordStream()
	if err != nil {
		return Global{}, false
	}
	addr, err := f.addressMap()
	if err != nil {
		return Global{}, false
	}
	for _, off := range h.candidates(name) {
		if !recordNamed(sym, off, name) {
			continue
		}
		kind, rec, err := readRecord(sym, int64(off))
		if err != nil || !isData(kind) {
			continue
		}
		if g, err := decodeGlobal(sym.w, int64(off), kind, rec, addr); err == nil && g.Name == name {
			return g, true
		}
	}
	return Global{}, false
}

// FunctionByName finds a procedure by its exact undecorated name ("ns::Class::Method") through
// the S_PROCREF records of the globals name hash, reading only the module that defines it.
func (f *File) FunctionByName(name string) (Function, bool) {
	h, err := f.globalHash()
	if err != nil {
		return Function{}, false
	}
	sym, err := f.symRecordStream()
	if err != nil {
		return Function{}, false
	}
	for _, off := range h.candidates(name) {
		if !recordNamed(sym, off, name) {
			continue
		}
		kind, rec, err := readRecord(sym, int64(off))
		if err != nil || kind != S_PROCREF && kind != S_LPROCREF {
			continue
		}
		// REFSYM2: SumName u32 @4, SymOffset u32 @8 (in the module stream), Module u16 @0xC
		// (1-based), Name @0xE — the same shape as symRef.
		r, err := decodeSymRef(sym.w, int64(off), rec)
		if err != nil || r.name != name || r.segment == 0 {
			continue
		}
		md, err := f.module(int(r.segment) - 1)
		if err != nil {
			continue
		}
		if k, ok := md.byRecOff[r.offset]; ok {
			return md.procs[k], true
		}
	}
	return Function{}, false
}
