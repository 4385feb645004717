// Package masm evaluates WinDbg's MASM expressions: the default expression syntax of `?`, of the
// address and range arguments of d*, u, dt and most other commands.
//
// The language follows ../shared/spec/WINDBG-SPEC.md §3.13 and §1.1 and Microsoft's public pages
// "MASM Numbers and Operators", "Sign Extension", "Register Syntax" and "Pseudo-Register Syntax"
// (windows-driver-docs-pr/debuggercmds/). Numbers are hexadecimal unless the radix says otherwise;
// all arithmetic is on uint64; there is no assignment and no side effect other than reading target
// memory for poi/by/wo/dwo/qwo.
//
// The evaluator does not trust its input: nesting is bounded, every error is an *Error that
// carries the column of the offending text, and nothing in an expression can make it allocate
// more than a few times the expression's length.
package masm

// Env is what an expression can see of the target.
type Env interface {
	// PointerSize is 4 or 8: the width of poi().
	PointerSize() int
	// Register returns a register or pseudo-register by its lower-case name without the '@':
	// "eax", "rip", "$t0", "$ip", "$peb".
	Register(name string) (uint64, bool)
	// Symbol resolves a module name ("ntdll" → its base) or a "module!symbol" name.
	Symbol(name string) (uint64, bool)
	// ReadMemory reads a little-endian value of size 1, 2, 4 or 8 bytes, zero-extended.
	ReadMemory(addr uint64, size int) (uint64, error)
}

// Options are the evaluator's settings that come from the session rather than the expression.
type Options struct {
	// Radix is the base of numbers written without a prefix: 16 (the default when zero), 10 or 8
	// (the `n` command).
	Radix int
	// KernelMode enables the kernel-mode rule of "Sign Extension": a constant from 0x80000000
	// through 0xFFFFFFFF written without a backtick is sign extended. User-mode constants never
	// are.
	KernelMode bool
}

// Eval evaluates expr with the default options; the whole string must be one expression.
func Eval(expr string, env Env) (uint64, error) { return Options{}.Eval(expr, env) }

// EvalPrefix evaluates the longest leading expression of expr with the default options and
// returns the unparsed remainder, trimmed of leading blanks. The expression ends where, after a
// complete operand, the next token is not a binary operator: `esp L10` gives esp and "L10",
// `01398000 013a0000` gives 0x01398000 and "013a0000".
func EvalPrefix(expr string, env Env) (uint64, string, error) {
	return Options{}.EvalPrefix(expr, env)
}

// Eval evaluates expr, which must be one whole expression. Text after a complete expression is an
// ErrExtraChars error.
func (o Options) Eval(expr string, env Env) (uint64, error) {
	p := newParser(expr, env, o)
	v, err := p.expression()
	if err != nil {
		return 0, err
	}
	p.skipBlanks()
	if p.pos < len(p.src) {
		return 0, p.errorAt(ErrExtraChars, p.pos)
	}
	return v, nil
}

// EvalPrefix is EvalPrefix with these options.
func (o Options) EvalPrefix(expr string, env Env) (uint64, string, error) {
	p := newParser(expr, env, o)
	v, err := p.expression()
	if err != nil {
		return 0, expr, err
	}
	p.skipBlanks()
	return v, p.src[p.pos:], nil
}
