package demangle

import (
	"strconv"
	"strings"
)

// style is one way of writing C++ declarations.
type style struct {
	// msvc selects the MSVC tools' spelling (WinDbg's stacks, the compiler's own names in a PDB):
	// no class/struct/enum keyword before type names, "a,b" in template argument lists, "> >"
	// between closing brackets, "char * const" around pointer qualifiers, "constructor" and
	// "destructor" spelled out. Otherwise llvm-undname's spelling.
	msvc bool
}

var (
	styleLLVM = style{}
	styleMSVC = style{msvc: true}
)

// maxOutput bounds the text of one name: back-references can make a short decoration print a
// very long name (each level of nesting may double it).
const maxOutput = 1 << 15

type printer struct {
	b        strings.Builder
	st       style
	overflow bool
}

// render runs f on a fresh printer; ok is false when the output grew past maxOutput.
func render(st style, f func(w *printer)) (string, bool) {
	w := &printer{st: st}
	f(w)
	if w.overflow {
		return "", false
	}
	return w.b.String(), true
}

func (w *printer) str(s string) {
	if w.overflow {
		return
	}
	if w.b.Len()+len(s) > maxOutput {
		w.overflow = true
		return
	}
	w.b.WriteString(s)
}

func (w *printer) last() byte {
	if w.b.Len() == 0 {
		return 0
	}
	s := w.b.String()
	return s[len(s)-1]
}

// spaceIfNeeded separates an identifier from a preceding letter, digit or closing bracket (as
// llvm-undname does: not after '_', hence "struct HINSTANCE__*").
func (w *printer) spaceIfNeeded() {
	c := w.last()
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '>' {
		w.str(" ")
	}
}

func (w *printer) qualsAfter(q quals, spaceBefore bool) {
	for _, x := range []struct {
		bit  quals
		text string
	}{{qConst, "const"}, {qVolatile, "volatile"}, {qRestrict, "__restrict"}} {
		if q&x.bit == 0 {
			continue
		}
		if spaceBefore {
			w.str(" ")
		}
		w.str(x.text)
		spaceBefore = true
	}
}

// symbol writes a whole declaration.
func (w *printer) symbol(s *symbol) {
	if w.overflow {
		return
	}
	if s == nil {
		return
	}
	switch s.kind {
	case symRaw:
		w.str(s.raw)
	case symString:
		w.str("`string'")
	case symSpecialTable:
		if s.tableQ&qConst != 0 {
			w.str("const ")
		}
		if s.tableQ&qVolatile != 0 {
			w.str("volatile ")
		}
		w.qname(s.name)
		if len(s.targets) > 0 {
			w.str("{for `")
			w.qname(s.targets[0])
			w.str("'}")
		}
	case symGuard:
		w.qname(s.name)
	case symVariable:
		w.variable(s)
	case symVcall:
		w.str("[thunk]: ")
		w.str(s.fn.cc)
		w.str(" ")
		w.qname(s.name)
		w.str("{" + strconv.FormatUint(s.vcallOffset, 10) + ", {flat}}")
	case symFunction:
		w.function(s.fn, s.name)
	}
}

func (w *printer) variable(s *symbol) {
	switch s.sc {
	case scPrivateStatic:
		w.str("private: static ")
	case scProtectedStatic:
		w.str("protected: static ")
	case scPublicStatic:
		w.str("public: static ")
	}
	if s.varType != nil {
		w.typePre(s.varType)
		if s.name != nil {
			w.spaceIfNeeded()
		}
	}
	if s.name != nil {
		w.qname(s.name)
	}
	if s.varType != nil {
		w.typePost(s.varType)
	}
}

// function writes access, storage, return type, calling convention, name, parameters and
// qualifiers.
func (w *printer) function(fn *funcType, name *qname) {
	if fn.class&(fcStaticThisAdjust|fcVirtualThisAdjust) != 0 {
		w.str("[thunk]: ")
	}
	w.funcPre(fn, true)
	w.spaceIfNeeded()
	w.qname(name)
	w.str(thunkSuffix(fn))
	w.funcPost(fn)
}

func (w *printer) funcPre(fn *funcType, withCC bool) {
	c := fn.class
	switch {
	case c&fcPublic != 0:
		w.str("public: ")
	case c&fcProtected != 0:
		w.str("protected: ")
	case c&fcPrivate != 0:
		w.str("private: ")
	}
	if c&fcGlobal == 0 && c&fcStatic != 0 {
		w.str("static ")
	}
	if c&fcVirtual != 0 {
		w.str("virtual ")
	}
	if c&fcExternC != 0 {
		w.str(`extern "C" `)
	}
	if fn.ret != nil {
		w.typePre(fn.ret)
		w.str(" ")
	}
	if withCC {
		w.str(fn.cc)
	}
}

func (w *printer) funcPost(fn *funcType) {
	if !fn.noParams {
		w.str("(")
		w.params(fn.params, fn.variadic)
		w.str(")")
	}
	if fn.q&qConst != 0 {
		w.str(" const")
	}
	if fn.q&qVolatile != 0 {
		w.str(" volatile")
	}
	if fn.q&qRestrict != 0 {
		w.str(" __restrict")
	}
	if fn.q&qUnaligned != 0 {
		w.str(" __unaligned")
	}
	if fn.noexcept {
		w.str(" noexcept")
	}
	if fn.hasRef {
		if fn.refQual == affRValueRef {
			w.str(" &&")
		} else {
			w.str(" &")
		}
	}
	if fn.ret != nil {
		w.typePost(fn.ret)
	}
}

func (w *printer) sep() string {
	if w.st.msvc {
		return ","
	}
	return ", "
}

func (w *printer) params(params []typ, variadic bool) {
	for i, t := range params {
		if i > 0 {
			w.str(w.sep())
		}
		w.typ(t)
	}
	if variadic {
		if len(params) > 0 {
			w.str(w.sep())
		}
		w.str("...")
	} else if len(params) == 0 {
		w.str("void")
	}
}

// typ writes a type alone (as in a parameter list).
func (w *printer) typ(t typ) {
	w.typePre(t)
	w.typePost(t)
}

// typePre and typePost write the parts of a declarator before and after the declared name:
// "int (*" and ")[3]" around "a" in "int (*a)[3]".
func (w *printer) typePre(t typ) {
	if w.overflow {
		return
	}
	switch t := t.(type) {
	case *primType:
		w.str(t.name)
		w.qualsAfter(t.q, true)
	case *tagType:
		// The MSVC tools keep "enum" and drop the other keywords.
		if t.keyword != "" && (!w.st.msvc || t.keyword == "enum") {
			w.str(t.keyword + " ")
		}
		w.qname(t.name)
		w.qualsAfter(t.q, true)
	case *customType:
		w.ident(t.id)
		w.qualsAfter(t.q, true)
	case *arrayType:
		w.typePre(t.elem)
		w.qualsAfter(t.q, true)
	case *funcType:
		w.funcPre(t, true)
	case *pointerType:
		w.pointerPre(t)
	}
}

func (w *printer) typePost(t typ) {
	if w.overflow {
		return
	}
	switch t := t.(type) {
	case *arrayType:
		if w.st.msvc && w.last() != ')' {
			w.str(" ") // "unsigned char [1][256]"
		}
		for _, d := range t.dims {
			w.str("[" + strconv.FormatUint(d, 10) + "]")
		}
		w.typePost(t.elem)
	case *funcType:
		w.funcPost(t)
	case *pointerType:
		switch t.pointee.(type) {
		case *arrayType, *funcType:
			w.str(")")
		}
		w.typePost(t.pointee)
	}
}

func (w *printer) pointerPre(t *pointerType) {
	fn, isFunc := t.pointee.(*funcType)
	if isFunc {
		w.funcPre(fn, false) // the calling convention goes inside the parentheses
	} else {
		w.typePre(t.pointee)
	}
	if w.st.msvc {
		// "char *", "char * *", "char * const &", but "void (__cdecl*)(void)" and
		// "void (__cdecl**)(void)" inside a function pointer's parentheses.
		if c := w.last(); c != ' ' && !(isFunc || pointsToFunction(t.pointee)) {
			w.str(" ")
		}
	} else {
		w.spaceIfNeeded()
	}
	if t.q&qUnaligned != 0 {
		w.str("__unaligned ")
	}
	switch t.pointee.(type) {
	case *arrayType:
		w.str("(")
	case *funcType:
		w.str("(")
		w.str(fn.cc)
		if !w.st.msvc {
			w.str(" ")
		}
	}
	if t.class != nil {
		w.qname(t.class)
		w.str("::")
	}
	switch t.aff {
	case affPointer:
		w.str("*")
	case affReference:
		w.str("&")
	case affRValueRef:
		w.str("&&")
	}
	w.qualsAfter(t.q, w.st.msvc)
}

// qname writes a qualified name.
func (w *printer) qname(q *qname) {
	if w.overflow {
		return
	}
	if q == nil {
		return
	}
	for i, id := range q.parts {
		if i > 0 {
			w.str("::")
		}
		w.ident(id)
	}
}

func (w *printer) ident(id ident) {
	if w.overflow {
		return
	}
	switch id := id.(type) {
	case *simpleIdent:
		w.str(id.name)
	case *templateIdent:
		if conv, ok := id.base.(*convOpIdent); ok {
			w.str("operator")
			w.templateArgs(id.args)
			w.str(" ")
			if conv.target != nil {
				w.typ(conv.target)
			}
			return
		}
		w.ident(id.base)
		w.templateArgs(id.args)
	case *operatorIdent:
		w.str(id.code.name(w.st.msvc))
	case *structorIdent:
		if id.dtor {
			w.str("~")
		}
		if id.class != nil {
			w.ident(id.class)
		}
	case *convOpIdent:
		w.str("operator ")
		if id.target != nil {
			w.typ(id.target)
		}
	case *anonNamespaceIdent:
		w.str("`anonymous namespace'")
	case *localScopeIdent:
		w.str("`")
		if w.st.msvc {
			w.symbolName(id.scope)
		} else {
			w.symbol(id.scope)
		}
		w.str("'::`" + strconv.FormatUint(id.index, 10) + "'")
	case *dynamicIdent:
		if id.atexit {
			w.str("`dynamic atexit destructor for ")
		} else {
			w.str("`dynamic initializer for ")
		}
		if id.variable != nil && w.st.msvc {
			w.str("'")
			w.qname(id.variable.name)
			w.str("''")
		} else if id.variable != nil {
			w.str("`")
			w.symbol(id.variable)
			w.str("''")
		} else {
			w.str("'")
			w.qname(id.name)
			w.str("''")
		}
	case *rttiBaseDescIdent:
		w.str("`RTTI Base Class Descriptor at (" + strconv.FormatInt(id.nvOffset, 10) + ", " +
			strconv.FormatInt(id.vbptrOffset, 10) + ", " + strconv.FormatInt(id.vbtableOffset, 10) + ", " +
			strconv.FormatInt(id.flags, 10) + ")'")
	case *guardIdent:
		if id.thread {
			w.str("`local static thread guard'")
		} else {
			w.str("`local static guard'")
		}
		if id.index > 0 {
			w.str("{" + strconv.FormatUint(id.index, 10) + "}")
		}
	case *literalOpIdent:
		w.str(`operator ""` + id.name)
	}
}

func (w *printer) templateArgs(args []node) {
	w.str("<")
	for i, a := range args {
		if i > 0 {
			w.str(w.sep())
		}
		w.templateArg(a)
	}
	if w.st.msvc && w.last() == '>' {
		w.str(" ")
	}
	w.str(">")
}

func (w *printer) templateArg(a node) {
	if w.overflow {
		return
	}
	switch a := a.(type) {
	case *intArg:
		if a.neg {
			w.str("-")
		}
		w.str(strconv.FormatUint(a.value, 10))
	case *symbolArg:
		if len(a.offsets) > 0 {
			w.str("{")
		} else if a.hasAff && a.aff == affPointer {
			w.str("&")
		}
		if a.sym != nil {
			if w.st.msvc {
				w.qname(a.sym.name)
			} else {
				w.symbol(a.sym)
			}
			if len(a.offsets) > 0 {
				w.str(", ")
			}
		}
		for i, o := range a.offsets {
			if i > 0 {
				w.str(", ")
			}
			w.str(strconv.FormatInt(o, 10))
		}
		if len(a.offsets) > 0 {
			w.str("}")
		}
	case typ:
		w.typ(a)
		if w.st.msvc {
			// The MSVC tools end a qualified argument with a space: "wchar_t const >".
			switch a.(type) {
			case *primType, *tagType:
				if *a.typeQuals()&(qConst|qVolatile) != 0 {
					w.str(" ")
				}
			}
		}
	}
}

// pointsToFunction reports whether t is a pointer (to a pointer...) to a function.
func pointsToFunction(t typ) bool {
	for i := 0; i < maxDepth; i++ {
		switch p := t.(type) {
		case *funcType:
			return true
		case *pointerType:
			t = p.pointee
		default:
			return false
		}
	}
	return false
}

func itoa(v int64) string   { return strconv.FormatInt(v, 10) }
func uitoa(v uint64) string { return strconv.FormatUint(v, 10) }
