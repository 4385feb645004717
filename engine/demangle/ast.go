package demangle

// The parser turns a decorated name into this tree; print.go renders it in either style.

// quals are type and pointer qualifiers.
type quals uint8

const (
	qConst quals = 1 << iota
	qVolatile
	qRestrict
	qUnaligned
	qPtr64 // __ptr64: parsed, never printed (llvm-undname and WinDbg's stacks omit it)
)

// ident is one component of a qualified name.
type ident interface{ isIdent() }

type simpleIdent struct{ name string }

// templateIdent is a name with template arguments: base<args>.
type templateIdent struct {
	base ident
	args []node
}

// operatorIdent is an operator or a compiler-generated name: "operator+", "`vftable'", ...
type operatorIdent struct{ code opCode }

// structorIdent is a constructor (??0) or destructor (??1): it prints as the enclosing class's
// name, which the parser fills in once the whole qualified name is known.
type structorIdent struct {
	dtor  bool
	class ident
}

// convOpIdent is a conversion operator (??B): "operator T", T being the function's return type.
type convOpIdent struct{ target typ }

type anonNamespaceIdent struct{}

// localScopeIdent is a function-local scope: "`enclosing function'::`N'".
type localScopeIdent struct {
	scope *symbol
	index uint64
}

// dynamicIdent is "`dynamic initializer for 'x”" or "`dynamic atexit destructor for 'x”".
type dynamicIdent struct {
	atexit   bool
	name     *qname  // the object's name, or
	variable *symbol // the static data member (the "??__E?x@C@@2HA@@..." form)
}

// rttiBaseDescIdent is "`RTTI Base Class Descriptor at (a, b, c, d)'".
type rttiBaseDescIdent struct{ nvOffset, vbptrOffset, vbtableOffset, flags int64 }

// guardIdent is "`local static guard'{N}" (or the thread-safe variant).
type guardIdent struct {
	thread bool
	index  uint64
}

// literalOpIdent is a user-defined literal operator: `operator "" _name`.
type literalOpIdent struct{ name string }

func (*simpleIdent) isIdent()        {}
func (*templateIdent) isIdent()      {}
func (*operatorIdent) isIdent()      {}
func (*structorIdent) isIdent()      {}
func (*convOpIdent) isIdent()        {}
func (*anonNamespaceIdent) isIdent() {}
func (*localScopeIdent) isIdent()    {}
func (*dynamicIdent) isIdent()       {}
func (*rttiBaseDescIdent) isIdent()  {}
func (*guardIdent) isIdent()         {}
func (*literalOpIdent) isIdent()     {}

// qname is a qualified name, outermost component first.
type qname struct{ parts []ident }

func (q *qname) last() ident {
	if q == nil || len(q.parts) == 0 {
		return nil
	}
	return q.parts[len(q.parts)-1]
}

// node is a template argument: a type, an integer, or a reference to a symbol.
type node interface{}

// typ is a type.
type typ interface{ typeQuals() *quals }

type primType struct {
	name string
	q    quals
}

type tagType struct {
	keyword string // "class", "struct", "union", "enum"
	name    *qname
	q       quals
}

type affinity uint8

const (
	affPointer affinity = iota
	affReference
	affRValueRef
)

type pointerType struct {
	aff     affinity
	q       quals // the pointer's own qualifiers (a const pointer, __restrict, __unaligned)
	class   *qname
	pointee typ
}

type funcType struct {
	class    funcClass
	cc       string
	ret      typ // nil for constructors and destructors
	params   []typ
	variadic bool
	noParams bool // extern "C" names carry no parameter list
	q        quals
	refQual  affinity // affReference or affRValueRef when the member function has & or &&
	hasRef   bool
	noexcept bool
	adjust   thisAdjust
}

type thisAdjust struct{ staticOff, vbptrOff, vboffOff, vtordispOff int64 }

type arrayType struct {
	dims []uint64
	elem typ
	q    quals
}

type customType struct {
	id ident
	q  quals
}

func (t *primType) typeQuals() *quals    { return &t.q }
func (t *tagType) typeQuals() *quals     { return &t.q }
func (t *pointerType) typeQuals() *quals { return &t.q }
func (t *funcType) typeQuals() *quals    { return &t.q }
func (t *arrayType) typeQuals() *quals   { return &t.q }
func (t *customType) typeQuals() *quals  { return &t.q }

// intArg is an integer template argument.
type intArg struct {
	value uint64
	neg   bool
}

// symbolArg is a template argument naming a symbol: &x, x, or a member pointer with offsets.
type symbolArg struct {
	sym       *symbol // nil for a member pointer given by offsets only
	aff       affinity
	hasAff    bool
	offsets   []int64
	memberPtr bool
}

// funcClass holds the access and kind letters of a function (and thunk kinds).
type funcClass uint16

const (
	fcPublic funcClass = 1 << iota
	fcProtected
	fcPrivate
	fcGlobal
	fcStatic
	fcVirtual
	fcFar
	fcExternC
	fcStaticThisAdjust
	fcVirtualThisAdjust
	fcVirtualThisAdjustEx
	fcVcall
)

type symKind uint8

const (
	symFunction symKind = iota
	symVariable
	symSpecialTable // vftable, vbtable, local vftable, ...: "const X::`vftable'{for `Y'}"
	symGuard        // local static guard variable
	symString       // string literal
	symRaw          // a name printed as given (??@hash@)
	symVcall        // [thunk]: ... `vcall'{N, {flat}}
)

type storageClass uint8

const (
	scNone storageClass = iota
	scPrivateStatic
	scProtectedStatic
	scPublicStatic
	scGlobal
	scFunctionLocalStatic
)

type symbol struct {
	kind        symKind
	name        *qname
	fn          *funcType
	varType     typ
	sc          storageClass
	tableQ      quals
	targets     []*qname // {for `Y'}
	raw         string
	vcallOffset uint64
}
