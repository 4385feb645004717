package pdb

import (
	"encoding/binary"
	"math"
)

// CodeView type record kinds (leaf values) read here (FORMATS.md §7.5; cvinfo.h LEAF_ENUM_e).
const (
	LF_VTSHAPE    = 0x000A
	LF_MODIFIER   = 0x1001
	LF_POINTER    = 0x1002
	LF_PROCEDURE  = 0x1008
	LF_MFUNCTION  = 0x1009
	LF_ARGLIST    = 0x1201
	LF_FIELDLIST  = 0x1203
	LF_BITFIELD   = 0x1205
	LF_METHODLIST = 0x1206
	LF_ARRAY      = 0x1503
	LF_CLASS      = 0x1504
	LF_STRUCTURE  = 0x1505
	LF_UNION      = 0x1506
	LF_ENUM       = 0x1507
	LF_ALIAS      = 0x150A
	LF_INTERFACE  = 0x1519
	// VS2019+ forms of the UDT records with a 32-bit property word (FORMATS.md §7.5, single
	// source: volatility3's pdb.json).
	LF_CLASS2     = 0x1608
	LF_STRUCTURE2 = 0x1609

	// Members of a field list.
	LF_BCLASS     = 0x1400
	LF_VBCLASS    = 0x1401
	LF_IVBCLASS   = 0x1402
	LF_FRIENDCLS  = 0x1403
	LF_INDEX      = 0x1404
	LF_VFUNCTAB   = 0x1409
	LF_VFUNCOFF   = 0x140C
	LF_ENUMERATE  = 0x1502
	LF_FRIENDFCN  = 0x150C
	LF_MEMBER     = 0x150D
	LF_STMEMBER   = 0x150E
	LF_METHOD     = 0x150F
	LF_NESTTYPE   = 0x1510
	LF_ONEMETHOD  = 0x1511
	LF_NESTTYPEEX = 0x1512

	// IPI (id) records.
	LF_FUNC_ID          = 0x1601
	LF_MFUNC_ID         = 0x1602
	LF_BUILDINFO        = 0x1603
	LF_SUBSTR_LIST      = 0x1604
	LF_STRING_ID        = 0x1605
	LF_UDT_SRC_LINE     = 0x1606
	LF_UDT_MOD_SRC_LINE = 0x1607

	// Numeric leaves: a u16 below LF_NUMERIC is the value itself (FORMATS.md §7.5).
	LF_NUMERIC    = 0x8000
	LF_CHAR       = 0x8000
	LF_SHORT      = 0x8001
	LF_USHORT     = 0x8002
	LF_LONG       = 0x8003
	LF_ULONG      = 0x8004
	LF_REAL32     = 0x8005
	LF_REAL64     = 0x8006
	LF_REAL80     = 0x8007
	LF_REAL128    = 0x8008
	LF_QUADWORD   = 0x8009
	LF_UQUADWORD  = 0x800A
	LF_REAL48     = 0x800B
	LF_COMPLEX32  = 0x800C
	LF_COMPLEX64  = 0x800D
	LF_COMPLEX80  = 0x800E
	LF_COMPLEX128 = 0x800F
	LF_VARSTRING  = 0x8010
	LF_OCTWORD    = 0x8017
	LF_UOCTWORD   = 0x8018
	LF_DECIMAL    = 0x8019
	LF_DATE       = 0x801A
	LF_UTF8STRING = 0x801B
	LF_REAL16     = 0x801C
)

// CV_prop_t bits of a UDT or enum record's Property (FORMATS.md §7.5).
const (
	PropPacked        = 1 << 0
	PropNested        = 1 << 3
	PropForwardRef    = 1 << 7
	PropScoped        = 1 << 8
	PropHasUniqueName = 1 << 9
)

// LF_MODIFIER attributes.
const (
	ModConst     = 1
	ModVolatile  = 2
	ModUnaligned = 4
)

// Pointer modes (bits 7:5 of an LF_POINTER's attributes).
const (
	PtrModePointer      = 0
	PtrModeLValueRef    = 1
	PtrModeDataMember   = 2
	PtrModeMethodMember = 3
	PtrModeRValueRef    = 4
)

// Type is one decoded type record (or a primitive type). Only the fields of its kind are set.
type Type struct {
	Index TypeIndex
	Leaf  uint16 // LF_*; 0 for a primitive type

	Name       string // UDT, enum, array, alias; function id
	UniqueName string // UDT and enum with PropHasUniqueName (decorated, ".?AU_FOO@@")
	Props      uint32 // UDT and enum: CV_prop_t (Prop*)
	Size       uint64 // UDT and array: bytes (numeric leaf); 0 for forward references
	Count      uint32 // UDT and enum: members; procedure: parameters; arglist: arguments

	FieldList   TypeIndex // UDT and enum
	DerivedFrom TypeIndex // class, structure, interface
	VShape      TypeIndex // class, structure, interface

	Referent    TypeIndex // pointer: the pointee; modifier: the modified type
	PtrAttrs    uint32    // pointer: the attribute word (PtrMode, Size and the qualifier bits)
	MemberClass TypeIndex // pointer to member: the containing class
	Modifiers   uint16    // modifier: Mod* bits

	Element   TypeIndex // array: element type
	IndexType TypeIndex // array: index type

	Underlying TypeIndex // enum: the integer type; bitfield: the base type; alias: the aliased type
	BitPos     uint8     // bitfield: the first bit
	BitLen     uint8     // bitfield: the number of bits

	Return     TypeIndex   // procedure, member function
	Class      TypeIndex   // member function: the class; member function id: the parent type
	This       TypeIndex   // member function: the type of this, 0 for a static member function
	CallConv   uint8       // procedure, member function: CV_call_e
	FuncAttrs  uint8       // procedure, member function
	ArgList    TypeIndex   // procedure, member function
	ThisAdjust int32       // member function
	Args       []TypeIndex // arglist, substring list, build info

	FuncType TypeIndex // function id, member function id: the function's type (TPI)
	Scope    TypeIndex // function id: the enclosing scope (a string id), 0 at file scope
	StringID TypeIndex // string id: its substring list; UDT source line: the file's string id
	Line     uint32    // UDT source line
}

// PtrMode is the pointer's PtrMode* (bits 7:5 of its attributes).
func (t Type) PtrMode() uint8 { return uint8(t.PtrAttrs>>5) & 7 }

// PtrSize is the pointer's size in bytes from its attributes (bits 18:13), 0 when not stated.
func (t Type) PtrSize() uint32 { return t.PtrAttrs >> 13 & 0x3F }

// IsForwardRef reports whether a UDT or enum record only declares its type.
func (t Type) IsForwardRef() bool { return t.Props&PropForwardRef != 0 }

// isUDT reports whether a leaf is a class, structure, union, interface or enum record.
func isUDT(leaf uint16) bool {
	switch leaf {
	case LF_CLASS, LF_STRUCTURE, LF_INTERFACE, LF_UNION, LF_ENUM, LF_CLASS2, LF_STRUCTURE2:
		return true
	}
	return false
}

// numeric reads a numeric leaf (FORMATS.md §7.5): the value as 64 bits (signed kinds
// sign-extended) and whether its kind is signed. Reals, dates and decimals are skipped and read
// as 0; 128-bit integers are cut to their low 64 bits.
func (c *cursor) numeric() (v uint64, signed bool) {
	kind := c.u16()
	if c.err != nil || kind < LF_NUMERIC {
		return uint64(kind), false
	}
	switch kind {
	case LF_CHAR:
		return uint64(int64(int8(c.u8()))), true
	case LF_SHORT:
		return uint64(int64(int16(c.u16()))), true
	case LF_USHORT:
		return uint64(c.u16()), false
	case LF_LONG:
		return uint64(int64(c.i32())), true
	case LF_ULONG:
		return uint64(c.u32()), false
	case LF_QUADWORD:
		return c.u64(), true
	case LF_UQUADWORD:
		return c.u64(), false
	case LF_OCTWORD, LF_UOCTWORD:
		lo := c.u64()
		c.skip(8)
		return lo, kind == LF_OCTWORD
	case LF_VARSTRING:
		c.skip(int(c.u16()))
		return 0, false
	case LF_UTF8STRING:
		c.cstring()
		return 0, false
	}
	if n, ok := numericSizes[kind]; ok {
		c.skip(n)
		return 0, false
	}
	c.fail("unknown numeric leaf %#x", kind)
	return 0, false
}

// numericSizes are the payload sizes of the numeric leaves read only to be skipped.
var numericSizes = map[uint16]int{
	LF_REAL16: 2, LF_REAL32: 4, LF_REAL48: 6, LF_REAL64: 8, LF_REAL80: 10, LF_REAL128: 16,
	LF_COMPLEX32: 8, LF_COMPLEX64: 16, LF_COMPLEX80: 20, LF_COMPLEX128: 32,
	LF_DECIMAL: 16, LF_DATE: 8,
}

func (c *cursor) u64() uint64 {
	b := c.take(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// typeIndex reads a u32 type index.
func (c *cursor) typeIndex() TypeIndex { return TypeIndex(c.u32()) }

// maxArgs bounds an argument list: the record's length bounds it already (4 bytes each), this
// only keeps a crafted count from being trusted before the length check.
const maxArgs = math.MaxUint16

// decodeType decodes the record of index ti (leaf and payload, payload at stream offset off).
// Unknown leaves decode to a Type with only Index and Leaf set.
func decodeType(w where, ti TypeIndex, leaf uint16, p []byte, off int64) (Type, error) {
	t := Type{Index: ti, Leaf: leaf}
	c := newCursor(w, "type record", p, off)
	udtNames := func() {
		t.Name = c.cstring()
		if t.Props&PropHasUniqueName != 0 && c.remaining() > 0 {
			// Some writers leave the unique name out in spite of the flag.
			if u := c.cstringOpt(); u != "" {
				t.UniqueName = u
			}
		}
	}
	switch leaf {
	case LF_MODIFIER:
		t.Referent = c.typeIndex()
		t.Modifiers = c.u16()
	case LF_POINTER:
		t.Referent = c.typeIndex()
		t.PtrAttrs = c.u32()
		if m := t.PtrMode(); m == PtrModeDataMember || m == PtrModeMethodMember {
			t.MemberClass = c.typeIndex()
			// A u16 pointer-to-member representation follows; not needed.
		}
	case LF_PROCEDURE:
		t.Return = c.typeIndex()
		t.CallConv, t.FuncAttrs = c.u8(), c.u8()
		t.Count = uint32(c.u16())
		t.ArgList = c.typeIndex()
	case LF_MFUNCTION:
		t.Return, t.Class, t.This = c.typeIndex(), c.typeIndex(), c.typeIndex()
		t.CallConv, t.FuncAttrs = c.u8(), c.u8()
		t.Count = uint32(c.u16())
		t.ArgList = c.typeIndex()
		t.ThisAdjust = c.i32()
	case LF_ARGLIST, LF_SUBSTR_LIST:
		n := c.u32()
		if c.err == nil && (n > maxArgs || int(n) > c.remaining()/4) {
			c.fail("%d arguments in %d bytes", n, c.remaining())
			break
		}
		t.Count = n
		t.Args = make([]TypeIndex, n)
		for i := range t.Args {
			t.Args[i] = c.typeIndex()
		}
	case LF_BUILDINFO:
		n := c.u16()
		if int(n) > c.remaining()/4 {
			c.fail("%d arguments in %d bytes", n, c.remaining())
			break
		}
		t.Count = uint32(n)
		t.Args = make([]TypeIndex, n)
		for i := range t.Args {
			t.Args[i] = c.typeIndex()
		}
	case LF_BITFIELD:
		t.Underlying = c.typeIndex()
		t.BitLen, t.BitPos = c.u8(), c.u8()
	case LF_ARRAY:
		t.Element, t.IndexType = c.typeIndex(), c.typeIndex()
		t.Size, _ = c.numeric()
		t.Name = c.cstringOpt()
	case LF_CLASS, LF_STRUCTURE, LF_INTERFACE:
		t.Count = uint32(c.u16())
		t.Props = uint32(c.u16())
		t.FieldList, t.DerivedFrom, t.VShape = c.typeIndex(), c.typeIndex(), c.typeIndex()
		t.Size, _ = c.numeric()
		udtNames()
	case LF_CLASS2, LF_STRUCTURE2:
		t.Props = c.u32()
		t.FieldList, t.DerivedFrom, t.VShape = c.typeIndex(), c.typeIndex(), c.typeIndex()
		t.Count = uint32(c.u16())
		t.Size, _ = c.numeric()
		udtNames()
	case LF_UNION:
		t.Count = uint32(c.u16())
		t.Props = uint32(c.u16())
		t.FieldList = c.typeIndex()
		t.Size, _ = c.numeric()
		udtNames()
	case LF_ENUM:
		t.Count = uint32(c.u16())
		t.Props = uint32(c.u16())
		t.Underlying, t.FieldList = c.typeIndex(), c.typeIndex()
		udtNames()
	case LF_ALIAS:
		t.Underlying = c.typeIndex()
		t.Name = c.cstring()
	case LF_FUNC_ID:
		t.Scope, t.FuncType = c.typeIndex(), c.typeIndex()
		t.Name = c.cstring()
	case LF_MFUNC_ID:
		t.Class, t.FuncType = c.typeIndex(), c.typeIndex()
		t.Name = c.cstring()
	case LF_STRING_ID:
		t.StringID = c.typeIndex()
		t.Name = c.cstring()
	case LF_UDT_SRC_LINE, LF_UDT_MOD_SRC_LINE:
		t.Underlying, t.StringID, t.Line = c.typeIndex(), c.typeIndex(), c.u32()
	}
	return t, c.err
}

// cstringOpt reads a NUL-terminated string that may also end with the slice (a name at the end
// of a record written without its NUL).
func (c *cursor) cstringOpt() string {
	if c.err != nil {
		return ""
	}
	for i := c.pos; i < len(c.b); i++ {
		if c.b[i] == 0 {
			s := string(c.b[c.pos:i])
			c.pos = i + 1
			return s
		}
	}
	s := string(c.b[c.pos:])
	c.pos = len(c.b)
	return s
}
