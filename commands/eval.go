package commands

import (
	"context"
	"fmt"
	"io"
)

// evalCommands: `?` (WINDBG-SPEC §3.13). `??`, the C++ evaluator, is a separate command.
var evalCommands = []*Command{
	{
		Name: "?", Group: "Expressions", Glued: true,
		Usage:   "? Expression",
		Summary: "evaluate a MASM expression",
		Help: "Evaluates a MASM expression and prints it as a signed decimal and as a pointer-wide hex number: " +
			"`Evaluate expression: 1033 = 00000000`00000409`. Numbers are hexadecimal unless written `0n` " +
			"(decimal), `0t` (octal), `0y` (binary) or `0x`; a trailing `h` also means hex and a backtick may " +
			"split a 64-bit number. Operators, loosest first: `or |`, `xor ^`, `and &`, comparisons " +
			"`= == != < <= > >=` (1 or 0), shifts `<< >> >>>`, `+ -`, `* / mod %`; unary `- + not hi low` and " +
			"the memory reads `by wo dwo qwo poi` (poi is pointer-sized). Operands are numbers, registers " +
			"(`@rip`, or bare `rip`), pseudo-registers (`$ip` or `.`, `$csp`, `$t0`-`$t19`, `$teb`, `$peb`, " +
			"`$tid`, `$tpid`, `$ptrsize`, `$pagesize`, `$exr_code`, `$exr_param0`-`$exr_param14`) and module " +
			"names, which give the module's base. Without an expression, lists the commands.",
		Run: runEvaluate,
	},
}

func runEvaluate(ctx context.Context, s *Session, args string) (Result, error) {
	if args == "" {
		// "A question mark by itself displays command help" (? page).
		return runHelp(ctx, s, "")
	}
	v, rest, err := s.EvalPrefix(args)
	if err != nil {
		return nil, err
	}
	res := newEvalResult(v, s.PointerSize())
	if rest != "" {
		// Text after the expression: cdb prints the value, then the caret report (a public cdb log
		// shows "Evaluate expression: 221 = 00000000`000000dd" followed by
		// "^ Extra character error in ..." for `? dd(@rcx+0x34000)`). Both are returned.
		line := "? " + args
		return res, &ExtraCharsError{Input: line, Col: len(line) - len(rest)}
	}
	return res, nil
}

// EvalResult is the value of a `?` command.
type EvalResult struct {
	Value   string `json:"value"`   // the 64-bit value in hex: "0x7ff830b269a2"
	Decimal int64  `json:"decimal"` // the same value as a signed 64-bit number

	raw     uint64
	ptrSize int
}

func newEvalResult(v uint64, ptrSize int) *EvalResult {
	return &EvalResult{Value: fmt.Sprintf("%#x", v), Decimal: int64(v), raw: v, ptrSize: ptrSize}
}

// WriteText prints `Evaluate expression: <signed decimal> = <hex>` (WINDBG-SPEC §3.13). The
// decimal is the signed 64-bit value. The hex is pointer-wide with the backtick on 64-bit targets;
// on 32-bit targets it follows "Displaying Sign-Extended and 64-Bit Numbers" (sign-extension
// page): 8 digits when the high half is zero or the value is a sign-extended 32-bit number, else
// all 16 digits with the backtick. Captures from 32-bit targets agree: "-1 = ffffffff",
// "4294971392 = 00000001`00001000", "-2155901056 = ffffffff`7f7f8f80".
func (r *EvalResult) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "Evaluate expression: %d = %s\n", r.Decimal, formatEvalHex(r.raw, r.ptrSize))
	return err
}

func formatEvalHex(v uint64, ptrSize int) string {
	if ptrSize == 4 {
		high := v >> 32
		if high == 0 || high == 0xffffffff && v&0x80000000 != 0 {
			return FormatAddr(v, 4)
		}
	}
	return FormatAddr(v, 8)
}
