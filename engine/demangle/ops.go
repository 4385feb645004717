package demangle

// opCode identifies an operator or compiler-generated function name (the "??X", "??_X" and "??__X"
// codes of MSVC's decoration).
type opCode uint8

// opName is how each style spells an operator: llvm-undname's wording (the Full oracle) and
// WinDbg's/undname's (the MSVC tools spell "constructor"/"destructor" out).
type opName struct{ llvm, msvc string }

const (
	opNone opCode = iota
	opNew
	opDelete
	opAssign
	opShr
	opShl
	opNot
	opEq
	opNe
	opSubscript
	opArrow
	opDeref
	opInc
	opDec
	opMinus
	opPlus
	opBitAnd
	opArrowStar
	opDiv
	opMod
	opLt
	opLe
	opGt
	opGe
	opComma
	opCall
	opBitNot
	opXor
	opBitOr
	opAnd
	opOr
	opMulAssign
	opPlusAssign
	opMinusAssign
	opDivAssign
	opModAssign
	opShrAssign
	opShlAssign
	opAndAssign
	opOrAssign
	opXorAssign
	opVftable
	opVbtable
	opVcall
	opTypeof
	opVbaseDtor
	opVecDelDtor
	opDefaultCtorClosure
	opScalarDelDtor
	opVecCtorIter
	opVecDtorIter
	opVecVbaseCtorIter
	opVdispMap
	opEHVecCtorIter
	opEHVecDtorIter
	opEHVecVbaseCtorIter
	opCopyCtorClosure
	opLocalVftable
	opLocalVftableCtorClosure
	opNewArray
	opDeleteArray
	opPlacementDeleteClosure
	opPlacementArrayDeleteClosure
	opManagedVecCtorIter
	opManagedVecDtorIter
	opEHVecCopyCtorIter
	opEHVecVbaseCopyCtorIter
	opVecCopyCtorIter
	opVecVbaseCopyCtorIter
	opManagedVecVbaseCopyCtorIter
	opCoAwait
	opSpaceship
	opRTTITypeDescriptor
	opRTTITypeDescriptorName
	opRTTIBaseClassArray
	opRTTIClassHierarchy
	opRTTICompleteObjectLocator
)

var opNames = map[opCode]opName{
	opNew: {"operator new", ""}, opDelete: {"operator delete", ""}, opAssign: {"operator=", ""},
	opShr: {"operator>>", ""}, opShl: {"operator<<", ""}, opNot: {"operator!", ""},
	opEq: {"operator==", ""}, opNe: {"operator!=", ""}, opSubscript: {"operator[]", ""},
	opArrow: {"operator->", ""}, opDeref: {"operator*", ""}, opInc: {"operator++", ""},
	opDec: {"operator--", ""}, opMinus: {"operator-", ""}, opPlus: {"operator+", ""},
	opBitAnd: {"operator&", ""}, opArrowStar: {"operator->*", ""}, opDiv: {"operator/", ""},
	opMod: {"operator%", ""}, opLt: {"operator<", ""}, opLe: {"operator<=", ""},
	opGt: {"operator>", ""}, opGe: {"operator>=", ""}, opComma: {"operator,", ""},
	opCall: {"operator()", ""}, opBitNot: {"operator~", ""}, opXor: {"operator^", ""},
	opBitOr: {"operator|", ""}, opAnd: {"operator&&", ""}, opOr: {"operator||", ""},
	opMulAssign: {"operator*=", ""}, opPlusAssign: {"operator+=", ""}, opMinusAssign: {"operator-=", ""},
	opDivAssign: {"operator/=", ""}, opModAssign: {"operator%=", ""}, opShrAssign: {"operator>>=", ""},
	opShlAssign: {"operator<<=", ""}, opAndAssign: {"operator&=", ""}, opOrAssign: {"operator|=", ""},
	opXorAssign:                   {"operator^=", ""},
	opVftable:                     {"`vftable'", ""},
	opVbtable:                     {"`vbtable'", ""},
	opVcall:                       {"`vcall'", ""},
	opTypeof:                      {"`typeof'", ""},
	opVbaseDtor:                   {"`vbase dtor'", "`vbase destructor'"},
	opVecDelDtor:                  {"`vector deleting dtor'", "`vector deleting destructor'"},
	opDefaultCtorClosure:          {"`default ctor closure'", "`default constructor closure'"},
	opScalarDelDtor:               {"`scalar deleting dtor'", "`scalar deleting destructor'"},
	opVecCtorIter:                 {"`vector ctor iterator'", "`vector constructor iterator'"},
	opVecDtorIter:                 {"`vector dtor iterator'", "`vector destructor iterator'"},
	opVecVbaseCtorIter:            {"`vector vbase ctor iterator'", "`vector vbase constructor iterator'"},
	opVdispMap:                    {"`virtual displacement map'", ""},
	opEHVecCtorIter:               {"`eh vector ctor iterator'", "`eh vector constructor iterator'"},
	opEHVecDtorIter:               {"`eh vector dtor iterator'", "`eh vector destructor iterator'"},
	opEHVecVbaseCtorIter:          {"`eh vector vbase ctor iterator'", "`eh vector vbase constructor iterator'"},
	opCopyCtorClosure:             {"`copy ctor closure'", "`copy constructor closure'"},
	opLocalVftable:                {"`local vftable'", ""},
	opLocalVftableCtorClosure:     {"`local vftable ctor closure'", "`local vftable constructor closure'"},
	opNewArray:                    {"operator new[]", ""},
	opDeleteArray:                 {"operator delete[]", ""},
	opPlacementDeleteClosure:      {"`placement delete closure'", ""},
	opPlacementArrayDeleteClosure: {"`placement delete[] closure'", ""},
	opManagedVecCtorIter:          {"`managed vector ctor iterator'", "`managed vector constructor iterator'"},
	opManagedVecDtorIter:          {"`managed vector dtor iterator'", "`managed vector destructor iterator'"},
	opEHVecCopyCtorIter:           {"`eh vector copy ctor iterator'", "`eh vector copy constructor iterator'"},
	opEHVecVbaseCopyCtorIter:      {"`eh vector vbase copy ctor iterator'", "`eh vector vbase copy constructor iterator'"},
	opVecCopyCtorIter:             {"`vector copy ctor iterator'", "`vector copy constructor iterator'"},
	opVecVbaseCopyCtorIter:        {"`vector vbase copy ctor iterator'", "`vector vbase copy constructor iterator'"},
	opManagedVecVbaseCopyCtorIter: {"`managed vector vbase copy ctor iterator'", "`managed vector vbase copy constructor iterator'"},
	opCoAwait:                     {"operator co_await", ""},
	opSpaceship:                   {"operator<=>", ""},
	opRTTITypeDescriptor:          {"`RTTI Type Descriptor'", ""},
	opRTTITypeDescriptorName:      {"`RTTI Type Descriptor Name'", ""},
	opRTTIBaseClassArray:          {"`RTTI Base Class Array'", ""},
	opRTTIClassHierarchy:          {"`RTTI Class Hierarchy Descriptor'", ""},
	opRTTICompleteObjectLocator:   {"`RTTI Complete Object Locator'", ""},
}

func (c opCode) name(msvc bool) string {
	n := opNames[c]
	if msvc && n.msvc != "" {
		return n.msvc
	}
	return n.llvm
}

// The operator codes after "??" (one character), "??_" and "??__". Codes that introduce a special
// symbol rather than a function name (vftable, string literals, RTTI, guards, dynamic
// initializers) are handled by the parser before these tables are consulted.
var (
	opCodes1 = map[byte]opCode{
		'2': opNew, '3': opDelete, '4': opAssign, '5': opShr, '6': opShl, '7': opNot, '8': opEq,
		'9': opNe, 'A': opSubscript, 'C': opArrow, 'D': opDeref, 'E': opInc, 'F': opDec,
		'G': opMinus, 'H': opPlus, 'I': opBitAnd, 'J': opArrowStar, 'K': opDiv, 'L': opMod,
		'M': opLt, 'N': opLe, 'O': opGt, 'P': opGe, 'Q': opComma, 'R': opCall, 'S': opBitNot,
		'T': opXor, 'U': opBitOr, 'V': opAnd, 'W': opOr, 'X': opMulAssign, 'Y': opPlusAssign,
		'Z': opMinusAssign,
	}
	opCodesUnderscore = map[byte]opCode{
		'0': opDivAssign, '1': opModAssign, '2': opShrAssign, '3': opShlAssign, '4': opAndAssign,
		'5': opOrAssign, '6': opXorAssign, 'A': opTypeof, 'D': opVbaseDtor, 'E': opVecDelDtor,
		'F': opDefaultCtorClosure, 'G': opScalarDelDtor, 'H': opVecCtorIter, 'I': opVecDtorIter,
		'J': opVecVbaseCtorIter, 'K': opVdispMap, 'L': opEHVecCtorIter, 'M': opEHVecDtorIter,
		'N': opEHVecVbaseCtorIter, 'O': opCopyCtorClosure, 'T': opLocalVftableCtorClosure,
		'U': opNewArray, 'V': opDeleteArray, 'X': opPlacementDeleteClosure,
		'Y': opPlacementArrayDeleteClosure,
	}
	opCodesDoubleUnderscore = map[byte]opCode{
		'A': opManagedVecCtorIter, 'B': opManagedVecDtorIter, 'C': opEHVecCopyCtorIter,
		'D': opEHVecVbaseCopyCtorIter, 'G': opVecCopyCtorIter, 'H': opVecVbaseCopyCtorIter,
		'I': opManagedVecVbaseCopyCtorIter, 'L': opCoAwait, 'M': opSpaceship,
	}
)

// callingConventions maps the calling-convention letter to its keyword (the "far" letter of each
// pair means the same on Win32).
var callingConventions = map[byte]string{
	'A': "__cdecl", 'B': "__cdecl", 'C': "__pascal", 'D': "__pascal", 'E': "__thiscall",
	'F': "__thiscall", 'G': "__stdcall", 'H': "__stdcall", 'I': "__fastcall", 'J': "__fastcall",
	'M': "__clrcall", 'N': "__clrcall", 'O': "__eabi", 'P': "__eabi", 'Q': "__vectorcall",
	'S': "__attribute__((__swiftcall__))", 'W': "__attribute__((__swiftasynccall__))",
	'U': "__regcall",
}

// primitives maps the one-letter type codes; extendedPrimitives the "_X" ones.
var (
	primitives = map[byte]string{
		'X': "void", 'D': "char", 'C': "signed char", 'E': "unsigned char", 'F': "short",
		'G': "unsigned short", 'H': "int", 'I': "unsigned int", 'J': "long", 'K': "unsigned long",
		'M': "float", 'N': "double", 'O': "long double",
	}
	extendedPrimitives = map[byte]string{
		'N': "bool", 'J': "__int64", 'K': "unsigned __int64", 'W': "wchar_t", 'Q': "char8_t",
		'S': "char16_t", 'U': "char32_t", 'D': "__int8", 'E': "unsigned __int8", 'F': "__int16",
		'G': "unsigned __int16", 'H': "__int32", 'I': "unsigned __int32", 'L': "__int128",
		'M': "unsigned __int128",
	}
)
