package pdb

import (
	"strconv"
	"strings"
)

// Limits on following type references, so that a crafted chain (a pointer to itself, modifiers
// of modifiers, a function whose arguments are functions) costs a bounded amount of work:
// maxTypeDepth nested references in one name, maxNameRecords records visited for one name, and
// maxNameLen bytes of name.
const (
	maxTypeDepth   = 48
	maxNameRecords = 1024
	maxTypeNameLen = 16 << 10
)

// nameStyle says how a type name is spelled. The debugger engine's C spelling (cStyle) drops
// qualifiers, puts a space before * and &, names UDTs with their keyword and functions as
// "<function>".
type nameStyle struct {
	primitives primitiveNames
	ptrSep     string // between the pointee and its * or &
	refsAsPtr  bool   // references spelled as pointers, as the debugger engine does
	keywords   bool   // "struct _FOO", "class C", "union U", "enum E"
	qualifiers bool   // const, volatile, __unaligned, __restrict
	opaqueFunc string // the name of every function type; "" spells "ret (args)"
	arrayDims  bool   // "int [4]"; false: the array record's name
	noType     string // type index 0 (the ... of a variadic argument list)
	nullptrT   string // 0x0103
}

var cStyle = &nameStyle{
	primitives: cNames, ptrSep: " ", refsAsPtr: true, keywords: true, opaqueFunc: "<function>", arrayDims: true,
	noType: "...", nullptrT: "std::nullptr_t",
}

// TypeName spells a type in C as the debugger engine prints typed parameters (kp, dv): "int",
// "unsigned long", "char *", "struct _FOO *", "class stackTestClass *", "<function> *",
// "wchar_t [260]". Qualifiers (const, volatile) are left out and references are spelled as
// pointers, as the engine does. A type that cannot be read is named by its index
// ("<type 0x1234>").
func (f *File) TypeName(ti TypeIndex) string {
	return f.typeName(ti, cStyle)
}

func (f *File) typeName(ti TypeIndex, st *nameStyle) string {
	n := &namer{f: f, st: st, budget: maxNameRecords}
	s := n.name(ti, 0)
	if len(s) > maxTypeNameLen {
		s = s[:maxTypeNameLen] + "..."
	}
	return s
}

// namer builds one type name, counting the records it visits.
type namer struct {
	f      *File
	st     *nameStyle
	budget int
}

func unreadable(ti TypeIndex) string { return "<type 0x" + strconv.FormatUint(uint64(ti), 16) + ">" }

func (n *namer) name(ti TypeIndex, depth int) string {
	st := n.st
	if IsPrimitive(ti) {
		switch ti {
		case tNoType:
			return st.noType
		case tPVoid:
			return st.nullptrT
		}
		base := primitiveBaseName(primitiveKind(ti), st.primitives)
		if primitiveMode(ti) == primModeDirect {
			return base
		}
		return base + st.ptrSep + "*"
	}
	n.budget--
	if depth >= maxTypeDepth || n.budget < 0 {
		return "..."
	}
	t, err := n.f.Type(ti)
	if err != nil {
		return unreadable(ti)
	}
	switch t.Leaf {
	case LF_POINTER:
		ref := n.name(t.Referent, depth+1)
		var s string
		switch t.PtrMode() {
		case PtrModeDataMember, PtrModeMethodMember:
			s = ref + " " + n.name(t.MemberClass, depth+1) + "::*"
		case PtrModeLValueRef, PtrModeRValueRef:
			switch {
			case st.refsAsPtr:
				s = ref + st.ptrSep + "*"
			case t.PtrMode() == PtrModeLValueRef:
				s = ref + st.ptrSep + "&"
			default:
				s = ref + st.ptrSep + "&&"
			}
		default:
			s = ref + st.ptrSep + "*"
		}
		if st.qualifiers {
			// Bits 9 to 12 of the attributes: volatile, const, unaligned, restrict (FORMATS.md
			// §7.5). They qualify the pointer itself, so they follow the star.
			for _, q := range []struct {
				bit  uint
				name string
			}{{10, " const"}, {9, " volatile"}, {11, " __unaligned"}, {12, " __restrict"}} {
				if t.PtrAttrs>>q.bit&1 != 0 {
					s += q.name
				}
			}
		}
		return s
	case LF_MODIFIER:
		inner := n.name(t.Referent, depth+1)
		if !st.qualifiers {
			return inner
		}
		var b strings.Builder
		if t.Modifiers&ModConst != 0 {
			b.WriteString("const ")
		}
		if t.Modifiers&ModVolatile != 0 {
			b.WriteString("volatile ")
		}
		if t.Modifiers&ModUnaligned != 0 {
			b.WriteString("__unaligned ")
		}
		return b.String() + inner
	case LF_PROCEDURE:
		if st.opaqueFunc != "" {
			return st.opaqueFunc
		}
		return n.name(t.Return, depth+1) + " " + n.name(t.ArgList, depth+1)
	case LF_MFUNCTION:
		if st.opaqueFunc != "" {
			return st.opaqueFunc
		}
		return n.name(t.Return, depth+1) + " " + n.name(t.Class, depth+1) + "::" + n.name(t.ArgList, depth+1)
	case LF_ARGLIST:
		parts := make([]string, 0, len(t.Args))
		for _, a := range t.Args {
			if n.budget < 0 {
				parts = append(parts, "...")
				break
			}
			parts = append(parts, n.name(a, depth+1))
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case LF_ARRAY:
		if !st.arrayDims {
			return t.Name
		}
		dims := ""
		for t.Leaf == LF_ARRAY && depth < maxTypeDepth {
			dims += "[" + strconv.FormatUint(n.arrayCount(t), 10) + "]"
			elem := t.Element
			if IsPrimitive(elem) {
				break
			}
			e, err := n.f.Type(elem)
			if err != nil || e.Leaf != LF_ARRAY {
				break
			}
			t = e
			depth++
		}
		return n.name(t.Element, depth+1) + " " + dims
	case LF_CLASS, LF_STRUCTURE, LF_INTERFACE, LF_UNION, LF_ENUM, LF_CLASS2, LF_STRUCTURE2:
		if st.keywords {
			return udtKeyword(t.Leaf) + " " + t.Name
		}
		return t.Name
	case LF_BITFIELD:
		return n.name(t.Underlying, depth+1)
	case LF_ALIAS:
		return t.Name
	case LF_VTSHAPE:
		// The type of a vftable pointer's target (FORMATS.md §7.5 LF_VFUNCTAB).
		return "<vftable>"
	}
	return unreadable(ti)
}

// arrayCount is the number of elements of an array record: its size over its element's.
func (n *namer) arrayCount(t Type) uint64 {
	es, ok := n.f.typeSize(t.Element, 1)
	if !ok || es == 0 {
		return 0
	}
	return t.Size / es
}

// udtKeyword is the C keyword of a UDT record's kind.
func udtKeyword(leaf uint16) string {
	switch leaf {
	case LF_CLASS, LF_CLASS2:
		return "class"
	case LF_UNION:
		return "union"
	case LF_ENUM:
		return "enum"
	}
	return "struct"
}

// DtTypeName spells a type as WinDbg's dt shows a field's type: primitives by size ("Uint4B",
// "Int8B", "Wchar", "Float"), pointers as "Ptr64 " or "Ptr32 " and their pointee, pointers to
// functions as "Ptr64     long" (the return type), vftable pointers as a bare "Ptr64", arrays as
// "[28] Ptr64 Void", UDTs and enums by name without keyword, bitfields as "Pos 3, 2 Bits".
func (f *File) DtTypeName(ti TypeIndex) string {
	n := &namer{f: f, st: cStyle, budget: maxNameRecords}
	s := n.dtName(ti, 0)
	if len(s) > maxTypeNameLen {
		s = s[:maxTypeNameLen] + "..."
	}
	return s
}

func (n *namer) dtName(ti TypeIndex, depth int) string {
	if IsPrimitive(ti) {
		return primitiveDtName(ti)
	}
	n.budget--
	if depth >= maxTypeDepth || n.budget < 0 {
		return "..."
	}
	t, err := n.f.Type(ti)
	if err != nil {
		return unreadable(ti)
	}
	switch t.Leaf {
	case LF_POINTER:
		prefix := "Ptr32"
		if size, _ := n.f.typeSize(ti, depth); size == 8 {
			prefix = "Ptr64"
		}
		if ref := n.dtName(t.Referent, depth+1); ref != "" {
			return prefix + " " + ref
		}
		return prefix
	case LF_MODIFIER:
		return n.dtName(t.Referent, depth+1)
	case LF_PROCEDURE, LF_MFUNCTION:
		// dt shows a function by its return type in C, after four spaces.
		return "    " + n.name(t.Return, depth+1)
	case LF_ARRAY:
		return "[" + strconv.FormatUint(n.arrayCount(t), 10) + "] " + n.dtName(t.Element, depth+1)
	case LF_CLASS, LF_STRUCTURE, LF_INTERFACE, LF_UNION, LF_ENUM, LF_CLASS2, LF_STRUCTURE2, LF_ALIAS:
		return t.Name
	case LF_VTSHAPE:
		return "" // a vftable pointer shows as a bare "Ptr64"
	case LF_BITFIELD:
		bits := " Bits"
		if t.BitLen == 1 {
			bits = " Bit"
		}
		return "Pos " + strconv.Itoa(int(t.BitPos)) + ", " + strconv.Itoa(int(t.BitLen)) + bits
	}
	return unreadable(ti)
}

// TypeSize is the size in bytes of a value of type ti: forward-declared UDTs are resolved to
// their definition, modifiers, enums, bitfields and aliases to the type they qualify. ok is false
// for void, function types and what cannot be read.
func (f *File) TypeSize(ti TypeIndex) (size uint64, ok bool) {
	return f.typeSize(ti, 0)
}

func (f *File) typeSize(ti TypeIndex, depth int) (uint64, bool) {
	for ; depth < maxTypeDepth; depth++ {
		if IsPrimitive(ti) {
			return primitiveSize(ti)
		}
		t, err := f.resolved(ti)
		if err != nil {
			return 0, false
		}
		switch t.Leaf {
		case LF_POINTER:
			if s := t.PtrSize(); s != 0 {
				return uint64(s), true
			}
			// PtrType (bits 4:0): 0x0A 32-bit, 0x0C 64-bit (FORMATS.md §7.5); the 16-bit and
			// segmented kinds are not met in PE images.
			switch t.PtrAttrs & 0x1F {
			case 0x0C:
				return 8, true
			case 0x0A:
				return 4, true
			}
			return 0, false
		case LF_MODIFIER:
			ti = t.Referent
		case LF_ENUM, LF_BITFIELD, LF_ALIAS:
			ti = t.Underlying
		case LF_CLASS, LF_STRUCTURE, LF_INTERFACE, LF_UNION, LF_CLASS2, LF_STRUCTURE2:
			return t.Size, !t.IsForwardRef()
		case LF_ARRAY:
			return t.Size, true
		default:
			return 0, false
		}
	}
	return 0, false
}
