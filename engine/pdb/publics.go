package pdb

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// PubSymFlags bits of S_PUB32 (FORMATS.md §7.4).
const (
	PubCode     = 1
	PubFunction = 2
	PubManaged  = 4
	PubMSIL     = 8
)

// psgsiHeaderSize is PSGSIHDR, the publics stream's header before its GSI hash (FORMATS.md §7.4):
// SymHash u32, AddrMap u32, NumThunks u32, SizeOfThunk u32, ISectThunkTable u16, pad u16,
// OffThunkTable u32, NumSects u32.
const psgsiHeaderSize = 28

// Public is an S_PUB32 record: a decorated linker name with its address.
type Public struct {
	Name    string // decorated, e.g. ?f@@YAXXZ or _main
	RVA     uint32 // image RVA
	Section uint16 // PDB section:offset
	Offset  uint32
	Flags   uint32 // PubCode, PubFunction, ...
}

// IsFunction reports whether the public names code (a function or a code label).
func (p Public) IsFunction() bool { return p.Flags&(PubCode|PubFunction) != 0 }

// publicTable is the publics ordered by address: per public its internal RVA and the offset of
// its record, so that names are decoded only for the publics a lookup returns.
type publicTable struct {
	sym  *Stream
	rva  []uint32 // internal RVAs, ascending
	off  []uint32 // symbol record offsets, parallel to rva
	addr *addressMap
}

func (f *File) publicsStream() (*Stream, error) {
	h, err := f.DBIHeader()
	if err != nil {
		return nil, err
	}
	if h.PublicStreamIndex == noStream {
		return nil, fmt.Errorf("pdb: publics stream: %w", ErrNoStream)
	}
	return f.stream(int(h.PublicStreamIndex), publicsStreamName)
}

// publicTable reads the publics stream's address map: offsets of the S_PUB32 records sorted by
// section:offset (FORMATS.md §7.4). Only each record's fixed part is read here.
func (f *File) publicTable() (*publicTable, error) {
	return f.publics.Get(func() (*publicTable, error) {
		s, err := f.publicsStream()
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
		c, err := s.cursor(0, psgsiHeaderSize, "publics header")
		if err != nil {
			return nil, err
		}
		symHash, addrMap := c.u32(), c.u32()
		mapOff := int64(psgsiHeaderSize) + int64(symHash)
		if mapOff+int64(addrMap) > s.Size() {
			return nil, s.w.errorf(4, "publics header", "address map of %d bytes at %#x runs past the stream's %d bytes", addrMap, mapOff, s.Size())
		}
		am, err := s.view(mapOff, int64(addrMap/4*4), "publics address map")
		if err != nil {
			return nil, err
		}
		t := &publicTable{sym: sym, addr: addr, rva: make([]uint32, 0, len(am)/4), off: make([]uint32, 0, len(am)/4)}
		for i := 0; i+4 <= len(am); i += 4 {
			off := binary.LittleEndian.Uint32(am[i:])
			// S_PUB32's fixed part: RecLen, RecKind, Flags, Offset, Segment (14 bytes).
			rec, err := sym.view(int64(off), 14, "S_PUB32")
			if err != nil {
				return nil, fmt.Errorf("%w (public %d of the address map at %#x)", err, i/4, mapOff)
			}
			if kind := binary.LittleEndian.Uint16(rec[2:]); kind != S_PUB32 {
				return nil, sym.w.errorf(int64(off), "S_PUB32", "record kind %#x (public %d of the address map)", kind, i/4)
			}
			rva, ok := addr.internalRVA(binary.LittleEndian.Uint16(rec[12:]), binary.LittleEndian.Uint32(rec[8:]))
			if !ok {
				continue // an absolute or otherwise unmapped symbol
			}
			t.rva = append(t.rva, rva)
			t.off = append(t.off, off)
		}
		sortParallel(t.rva, t.off)
		return t, nil
	})
}

// sortParallel sorts keys ascending, stably, moving vals alongside.
func sortParallel(keys, vals []uint32) {
	if sort.SliceIsSorted(keys, func(i, j int) bool { return keys[i] < keys[j] }) {
		return
	}
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	k2, v2 := make([]uint32, len(keys)), make([]uint32, len(vals))
	for i, j := range idx {
		k2[i], v2[i] = keys[j], vals[j]
	}
	copy(keys, k2)
	copy(vals, v2)
}

// public decodes the record at a symbol record offset.
func (t *publicTable) public(off uint32) (Public, error) {
	_, rec, err := readRecord(t.sym, int64(off))
	if err != nil {
		return Public{}, err
	}
	r, err := decodeSymRef(t.sym.w, int64(off), rec)
	if err != nil {
		return Public{}, err
	}
	p := Public{Name: r.name, Section: r.segment, Offset: r.offset, Flags: r.word}
	if in, ok := t.addr.internalRVA(r.segment, r.offset); ok {
		p.RVA, _ = t.addr.toImage(in)
	}
	return p, nil
}

// PublicAt returns the public symbol at or below an image RVA and the distance from it (counted
// before OMAP rearrangement, as the function's own bytes are laid out). When several publics
// share an address, the first in the publics' address map is returned. ok is false when there
// is none, or the publics cannot be read (Publics reports why).
func (f *File) PublicAt(rva uint32) (p Public, disp uint32, ok bool) {
	t, err := f.publicTable()
	if err != nil {
		return Public{}, 0, false
	}
	x, ok := t.addr.toInternal(rva)
	if !ok {
		return Public{}, 0, false
	}
	i := sort.Search(len(t.rva), func(i int) bool { return t.rva[i] > x }) - 1
	if i < 0 {
		return Public{}, 0, false
	}
	for i > 0 && t.rva[i-1] == t.rva[i] {
		i--
	}
	p, err = t.public(t.off[i])
	if err != nil {
		return Public{}, 0, false
	}
	return p, x - t.rva[i], true
}

// Publics returns every public symbol with a mapped address, sorted by RVA.
func (f *File) Publics() ([]Public, error) {
	t, err := f.publicTable()
	if err != nil {
		return nil, err
	}
	out := make([]Public, 0, len(t.off))
	var names int64
	for _, off := range t.off {
		p, err := t.public(off)
		if err != nil {
			return out, err
		}
		// Address map entries of a crafted file may all name one long record.
		if names += int64(len(p.Name)); names > f.budget() {
			return out, tooManyNames(t.sym.w, int64(off), "publics", f.budget())
		}
		out = append(out, p)
	}
	if t.addr.hasOMAP() {
		sort.SliceStable(out, func(i, j int) bool { return out[i].RVA < out[j].RVA })
	}
	return out, nil
}

// publicHash reads the publics stream's name hash.
func (f *File) publicHash() (*gsiHash, error) {
	return f.pubHash.Get(func() (*gsiHash, error) {
		s, err := f.publicsStream()
		if err != nil {
			return nil, err
		}
		c, err := s.cursor(0, psgsiHeaderSize, "publics header")
		if err != nil {
			return nil, err
		}
		return readGSIHash(s, psgsiHeaderSize, int64(c.u32()))
	})
}

// PublicByName finds a public by its exact (decorated) name through the publics name hash.
func (f *File) PublicByName(name string) (Public, bool) {
	h, err := f.publicHash()
	if err != nil {
		return Public{}, false
	}
	t, err := f.publicTable()
	if err != nil {
		return Public{}, false
	}
	for _, off := range h.candidates(name) {
		if !recordNamed(t.sym, off, name) {
			continue
		}
		kind, rec, err := readRecord(t.sym, int64(off))
		if err != nil || kind != S_PUB32 {
			continue
		}
		if r, err := decodeSymRef(t.sym.w, int64(off), rec); err == nil && r.name == name {
			p, err := t.public(off)
			return p, err == nil
		}
	}
	return Public{}, false
}
