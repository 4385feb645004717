package demangle

import "strings"

// specialSymbol handles the names after the leading '?' that are not ordinary declarations:
// string literals, virtual tables, RTTI records, guards, dynamic initializers and vcall thunks.
// handled is false when the name is an ordinary declarator.
func (p *parser) specialSymbol() (sym *symbol, handled bool) {
	r := p.rest()
	switch {
	case strings.HasPrefix(r, "?_C@_"):
		return p.stringLiteral(), true
	case strings.HasPrefix(r, "?_7"):
		return p.specialTable(3, opVftable), true
	case strings.HasPrefix(r, "?_8"):
		return p.specialTable(3, opVbtable), true
	case strings.HasPrefix(r, "?_S"):
		return p.specialTable(3, opLocalVftable), true
	case strings.HasPrefix(r, "?_R4"):
		return p.specialTable(4, opRTTICompleteObjectLocator), true
	case strings.HasPrefix(r, "?_R0"):
		p.pos += 4
		t := p.parseType(modeResult)
		if p.err || !p.consume("@8") {
			p.err = true
			return nil, true
		}
		name := &qname{parts: []ident{&operatorIdent{code: opRTTITypeDescriptor}}}
		return &symbol{kind: symVariable, varType: t, name: name}, true
	case strings.HasPrefix(r, "?_R1"):
		p.pos += 4
		id := &rttiBaseDescIdent{}
		id.nvOffset = int64(p.unsigned())
		id.vbptrOffset = p.signed()
		id.vbtableOffset = int64(p.unsigned())
		id.flags = int64(p.unsigned())
		return p.untypedVariable(id), true
	case strings.HasPrefix(r, "?_R2"):
		p.pos += 4
		return p.untypedVariable(&operatorIdent{code: opRTTIBaseClassArray}), true
	case strings.HasPrefix(r, "?_R3"):
		p.pos += 4
		return p.untypedVariable(&operatorIdent{code: opRTTIClassHierarchy}), true
	case strings.HasPrefix(r, "?_B"):
		p.pos += 3
		return p.localStaticGuard(false), true
	case strings.HasPrefix(r, "?__J"):
		p.pos += 4
		return p.localStaticGuard(true), true
	case strings.HasPrefix(r, "?__E"):
		p.pos += 4
		return p.dynamicInitializer(false), true
	case strings.HasPrefix(r, "?__F"):
		p.pos += 4
		return p.dynamicInitializer(true), true
	case strings.HasPrefix(r, "?_9"):
		p.pos += 3
		return p.vcallThunk(), true
	}
	return nil, false
}

// stringLiteral checks the shape "??_C@_" width length crc '@' chars '@' and names it as WinDbg
// does, `string' (the characters are a lossy escape of the literal's first bytes).
func (p *parser) stringLiteral() *symbol {
	p.pos += len("?_C@_")
	if c, ok := p.next(); !ok || c < '0' || c > '3' {
		p.err = true
		return nil
	}
	p.unsigned() // length in bytes
	crc := strings.IndexByte(p.rest(), '@')
	if p.err || crc < 0 {
		p.err = true
		return nil
	}
	p.pos += crc + 1
	if !strings.HasSuffix(p.rest(), "@") {
		p.err = true
		return nil
	}
	p.pos = len(p.s)
	return &symbol{kind: symString}
}

// specialTable reads "??_7" scope '@' ('6'|'7') cv [target '@'] '@'.
func (p *parser) specialTable(skip int, code opCode) *symbol {
	p.pos += skip
	name := p.scopeChain(&operatorIdent{code: code})
	if p.err {
		return nil
	}
	c, ok := p.next()
	if !ok || c != '6' && c != '7' {
		p.err = true
		return nil
	}
	q, member := p.cvQualifiers()
	if member {
		p.err = true
	}
	sym := &symbol{kind: symSpecialTable, name: name, tableQ: q}
	for !p.err && !p.consumeByte('@') {
		if p.pos >= len(p.s) || len(sym.targets) > maxDepth {
			p.err = true
			break
		}
		sym.targets = append(sym.targets, p.typeName())
	}
	if p.err {
		return nil
	}
	return sym
}

// untypedVariable reads a scope chain ending the name id, then '8' (RTTI records).
func (p *parser) untypedVariable(id ident) *symbol {
	if p.err {
		return nil
	}
	name := p.scopeChain(id)
	if p.err || !p.consumeByte('8') {
		p.err = true
		return nil
	}
	return &symbol{kind: symVariable, name: name}
}

// localStaticGuard reads scope ("4IA" | "5") [index].
func (p *parser) localStaticGuard(thread bool) *symbol {
	id := &guardIdent{thread: thread}
	name := p.scopeChain(id)
	if p.err {
		return nil
	}
	if !p.consume("4IA") && !p.consumeByte('5') {
		p.err = true
		return nil
	}
	if p.pos < len(p.s) {
		id.index = p.unsigned()
	}
	return &symbol{kind: symGuard, name: name}
}

// dynamicInitializer reads "??__E" followed either by a static data member's whole decoration
// ('?' symbol "@@") or by a declarator, then the initializer function's encoding.
func (p *parser) dynamicInitializer(atexit bool) *symbol {
	id := &dynamicIdent{atexit: atexit}
	if p.consumeByte('?') {
		p.pos--
		v := p.parseSymbol()
		if p.err || v == nil || v.kind != symVariable {
			p.err = true
			return nil
		}
		id.variable = v
		if !p.consume("@@") {
			p.err = true
			return nil
		}
		fn := p.functionEncoding()
		if p.err {
			return nil
		}
		return &symbol{kind: symFunction, fn: fn, name: &qname{parts: []ident{id}}}
	}
	sym := p.declarator()
	if p.err || sym == nil {
		return nil
	}
	if sym.kind == symVariable {
		// Older clang wrote the variable form without the leading '?' and one '@'.
		id.variable = sym
		if !p.consumeByte('@') {
			p.err = true
			return nil
		}
		fn := p.functionEncoding()
		if p.err {
			return nil
		}
		return &symbol{kind: symFunction, fn: fn, name: &qname{parts: []ident{id}}}
	}
	id.name = sym.name
	sym.name = &qname{parts: []ident{id}}
	return sym
}

// vcallThunk reads "??_9" scope "$B" offset 'A' calling-convention.
func (p *parser) vcallThunk() *symbol {
	name := p.scopeChain(&operatorIdent{code: opVcall})
	if p.err || !p.consume("$B") {
		p.err = true
		return nil
	}
	off := p.unsigned()
	if !p.consumeByte('A') {
		p.err = true
		return nil
	}
	c, ok := p.next()
	if !ok {
		return nil
	}
	cc := callingConventions[c]
	fn := &funcType{cc: cc, class: fcVcall}
	return &symbol{kind: symVcall, name: name, fn: fn, vcallOffset: off}
}
