package pdb

// Primitive (simple) type indices, below 0x1000: bits 7:0 the kind, bits 11:8 the mode, 0 for
// the value itself or one of the pointer modes (FORMATS.md §7.5; cvinfo.h TYPE_ENUM_e).
const (
	tNoType  = 0x0000
	tVoid    = 0x0003
	tHResult = 0x0008
	tPVoid   = 0x0103 // near pointer to void: what MSVC uses for std::nullptr_t

	primModeDirect = 0
	primMode64     = 6
)

// Primitive kinds (bits 7:0).
const (
	kindVoid    = 0x03
	kindHResult = 0x08
	kindChar    = 0x10 // signed char
	kindShort   = 0x11
	kindLong    = 0x12
	kindQuad    = 0x13
	kindOct     = 0x14
	kindUChar   = 0x20
	kindUShort  = 0x21
	kindULong   = 0x22
	kindUQuad   = 0x23
	kindUOct    = 0x24
	kindBool8   = 0x30
	kindBool16  = 0x31
	kindBool32  = 0x32
	kindBool64  = 0x33
	kindBool128 = 0x34
	kindReal32  = 0x40
	kindReal64  = 0x41
	kindReal80  = 0x42
	kindReal128 = 0x43
	kindReal48  = 0x44
	kindReal32P = 0x45 // partial precision
	kindReal16  = 0x46
	kindInt8    = 0x68
	kindUInt8   = 0x69
	kindRChar   = 0x70 // plain char
	kindWChar   = 0x71
	kindInt16   = 0x72
	kindUInt16  = 0x73
	kindInt32   = 0x74
	kindUInt32  = 0x75
	kindInt64   = 0x76
	kindUInt64  = 0x77
	kindInt128  = 0x78
	kindUInt128 = 0x79
	kindChar16  = 0x7A
	kindChar32  = 0x7B
	kindChar8   = 0x7C
)

// primitiveKind and primitiveMode split a primitive type index.
func primitiveKind(ti TypeIndex) uint8 { return uint8(ti) }
func primitiveMode(ti TypeIndex) uint8 { return uint8(ti>>8) & 0xF }

// primitiveNames spells the primitive kinds in one naming scheme.
type primitiveNames map[uint8]string

// cNames are the C spellings the debugger engine prints in typed stack frames (kp):
// "unsigned int", "__int64", "wchar_t".
var cNames = primitiveNames{
	kindVoid: "void", kindHResult: "HRESULT",
	kindChar: "char", kindShort: "short", kindLong: "long", kindQuad: "__int64", kindOct: "__int128",
	kindUChar: "unsigned char", kindUShort: "unsigned short", kindULong: "unsigned long",
	kindUQuad: "unsigned __int64", kindUOct: "unsigned __int128",
	kindBool8: "bool", kindBool16: "__bool16", kindBool32: "__bool32", kindBool64: "__bool64", kindBool128: "__bool128",
	kindReal32: "float", kindReal64: "double", kindReal80: "long double", kindReal128: "__float128",
	kindReal48: "__float48", kindReal32P: "float", kindReal16: "__half",
	kindInt8: "char", kindUInt8: "unsigned char", kindRChar: "char", kindWChar: "wchar_t",
	kindInt16: "short", kindUInt16: "unsigned short", kindInt32: "int", kindUInt32: "unsigned int",
	kindInt64: "__int64", kindUInt64: "unsigned __int64", kindInt128: "__int128", kindUInt128: "unsigned __int128",
	kindChar16: "char16_t", kindChar32: "char32_t", kindChar8: "char8_t",
}

// dtNames are the size-based names WinDbg's dt prints for primitive fields: "Uint4B", "Int8B",
// "Wchar", "Float" (float and double alike), "Void".
var dtNames = primitiveNames{
	kindVoid: "Void", kindHResult: "Int4B",
	kindChar: "Char", kindShort: "Int2B", kindLong: "Int4B", kindQuad: "Int8B", kindOct: "Int16B",
	kindUChar: "UChar", kindUShort: "Uint2B", kindULong: "Uint4B", kindUQuad: "Uint8B", kindUOct: "Uint16B",
	kindBool8: "Bool", kindBool16: "Bool", kindBool32: "Bool", kindBool64: "Bool", kindBool128: "Bool",
	kindReal32: "Float", kindReal64: "Float", kindReal80: "Float", kindReal128: "Float",
	kindReal48: "Float", kindReal32P: "Float", kindReal16: "Float",
	kindInt8: "Char", kindUInt8: "UChar", kindRChar: "Char", kindWChar: "Wchar",
	kindInt16: "Int2B", kindUInt16: "Uint2B", kindInt32: "Int4B", kindUInt32: "Uint4B",
	kindInt64: "Int8B", kindUInt64: "Uint8B", kindInt128: "Int16B", kindUInt128: "Uint16B",
	kindChar16: "Wchar", kindChar32: "Uint4B", kindChar8: "Char",
}

// primitiveBaseName is the name of a primitive kind in a scheme, or a placeholder naming the
// index for kinds the scheme does not know.
func primitiveBaseName(kind uint8, names primitiveNames) string {
	if n, ok := names[kind]; ok {
		return n
	}
	return "<primitive " + hex16(uint16(kind)) + ">"
}

// primitiveName spells a primitive type in the C scheme: "int", "char *", "void *".
func primitiveName(ti TypeIndex, names primitiveNames) string {
	if ti == tNoType {
		return "<no type>"
	}
	base := primitiveBaseName(primitiveKind(ti), names)
	if primitiveMode(ti) == primModeDirect {
		return base
	}
	return base + " *"
}

// primitiveDtName spells a primitive type as dt does: "Uint4B", "Ptr64 Void", "Ptr32 Char".
func primitiveDtName(ti TypeIndex) string {
	base := primitiveBaseName(primitiveKind(ti), dtNames)
	switch primitiveMode(ti) {
	case primModeDirect:
		return base
	case primMode64:
		return "Ptr64 " + base
	}
	return "Ptr32 " + base
}

// primitiveSize is the size in bytes of a primitive type (its pointer size in the pointer
// modes); ok is false for void and unknown kinds.
func primitiveSize(ti TypeIndex) (uint64, bool) {
	switch primitiveMode(ti) {
	case primModeDirect:
	case 1: // 16-bit near pointer
		return 2, true
	case 2, 3, 4: // 16:16 far and huge, 32-bit near
		return 4, true
	case 5: // 16:32 far
		return 6, true
	case primMode64:
		return 8, true
	case 7: // 128-bit near
		return 16, true
	default:
		return 0, false
	}
	switch primitiveKind(ti) {
	case kindChar, kindUChar, kindInt8, kindUInt8, kindRChar, kindChar8, kindBool8:
		return 1, true
	case kindShort, kindUShort, kindInt16, kindUInt16, kindWChar, kindChar16, kindBool16, kindReal16:
		return 2, true
	case kindLong, kindULong, kindInt32, kindUInt32, kindChar32, kindBool32, kindReal32, kindReal32P, kindHResult:
		return 4, true
	case kindReal48:
		return 6, true
	case kindQuad, kindUQuad, kindInt64, kindUInt64, kindBool64, kindReal64:
		return 8, true
	case kindReal80:
		return 10, true
	case kindOct, kindUOct, kindInt128, kindUInt128, kindBool128, kindReal128:
		return 16, true
	}
	return 0, false
}

// IsSigned reports whether ti (after modifiers, enums and bitfields are looked through by the
// caller) is a signed integer primitive: dt prints those in decimal (0n…) and the others in hex.
func IsSigned(ti TypeIndex) bool {
	if !IsPrimitive(ti) || primitiveMode(ti) != primModeDirect {
		return false
	}
	switch primitiveKind(ti) {
	case kindChar, kindShort, kindLong, kindQuad, kindOct, kindInt8, kindRChar, kindInt16, kindInt32,
		kindInt64, kindInt128, kindHResult:
		return true
	}
	return false
}

// IsFloat reports whether ti is a floating-point primitive.
func IsFloat(ti TypeIndex) bool {
	if !IsPrimitive(ti) || primitiveMode(ti) != primModeDirect {
		return false
	}
	switch primitiveKind(ti) {
	case kindReal16, kindReal32, kindReal32P, kindReal48, kindReal64, kindReal80, kindReal128:
		return true
	}
	return false
}

const hexDigits = "0123456789abcdef"

// hex16 formats v as 0x followed by four hex digits.
func hex16(v uint16) string {
	b := []byte("0x0000")
	for i := 5; i >= 2; i-- {
		b[i] = hexDigits[v&0xF]
		v >>= 4
	}
	return string(b)
}
