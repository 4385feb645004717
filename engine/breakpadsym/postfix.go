package breakpadsym

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Breakpad's postfix expressions (symbol_files.md, "STACK WIN records" and "STACK CFI records";
// the language of Breakpad's postfix_evaluator.h): tokens separated by spaces, evaluated on a stack.
// Operands are numbers and names ($eip, $T0, .cfa, .raSearch, ...); binary operators + - * / %
// and @ (align down: a @ b is a rounded down to a multiple of b); unary ^ (read a word of memory);
// and, in STACK WIN programs, = (assign: `name value =`).

// TokenKind says what a Token is.
type TokenKind uint8

// The kinds of tokens.
const (
	TokenNumber TokenKind = iota
	TokenName
	TokenOp
)

// Token is one element of a postfix expression.
type Token struct {
	Kind  TokenKind
	Name  string // the name (TokenName) or the operator (TokenOp: "+", "-", "*", "/", "%", "@", "^", "=")
	Value uint64 // the number (TokenNumber); negative numbers are stored two's complement
}

func (t Token) String() string {
	if t.Kind == TokenNumber {
		if int64(t.Value) < 0 {
			return strconv.FormatInt(int64(t.Value), 10)
		}
		return strconv.FormatUint(t.Value, 10)
	}
	return t.Name
}

// Expr is a parsed postfix expression or program.
type Expr []Token

func (e Expr) String() string {
	parts := make([]string, len(e))
	for i, t := range e {
		parts[i] = t.String()
	}
	return strings.Join(parts, " ")
}

// ErrExpr is wrapped by every parse and evaluation error of a postfix expression.
var ErrExpr = errors.New("breakpadsym: postfix expression")

// ParseExpr splits a postfix expression into tokens. Numbers are decimal (optionally negative) or
// 0x-prefixed hex.
func ParseExpr(s string) (Expr, error) {
	var e Expr
	for _, f := range strings.Fields(s) {
		switch f {
		case "+", "-", "*", "/", "%", "@", "^", "=":
			e = append(e, Token{Kind: TokenOp, Name: f})
			continue
		}
		if v, ok := parseNumber(f); ok {
			e = append(e, Token{Kind: TokenNumber, Value: v})
			continue
		}
		if c := f[0]; c == '-' || c >= '0' && c <= '9' {
			return nil, fmt.Errorf("%w: bad number %q", ErrExpr, f)
		}
		e = append(e, Token{Kind: TokenName, Name: f})
	}
	if len(e) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrExpr)
	}
	return e, nil
}

func parseNumber(s string) (uint64, bool) {
	neg := false
	if strings.HasPrefix(s, "-") && len(s) > 1 {
		neg, s = true, s[1:]
	}
	var v uint64
	var err error
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		v, err = strconv.ParseUint(s[2:], 16, 64)
	} else {
		v, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// Machine evaluates postfix expressions against a frame's values.
type Machine struct {
	// Vars holds the names' values: registers ($esp, $rsp, ...), pseudo-registers (.cfa,
	// .raSearch, .cbParams, ...) and, after Run, the values a program assigned.
	Vars map[string]uint64
	// Deref reads a pointer-sized word of memory for ^.
	Deref func(addr uint64) (uint64, bool)
	// Word32 makes arithmetic wrap at 32 bits (x86).
	Word32 bool
}

// operand is a stack element: a value, or a name not yet looked up (the target of =).
type operand struct {
	value uint64
	name  string
}

// Eval evaluates an expression that leaves exactly one value (a STACK CFI rule).
func (m *Machine) Eval(e Expr) (uint64, error) {
	stack, err := m.exec(e)
	if err != nil {
		return 0, err
	}
	if len(stack) != 1 {
		return 0, fmt.Errorf("%w: %q leaves %d values", ErrExpr, e.String(), len(stack))
	}
	return m.resolve(stack[0])
}

// Run executes a STACK WIN program: a sequence of `name expression =` assignments into m.Vars.
func (m *Machine) Run(program string) error {
	e, err := ParseExpr(program)
	if err != nil {
		return err
	}
	stack, err := m.exec(e)
	if err != nil {
		return err
	}
	if len(stack) != 0 {
		return fmt.Errorf("%w: program %q leaves %d values", ErrExpr, program, len(stack))
	}
	return nil
}

func (m *Machine) exec(e Expr) ([]operand, error) {
	if m.Vars == nil {
		m.Vars = map[string]uint64{}
	}
	stack := make([]operand, 0, 8)
	pop := func() (operand, bool) {
		if len(stack) == 0 {
			return operand{}, false
		}
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return o, true
	}
	for _, t := range e {
		switch t.Kind {
		case TokenNumber:
			stack = append(stack, operand{value: m.wrap(t.Value)})
		case TokenName:
			stack = append(stack, operand{name: t.Name})
		case TokenOp:
			switch t.Name {
			case "^":
				a, ok := pop()
				if !ok {
					return nil, fmt.Errorf("%w: ^ on an empty stack", ErrExpr)
				}
				addr, err := m.resolve(a)
				if err != nil {
					return nil, err
				}
				if m.Deref == nil {
					return nil, fmt.Errorf("%w: no memory to read 0x%x", ErrExpr, addr)
				}
				v, ok := m.Deref(addr)
				if !ok {
					return nil, fmt.Errorf("%w: cannot read memory at 0x%x", ErrExpr, addr)
				}
				stack = append(stack, operand{value: m.wrap(v)})
			case "=":
				val, ok1 := pop()
				dst, ok2 := pop()
				if !ok1 || !ok2 {
					return nil, fmt.Errorf("%w: = needs a name and a value", ErrExpr)
				}
				if dst.name == "" {
					return nil, fmt.Errorf("%w: = assigns to a number", ErrExpr)
				}
				v, err := m.resolve(val)
				if err != nil {
					return nil, err
				}
				m.Vars[dst.name] = v
			default:
				bo, ok1 := pop()
				ao, ok2 := pop()
				if !ok1 || !ok2 {
					return nil, fmt.Errorf("%w: %s needs two operands", ErrExpr, t.Name)
				}
				a, err := m.resolve(ao)
				if err != nil {
					return nil, err
				}
				b, err := m.resolve(bo)
				if err != nil {
					return nil, err
				}
				v, err := binary(t.Name, a, b)
				if err != nil {
					return nil, err
				}
				stack = append(stack, operand{value: m.wrap(v)})
			}
		}
	}
	return stack, nil
}

func binary(op string, a, b uint64) (uint64, error) {
	switch op {
	case "+":
		return a + b, nil
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	case "/":
		if b == 0 {
			return 0, fmt.Errorf("%w: division by zero", ErrExpr)
		}
		return a / b, nil
	case "%":
		if b == 0 {
			return 0, fmt.Errorf("%w: modulo by zero", ErrExpr)
		}
		return a % b, nil
	case "@":
		// Align a down to a multiple of b (a power of two in practice).
		if b == 0 {
			return 0, fmt.Errorf("%w: align by zero", ErrExpr)
		}
		return a &^ (b - 1), nil
	}
	return 0, fmt.Errorf("%w: unknown operator %q", ErrExpr, op)
}

func (m *Machine) resolve(o operand) (uint64, error) {
	if o.name == "" {
		return o.value, nil
	}
	v, ok := m.Vars[o.name]
	if !ok {
		return 0, fmt.Errorf("%w: %s has no value", ErrExpr, o.name)
	}
	return m.wrap(v), nil
}

func (m *Machine) wrap(v uint64) uint64 {
	if m.Word32 {
		return v & 0xffffffff
	}
	return v
}
