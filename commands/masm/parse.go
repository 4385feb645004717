package masm

import "strings"

// maxDepth bounds the nesting of parentheses and unary operators, so that `((((...` or `-----...`
// cannot exhaust the stack.
const maxDepth = 256

// parser evaluates while it parses: MASM has no side effects, so there is no tree to keep.
type parser struct {
	src   string
	pos   int
	env   Env
	opts  Options
	depth int
}

func newParser(src string, env Env, o Options) *parser {
	if o.Radix == 0 {
		o.Radix = 16
	}
	return &parser{src: src, env: env, opts: o}
}

func (p *parser) errorAt(k ErrorKind, col int) *Error {
	return &Error{Kind: k, Expr: p.src, Col: col}
}

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) peekAt(i int) byte {
	if i < len(p.src) {
		return p.src[i]
	}
	return 0
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (p *parser) skipBlanks() {
	for p.pos < len(p.src) && isBlank(p.src[p.pos]) {
		p.pos++
	}
}

// Binary operators by precedence, loosest first (MASM page, "Binary Operators"; WINDBG-SPEC
// §3.13): or | ; xor ^ ; and & ; comparisons ; shifts ; + - ; * / mod %.
const (
	precOr = iota + 1
	precXor
	precAnd
	precCompare
	precShift
	precAdd
	precMul
)

type binaryOp struct {
	name string // canonical spelling: "+", "mod", ">>>", ...
	prec int
	size int // bytes of source text it takes
}

// peekBinary reports the binary operator at p.pos, if any. Word operators (mod, and, xor, or)
// match only as whole words.
func (p *parser) peekBinary() (binaryOp, bool) {
	c, c1, c2 := p.peek(), p.peekAt(p.pos+1), p.peekAt(p.pos+2)
	op := func(name string, prec int) (binaryOp, bool) { return binaryOp{name, prec, len(name)}, true }
	switch c {
	case '*':
		return op("*", precMul)
	case '/':
		return op("/", precMul)
	case '%':
		return op("%", precMul)
	case '+':
		return op("+", precAdd)
	case '-':
		return op("-", precAdd)
	case '<':
		switch c1 {
		case '<':
			return op("<<", precShift)
		case '=':
			return op("<=", precCompare)
		}
		return op("<", precCompare)
	case '>':
		switch {
		case c1 == '>' && c2 == '>':
			return op(">>>", precShift)
		case c1 == '>':
			return op(">>", precShift)
		case c1 == '=':
			return op(">=", precCompare)
		}
		return op(">", precCompare)
	case '=':
		if c1 == '=' {
			return binaryOp{"=", precCompare, 2}, true
		}
		return op("=", precCompare)
	case '!':
		if c1 == '=' {
			return op("!=", precCompare)
		}
	case '&':
		return op("&", precAnd)
	case '^':
		return op("^", precXor)
	case '|':
		return op("|", precOr)
	}
	if isIdentByte(c) {
		w := p.src[p.pos:p.identEnd(p.pos)]
		switch strings.ToLower(w) {
		case "mod":
			return binaryOp{"%", precMul, len(w)}, true
		case "and":
			return binaryOp{"&", precAnd, len(w)}, true
		case "xor":
			return binaryOp{"^", precXor, len(w)}, true
		case "or":
			return binaryOp{"|", precOr, len(w)}, true
		}
	}
	return binaryOp{}, false
}

// expression parses operands joined by binary operators, stopping before the first token after a
// complete operand that is not a binary operator.
func (p *parser) expression() (uint64, error) { return p.binary(precOr) }

func (p *parser) binary(minPrec int) (uint64, error) {
	left, err := p.unary()
	if err != nil {
		return 0, err
	}
	for {
		p.skipBlanks()
		op, ok := p.peekBinary()
		if !ok || op.prec < minPrec {
			return left, nil
		}
		p.pos += op.size
		right, err := p.binary(op.prec + 1)
		if err != nil {
			return 0, err
		}
		p.skipBlanks()
		if left, ok = apply(op.name, left, right); !ok {
			return 0, p.errorAt(ErrOperand, p.pos)
		}
	}
}

// apply computes one binary operation on uint64, as the MASM page says all arithmetic is ULONG64:
// comparisons and division are unsigned, >> is logical and >>> arithmetic. Shift counts are taken
// modulo 64 as the x86/x64 shift instructions do (unverified against WinDbg for counts >= 64).
// ok is false for division or modulus by zero.
func apply(op string, a, b uint64) (v uint64, ok bool) {
	switch op {
	case "*":
		return a * b, true
	case "/":
		if b == 0 {
			return 0, false
		}
		return a / b, true
	case "%":
		if b == 0 {
			return 0, false
		}
		return a % b, true
	case "+":
		return a + b, true
	case "-":
		return a - b, true
	case "<<":
		return a << (b & 63), true
	case ">>":
		return a >> (b & 63), true
	case ">>>":
		return uint64(int64(a) >> (b & 63)), true
	case "=":
		return boolValue(a == b), true
	case "!=":
		return boolValue(a != b), true
	case "<":
		return boolValue(a < b), true
	case "<=":
		return boolValue(a <= b), true
	case ">":
		return boolValue(a > b), true
	case ">=":
		return boolValue(a >= b), true
	case "&":
		return a & b, true
	case "^":
		return a ^ b, true
	case "|":
		return a | b, true
	}
	return 0, false
}

func boolValue(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// memoryOperators maps the unary memory operators to their width; 0 means pointer-sized.
var memoryOperators = map[string]int{"by": 1, "wo": 2, "dwo": 4, "qwo": 8, "poi": 0}

// unary parses an operand with its prefix operators. Unary operators bind tighter than any
// binary one: `poi esp+4` is poi(esp)+4.
func (p *parser) unary() (uint64, error) {
	p.skipBlanks()
	if p.depth >= maxDepth {
		return 0, p.errorAt(ErrTooDeep, p.pos)
	}
	p.depth++
	defer func() { p.depth-- }()

	switch p.peek() {
	case '+':
		p.pos++
		return p.unary()
	case '-':
		p.pos++
		v, err := p.unary()
		return -v, err
	case '$':
		// Physical-memory operators exist only for kernel targets; a dump's physical pages are not
		// reachable through Env.
		end := p.identEnd(p.pos + 1)
		switch strings.ToLower(p.src[p.pos:end]) {
		case "$pby", "$pwo", "$pdwo", "$pqwo", "$ppoi":
			return 0, p.errorAt(ErrUnimplemented, p.pos)
		}
	}
	if isIdentByte(p.peek()) {
		start := p.pos
		end := p.identEnd(start)
		word := strings.ToLower(p.src[start:end])
		switch word {
		case "not", "hi", "low":
			p.pos = end
			v, err := p.unary()
			if err != nil {
				return 0, err
			}
			switch word {
			case "not":
				return boolValue(v == 0), nil
			case "hi":
				return v >> 16 & 0xffff, nil
			}
			return v & 0xffff, nil
		}
		if size, ok := memoryOperators[word]; ok {
			p.pos = end
			return p.dereference(size)
		}
	}
	return p.primary()
}

// dereference parses the operand of by/wo/dwo/qwo/poi and reads the target memory. As cdb does,
// the read happens with the cursor after the address expression: before the ')' of `dwo(...)`,
// so a failed read is reported at that ')' (cdb log: "Memory access error at ') == 0x100) ...'").
func (p *parser) dereference(size int) (uint64, error) {
	if size == 0 {
		size = p.env.PointerSize()
		if size != 4 {
			size = 8
		}
	}
	p.skipBlanks()
	var addr uint64
	var err error
	paren := p.peek() == '('
	if paren {
		p.pos++
		if addr, err = p.nested(); err != nil {
			return 0, err
		}
		p.skipBlanks()
		if p.peek() != ')' {
			return 0, p.errorAt(ErrSyntax, p.pos)
		}
	} else if addr, err = p.unary(); err != nil {
		return 0, err
	}
	p.skipBlanks()
	v, rerr := p.env.ReadMemory(addr, size)
	if rerr != nil {
		e := p.errorAt(ErrMemory, p.pos)
		e.Addr, e.Err = addr, rerr
		return 0, e
	}
	if paren {
		p.pos++
	}
	return v, nil
}

// nested parses a whole expression inside brackets, counting the level against maxDepth.
func (p *parser) nested() (uint64, error) {
	if p.depth >= maxDepth {
		return 0, p.errorAt(ErrTooDeep, p.pos)
	}
	p.depth++
	defer func() { p.depth-- }()
	return p.expression()
}

// closeParen consumes the ')' that ends a bracketed expression.
func (p *parser) closeParen() error {
	p.skipBlanks()
	if p.peek() != ')' {
		return p.errorAt(ErrSyntax, p.pos)
	}
	p.pos++
	return nil
}
