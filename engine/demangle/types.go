package demangle

import "strings"

// qualMode says whether a type is preceded by its cv-qualifier letter.
type qualMode uint8

const (
	modeDrop   qualMode = iota // no qualifier letter (parameters, variables, template arguments)
	modeMangle                 // a qualifier letter first (pointees)
	modeResult                 // an optional '?' and qualifier letter (return types)
)

// encodedSymbol reads what follows a declaration's name: a variable's storage class and type,
// or a function's encoding.
func (p *parser) encodedSymbol(name *qname) *symbol {
	c := p.peek()
	if c >= '0' && c <= '4' {
		p.pos++
		sc := [...]storageClass{scPrivateStatic, scProtectedStatic, scPublicStatic, scGlobal, scFunctionLocalStatic}[c-'0']
		return p.variable(sc)
	}
	fn := p.functionEncoding()
	if p.err {
		return nil
	}
	return &symbol{kind: symFunction, fn: fn}
}

// variable reads a variable's type and then its own storage qualifiers; for a pointer those
// qualify the pointee (as llvm-undname reads them).
func (p *parser) variable(sc storageClass) *symbol {
	t := p.parseType(modeDrop)
	if p.err {
		return nil
	}
	if ptr, ok := t.(*pointerType); ok {
		ptr.q |= p.pointerExtQualifiers()
		q, _ := p.cvQualifiers()
		if ptr.class != nil {
			p.typeName() // the member pointer's class again, as a back-reference
		}
		if ptr.pointee != nil {
			*ptr.pointee.typeQuals() |= q
		}
	} else {
		q, _ := p.cvQualifiers()
		*t.typeQuals() |= q
	}
	if p.err {
		return nil
	}
	return &symbol{kind: symVariable, varType: t, sc: sc}
}

// functionEncoding reads a function's class letter (access and kind, or a thunk), the this
// adjustments of thunks, and its type.
func (p *parser) functionEncoding() *funcType {
	var extra funcClass
	if p.consume("$$J0") {
		extra = fcExternC
	}
	fc, noParams := p.functionClass()
	if p.err {
		return nil
	}
	fc |= extra
	var adj thisAdjust
	switch {
	case fc&fcStaticThisAdjust != 0:
		adj.staticOff = p.signed()
	case fc&fcVirtualThisAdjust != 0:
		if fc&fcVirtualThisAdjustEx != 0 {
			adj.vbptrOff = p.signed()
			adj.vboffOff = p.signed()
		}
		adj.vtordispOff = p.signed()
		adj.staticOff = p.signed()
	}
	var fn *funcType
	if noParams {
		// extern "C" functions enclosing local names carry no signature.
		fn = &funcType{noParams: true}
	} else {
		fn = p.functionType(fc&(fcGlobal|fcStatic) == 0)
	}
	if p.err || fn == nil {
		p.err = true
		return nil
	}
	fn.class, fn.adjust = fc, adj
	return fn
}

// functionClass reads the access/kind letter: A-X for members (private, protected, public ×
// plain, far, static, virtual, adjustor thunk), Y/Z for globals, '9' for an extern "C" name, and
// "$" digits for virtual-displacement thunks.
func (p *parser) functionClass() (fc funcClass, noParams bool) {
	c, ok := p.next()
	if !ok {
		return 0, false
	}
	access := [...]funcClass{fcPrivate, fcProtected, fcPublic}
	switch {
	case c >= 'A' && c <= 'X':
		i := c - 'A'
		fc = access[i/8]
		switch i % 8 / 2 {
		case 1:
			fc |= fcStatic
		case 2:
			fc |= fcVirtual
		case 3:
			fc |= fcVirtual | fcStaticThisAdjust
		}
		if i%2 == 1 {
			fc |= fcFar
		}
		return fc, false
	case c == 'Y':
		return fcGlobal, false
	case c == 'Z':
		return fcGlobal | fcFar, false
	case c == '9':
		return fcExternC, true
	case c == '$':
		v := fcVirtualThisAdjust
		if p.consumeByte('R') {
			v |= fcVirtualThisAdjustEx
		}
		d, ok := p.next()
		if !ok || d < '0' || d > '5' {
			p.err = true
			return 0, false
		}
		fc = access[(d-'0')/2] | fcVirtual | v
		if (d-'0')%2 == 1 {
			fc |= fcFar
		}
		return fc, false
	}
	p.err = true
	return 0, false
}

// functionType reads [this qualifiers] calling-convention return-type parameters throw-spec.
func (p *parser) functionType(hasThis bool) *funcType {
	if !p.enter() {
		return nil
	}
	defer p.leave()
	fn := &funcType{}
	if hasThis {
		fn.q = p.pointerExtQualifiers()
		if p.consumeByte('G') {
			fn.hasRef, fn.refQual = true, affReference
		} else if p.consumeByte('H') {
			fn.hasRef, fn.refQual = true, affRValueRef
		}
		q, _ := p.cvQualifiers()
		fn.q |= q
	}
	c, ok := p.next()
	if !ok {
		return nil
	}
	cc, known := callingConventions[c]
	if !known {
		p.err = true
		return nil
	}
	fn.cc = cc
	if !p.consumeByte('@') { // '@': a constructor or destructor has no return type
		fn.ret = p.parseType(modeResult)
	}
	if p.err {
		return nil
	}
	fn.params, fn.variadic = p.parameterList()
	if p.err {
		return nil
	}
	switch {
	case p.consume("_E"):
		fn.noexcept = true
	case p.consumeByte('Z'):
	default:
		p.err = true
		return nil
	}
	return fn
}

// parameterList reads 'X' (void) or types ending with '@', or with 'Z' for "...". Types longer
// than one letter are memorized for the digit back-references.
func (p *parser) parameterList() (params []typ, variadic bool) {
	if p.consumeByte('X') {
		return nil, false
	}
	for p.peek() != '@' && p.peek() != 'Z' {
		if p.pos >= len(p.s) {
			p.err = true
			return nil, false
		}
		if c := p.peek(); isDigit(c) {
			p.pos++
			i := int(c - '0')
			if i >= len(p.refs.params) {
				p.err = true
				return nil, false
			}
			params = append(params, p.refs.params[i])
			continue
		}
		start := p.pos
		t := p.parseType(modeDrop)
		if p.err {
			return nil, false
		}
		if p.pos-start > 1 && len(p.refs.params) < maxBackrefs {
			p.refs.params = append(p.refs.params, t)
		}
		params = append(params, t)
	}
	if p.consumeByte('@') {
		return params, false
	}
	p.pos++ // 'Z'
	return params, true
}

// cvQualifiers reads one qualifier letter: A-D (none, const, volatile, const volatile) or, for
// member pointers, Q-T with the same meanings.
func (p *parser) cvQualifiers() (q quals, member bool) {
	c, ok := p.next()
	if !ok {
		return 0, false
	}
	switch c {
	case 'A':
		return 0, false
	case 'B':
		return qConst, false
	case 'C':
		return qVolatile, false
	case 'D':
		return qConst | qVolatile, false
	case 'Q':
		return 0, true
	case 'R':
		return qConst, true
	case 'S':
		return qVolatile, true
	case 'T':
		return qConst | qVolatile, true
	}
	p.err = true
	return 0, false
}

// pointerExtQualifiers reads E (__ptr64), I (__restrict) and F (__unaligned) in any order.
func (p *parser) pointerExtQualifiers() quals {
	var q quals
	for {
		switch p.peek() {
		case 'E':
			q |= qPtr64
		case 'I':
			q |= qRestrict
		case 'F':
			q |= qUnaligned
		default:
			return q
		}
		p.pos++
	}
}

// parseType reads one type.
func (p *parser) parseType(mode qualMode) typ {
	if !p.enter() {
		return nil
	}
	defer p.leave()
	var q quals
	switch mode {
	case modeMangle:
		q, _ = p.cvQualifiers()
	case modeResult:
		if p.consumeByte('?') {
			q, _ = p.cvQualifiers()
		}
	}
	if p.err || p.pos >= len(p.s) {
		p.err = true
		return nil
	}
	var t typ
	r := p.rest()
	switch c := p.peek(); {
	case c == 'T' || c == 'U' || c == 'V' || c == 'W':
		t = p.tagType()
	case strings.HasPrefix(r, "$$Q") || strings.HasPrefix(r, "$$R") || c >= 'P' && c <= 'S' || c == 'A' || c == 'B':
		t = p.pointerType()
	case c == 'Y':
		t = p.arrayType()
	case strings.HasPrefix(r, "$$A8@@"):
		p.pos += 6
		t = p.functionTypeOrNil(true)
	case strings.HasPrefix(r, "$$A6"):
		p.pos += 4
		t = p.functionTypeOrNil(false)
	case strings.HasPrefix(r, "$$C"):
		p.pos += 3
		t = p.parseType(modeMangle)
	case c == '?':
		p.pos++
		id := p.unqualifiedTypeName(true)
		if !p.consumeByte('@') {
			p.err = true
		}
		t = &customType{id: id}
	default:
		t = p.primitiveType()
	}
	if p.err || t == nil {
		p.err = true
		return nil
	}
	*t.typeQuals() |= q
	return t
}

func (p *parser) functionTypeOrNil(hasThis bool) typ {
	fn := p.functionType(hasThis)
	if fn == nil {
		return nil
	}
	return fn
}

func (p *parser) primitiveType() typ {
	c, _ := p.next()
	if name, ok := primitives[c]; ok {
		return &primType{name: name}
	}
	switch c {
	case '_':
		d, ok := p.next()
		if !ok {
			return nil
		}
		if name, ok := extendedPrimitives[d]; ok {
			return &primType{name: name}
		}
	case '$':
		if p.consume("$T") {
			return &primType{name: "std::nullptr_t"}
		}
	}
	p.err = true
	return nil
}

// tagType reads T (union), U (struct), V (class) or W4 (enum), then the type's name.
func (p *parser) tagType() typ {
	c, _ := p.next()
	t := &tagType{}
	switch c {
	case 'T':
		t.keyword = "union"
	case 'U':
		t.keyword = "struct"
	case 'V':
		t.keyword = "class"
	case 'W':
		if !p.consumeByte('4') {
			p.err = true
			return nil
		}
		t.keyword = "enum"
	}
	t.name = p.typeName()
	if p.err {
		return nil
	}
	return t
}

// typeName reads a fully qualified type name (its last component may be a back-reference or a
// template, both memorized).
func (p *parser) typeName() *qname {
	id := p.unqualifiedTypeName(true)
	if p.err {
		return nil
	}
	return p.scopeChain(id)
}

func (p *parser) unqualifiedTypeName(memorize bool) ident {
	switch {
	case isDigit(p.peek()):
		return p.backrefName()
	case strings.HasPrefix(p.rest(), "?$"):
		return p.templateName(true)
	}
	return p.simpleName(memorize)
}

// isMemberPointer looks past the pointer letter and its extended qualifiers: '8' is a member
// function pointer, Q-T a member data pointer, '6' a plain function pointer.
func (p *parser) isMemberPointer() bool {
	r := p.rest()
	switch {
	case strings.HasPrefix(r, "$$Q") || strings.HasPrefix(r, "$$R"):
		return false
	case r[0] == 'A' || r[0] == 'B':
		return false
	}
	r = r[1:]
	if strings.HasPrefix(r, "6") {
		return false
	}
	r = strings.TrimLeft(r, "EIF")
	if r == "" {
		return false
	}
	return r[0] == '8' || r[0] >= 'Q' && r[0] <= 'T'
}

// pointerType reads a pointer or reference: the letter (A &, B volatile &, P *, Q * const,
// R * volatile, S * const volatile, $$Q &&, $$R volatile &&), then '6' and a function type, or
// extended qualifiers and the pointee with its qualifier letter; member pointers name their class.
func (p *parser) pointerType() typ {
	member := p.isMemberPointer()
	t := &pointerType{}
	switch {
	case p.consume("$$Q"):
		t.aff = affRValueRef
	case p.consume("$$R"):
		t.aff, t.q = affRValueRef, qVolatile
	default:
		c, _ := p.next()
		switch c {
		case 'A':
			t.aff = affReference
		case 'B':
			t.aff, t.q = affReference, qVolatile
		case 'P':
		case 'Q':
			t.q = qConst
		case 'R':
			t.q = qVolatile
		case 'S':
			t.q = qConst | qVolatile
		}
	}
	if member {
		t.q |= p.pointerExtQualifiers()
		if p.consumeByte('8') {
			t.class = p.typeName()
			if p.err {
				return nil
			}
			t.pointee = p.functionTypeOrNil(true)
		} else {
			q, _ := p.cvQualifiers()
			t.class = p.typeName()
			if p.err {
				return nil
			}
			t.pointee = p.parseType(modeDrop)
			if t.pointee != nil {
				*t.pointee.typeQuals() = q
			}
		}
	} else if p.consumeByte('6') {
		t.pointee = p.functionTypeOrNil(false)
	} else {
		t.q |= p.pointerExtQualifiers()
		t.pointee = p.parseType(modeMangle)
	}
	if p.err || t.pointee == nil {
		p.err = true
		return nil
	}
	return t
}

// arrayType reads 'Y' rank dimensions... [$$C qualifier] element.
func (p *parser) arrayType() typ {
	p.pos++ // 'Y'
	rank, neg := p.number()
	if p.err || neg || rank == 0 || rank > 64 {
		p.err = true
		return nil
	}
	t := &arrayType{}
	for i := uint64(0); i < rank; i++ {
		d, neg := p.number()
		if p.err || neg {
			p.err = true
			return nil
		}
		t.dims = append(t.dims, d)
	}
	if p.consume("$$C") {
		q, member := p.cvQualifiers()
		if member {
			p.err = true
			return nil
		}
		t.q = q
	}
	t.elem = p.parseType(modeDrop)
	if p.err {
		return nil
	}
	return t
}

// templateArgs reads template arguments up to '@': types, integers ($0), symbols ($1, $E),
// member pointers ($F-$J) and the empty-pack markers.
func (p *parser) templateArgs() []node {
	var args []node
	for !p.consumeByte('@') {
		if p.pos >= len(p.s) || len(args) > 256 {
			p.err = true
			return nil
		}
		r := p.rest()
		switch {
		case strings.HasPrefix(r, "$S"), strings.HasPrefix(r, "$$V"), strings.HasPrefix(r, "$$Z"):
			p.pos += 2
			if r[1] == '$' {
				p.pos++
			}
			continue
		case strings.HasPrefix(r, "$$$V"):
			p.pos += 4
			continue
		case strings.HasPrefix(r, "$$Y"):
			p.pos += 3
			args = append(args, &tagType{name: p.typeName()})
		case strings.HasPrefix(r, "$$B"):
			p.pos += 3
			args = append(args, p.parseType(modeDrop))
		case strings.HasPrefix(r, "$$C"):
			p.pos += 3
			args = append(args, p.parseType(modeMangle))
		case strings.HasPrefix(r, "$1"), strings.HasPrefix(r, "$H"), strings.HasPrefix(r, "$I"), strings.HasPrefix(r, "$J"):
			kind := r[1]
			p.pos += 2
			arg := &symbolArg{memberPtr: true, aff: affPointer, hasAff: true}
			if p.peek() == '?' {
				arg.sym = p.parseSymbol()
				if p.err || arg.sym == nil || arg.sym.name == nil {
					p.err = true
					return nil
				}
				p.memorizeIdent(arg.sym.name.last())
			}
			n := map[byte]int{'1': 0, 'H': 1, 'I': 2, 'J': 3}[kind]
			for i := 0; i < n; i++ {
				arg.offsets = append(arg.offsets, p.signed64())
			}
			args = append(args, arg)
		case strings.HasPrefix(r, "$E?"):
			p.pos += 2
			arg := &symbolArg{aff: affReference, hasAff: true}
			arg.sym = p.parseSymbol()
			if p.err || arg.sym == nil {
				p.err = true
				return nil
			}
			args = append(args, arg)
		case strings.HasPrefix(r, "$F"), strings.HasPrefix(r, "$G"):
			kind := r[1]
			p.pos += 2
			arg := &symbolArg{memberPtr: true}
			n := 2
			if kind == 'G' {
				n = 3
			}
			for i := 0; i < n; i++ {
				arg.offsets = append(arg.offsets, p.signed64())
			}
			args = append(args, arg)
		case strings.HasPrefix(r, "$0"):
			p.pos += 2
			v, neg := p.number()
			args = append(args, &intArg{value: v, neg: neg})
		default:
			args = append(args, p.parseType(modeDrop))
		}
		if p.err {
			return nil
		}
	}
	return args
}
