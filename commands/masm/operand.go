package masm

import (
	"strconv"
	"strings"
)

// isIdentByte reports whether c may appear in a number, register, pseudo-register or module name.
// The backtick belongs here because it splits 64-bit numbers (00007ffc`0f180771).
func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '$' || c == '`'
}

// isSymbolByte reports whether c may appear in the symbol part after "module!": C++ decorated
// names use ? and @, and a backtick or apostrophe is allowed once a module is named (MASM page,
// "Symbols in Debugger MASM Expressions").
func isSymbolByte(c byte) bool {
	return isIdentByte(c) || c == '@' || c == '?' || c == '\'' || c == '~'
}

func (p *parser) identEnd(i int) int {
	for i < len(p.src) && isIdentByte(p.src[i]) {
		i++
	}
	return i
}

// symbolEnd is the end of a symbol name that starts at i, including Class::member parts and
// MSVC's quoted scopes such as `anonymous namespace', which contain a blank.
func (p *parser) symbolEnd(i int) int {
	quotes := true // false once no closing apostrophe is left, so the scan stays linear
	for {
		for i < len(p.src) && isSymbolByte(p.src[i]) {
			if p.src[i] == '`' && quotes {
				j := strings.IndexByte(p.src[i:], '\'')
				if j < 0 {
					quotes = false
				} else {
					i += j
				}
			}
			i++
		}
		if p.peekAt(i) == ':' && p.peekAt(i+1) == ':' && isSymbolByte(p.peekAt(i+2)) {
			i += 2
			continue
		}
		return i
	}
}

// commonRegisters may be written without '@' and are looked up before symbols ("Register
// Syntax": on x86 eax, ebx, ecx, edx, esi, edi, ebp, eip and efl). Other bare register names are
// tried after numbers and symbols.
var commonRegisters = map[string]bool{
	"eax": true, "ebx": true, "ecx": true, "edx": true, "esi": true, "edi": true,
	"ebp": true, "eip": true, "efl": true,
}

// registers32 are the 32-bit registers, which "Sign Extension" says are sign extended in both
// user and kernel mode. The x86 and x64 names are from the x86/x64 register sets; ARM64's
// w0..w30 follow the same rule by reading of the docs, unverified on a real ARM64 target.
var registers32 = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range []string{"eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "efl"} {
		m[r] = true
	}
	for i := 8; i <= 15; i++ {
		m["r"+strconv.Itoa(i)+"d"] = true
	}
	for i := 0; i <= 30; i++ {
		m["w"+strconv.Itoa(i)] = true
	}
	return m
}()

// masmFunctions are the $-functions of the MASM page; wdbg does not evaluate them yet.
var masmFunctions = map[string]bool{
	"$scmp": true, "$sicmp": true, "$spat": true, "$vvalid": true, "$iment": true, "$fnsucc": true,
}

// register reads a register and applies the sign-extension rule for 32-bit registers.
func (p *parser) register(name string) (uint64, bool) {
	v, ok := p.env.Register(name)
	if !ok {
		return 0, false
	}
	if registers32[name] {
		v = uint64(int64(int32(uint32(v))))
	}
	return v, true
}

// constant applies the kernel-mode sign-extension rule to a number written in the expression.
func (p *parser) constant(v uint64, backtick bool) uint64 {
	if p.opts.KernelMode && !backtick && v >= 0x80000000 && v <= 0xffffffff {
		return v | 0xffffffff_00000000
	}
	return v
}

// primary parses one operand without prefix operators.
func (p *parser) primary() (uint64, error) {
	start := p.pos
	switch c := p.peek(); {
	case c == '(':
		p.pos++
		v, err := p.expression()
		if err != nil {
			return 0, err
		}
		return v, p.closeParen()
	case c == '@':
		return p.atOperand()
	case c == '$':
		end := p.identEnd(p.pos + 1)
		name := strings.ToLower(p.src[start:end])
		if masmFunctions[name] {
			return 0, p.errorAt(ErrUnimplemented, start)
		}
		p.pos = end
		// Without '@' a symbol of the same name comes first ("Pseudo-Register Syntax": "If a
		// symbol exists with the same name as the pseudo-register, you must add the at sign").
		if v, ok := p.env.Symbol(p.src[start:end]); ok {
			return v, nil
		}
		if v, ok := p.register(name); ok {
			return v, nil
		}
		return 0, p.errorAt(ErrBadRegister, start)
	case c == '.':
		// "." is the current instruction pointer, the same as $ip (MASM page).
		if isIdentByte(p.peekAt(p.pos + 1)) {
			return 0, p.errorAt(ErrSyntax, start)
		}
		p.pos++
		if v, ok := p.env.Register("$ip"); ok {
			return v, nil
		}
		return 0, p.errorAt(ErrBadRegister, start)
	case c == '!':
		// "!symbol" forces a symbol where the name could be read as a number.
		if p.peekAt(p.pos+1) == '=' {
			break
		}
		end := p.symbolEnd(p.pos + 1)
		name := p.src[p.pos+1 : end]
		p.pos = end
		if name == "" {
			return 0, p.errorAt(ErrSyntax, start)
		}
		if v, ok := p.env.Symbol(name); ok {
			return v, nil
		}
		return 0, p.errorAt(ErrUnresolved, start)
	case isIdentByte(c):
		return p.word()
	}
	return 0, p.errorAt(ErrMissingOperand, p.pos)
}

// atOperand parses @register, @$pseudo and the evaluator switch @@masm( ... ).
func (p *parser) atOperand() (uint64, error) {
	start := p.pos
	if p.peekAt(p.pos+1) == '@' {
		rest := p.src[p.pos+2:]
		switch {
		case hasPrefixFold(rest, "masm("):
			p.pos += len("@@masm(")
			v, err := p.nested()
			if err != nil {
				return 0, err
			}
			return v, p.closeParen()
		case hasPrefixFold(rest, "c++("), strings.HasPrefix(rest, "("):
			return 0, p.errorAt(ErrUnimplemented, start)
		}
		return 0, p.errorAt(ErrSyntax, start)
	}
	if p.peekAt(p.pos+1) == '"' {
		// @"literal string" is only an argument of the string functions.
		return 0, p.errorAt(ErrUnimplemented, start)
	}
	end := p.identEnd(p.pos + 1)
	name := strings.ToLower(p.src[p.pos+1 : end])
	p.pos = end
	if name != "" {
		if v, ok := p.register(name); ok {
			return v, nil
		}
	}
	return 0, p.errorAt(ErrBadRegister, start)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// word parses a bare name: a number, a register, a module, or module!symbol. A name that is both
// a number and something else is the number ("Register Syntax": the debugger first tries a
// hexadecimal number, then a symbol, then a register; `ah` is 0xa, `@ah` the register); the
// common x86 registers are recognised before symbols.
func (p *parser) word() (uint64, error) {
	start := p.pos
	end := p.identEnd(start)
	for p.peekAt(end) == ':' && p.peekAt(end+1) == ':' && isSymbolByte(p.peekAt(end+2)) {
		end = p.symbolEnd(end + 2)
	}
	if p.peekAt(end) == '!' && p.peekAt(end+1) != '=' {
		symEnd := p.symbolEnd(end + 1)
		p.pos = symEnd
		if symEnd == end+1 {
			// "module!" with no symbol after it: cdb reports the whole token as a syntax error
			// ("Syntax error at 'ping!+0x3c'" in a public cdb log).
			return 0, p.errorAt(ErrSyntax, start)
		}
		if v, ok := p.env.Symbol(p.src[start:symEnd]); ok {
			return v, nil
		}
		return 0, p.errorAt(ErrUnresolved, start)
	}
	p.pos = end
	name := p.src[start:end]
	v, res, backtick := parseNumber(name, p.opts.Radix)
	switch res {
	case isNumber:
		return p.constant(v, backtick), nil
	case numberOverflow:
		return 0, p.errorAt(ErrOverflow, start)
	}
	lower := strings.ToLower(name)
	if commonRegisters[lower] {
		if v, ok := p.register(lower); ok {
			return v, nil
		}
	}
	if v, ok := p.env.Symbol(name); ok {
		return v, nil
	}
	if v, ok := p.register(lower); ok {
		return v, nil
	}
	if c := name[0]; c >= '0' && c <= '9' || c == '`' {
		return 0, p.errorAt(ErrSyntax, start)
	}
	return 0, p.errorAt(ErrUnresolved, start)
}
