package unwind

import (
	"fmt"
	"strconv"
	"strings"
)

// This is the package's one postfix evaluator, for both languages that use it:
//
//   - FRAMEDATA program strings (FORMATS.md §8.2; breakpad's STACK WIN records carry the same
//     strings): a sequence of `name expression =` assignments. Operands are numbers, registers
//     ($eip, $esp, $ebp, $ebx, $esi, $edi, $eax, $ecx, $edx), temporaries ($T0…, $L, $P) and the
//     frame constants .cbLocals, .cbParams, .cbSavedRegs, .cbFrame, .raSearch / .raSearchStart.
//   - STACK CFI rules (Breakpad's symbol_files.md, "STACK CFI records"): one expression a rule,
//     leaving a single value, over the callee's registers and .cfa; no assignment.
//
// Operators are + - * / % and @ (align down), ^ (read a word of the target's size) and, in
// programs, = (assign the value to the name below it). Arithmetic wraps at the word size: 32 bits
// for x86 programs, 64 for x64/ARM64 CFI.

// Bounds on one evaluation: hostile strings cost at most this much.
const (
	maxProgramTokens = 512
	maxProgramStack  = 64
	maxProgramReads  = 64
)

type postfixItem struct {
	name  string // an identifier that has not been evaluated (the target of =)
	value uint64
	isVal bool
}

// postfixEnv is what one evaluation runs against.
type postfixEnv struct {
	what   string // "program string" or "CFI rule": the prefix of every error
	width  int    // 4 or 8 bytes: arithmetic wraps and ^ reads at this size
	mem    Memory
	lookup func(name string) (uint64, bool)
	// assign stores the value of =; nil when the language has no assignment (CFI rules).
	assign func(name string, v uint64)
	// bareNames admits names without a '$' or '.' prefix, as Breakpad writes ARM64 registers
	// in CFI rules ("x29", "sp").
	bareNames bool
}

// evalProgram runs an x86 FRAMEDATA program with vars as the initial variables; assignments
// update vars. Arithmetic is 32-bit, as on the x86 it describes.
func evalProgram(prog string, vars map[string]uint32, mem Memory) error {
	env := postfixEnv{
		what:  "program string",
		width: 4,
		mem:   mem,
		lookup: func(name string) (uint64, bool) {
			v, ok := vars[name]
			return uint64(v), ok
		},
		assign: func(name string, v uint64) { vars[name] = uint32(v) },
	}
	stack, err := env.exec(prog)
	if err != nil {
		return err
	}
	if len(stack) != 0 {
		return fmt.Errorf("program string: %d values left on the stack", len(stack))
	}
	return nil
}

// evalExpr evaluates an expression that leaves exactly one value (a STACK CFI rule).
func (e *postfixEnv) evalExpr(expr string) (uint64, error) {
	stack, err := e.exec(expr)
	if err != nil {
		return 0, err
	}
	if len(stack) != 1 {
		return 0, fmt.Errorf("%s %q: leaves %d values, not 1", e.what, expr, len(stack))
	}
	return e.value(stack[0])
}

func (e *postfixEnv) mask(v uint64) uint64 {
	if e.width == 4 {
		return v & 0xFFFFFFFF
	}
	return v
}

func (e *postfixEnv) value(it postfixItem) (uint64, error) {
	if it.isVal {
		return it.value, nil
	}
	v, ok := e.lookup(it.name)
	if !ok {
		return 0, fmt.Errorf("%s: %s is not defined", e.what, it.name)
	}
	return e.mask(v), nil
}

func (e *postfixEnv) exec(text string) ([]postfixItem, error) {
	toks := programTokens(text)
	if len(toks) > maxProgramTokens {
		return nil, fmt.Errorf("%s: %d tokens (at most %d)", e.what, len(toks), maxProgramTokens)
	}
	var stack []postfixItem
	reads := 0
	pop := func() (postfixItem, error) {
		if len(stack) == 0 {
			return postfixItem{}, fmt.Errorf("%s: stack underflow", e.what)
		}
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return it, nil
	}
	popValue := func() (uint64, error) {
		it, err := pop()
		if err != nil {
			return 0, err
		}
		return e.value(it)
	}
	for _, t := range toks {
		switch t {
		case "+", "-", "*", "/", "%", "@":
			b, err := popValue()
			if err != nil {
				return nil, err
			}
			a, err := popValue()
			if err != nil {
				return nil, err
			}
			v, err := e.binary(t, a, b)
			if err != nil {
				return nil, err
			}
			stack = append(stack, postfixItem{value: e.mask(v), isVal: true})
		case "^":
			addr, err := popValue()
			if err != nil {
				return nil, err
			}
			if reads++; reads > maxProgramReads {
				return nil, fmt.Errorf("%s: more than %d memory reads", e.what, maxProgramReads)
			}
			v, err := readPtr(e.mem, addr, e.width)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", e.what, err)
			}
			stack = append(stack, postfixItem{value: v, isVal: true})
		case "=":
			if e.assign == nil {
				return nil, fmt.Errorf("%s: = is not allowed here", e.what)
			}
			v, err := popValue()
			if err != nil {
				return nil, err
			}
			target, err := pop()
			if err != nil {
				return nil, err
			}
			if target.isVal || !assignable(target.name) {
				return nil, fmt.Errorf("%s: cannot assign to %q", e.what, target.name)
			}
			e.assign(target.name, v)
		default:
			if n, ok := parseProgramNumber(t, e.width); ok {
				stack = append(stack, postfixItem{value: n, isVal: true})
			} else if t[0] == '$' || t[0] == '.' || e.bareNames && isIdentStart(t[0]) {
				stack = append(stack, postfixItem{name: t})
			} else {
				return nil, fmt.Errorf("%s: unexpected token %q", e.what, t)
			}
		}
		if len(stack) > maxProgramStack {
			return nil, fmt.Errorf("%s: stack deeper than %d", e.what, maxProgramStack)
		}
	}
	return stack, nil
}

// binary applies a two-operand operator. / and % are signed, as breakpad evaluates them.
func (e *postfixEnv) binary(op string, a, b uint64) (uint64, error) {
	switch op {
	case "+":
		return a + b, nil
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	case "/", "%":
		if e.mask(b) == 0 {
			return 0, fmt.Errorf("%s: division by zero", e.what)
		}
		if e.width == 4 {
			x, y := int32(uint32(a)), int32(uint32(b))
			if op == "/" {
				return uint64(uint32(x / y)), nil
			}
			return uint64(uint32(x % y)), nil
		}
		x, y := int64(a), int64(b)
		if op == "/" {
			return uint64(x / y), nil
		}
		return uint64(x % y), nil
	case "@":
		if b == 0 || b&(b-1) != 0 {
			return 0, fmt.Errorf("%s: alignment %d is not a power of two", e.what, b)
		}
		return a &^ (b - 1), nil
	}
	return 0, fmt.Errorf("%s: unknown operator %q", e.what, op)
}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

// assignable names are the registers and temporaries; the frame constants are read-only.
func assignable(name string) bool { return len(name) > 1 && name[0] == '$' }

// parseProgramNumber reads a decimal number (breakpad's and DIA's strings are decimal, CFI rules
// may be negative: ".cfa -16 + ^"), or a 0x-prefixed hexadecimal one, that fits a word of width
// bytes (signed or unsigned).
func parseProgramNumber(t string, width int) (uint64, bool) {
	bits := width * 8
	if strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") {
		v, err := strconv.ParseUint(t[2:], 16, bits)
		return v, err == nil
	}
	if v, err := strconv.ParseUint(t, 10, bits); err == nil {
		return v, true
	}
	v, err := strconv.ParseInt(t, 10, bits)
	if err != nil {
		return 0, false
	}
	if bits < 64 {
		return uint64(v) & (1<<bits - 1), true
	}
	return uint64(v), true
}

// programTokens splits a program string into tokens. Programs written by the MSVC linker often
// glue the assignment operator to its neighbour ("$T0 $ebp 204 + =$eip $T0 4 + ^ =", from
// crash.pdb of the corpus), so a leading or trailing '=' is a token of its own.
func programTokens(prog string) []string {
	var toks []string
	for _, f := range strings.Fields(prog) {
		for len(f) > 1 && f[0] == '=' {
			toks = append(toks, "=")
			f = f[1:]
		}
		if len(f) > 1 && f[len(f)-1] == '=' {
			toks = append(toks, f[:len(f)-1], "=")
			continue
		}
		toks = append(toks, f)
	}
	return toks
}
