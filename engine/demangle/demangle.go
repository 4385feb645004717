// Package demangle undecorates MSVC C++ names ("?f@ns@@YAXH@Z" → "ns::f"), as WinDbg does when it
// shows public symbols and exports.
//
// The decoration scheme is Microsoft's and undocumented; this parser follows the grammar as it is
// publicly described (LLVM's MicrosoftDemangle documentation) and is checked against llvm-undname
// on every decorated name of the corpus PDBs (testdata/undname.txt, made by testdata/capture.sh).
// Two renderings are offered:
//
//   - Name: the qualified name alone in the MSVC tools' spelling, which is what WinDbg's stacks,
//     `ln` and `x` show ("std::basic_string<char,std::char_traits<char>,std::allocator<char> >::append",
//     "Foo::`scalar deleting destructor'", "`string'"); it agrees with the names the compiler
//     writes into a PDB's procedure records (testdata/procnames.txt) but for a few known cases.
//   - Full: the whole declaration with access, return type, calling convention, parameters and
//     qualifiers, spelled as llvm-undname prints it ("public: char const * __cdecl
//     type_info::name(void) const"), except that string literals stay `string' as in WinDbg.
//
// __ptr64 is read and not printed, as llvm-undname and WinDbg's stacks do. Input that does not
// parse comes back unchanged with ok false. The parser never panics on any input: recursion is
// bounded by maxDepth, the back-reference tables by the format's ten entries, and the output by
// maxOutput (back-references can make a short name print a long one).
package demangle

import "strings"

// maxInput bounds the decorated names accepted (MSVC itself replaces names past 4096 characters
// by a hash).
const maxInput = 1 << 14

// Name returns the qualified name of a decorated symbol, as WinDbg shows it in a stack
// (module!Name+offset): no return type, parameters or calling convention. ok is false, and the
// input is returned unchanged, when decorated is not an MSVC-decorated name.
func Name(decorated string) (string, bool) {
	sym, ok := parse(decorated)
	if !ok {
		return decorated, false
	}
	out, ok := render(styleMSVC, func(w *printer) { w.symbolName(sym) })
	if !ok || out == "" {
		return decorated, false
	}
	return out, true
}

// Full returns the whole declaration of a decorated symbol, in llvm-undname's spelling. ok is
// false, and the input is returned unchanged, when decorated is not an MSVC-decorated name.
func Full(decorated string) (string, bool) {
	sym, ok := parse(decorated)
	if !ok {
		return decorated, false
	}
	out, ok := render(styleLLVM, func(w *printer) { w.symbol(sym) })
	if !ok || out == "" {
		return decorated, false
	}
	return out, true
}

// IsDecorated reports whether name looks like an MSVC-decorated C++ name: it starts with '?' (or
// ".?", a typeinfo name).
func IsDecorated(name string) bool {
	return strings.HasPrefix(name, "?") || strings.HasPrefix(name, ".?")
}

func parse(decorated string) (*symbol, bool) {
	if len(decorated) > maxInput || !IsDecorated(decorated) {
		return nil, false
	}
	p := &parser{s: decorated, keyBudget: maxKeyText}
	sym := p.parseSymbol()
	if p.err || sym == nil {
		return nil, false
	}
	return sym, true
}

// symbolName writes a symbol's name alone, in the style of WinDbg's stacks.
func (w *printer) symbolName(s *symbol) {
	switch s.kind {
	case symRaw:
		w.str(s.raw)
	case symString:
		w.str("`string'")
	case symSpecialTable:
		w.qname(s.name)
		if len(s.targets) > 0 {
			w.str("{for `")
			w.qname(s.targets[0])
			w.str("'}")
		}
	case symVcall:
		w.str("[thunk]:")
		w.qname(s.name)
		w.str("{" + uitoa(s.vcallOffset) + ", {flat}}")
	case symVariable:
		if op, ok := s.name.last().(*operatorIdent); ok && s.varType != nil &&
			(op.code == opRTTITypeDescriptor || op.code == opRTTITypeDescriptorName) {
			w.typ(s.varType)
			w.str(" ")
		}
		w.qname(s.name)
	case symFunction:
		if s.fn != nil && s.fn.class&(fcStaticThisAdjust|fcVirtualThisAdjust) != 0 {
			w.str("[thunk]:")
			w.qname(s.name)
			w.str(thunkSuffix(s.fn))
			return
		}
		w.qname(s.name)
	default:
		w.qname(s.name)
	}
}

func thunkSuffix(fn *funcType) string {
	w := &printer{}
	switch {
	case fn.class&fcStaticThisAdjust != 0:
		w.str("`adjustor{" + itoa(fn.adjust.staticOff) + "}'")
	case fn.class&fcVirtualThisAdjustEx != 0:
		w.str("`vtordispex{" + itoa(fn.adjust.vbptrOff) + ", " + itoa(fn.adjust.vboffOff) + ", " +
			itoa(fn.adjust.vtordispOff) + ", " + itoa(fn.adjust.staticOff) + "}'")
	case fn.class&fcVirtualThisAdjust != 0:
		w.str("`vtordisp{" + itoa(fn.adjust.vtordispOff) + ", " + itoa(fn.adjust.staticOff) + "}'")
	}
	return w.b.String()
}
