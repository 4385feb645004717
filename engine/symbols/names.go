package symbols

import (
	"path"
	"strings"

	"wdbg/engine/demangle"
)

// Undecorate turns a linker name into the name WinDbg shows: C++ names through the MSVC
// undecorator (qualified name only), and the x86 C conventions stripped — `_name` (cdecl),
// `_name@N` (stdcall) and `@name@N` (fastcall) become `name`, as dbghelp's undecoration does.
func Undecorate(name string) string {
	if demangle.IsDecorated(name) {
		if n, ok := demangle.Name(name); ok {
			return n
		}
		return name
	}
	base := name
	switch {
	case strings.HasPrefix(base, "_"), strings.HasPrefix(base, "@"):
		if at := strings.LastIndexByte(base, '@'); at > 0 && allDigits(base[at+1:]) {
			base = base[:at]
		}
		if strings.HasPrefix(base, "_") || strings.HasPrefix(base, "@") {
			// Keep names that are underscore-prefixed by nature (__security_cookie → _security_cookie
			// would be wrong): only one leading marker is a decoration.
			base = base[1:]
		}
	}
	if base == "" {
		return name
	}
	return base
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// stripParameters drops the parameter list Breakpad files carry ("main(int, char**)" → "main"),
// since WinDbg's stack names are the qualified names alone. Parentheses inside template arguments
// or `anonymous namespace' are left alone: only a trailing balanced (...) group is removed.
func stripParameters(name string) string {
	if !strings.HasSuffix(name, ")") {
		return name
	}
	depth := 0
	for i := len(name) - 1; i >= 0; i-- {
		switch name[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				return strings.TrimRight(name[:i], " ")
			}
		}
	}
	return name
}

// wildcard is WinDbg's string wildcard match (* ? [set]), case-insensitive; "" matches all.
func wildcard(pattern, name string) bool {
	if pattern == "" || pattern == "*" {
		return true
	}
	ok, err := path.Match(strings.ToLower(pattern), strings.ToLower(name))
	return err == nil && ok
}
