package pdb

import (
	"fmt"
)

// FieldKind says what a member of a field list is.
type FieldKind uint8

const (
	FieldMember      FieldKind = iota + 1 // LF_MEMBER: a data member
	FieldBaseClass                        // LF_BCLASS: a direct base class, at Offset
	FieldVirtualBase                      // LF_VBCLASS, LF_IVBCLASS: Offset is the vbptr's offset
	FieldStatic                           // LF_STMEMBER: a static data member
	FieldVFTable                          // LF_VFUNCTAB: the vftable pointer, at offset 0
	FieldMethod                           // LF_ONEMETHOD, LF_METHOD
	FieldNestedType                       // LF_NESTTYPE, LF_NESTTYPEEX
)

// Field is one member of a class, structure or union.
type Field struct {
	Kind   FieldKind
	Name   string    // empty for base classes and the vftable pointer
	Type   TypeIndex // data members: the member's type (a bitfield's base type); base classes: the base; methods: the function type or, for overloads, the method list
	Offset uint64    // data members and base classes: bytes from the start of the object
	BitPos uint8     // bitfields: first bit
	BitLen uint8     // bitfields: number of bits; 0 when the member is not a bitfield
	Attrs  uint16    // CV_fldattr_t: access in bits 1:0, method property in bits 4:2
}

// Struct is a class, structure, union or interface with its members in declaration order.
type Struct struct {
	Index      TypeIndex // the defining record
	Leaf       uint16    // LF_STRUCTURE, LF_CLASS, LF_UNION, LF_INTERFACE
	Name       string
	UniqueName string
	Size       uint64
	Fields     []Field
}

// Enumerator is one named value of an enum.
type Enumerator struct {
	Name   string
	Value  uint64 // the value's bits, sign-extended when Signed
	Signed bool
}

// Limits on a field list: continuation records (LF_INDEX) followed, and members returned.
const (
	maxFieldListParts = 4096
	maxFields         = 1 << 16
)

// Struct returns the members of a class, structure, union or interface: ti may be a forward
// reference (the definition is found) or a modifier of one. Members are read from its field
// list, continuation records (LF_INDEX) followed. A member the reader does not know ends the
// list with an error; the members before it are returned.
func (f *File) Struct(ti TypeIndex) (*Struct, error) {
	for depth := 0; ; depth++ {
		t, err := f.resolved(ti)
		if err != nil {
			return nil, err
		}
		if t.Leaf == LF_MODIFIER && depth < maxTypeDepth {
			ti = t.Referent
			continue
		}
		switch t.Leaf {
		case LF_CLASS, LF_STRUCTURE, LF_INTERFACE, LF_UNION, LF_CLASS2, LF_STRUCTURE2:
		default:
			return nil, fmt.Errorf("pdb: type %#x is not a class, structure or union (leaf %#x)", uint32(ti), t.Leaf)
		}
		s := &Struct{Index: t.Index, Leaf: t.Leaf, Name: t.Name, UniqueName: t.UniqueName, Size: t.Size}
		if t.IsForwardRef() {
			return s, fmt.Errorf("pdb: %s is declared but not defined in this PDB", t.Name)
		}
		err = f.walkFieldList(t.FieldList, func(fl Field, _ Enumerator, isEnum bool) bool {
			if !isEnum {
				s.Fields = append(s.Fields, fl)
			}
			return len(s.Fields) < maxFields
		})
		f.withBitfields(s.Fields)
		return s, err
	}
}

// StructByName returns the members of the class, structure or union of the given name.
func (f *File) StructByName(name string) (*Struct, error) {
	ti, ok := f.FindType(name)
	if !ok {
		return nil, fmt.Errorf("pdb: no type named %q", name)
	}
	return f.Struct(ti)
}

// Enumerators returns the named values of an enum (ti may be a forward reference).
func (f *File) Enumerators(ti TypeIndex) ([]Enumerator, error) {
	t, err := f.resolved(ti)
	if err != nil {
		return nil, err
	}
	if t.Leaf != LF_ENUM {
		return nil, fmt.Errorf("pdb: type %#x is not an enum (leaf %#x)", uint32(ti), t.Leaf)
	}
	var out []Enumerator
	err = f.walkFieldList(t.FieldList, func(_ Field, e Enumerator, isEnum bool) bool {
		if isEnum {
			out = append(out, e)
		}
		return len(out) < maxFields
	})
	return out, err
}

// walkFieldList calls fn with each member of the field list ti and of its continuations: data
// members and the like as a Field, enumerators as an Enumerator (isEnum set). fn returns false
// to stop.
func (f *File) walkFieldList(ti TypeIndex, fn func(Field, Enumerator, bool) bool) error {
	if ti == 0 {
		return nil
	}
	ts, err := f.tpi()
	if err != nil {
		return err
	}
	seen := map[TypeIndex]bool{}
	for part := 0; ti != 0; part++ {
		if seen[ti] || part >= maxFieldListParts {
			return fmt.Errorf("pdb: field list %#x continues into itself", uint32(ti))
		}
		seen[ti] = true
		leaf, p, off, err := ts.record(ti)
		if err != nil {
			return err
		}
		if leaf != LF_FIELDLIST {
			return ts.s.w.errorf(off, "field list", "type %#x is leaf %#x, not LF_FIELDLIST", uint32(ti), leaf)
		}
		next, stop, err := walkMembers(ts.s.w, p, off, fn)
		if err != nil || stop {
			return err
		}
		ti = next
	}
	return nil
}

// walkMembers decodes the members of one LF_FIELDLIST record (FORMATS.md §7.5 member
// sub-records; each is followed by LF_PAD bytes up to a 4-byte boundary). It returns the
// continuation (LF_INDEX) if any, and stop when fn asked to stop.
func walkMembers(w where, p []byte, off int64, fn func(Field, Enumerator, bool) bool) (next TypeIndex, stop bool, err error) {
	c := newCursor(w, "field list member", p, off)
	for c.remaining() > 0 {
		// Pad bytes 0xF0..0xFF: the low nibble counts the bytes to skip, this one included.
		if b := c.b[c.pos]; b >= 0xF0 {
			c.pos = min(c.pos+max(int(b&0x0F), 1), len(c.b))
			continue
		}
		leaf := c.u16()
		var fl Field
		var en Enumerator
		isEnum := false
		switch leaf {
		case LF_MEMBER:
			fl = Field{Kind: FieldMember, Attrs: c.u16(), Type: c.typeIndex()}
			fl.Offset, _ = c.numeric()
			fl.Name = c.cstring()
		case LF_STMEMBER:
			fl = Field{Kind: FieldStatic, Attrs: c.u16(), Type: c.typeIndex()}
			fl.Name = c.cstring()
		case LF_BCLASS:
			fl = Field{Kind: FieldBaseClass, Attrs: c.u16(), Type: c.typeIndex()}
			fl.Offset, _ = c.numeric()
		case LF_VBCLASS, LF_IVBCLASS:
			fl = Field{Kind: FieldVirtualBase, Attrs: c.u16(), Type: c.typeIndex()}
			c.typeIndex() // the vbptr's type
			fl.Offset, _ = c.numeric()
			c.numeric() // index in the vbtable
		case LF_VFUNCTAB:
			c.u16()
			fl = Field{Kind: FieldVFTable, Type: c.typeIndex()}
		case LF_ONEMETHOD:
			fl = Field{Kind: FieldMethod, Attrs: c.u16(), Type: c.typeIndex()}
			// Introducing virtual methods (method property 4 or 6, bits 4:2) carry their
			// vftable offset.
			if mprop := fl.Attrs >> 2 & 7; mprop == 4 || mprop == 6 {
				c.u32()
			}
			fl.Name = c.cstring()
		case LF_METHOD:
			c.u16() // overload count
			fl = Field{Kind: FieldMethod, Type: c.typeIndex()}
			fl.Name = c.cstring()
		case LF_NESTTYPE:
			c.u16()
			fl = Field{Kind: FieldNestedType, Type: c.typeIndex()}
			fl.Name = c.cstring()
		case LF_NESTTYPEEX:
			fl = Field{Kind: FieldNestedType, Attrs: c.u16(), Type: c.typeIndex()}
			fl.Name = c.cstring()
		case LF_ENUMERATE:
			isEnum = true
			c.u16() // attributes
			en.Value, en.Signed = c.numeric()
			en.Name = c.cstring()
		case LF_INDEX:
			c.u16()
			next = c.typeIndex()
		case LF_FRIENDCLS:
			c.u16()
			c.typeIndex()
		case LF_FRIENDFCN:
			c.u16()
			c.typeIndex()
			c.cstring()
		case LF_VFUNCOFF:
			c.u16()
			c.typeIndex()
			c.u32()
		default:
			if c.err == nil {
				return 0, false, w.errorf(c.off()-2, "field list member", "unknown member leaf %#x", leaf)
			}
		}
		if c.err != nil {
			return 0, false, c.err
		}
		if fl.Kind == 0 && !isEnum {
			continue // continuation, friend, vfunc offset
		}
		if !fn(fl, en, isEnum) {
			return 0, true, nil
		}
	}
	return next, false, nil
}

// withBitfields resolves bitfield members: a data member whose type is an LF_BITFIELD gets the
// bitfield's base type, position and length.
func (f *File) withBitfields(fields []Field) {
	for i := range fields {
		fl := &fields[i]
		if fl.Kind != FieldMember || IsPrimitive(fl.Type) {
			continue
		}
		t, err := f.Type(fl.Type)
		if err == nil && t.Leaf == LF_BITFIELD {
			fl.Type, fl.BitPos, fl.BitLen = t.Underlying, t.BitPos, t.BitLen
		}
	}
}
