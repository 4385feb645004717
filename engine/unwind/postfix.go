package unwind

import (
	"fmt"
	"strconv"
	"strings"
)

// A FRAMEDATA program string (FORMATS.md §8.2; breakpad's STACK WIN records carry the same
// strings) is a postfix program: operands are numbers, registers ($eip, $esp, $ebp, $ebx, $esi,
// $edi, $eax, $ecx, $edx), temporaries ($T0…, $L, $P) and the frame constants .cbLocals,
// .cbParams, .cbSavedRegs, .cbFrame, .raSearch / .raSearchStart; operators are + - * / % and @
// (align down), ^ (read a 32-bit word) and = (assign the value to the name below it).

// Bounds on one evaluation: hostile strings cost at most this much.
const (
	maxProgramTokens = 512
	maxProgramStack  = 64
	maxProgramReads  = 64
)

type postfixItem struct {
	name  string // an identifier that has not been evaluated (the target of =)
	value uint32
	isVal bool
}

// evalProgram runs prog with vars as the initial variables; assignments update vars. Arithmetic
// is 32-bit, as on the x86 it describes.
func evalProgram(prog string, vars map[string]uint32, mem Memory) error {
	toks := programTokens(prog)
	if len(toks) > maxProgramTokens {
		return fmt.Errorf("program string: %d tokens (at most %d)", len(toks), maxProgramTokens)
	}
	var stack []postfixItem
	reads := 0
	pop := func() (postfixItem, error) {
		if len(stack) == 0 {
			return postfixItem{}, fmt.Errorf("program string: stack underflow")
		}
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return it, nil
	}
	value := func(it postfixItem) (uint32, error) {
		if it.isVal {
			return it.value, nil
		}
		v, ok := vars[it.name]
		if !ok {
			return 0, fmt.Errorf("program string: %s is not defined", it.name)
		}
		return v, nil
	}
	popValue := func() (uint32, error) {
		it, err := pop()
		if err != nil {
			return 0, err
		}
		return value(it)
	}
	for _, t := range toks {
		switch t {
		case "+", "-", "*", "/", "%", "@":
			b, err := popValue()
			if err != nil {
				return err
			}
			a, err := popValue()
			if err != nil {
				return err
			}
			var v uint32
			switch t {
			case "+":
				v = a + b
			case "-":
				v = a - b
			case "*":
				v = a * b
			case "/", "%":
				if b == 0 {
					return fmt.Errorf("program string: division by zero")
				}
				// Signed, as breakpad evaluates them.
				if t == "/" {
					v = uint32(int32(a) / int32(b))
				} else {
					v = uint32(int32(a) % int32(b))
				}
			case "@":
				if b == 0 || b&(b-1) != 0 {
					return fmt.Errorf("program string: alignment %d is not a power of two", b)
				}
				v = a &^ (b - 1)
			}
			stack = append(stack, postfixItem{value: v, isVal: true})
		case "^":
			addr, err := popValue()
			if err != nil {
				return err
			}
			if reads++; reads > maxProgramReads {
				return fmt.Errorf("program string: more than %d memory reads", maxProgramReads)
			}
			v, err := readU32(mem, uint64(addr))
			if err != nil {
				return fmt.Errorf("program string: %w", err)
			}
			stack = append(stack, postfixItem{value: v, isVal: true})
		case "=":
			v, err := popValue()
			if err != nil {
				return err
			}
			target, err := pop()
			if err != nil {
				return err
			}
			if target.isVal || !assignable(target.name) {
				return fmt.Errorf("program string: cannot assign to %q", target.name)
			}
			vars[target.name] = v
		default:
			if n, ok := parseProgramNumber(t); ok {
				stack = append(stack, postfixItem{value: n, isVal: true})
			} else if t[0] == '$' || t[0] == '.' {
				stack = append(stack, postfixItem{name: t})
			} else {
				return fmt.Errorf("program string: unexpected token %q", t)
			}
		}
		if len(stack) > maxProgramStack {
			return fmt.Errorf("program string: stack deeper than %d", maxProgramStack)
		}
	}
	if len(stack) != 0 {
		return fmt.Errorf("program string: %d values left on the stack", len(stack))
	}
	return nil
}

// assignable names are the registers and temporaries; the frame constants are read-only.
func assignable(name string) bool { return len(name) > 1 && name[0] == '$' }

// parseProgramNumber reads a decimal number (breakpad's and DIA's strings are decimal), or a
// 0x-prefixed hexadecimal one.
func parseProgramNumber(t string) (uint32, bool) {
	if strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") {
		v, err := strconv.ParseUint(t[2:], 16, 32)
		return uint32(v), err == nil
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < -(1<<31) || v > 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
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
