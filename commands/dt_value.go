package commands

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"wdbg/engine"
	"wdbg/engine/pdb"
)

// dtWalker lists a structure's members and, with an address, renders their values as dt does
// (WINDBG-SPEC §3.11): unsigned in hex, signed as 0n decimal, pointers with the pointee's type,
// (null) for zero, enums with their name, bitfields in binary, char arrays and UNICODE_STRINGs as
// text, LIST_ENTRYs as [ Flink - Blink ], other structures by type name (expanded with -r).
type dtWalker struct {
	s        *Session
	f        *pdb.File
	ptr      int
	maxDepth int
	res      *dtResult
	hasAddr  bool
	base     uint64
}

// maxDtFields bounds the lines of one dt (a deep -r9 over a large structure).
const maxDtFields = 20000

func (w *dtWalker) members(st *pdb.Struct, at uint64, depth int, filter []string) {
	for _, fl := range st.Fields {
		if fl.Kind != pdb.FieldMember || len(w.res.Fields) >= maxDtFields {
			continue
		}
		if len(filter) > 0 && !matchDtField(fl.Name, filter) {
			continue
		}
		f := dtField{Depth: depth, Offset: fl.Offset, Name: fl.Name, Type: w.f.DtTypeName(fl.Type)}
		if fl.BitLen > 0 {
			bits := "Bits"
			if fl.BitLen == 1 {
				bits = "Bit"
			}
			f.Type = fmt.Sprintf("Pos %d, %d %s", fl.BitPos, fl.BitLen, bits)
		}
		if w.hasAddr {
			f.Value = w.value(fl, w.base+at+fl.Offset)
		}
		w.res.Fields = append(w.res.Fields, f)
		if depth < w.maxDepth && fl.BitLen == 0 {
			if inner, err := w.f.Struct(fl.Type); err == nil {
				w.members(inner, at+fl.Offset, depth+1, nil)
			}
		}
	}
}

func matchDtField(name string, filter []string) bool {
	for _, f := range filter {
		if p, ok := strings.CutSuffix(f, "*"); ok && strings.HasPrefix(name, p) || name == f {
			return true
		}
	}
	return false
}

// read reads n bytes at addr; on failure it notes the first unreadable address.
func (w *dtWalker) read(addr uint64, n uint64) ([]byte, bool) {
	b := make([]byte, n)
	got, err := w.s.Memory().ReadAt(b, addr)
	if uint64(got) == n {
		return b, true
	}
	if w.res.ReadError == "" {
		bad := addr + uint64(got)
		if re, ok := err.(*engine.ReadError); ok {
			bad = re.Addr
		}
		w.res.ReadError = fmt.Sprintf("%016x", bad)
	}
	return nil, false
}

func (w *dtWalker) unsigned(addr, size uint64) (uint64, bool) {
	if size == 0 || size > 8 {
		return 0, false
	}
	b, ok := w.read(addr, size)
	if !ok {
		return 0, false
	}
	var buf [8]byte
	copy(buf[:], b)
	return binary.LittleEndian.Uint64(buf[:]), true
}

func unreadableValue(size uint64) string { return strings.Repeat("??", int(min(max(size, 1), 8))) }

// value renders the member fl at addr.
func (w *dtWalker) value(fl pdb.Field, addr uint64) string {
	ti := w.f.Resolve(fl.Type)
	size, _ := w.f.TypeSize(ti)
	if fl.BitLen > 0 {
		v, ok := w.unsigned(addr, size)
		if !ok {
			return unreadableValue(size)
		}
		v = v >> fl.BitPos & (1<<fl.BitLen - 1)
		bin := fmt.Sprintf("0y%0*b", fl.BitLen, v)
		if fl.BitLen > 1 {
			bin += fmt.Sprintf(" (0x%x)", v)
		}
		return bin
	}
	return w.typedValue(ti, addr, size, 0)
}

func (w *dtWalker) typedValue(ti pdb.TypeIndex, addr, size uint64, depth int) string {
	if pdb.IsPrimitive(ti) {
		return w.primitive(ti, addr, size)
	}
	t, err := w.f.Type(ti)
	if err != nil || depth > 8 {
		return "??"
	}
	switch t.Leaf {
	case pdb.LF_MODIFIER:
		inner := w.f.Resolve(t.Referent)
		return w.typedValue(inner, addr, size, depth+1)
	case pdb.LF_POINTER:
		v, ok := w.unsigned(addr, size)
		if !ok {
			return unreadableValue(size)
		}
		return w.pointer(v, w.f.DtTypeName(t.Referent))
	case pdb.LF_ENUM:
		v, ok := w.unsigned(addr, size)
		if !ok {
			return unreadableValue(size)
		}
		if es, err := w.f.Enumerators(ti); err == nil {
			for _, e := range es {
				if e.Value == v || e.Signed && e.Value == uint64(signExtend(v, size)) {
					return fmt.Sprintf("%d ( %s )", int64(signExtend(v, size)), e.Name)
				}
			}
		}
		return fmt.Sprintf("%d", int64(signExtend(v, size)))
	case pdb.LF_ARRAY:
		return w.array(t, addr)
	case pdb.LF_CLASS, pdb.LF_STRUCTURE, pdb.LF_UNION, pdb.LF_INTERFACE, pdb.LF_CLASS2, pdb.LF_STRUCTURE2:
		return w.structValue(ti, t.Name, addr)
	}
	return w.f.DtTypeName(ti)
}

func signExtend(v, size uint64) int64 {
	if size == 0 || size >= 8 {
		return int64(v)
	}
	shift := 64 - 8*size
	return int64(v<<shift) >> shift
}

func (w *dtWalker) pointer(v uint64, pointee string) string {
	if v == 0 {
		return "(null) "
	}
	s := "0x" + FormatAddr(v, w.ptr)
	if pointee != "" {
		s += " " + pointee
	}
	return s
}

// primitive renders integers (hex unsigned, 0n signed, chars with the character in quotes),
// pointer-mode primitives (Ptr64 Void...) as pointers, and floats as their bits.
func (w *dtWalker) primitive(ti pdb.TypeIndex, addr, size uint64) string {
	if size == 0 {
		return "??"
	}
	v, ok := w.unsigned(addr, size)
	if !ok {
		return unreadableValue(size)
	}
	if (ti>>8)&0xF != 0 { // a pointer mode
		return w.pointer(v, strings.TrimPrefix(strings.TrimPrefix(w.f.DtTypeName(ti), "Ptr64 "), "Ptr32 "))
	}
	var s string
	if pdb.IsSigned(ti) {
		s = "0n" + strconv.FormatInt(signExtend(v, size), 10)
	} else if size == 8 {
		s = "0x" + FormatAddr(v, 8) // Uint8B shows all sixteen digits, with the backtick
	} else {
		s = "0x" + strconv.FormatUint(v, 16)
	}
	if isCharPrimitive(ti) {
		c := ""
		if v >= 0x20 && v < 0x7F {
			c = string(rune(v))
		}
		s += " '" + c + "'"
	}
	return s
}

// isCharPrimitive: char, unsigned char and the "really a char" kind (CodeView 0x10, 0x20, 0x70).
func isCharPrimitive(ti pdb.TypeIndex) bool {
	k := ti & 0xFF
	return ti>>8 == 0 && (k == 0x10 || k == 0x20 || k == 0x70)
}

// array shows character arrays as text and any other array by its first element.
func (w *dtWalker) array(t pdb.Type, addr uint64) string {
	elem := w.f.Resolve(t.Element)
	es, ok := w.f.TypeSize(elem)
	if !ok || es == 0 {
		return "[?]"
	}
	count := t.Size / es
	prefix := fmt.Sprintf("[%d] ", count)
	switch {
	case isCharPrimitive(elem) && es == 1:
		b, ok := w.read(addr, min(t.Size, 256))
		if !ok {
			return prefix + "??"
		}
		if i := strings.IndexByte(string(b), 0); i >= 0 {
			b = b[:i]
		}
		return prefix + " " + strconv.Quote(string(b))
	case pdb.IsPrimitive(elem) && elem&0xFF == 0x71 && es == 2: // wchar_t
		b, ok := w.read(addr, min(t.Size, 512))
		if !ok {
			return prefix + "??"
		}
		return prefix + " " + strconv.Quote(utf16String(b))
	}
	return prefix + w.typedValue(elem, addr, es, 1)
}

func utf16String(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// structValue: the shapes dt shows inline (LIST_ENTRY, UNICODE_STRING, LARGE_INTEGER), else the
// type's name.
func (w *dtWalker) structValue(ti pdb.TypeIndex, name string, addr uint64) string {
	st, err := w.f.Struct(ti)
	if err != nil {
		return name
	}
	member := func(n string) (pdb.Field, bool) {
		for _, f := range st.Fields {
			if f.Kind == pdb.FieldMember && f.Name == n {
				return f, true
			}
		}
		return pdb.Field{}, false
	}
	ptr := uint64(w.ptr)
	switch strings.TrimPrefix(name, "_") {
	case "LIST_ENTRY", "LIST_ENTRY64", "LIST_ENTRY32":
		fl, ok1 := member("Flink")
		bl, ok2 := member("Blink")
		size, _ := w.f.TypeSize(fl.Type)
		if !ok1 || !ok2 || size == 0 {
			break
		}
		f, okf := w.unsigned(addr+fl.Offset, size)
		b, okb := w.unsigned(addr+bl.Offset, size)
		if !okf || !okb {
			return "[ ?? - ?? ]"
		}
		return fmt.Sprintf("[ 0x%s - 0x%s ]", FormatAddr(f, int(size)), FormatAddr(b, int(size)))
	case "UNICODE_STRING":
		ln, ok1 := member("Length")
		buf, ok2 := member("Buffer")
		if !ok1 || !ok2 {
			break
		}
		n, okn := w.unsigned(addr+ln.Offset, 2)
		p, okp := w.unsigned(addr+buf.Offset, ptr)
		if !okn || !okp {
			return "??"
		}
		if n == 0 {
			return `""`
		}
		b, ok := w.read(p, min(n, 1024))
		if !ok {
			return "??"
		}
		return strconv.Quote(utf16String(b))
	case "LARGE_INTEGER", "ULARGE_INTEGER":
		v, ok := w.unsigned(addr, 8)
		if !ok {
			return name + " ????????????????"
		}
		return fmt.Sprintf("%s 0x%x", name, v)
	}
	return name
}
