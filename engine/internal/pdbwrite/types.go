package pdbwrite

import (
	"fmt"
	"sort"
)

// Type records of the TPI stream (FORMATS.md §7.5; the CodeView leaf layouts of the LLVM
// "CodeView Type Records" document and cvinfo.h). The writer covers what a kernel PDB's
// structures need for `dt` and for structure offsets: structures and unions made of members
// whose types are primitives, pointers, arrays or other structures. As MSVC does, every
// structure is first declared by a forward reference, members name the forward reference, and
// the definitions follow, so structures may refer to each other in any order.

// Struct is a structure (or union) definition.
type Struct struct {
	Name    string
	Size    uint64
	Union   bool
	Members []Member
}

// Member is one data member at a byte offset.
type Member struct {
	Name   string
	Offset uint64
	Type   Type
}

// Type is what a member holds. Build one with Prim, Pointer, Named or ArrayOf.
type Type struct {
	kind  typeKind
	prim  uint32 // primitive type index (typeKindPrim)
	ptr   int    // pointer size (typeKindPointer)
	to    *Type  // pointee (nil: void) or element
	name  string // structure name (typeKindNamed)
	count uint64 // array elements
}

type typeKind int

const (
	typeKindPrim typeKind = iota
	typeKindPointer
	typeKindNamed
	typeKindArray
)

// CodeView primitive type indices (cvinfo.h "special types"): the low byte names the type,
// bits 8–11 the pointer mode (4 = 32-bit near pointer, 6 = 64-bit pointer).
const (
	primVoid   = 0x0003
	primUChar  = 0x0020
	primUShort = 0x0021
	primULong  = 0x0022
	primUQuad  = 0x0023
	primChar   = 0x0010
	primShort  = 0x0011
	primWChar  = 0x0071
	primLong   = 0x0012
	primQuad   = 0x0013
)

// Primitive member types.
var (
	UChar  = Type{kind: typeKindPrim, prim: primUChar}
	UShort = Type{kind: typeKindPrim, prim: primUShort}
	ULong  = Type{kind: typeKindPrim, prim: primULong}
	UQuad  = Type{kind: typeKindPrim, prim: primUQuad}
	Char   = Type{kind: typeKindPrim, prim: primChar}
	Short  = Type{kind: typeKindPrim, prim: primShort}
	WChar  = Type{kind: typeKindPrim, prim: primWChar}
	Long   = Type{kind: typeKindPrim, prim: primLong}
	Quad   = Type{kind: typeKindPrim, prim: primQuad}
)

// Unsigned is the unsigned primitive of n bytes (1, 2, 4 or 8).
func Unsigned(n int) Type {
	switch n {
	case 1:
		return UChar
	case 2:
		return UShort
	case 4:
		return ULong
	}
	return UQuad
}

// Pointer is a pointer of size bytes (4 or 8) to *to, or to void when to is nil.
func Pointer(size int, to *Type) Type { return Type{kind: typeKindPointer, ptr: size, to: to} }

// Named is the structure of that name (it must be among PDB.Types).
func Named(name string) Type { return Type{kind: typeKindNamed, name: name} }

// ArrayOf is count elements of elem.
func ArrayOf(elem Type, count uint64) Type { return Type{kind: typeKindArray, to: &elem, count: count} }

// Leaf kinds (cvinfo.h LEAF_ENUM_e).
const (
	lfPointer   = 0x1002
	lfFieldList = 0x1203
	lfArray     = 0x1503
	lfStructure = 0x1505
	lfUnion     = 0x1506
	lfMember    = 0x150D
	lfULong     = 0x8004
	lfUQuad     = 0x800A

	propFwdRef   = 0x0080 // CV_prop_t.fwdref
	memberPublic = 3      // CV_fldattr_t.access = public
	ptrNear32    = 0x0A   // CV_ptrtype_e: 32-bit pointer
	ptr64        = 0x0C   // CV_ptrtype_e: 64-bit pointer
)

// typeWriter assigns type indices from 0x1000 in record order.
type typeWriter struct {
	recs    buf
	next    uint32
	structs map[string]uint32 // name → forward reference index
	sizes   map[string]uint64
	derived map[string]uint32 // memoised pointer and array records
}

// typeStream builds the TPI stream for types (sorted by name so that the output does not
// depend on the caller's order).
func typeStream(types []Struct) ([]byte, error) {
	w := &typeWriter{next: 0x1000, structs: map[string]uint32{}, sizes: map[string]uint64{}, derived: map[string]uint32{}}
	sorted := append([]Struct(nil), types...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, s := range sorted {
		if s.Name == "" {
			return nil, fmt.Errorf("pdbwrite: a structure has no name")
		}
		if _, dup := w.structs[s.Name]; dup {
			return nil, fmt.Errorf("pdbwrite: structure %s defined twice", s.Name)
		}
		w.sizes[s.Name] = s.Size
		w.structs[s.Name] = w.aggregate(s, 0, propFwdRef, 0)
	}
	for _, s := range sorted {
		var fl buf
		for _, m := range s.Members {
			ti, err := w.index(m.Type)
			if err != nil {
				return nil, fmt.Errorf("pdbwrite: %s.%s: %w", s.Name, m.Name, err)
			}
			start := fl.Len()
			fl.u16(lfMember)
			fl.u16(memberPublic)
			fl.u32(ti)
			numeric(&fl, m.Offset)
			fl.str(m.Name)
			padLeaf(&fl, fl.Len()-start)
		}
		list := w.add(lfFieldList, fl.Bytes())
		w.aggregate(s, uint16(len(s.Members)), 0, list)
	}
	var b buf
	b.u32(tpiVersionV80)
	b.u32(tpiHeaderSize)
	b.u32(0x1000)
	b.u32(w.next)
	b.u32(uint32(w.recs.Len()))
	b.u16(noStream) // no hash stream: readers find types by walking the records
	b.u16(noStream)
	b.u32(4)
	b.u32(0x3FFFF)
	for range 6 {
		b.u32(0)
	}
	b.Write(w.recs.Bytes())
	return b.Bytes(), nil
}

// aggregate writes an LF_STRUCTURE/LF_UNION record: {count, property, field list, [derived,
// vshape for structures], size, name}.
func (w *typeWriter) aggregate(s Struct, count, prop uint16, fieldList uint32) uint32 {
	var p buf
	p.u16(count)
	p.u16(prop)
	p.u32(fieldList)
	leaf := uint16(lfUnion)
	if !s.Union {
		leaf = lfStructure
		p.u32(0) // derivation list
		p.u32(0) // vtable shape
	}
	size := s.Size
	if prop&propFwdRef != 0 {
		size = 0
	}
	numeric(&p, size)
	p.str(s.Name)
	return w.add(leaf, p.Bytes())
}

// index is the type index of t, writing pointer and array records on first use.
func (w *typeWriter) index(t Type) (uint32, error) {
	switch t.kind {
	case typeKindPrim:
		return t.prim, nil
	case typeKindNamed:
		ti, ok := w.structs[t.name]
		if !ok {
			return 0, fmt.Errorf("no structure named %s", t.name)
		}
		return ti, nil
	case typeKindPointer:
		mode, kind := uint32(0x600), uint32(ptr64)
		if t.ptr == 4 {
			mode, kind = 0x400, ptrNear32
		}
		if t.to == nil {
			return mode | primVoid, nil
		}
		if t.to.kind == typeKindPrim {
			return mode | t.to.prim, nil
		}
		to, err := w.index(*t.to)
		if err != nil {
			return 0, err
		}
		key := fmt.Sprintf("p%d:%x", t.ptr, to)
		if ti, ok := w.derived[key]; ok {
			return ti, nil
		}
		var p buf
		p.u32(to)
		p.u32(kind | uint32(t.ptr)<<13) // attributes: ptrtype bits 0–4, size bits 13–18
		ti := w.add(lfPointer, p.Bytes())
		w.derived[key] = ti
		return ti, nil
	case typeKindArray:
		elem, err := w.index(*t.to)
		if err != nil {
			return 0, err
		}
		size, err := w.size(*t.to)
		if err != nil {
			return 0, err
		}
		key := fmt.Sprintf("a%x:%d", elem, t.count)
		if ti, ok := w.derived[key]; ok {
			return ti, nil
		}
		var p buf
		p.u32(elem)
		p.u32(primULong) // index type
		numeric(&p, size*t.count)
		p.str("")
		ti := w.add(lfArray, p.Bytes())
		w.derived[key] = ti
		return ti, nil
	}
	return 0, fmt.Errorf("unknown type kind %d", t.kind)
}

// size is the byte size of t (arrays record their size in bytes).
func (w *typeWriter) size(t Type) (uint64, error) {
	switch t.kind {
	case typeKindPrim:
		switch t.prim & 0xFF {
		case primUChar, primChar:
			return 1, nil
		case primUShort, primShort, primWChar:
			return 2, nil
		case primULong, primLong:
			return 4, nil
		case primUQuad, primQuad:
			return 8, nil
		}
	case typeKindPointer:
		return uint64(t.ptr), nil
	case typeKindNamed:
		if n, ok := w.sizes[t.name]; ok {
			return n, nil
		}
		return 0, fmt.Errorf("no structure named %s", t.name)
	case typeKindArray:
		n, err := w.size(*t.to)
		return n * t.count, err
	}
	return 0, fmt.Errorf("no size for primitive %#x", t.prim)
}

// add appends a type record {RecLen, Leaf, payload, LF_PAD bytes to 4} and returns its index.
func (w *typeWriter) add(leaf uint16, payload []byte) uint32 {
	n := 4 + len(payload)
	pad := (4 - n%4) % 4
	w.recs.u16(uint16(n - 2 + pad))
	w.recs.u16(leaf)
	w.recs.Write(payload)
	for i := pad; i > 0; i-- {
		w.recs.u8(0xF0 | uint8(i))
	}
	ti := w.next
	w.next++
	return ti
}

// numeric writes a CodeView numeric leaf: the value itself below 0x8000, else a size leaf and
// the value.
func numeric(b *buf, v uint64) {
	switch {
	case v < 0x8000:
		b.u16(uint16(v))
	case v <= 0xFFFFFFFF:
		b.u16(lfULong)
		b.u32(uint32(v))
	default:
		b.u16(lfUQuad)
		b.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24), byte(v >> 32), byte(v >> 40), byte(v >> 48), byte(v >> 56)})
	}
}

// padLeaf pads a field-list member of n bytes to 4 with LF_PAD bytes (0xF0 | bytes left).
func padLeaf(b *buf, n int) {
	for i := (4 - n%4) % 4; i > 0; i-- {
		b.u8(0xF0 | uint8(i))
	}
}
