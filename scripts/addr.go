package scripts

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"wdbg/commands"
)

// addr is a 64-bit address or value. Lua 5.1 numbers are doubles and lose bits above 2^53
// (fffff8048b58334c is not a double), so every address the API returns is one of these, and
// arithmetic on them is done in uint64, modulo 2^64 as the CPU does it.
type addr uint64

const addrTypeName = "addr"

// Largest integer a double holds exactly; numbers beyond it cannot name an address.
const maxExactNumber = 1 << 53

// registerAddr creates the addr metatable: arithmetic, comparison, tostring in WinDbg's form
// and methods.
func (h *Host) registerAddr() {
	L := h.L
	mt := L.NewTypeMetatable(addrTypeName)
	binary := func(op func(a, b uint64) (uint64, string)) lua.LGFunction {
		return func(L *lua.LState) int {
			a, b := h.checkAddr(L, 1), h.checkAddr(L, 2)
			v, err := op(a, b)
			if err != "" {
				L.RaiseError("%s", err)
			}
			L.Push(h.newAddr(L, v))
			return 1
		}
	}
	L.SetFuncs(mt, map[string]lua.LGFunction{
		"__add": binary(func(a, b uint64) (uint64, string) { return a + b, "" }),
		"__sub": binary(func(a, b uint64) (uint64, string) { return a - b, "" }),
		"__mul": binary(func(a, b uint64) (uint64, string) { return a * b, "" }),
		"__div": binary(func(a, b uint64) (uint64, string) {
			if b == 0 {
				return 0, "address division by zero"
			}
			return a / b, ""
		}),
		"__mod": binary(func(a, b uint64) (uint64, string) {
			if b == 0 {
				return 0, "address modulo by zero"
			}
			return a % b, ""
		}),
		"__unm": func(L *lua.LState) int { L.Push(h.newAddr(L, -h.checkAddr(L, 1))); return 1 },
		"__eq":  func(L *lua.LState) int { L.Push(lua.LBool(h.checkAddr(L, 1) == h.checkAddr(L, 2))); return 1 },
		"__lt":  func(L *lua.LState) int { L.Push(lua.LBool(h.checkAddr(L, 1) < h.checkAddr(L, 2))); return 1 },
		"__le":  func(L *lua.LState) int { L.Push(lua.LBool(h.checkAddr(L, 1) <= h.checkAddr(L, 2))); return 1 },
		"__tostring": func(L *lua.LState) int {
			L.Push(lua.LString(h.formatAddr(h.checkAddr(L, 1))))
			return 1
		},
		"__concat": func(L *lua.LState) int {
			L.Push(lua.LString(h.concatPart(L, 1) + h.concatPart(L, 2)))
			return 1
		},
	})
	methods := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		// hex is 0x and the digits, no padding: a form Lua's tonumber and dbg.addr both read.
		"hex": func(L *lua.LState) int { L.Push(lua.LString(fmt.Sprintf("0x%x", h.checkAddr(L, 1)))); return 1 },
		// ptr is the pointer-width form without the backtick (WinDbg's %p).
		"ptr": func(L *lua.LState) int {
			L.Push(lua.LString(commands.FormatPtr(h.checkAddr(L, 1), h.sess.PointerSize())))
			return 1
		},
		// tonumber is the value as a Lua number, an error when a double cannot hold it exactly.
		"tonumber": func(L *lua.LState) int {
			v := h.checkAddr(L, 1)
			if v > maxExactNumber {
				L.RaiseError("%s does not fit a Lua number exactly (more than 2^53)", h.formatAddr(v))
			}
			L.Push(lua.LNumber(v))
			return 1
		},
		"band": binary(func(a, b uint64) (uint64, string) { return a & b, "" }),
		"bor":  binary(func(a, b uint64) (uint64, string) { return a | b, "" }),
		"bxor": binary(func(a, b uint64) (uint64, string) { return a ^ b, "" }),
		"shl":  binary(func(a, b uint64) (uint64, string) { return a << (b & 63), "" }),
		"shr":  binary(func(a, b uint64) (uint64, string) { return a >> (b & 63), "" }),
		"lo32": func(L *lua.LState) int { L.Push(lua.LNumber(uint32(h.checkAddr(L, 1)))); return 1 },
		"hi32": func(L *lua.LState) int { L.Push(lua.LNumber(uint32(h.checkAddr(L, 1) >> 32))); return 1 },
	})
	mt.RawSetString("__index", methods)
}

// newAddr wraps v in an addr userdata.
func (h *Host) newAddr(L *lua.LState, v uint64) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = addr(v)
	L.SetMetatable(ud, L.GetTypeMetatable(addrTypeName))
	return ud
}

// formatAddr is tostring(addr): WinDbg's address form, with the backtick on 64-bit targets
// (fffff804`8b58334c) and 8 digits on 32-bit ones.
func (h *Host) formatAddr(v uint64) string {
	ptr := h.sess.PointerSize()
	if ptr == 4 && v > math.MaxUint32 {
		ptr = 8
	}
	return commands.FormatAddr(v, ptr)
}

func (h *Host) concatPart(L *lua.LState, i int) string {
	switch v := L.Get(i).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	case *lua.LUserData:
		if a, ok := v.Value.(addr); ok {
			return h.formatAddr(uint64(a))
		}
	}
	L.RaiseError("attempt to concatenate a %s value", L.Get(i).Type().String())
	return ""
}

// checkAddr reads argument i as an address: an addr, an integral number below 2^53 (negative
// ones wrap as in two's complement), or a string that is a MASM expression ("nt!Foo+0x10",
// "fffff804`8b58334c", "@rsp").
func (h *Host) checkAddr(L *lua.LState, i int) uint64 {
	v, err := h.toAddr(L.Get(i))
	if err != "" {
		L.ArgError(i, err)
	}
	return v
}

// toAddr converts a Lua value to an address; err explains a value that is not one.
func (h *Host) toAddr(lv lua.LValue) (uint64, string) {
	switch v := lv.(type) {
	case *lua.LUserData:
		if a, ok := v.Value.(addr); ok {
			return uint64(a), ""
		}
	case lua.LNumber:
		f := float64(v)
		if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, fmt.Sprintf("%v is not an integer address", v)
		}
		if math.Abs(f) > maxExactNumber {
			return 0, fmt.Sprintf("%v is beyond 2^53 and not exact as a Lua number; use dbg.addr(\"...\") or an addr value", v)
		}
		if f < 0 {
			return uint64(int64(f)), ""
		}
		return uint64(f), ""
	case lua.LString:
		return h.evalAddr(string(v))
	}
	return 0, fmt.Sprintf("address expected, got %s", lv.Type().String())
}

// evalAddr evaluates an address expression with the session's MASM evaluator; "0x"-prefixed and
// plain hex numbers are read directly first, so that the commonest form needs no session.
func (h *Host) evalAddr(expr string) (uint64, string) {
	s := strings.TrimSpace(expr)
	digits := strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"), "`", "")
	if v, err := strconv.ParseUint(digits, 16, 64); err == nil && digits != "" {
		return v, ""
	}
	v, err := h.sess.Eval(s)
	if err != nil {
		return 0, fmt.Sprintf("cannot evaluate %q: %v", expr, oneLine(err.Error()))
	}
	return v, ""
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[i+1:])
	}
	return s
}
