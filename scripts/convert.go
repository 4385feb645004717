package scripts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"wdbg/commands"
)

// Command results reach Lua the way --json shows them: the result is marshalled with
// encoding/json and the document becomes nested tables, so that scripts see exactly the fields
// docs/json.md describes, and every command (including ones added later) works without a
// converter of its own. Addresses stay hex strings there; the typed dbg functions turn the ones
// they name into addr values.

// resultJSON marshals a command's result as --json does (no HTML escaping).
func resultJSON(res commands.Result) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// resultTable converts a command's result to Lua tables (nil for a nil result).
func (h *Host) resultTable(L *lua.LState, res commands.Result) (lua.LValue, error) {
	if res == nil {
		return lua.LNil, nil
	}
	raw, err := resultJSON(res)
	if err != nil {
		return lua.LNil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return lua.LNil, err
	}
	return fromJSON(L, v), nil
}

// fromJSON turns a decoded JSON value into Lua: objects become tables with string keys, arrays
// tables indexed from 1, numbers Lua numbers (integers beyond 2^53 become addr-free strings of
// their digits, so that no bit is lost silently), null nil.
func fromJSON(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case string:
		return lua.LString(x)
	case json.Number:
		if i, err := x.Int64(); err == nil && (i > maxExactNumber || i < -maxExactNumber) {
			return lua.LString(x.String())
		}
		f, err := x.Float64()
		if err != nil {
			return lua.LString(x.String())
		}
		return lua.LNumber(f)
	case []any:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, fromJSON(L, e))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		for k, e := range x {
			t.RawSetString(k, fromJSON(L, e))
		}
		return t
	}
	return lua.LString(fmt.Sprint(v))
}

// toGo converts a Lua value to a JSON-able Go value (a script's return values in --json): addr
// values become hex strings as every address in wdbg's JSON; tables with keys 1..n arrays.
func toGo(v lua.LValue, depth int) any {
	if depth > 32 {
		return "<nested too deep>"
	}
	switch x := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LBool:
		return bool(x)
	case lua.LString:
		return string(x)
	case lua.LNumber:
		f := float64(x)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return x.String()
		}
		return f
	case *lua.LUserData:
		if a, ok := x.Value.(addr); ok {
			return fmt.Sprintf("0x%x", uint64(a))
		}
		return "<userdata>"
	case *lua.LTable:
		if n := x.Len(); n > 0 {
			arr := make([]any, 0, n)
			for i := 1; i <= n; i++ {
				arr = append(arr, toGo(x.RawGetInt(i), depth+1))
			}
			return arr
		}
		m := map[string]any{}
		x.ForEach(func(k, val lua.LValue) {
			m[k.String()] = toGo(val, depth+1)
		})
		return m
	}
	return v.String()
}

// addrFields replaces, in t, the string values of the named keys that are hex numbers
// ("0x7ffda5eed5a4") with addr values; nested tables named in deep are converted entirely.
func (h *Host) addrFields(L *lua.LState, t lua.LValue, keys ...string) {
	tab, ok := t.(*lua.LTable)
	if !ok {
		return
	}
	for _, k := range keys {
		switch v := tab.RawGetString(k).(type) {
		case lua.LString:
			if a, ok := parseHex(string(v)); ok {
				tab.RawSetString(k, h.newAddr(L, a))
			}
		case *lua.LTable:
			h.allAddrs(L, v)
		}
	}
}

// allAddrs replaces every hex string value in t (not recursively) with an addr.
func (h *Host) allAddrs(L *lua.LState, t *lua.LTable) {
	var keys []lua.LValue
	t.ForEach(func(k, v lua.LValue) {
		if s, ok := v.(lua.LString); ok {
			if _, ok := parseHex(string(s)); ok {
				keys = append(keys, k)
			}
		}
	})
	for _, k := range keys {
		a, _ := parseHex(string(t.RawGet(k).(lua.LString)))
		t.RawSet(k, h.newAddr(L, a))
	}
}

// parseHex reads "0x..." as wdbg's JSON writes addresses.
func parseHex(s string) (uint64, bool) {
	if !strings.HasPrefix(s, "0x") || len(s) < 3 || len(s) > 18 {
		return 0, false
	}
	var v uint64
	for _, c := range s[2:] {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		v = v<<4 | d
	}
	return v, true
}

// tableOf builds a Lua table from a Go map in sorted key order (deterministic iteration does not
// matter to Lua, but sorted insertion keeps tests reproducible).
func tableOf(L *lua.LState, m map[string]lua.LValue) *lua.LTable {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t := L.CreateTable(0, len(m))
	for _, k := range keys {
		t.RawSetString(k, m[k])
	}
	return t
}
