package demangle

import "strings"

// Limits that keep hostile input cheap: the parser recurses once per nesting level of the name
// (templates in templates, function types in pointers, local scopes), never more than maxDepth;
// the back-reference tables hold at most ten entries, as in the format itself.
const (
	maxDepth    = 64
	maxBackrefs = 10
)

// backrefs are the two back-reference tables of one naming context: names (the digits 0-9 in a
// name position) and function parameter types (the digits 0-9 in a parameter list). A template
// argument list starts a fresh context.
type backrefs struct {
	names    []ident
	nameKeys []string
	params   []typ
}

type parser struct {
	s     string
	pos   int
	refs  backrefs
	depth int
	err   bool
	// keyBudget bounds the text rendered to compare memorized template names (each is compared
	// as printed), so that a hostile name cannot make the parser render large names many times.
	keyBudget int
}

// maxKeyText is the keyBudget of one parse: far more than any real name needs.
const maxKeyText = 1 << 20

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) rest() string { return p.s[p.pos:] }

func (p *parser) consume(prefix string) bool {
	if strings.HasPrefix(p.s[p.pos:], prefix) {
		p.pos += len(prefix)
		return true
	}
	return false
}

func (p *parser) consumeByte(c byte) bool {
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *parser) next() (byte, bool) {
	if p.pos >= len(p.s) {
		p.err = true
		return 0, false
	}
	c := p.s[p.pos]
	p.pos++
	return c, true
}

// enter guards recursion; every recursive production calls it and defers leave.
func (p *parser) enter() bool {
	p.depth++
	if p.depth > maxDepth {
		p.err = true
		return false
	}
	return true
}

func (p *parser) leave() { p.depth-- }

// number reads an encoded number: an optional '?' for negative, then either one digit 0-9
// standing for 1-10, or hex digits written A-P terminated by '@' ("A@" is zero).
func (p *parser) number() (v uint64, neg bool) {
	neg = p.consumeByte('?')
	c := p.peek()
	if c >= '0' && c <= '9' {
		p.pos++
		return uint64(c-'0') + 1, neg
	}
	for digits := 0; ; digits++ {
		c, ok := p.next()
		if !ok {
			return 0, neg
		}
		if c == '@' {
			return v, neg
		}
		if c < 'A' || c > 'P' || digits >= 16 {
			p.err = true
			return 0, neg
		}
		v = v<<4 | uint64(c-'A')
	}
}

// signed reads a 32-bit offset (thunk adjustments, RTTI offsets): larger encodings wrap, as
// MSVC writes -4 as 0xFFFFFFFC.
func (p *parser) signed() int64 {
	v, neg := p.number()
	i := int64(int32(uint32(v)))
	if neg {
		return -i
	}
	return i
}

// signed64 reads an offset without 32-bit wrap (template member-pointer arguments, which
// llvm-undname prints as read).
func (p *parser) signed64() int64 {
	v, neg := p.number()
	if neg {
		return -int64(v)
	}
	return int64(v)
}

func (p *parser) unsigned() uint64 {
	v, neg := p.number()
	if neg {
		p.err = true
	}
	return v
}

// simpleName reads an identifier up to its terminating '@'.
func (p *parser) simpleName(memorize bool) ident {
	i := strings.IndexByte(p.rest(), '@')
	if i <= 0 {
		p.err = true
		return nil
	}
	name := p.s[p.pos : p.pos+i]
	p.pos += i + 1
	id := &simpleIdent{name: name}
	if memorize {
		p.memorize(id, name)
	}
	return id
}

// memorize adds a name to the back-reference table unless it is full or already there (names are
// compared as printed).
func (p *parser) memorize(id ident, key string) {
	if len(p.refs.names) >= maxBackrefs {
		return
	}
	for _, k := range p.refs.nameKeys {
		if k == key {
			return
		}
	}
	p.refs.names = append(p.refs.names, id)
	p.refs.nameKeys = append(p.refs.nameKeys, key)
}

func (p *parser) memorizeIdent(id ident) {
	if len(p.refs.names) >= maxBackrefs {
		return
	}
	key, ok := render(styleLLVM, func(w *printer) { w.ident(id) })
	p.keyBudget -= len(key)
	if !ok || p.keyBudget < 0 {
		p.err = true
		return
	}
	p.memorize(id, key)
}

func (p *parser) backrefName() ident {
	c, _ := p.next()
	i := int(c - '0')
	if i >= len(p.refs.names) {
		p.err = true
		return nil
	}
	return p.refs.names[i]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseSymbol reads a whole decorated name starting with '?' (or, at the top level, a typeinfo
// name starting with '.').
func (p *parser) parseSymbol() *symbol {
	if !p.enter() {
		return nil
	}
	defer p.leave()
	if p.consume(".") {
		// A typeinfo name (the string an RTTI type descriptor holds): the decorated type alone.
		t := p.parseType(modeResult)
		if p.err || p.pos != len(p.s) {
			p.err = true
			return nil
		}
		name := &qname{parts: []ident{&operatorIdent{code: opRTTITypeDescriptorName}}}
		return &symbol{kind: symVariable, varType: t, name: name}
	}
	if strings.HasPrefix(p.rest(), "??@") {
		// A name too long to decorate, replaced by its MD5: printed as given.
		end := strings.IndexByte(p.s[p.pos+3:], '@')
		if end < 0 {
			p.err = true
			return nil
		}
		raw := p.s[p.pos : p.pos+3+end+1]
		p.pos += len(raw)
		return &symbol{kind: symRaw, raw: raw}
	}
	if !p.consumeByte('?') {
		p.err = true
		return nil
	}
	if sym, handled := p.specialSymbol(); handled {
		return sym
	}
	return p.declarator()
}

// declarator reads a qualified name and what it names (a function or a variable).
func (p *parser) declarator() *symbol {
	name := p.qualifiedSymbolName()
	if p.err {
		return nil
	}
	sym := p.encodedSymbol(name)
	if p.err || sym == nil {
		return nil
	}
	sym.name = name
	if conv, ok := unwrapTemplate(name.last()).(*convOpIdent); ok {
		if sym.fn == nil || sym.fn.ret == nil {
			p.err = true
			return nil
		}
		conv.target = sym.fn.ret
	}
	return sym
}

func unwrapTemplate(id ident) ident {
	if t, ok := id.(*templateIdent); ok {
		return t.base
	}
	return id
}

// qualifiedSymbolName reads the symbol's own name and its scopes up to the terminating '@'.
func (p *parser) qualifiedSymbolName() *qname {
	id := p.unqualifiedSymbolName()
	if p.err {
		return nil
	}
	q := p.scopeChain(id)
	if p.err {
		return nil
	}
	if s, ok := unwrapTemplate(id).(*structorIdent); ok {
		if len(q.parts) < 2 {
			p.err = true
			return nil
		}
		s.class = q.parts[len(q.parts)-2]
	}
	return q
}

func (p *parser) unqualifiedSymbolName() ident {
	switch {
	case isDigit(p.peek()):
		return p.backrefName()
	case strings.HasPrefix(p.rest(), "?$"):
		return p.templateName(false)
	case p.peek() == '?':
		return p.operatorName()
	}
	return p.simpleName(true)
}

// scopeChain reads the enclosing scopes of a name, innermost first, up to '@'; the result lists
// them outermost first, ending with id.
func (p *parser) scopeChain(id ident) *qname {
	parts := []ident{id}
	for !p.consumeByte('@') {
		if p.pos >= len(p.s) || len(parts) > 4*maxDepth {
			p.err = true
			return nil
		}
		piece := p.scopePiece()
		if p.err {
			return nil
		}
		parts = append(parts, piece)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return &qname{parts: parts}
}

func (p *parser) scopePiece() ident {
	r := p.rest()
	switch {
	case isDigit(p.peek()):
		return p.backrefName()
	case strings.HasPrefix(r, "?$"):
		return p.templateName(true)
	case strings.HasPrefix(r, "?A"):
		// `anonymous namespace': "?A0x<hash>@"; the hash is memorized like a name.
		p.pos += 2
		end := strings.IndexByte(p.rest(), '@')
		if end < 0 {
			p.err = true
			return nil
		}
		key := p.s[p.pos : p.pos+end]
		p.pos += end + 1
		id := &anonNamespaceIdent{}
		p.memorize(id, key)
		return id
	case startsWithLocalScope(r):
		return p.localScope()
	}
	return p.simpleName(true)
}

// startsWithLocalScope matches "?N?" where N is an encoded number (a digit, "@" for zero, or
// B-P followed by A-P and '@'): a function-local scope.
func startsWithLocalScope(s string) bool {
	if len(s) < 3 || s[0] != '?' {
		return false
	}
	end := strings.IndexByte(s[1:], '?')
	if end <= 0 {
		return false
	}
	n := s[1 : 1+end]
	if len(n) == 1 {
		return n[0] == '@' || isDigit(n[0])
	}
	if n[len(n)-1] != '@' || n[0] < 'B' || n[0] > 'P' {
		return false
	}
	for i := 1; i < len(n)-1; i++ {
		if n[i] < 'A' || n[i] > 'P' {
			return false
		}
	}
	return true
}

func (p *parser) localScope() ident {
	p.pos++ // '?'
	var index uint64
	if p.consumeByte('@') {
		index = 0
	} else {
		index = p.unsigned()
	}
	if !p.consumeByte('?') {
		p.err = true
		return nil
	}
	scope := p.parseSymbol()
	if p.err || scope == nil {
		p.err = true
		return nil
	}
	return &localScopeIdent{scope: scope, index: index}
}

// templateName reads "?$name@args@". The arguments form a fresh back-reference context; the
// whole instantiation is then memorized in the enclosing one when it names a scope or a type.
func (p *parser) templateName(memorize bool) ident {
	if !p.enter() {
		return nil
	}
	defer p.leave()
	p.pos += 2 // "?$"
	outer := p.refs
	p.refs = backrefs{}
	var base ident
	if p.peek() == '?' {
		base = p.operatorName()
	} else {
		base = p.simpleName(true)
	}
	var args []node
	if !p.err {
		args = p.templateArgs()
	}
	p.refs = outer
	if p.err {
		return nil
	}
	id := &templateIdent{base: base, args: args}
	if memorize {
		switch base.(type) {
		case *structorIdent, *convOpIdent:
			// Constructors and conversion operators only make sense as the last component.
			p.err = true
			return nil
		}
		p.memorizeIdent(id)
	}
	return id
}

// operatorName reads "?X", "?_X" or "?__X": an operator, constructor or destructor, or another
// compiler-generated function name.
func (p *parser) operatorName() ident {
	p.pos++ // '?'
	c, ok := p.next()
	if !ok {
		return nil
	}
	switch c {
	case '0':
		return &structorIdent{}
	case '1':
		return &structorIdent{dtor: true}
	case 'B':
		return &convOpIdent{}
	case '_':
		c, ok = p.next()
		if !ok {
			return nil
		}
		if c == '_' {
			c, ok = p.next()
			if !ok {
				return nil
			}
			if c == 'K' {
				// operator "" _suffix
				id := p.simpleName(false)
				if p.err {
					return nil
				}
				return &literalOpIdent{name: id.(*simpleIdent).name}
			}
			if op, found := opCodesDoubleUnderscore[c]; found {
				return &operatorIdent{code: op}
			}
		} else if op, found := opCodesUnderscore[c]; found {
			return &operatorIdent{code: op}
		}
	default:
		if op, found := opCodes1[c]; found {
			return &operatorIdent{code: op}
		}
	}
	p.err = true
	return nil
}
