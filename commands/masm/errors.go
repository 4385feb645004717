package masm

import "fmt"

// ErrorKind says what went wrong in an expression.
type ErrorKind uint8

const (
	// ErrSyntax: malformed text, e.g. a missing ')' or `mod!` without a symbol.
	ErrSyntax ErrorKind = iota + 1
	// ErrExtraChars: text left after a complete expression where only one is allowed.
	ErrExtraChars
	// ErrMissingOperand: an operand was expected, e.g. after a binary operator or at `&&`.
	ErrMissingOperand
	// ErrBadRegister: `@name` or `$name` that is no register or pseudo-register.
	ErrBadRegister
	// ErrUnresolved: a name that is no number, symbol, module or register.
	ErrUnresolved
	// ErrMemory: poi/by/wo/dwo/qwo read an address the dump does not hold.
	ErrMemory
	// ErrOverflow: a number that does not fit in 64 bits.
	ErrOverflow
	// ErrOperand: an invalid operation, i.e. division or modulus by zero.
	ErrOperand
	// ErrUnimplemented: valid MASM that wdbg does not evaluate (yet): $spat, @@c++( ), physical
	// memory operators.
	ErrUnimplemented
	// ErrTooDeep: parentheses or unary operators nested beyond maxDepth.
	ErrTooDeep
)

// Error is an expression error. Its text is WinDbg's: the kind, then the expression from the
// offending column to the end, or <EOL> when the error is at the end.
//
// The spellings, and where they come from:
//   - "Syntax error at '...'", "Couldn't resolve error at '...'", "Bad register error at '...'",
//     "Memory access error at '...'", "Numeric expression missing from '...'" and the "<EOL>"
//     marker: public cdb captures (WINDBG-SPEC §1.3 and §9 item 14; cdb logs quoting
//     "Bad register error at '@$ea - 10*$ptrsize '", "Memory access error at ') == 0x100) ...'",
//     "Numeric expression missing from '& @rdx == 0x40) ...'", and `.exr` with no argument
//     printing "Numeric expression missing from '<EOL>'").
//   - "Operand error": the MASM page says an invalid operation such as division by zero gives an
//     "Operand error"; the "at '...'" tail and the column (after the divisor) are unverified.
//   - "Overflow error", "Unimplemented error": dbgeng's naming pattern, unverified.
//   - "Extra character error": cdb prints it in caret form ("^ Extra character error in '...'");
//     the command layer turns ErrExtraChars into that form.
//   - ErrTooDeep is wdbg's own guard; WinDbg's limit and message are unknown.
type Error struct {
	Kind ErrorKind
	Expr string // the whole expression as given
	Col  int    // byte offset in Expr where the reported text starts
	// Addr and Err describe the failed read of an ErrMemory.
	Addr uint64
	Err  error
}

// At is the text WinDbg quotes: Expr from Col to the end, or "<EOL>" when nothing is left.
func (e *Error) At() string {
	if e.Col >= len(e.Expr) {
		return "<EOL>"
	}
	return e.Expr[e.Col:]
}

func (e *Error) Error() string {
	switch e.Kind {
	case ErrMissingOperand:
		return fmt.Sprintf("Numeric expression missing from '%s'", e.At())
	case ErrTooDeep:
		return fmt.Sprintf("Expression nested too deeply (more than %d levels) at '%s'", maxDepth, e.At())
	}
	return fmt.Sprintf("%s error at '%s'", e.Kind.word(), e.At())
}

// Unwrap gives the memory error behind an ErrMemory.
func (e *Error) Unwrap() error { return e.Err }

func (k ErrorKind) word() string {
	switch k {
	case ErrExtraChars:
		return "Extra character"
	case ErrBadRegister:
		return "Bad register"
	case ErrUnresolved:
		return "Couldn't resolve"
	case ErrMemory:
		return "Memory access"
	case ErrOverflow:
		return "Overflow"
	case ErrOperand:
		return "Operand"
	case ErrUnimplemented:
		return "Unimplemented"
	}
	return "Syntax" // ErrSyntax, and a safe word for anything unexpected
}

// String names the kind (for tests and logs).
func (k ErrorKind) String() string {
	switch k {
	case ErrMissingOperand:
		return "Numeric expression missing"
	case ErrTooDeep:
		return "Too deep"
	}
	return k.word()
}
