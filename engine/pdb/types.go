package pdb

import (
	"fmt"
	"strings"
)

// IsPrimitive reports whether ti is a primitive (simple) type, encoded in the index itself.
func IsPrimitive(ti TypeIndex) bool { return ti < FirstTypeIndex }

// Type returns the type of index ti: a primitive type (Leaf 0, Name its C spelling) or the
// decoded TPI record. The TPI stream is read on first use: its header, then one pass over the
// record lengths to locate every record.
func (f *File) Type(ti TypeIndex) (Type, error) {
	if IsPrimitive(ti) {
		return Type{Index: ti, Name: primitiveName(ti, cNames)}, nil
	}
	ts, err := f.tpi()
	if err != nil {
		return Type{}, err
	}
	return ts.decode(ti)
}

// ID returns the IPI record of index id: a function id (LF_FUNC_ID, LF_MFUNC_ID), a string id,
// build information or a UDT's source line.
func (f *File) ID(id TypeIndex) (Type, error) {
	ts, err := f.ipi()
	if err != nil {
		return Type{}, err
	}
	return ts.decode(id)
}

func (ts *typeStream) decode(ti TypeIndex) (Type, error) {
	leaf, p, off, err := ts.record(ti)
	if err != nil {
		return Type{}, err
	}
	return decodeType(ts.s.w, ti, leaf, p, off)
}

// NumTypes is the number of TPI records (types FirstTypeIndex to FirstTypeIndex+NumTypes-1).
func (f *File) NumTypes() (int, error) {
	ts, err := f.tpi()
	if err != nil {
		return 0, err
	}
	offs, err := ts.offsets()
	return len(offs), err
}

// udtIndex maps the names of the defined (not forward-declared) classes, structures, unions,
// interfaces and enums of the TPI stream to their index: the first definition of each name.
type udtIndex struct {
	byUnique map[string]TypeIndex
	byName   map[string]TypeIndex
}

// udtIndex builds the name maps on first use: one pass over the records, decoding only UDTs.
func (ts *typeStream) udtIndex() (*udtIndex, error) {
	return ts.udts.Get(func() (*udtIndex, error) {
		offs, err := ts.offsets()
		idx := &udtIndex{byUnique: map[string]TypeIndex{}, byName: map[string]TypeIndex{}}
		for k := range offs {
			ti := TypeIndex(ts.hdr.TypeIndexBegin + uint32(k))
			leaf, p, off, rerr := ts.record(ti)
			if rerr != nil || !isUDT(leaf) {
				continue
			}
			t, derr := decodeType(ts.s.w, ti, leaf, p, off)
			if derr != nil || t.IsForwardRef() {
				continue
			}
			if t.UniqueName != "" {
				if _, dup := idx.byUnique[t.UniqueName]; !dup {
					idx.byUnique[t.UniqueName] = ti
				}
			}
			if !isAnonymous(t.Name) {
				if _, dup := idx.byName[t.Name]; !dup {
					idx.byName[t.Name] = ti
				}
			}
		}
		return idx, err
	})
}

// isAnonymous reports whether a UDT name is one the compiler makes up for unnamed types: such
// names are shared by unrelated types and cannot resolve a forward reference.
func isAnonymous(name string) bool {
	return name == "" || strings.HasPrefix(name, "<unnamed-") || strings.HasPrefix(name, "<anonymous-") ||
		name == "__unnamed"
}

// Resolve returns the definition of a forward-declared class, structure, union, interface or
// enum (found by unique name when the record has one, else by name, FORMATS.md §7.5), and ti
// itself for any other type or when no definition exists.
func (f *File) Resolve(ti TypeIndex) TypeIndex {
	t, err := f.resolved(ti)
	if err != nil {
		return ti
	}
	return t.Index
}

// resolved returns the record of ti, or of its definition when ti is a forward reference.
func (f *File) resolved(ti TypeIndex) (Type, error) {
	t, err := f.Type(ti)
	if err != nil || !isUDT(t.Leaf) || !t.IsForwardRef() {
		return t, err
	}
	ts, err := f.tpi()
	if err != nil {
		return t, nil
	}
	idx, _ := ts.udtIndex()
	def, ok := TypeIndex(0), false
	if t.UniqueName != "" {
		def, ok = idx.byUnique[t.UniqueName]
	}
	if !ok && !isAnonymous(t.Name) {
		def, ok = idx.byName[t.Name]
	}
	if !ok {
		return t, nil
	}
	if d, err := ts.decode(def); err == nil && d.Leaf == t.Leaf {
		return d, nil
	}
	return t, nil
}

// FindType returns the defined class, structure, union, interface or enum of the given name
// ("_EPROCESS", "std::basic_string<char,std::char_traits<char>,std::allocator<char> >").
func (f *File) FindType(name string) (TypeIndex, bool) {
	ts, err := f.tpi()
	if err != nil {
		return 0, false
	}
	idx, _ := ts.udtIndex()
	ti, ok := idx.byName[name]
	return ti, ok
}

// Signature is a function type (LF_PROCEDURE or LF_MFUNCTION) with its argument list read.
type Signature struct {
	Type     TypeIndex   // the LF_PROCEDURE or LF_MFUNCTION record
	Return   TypeIndex   //
	Class    TypeIndex   // member functions: the class
	This     TypeIndex   // member functions: the type of this; 0 for static member functions
	Params   []TypeIndex // the declared parameters, without this and without the ... of a variadic function
	Variadic bool        // the argument list ends with ... (a 0 entry)
	CallConv uint8       // CV_call_e
}

// NumParams is how many parameters a function of this signature receives, this included.
func (s Signature) NumParams() int {
	n := len(s.Params)
	if s.This != 0 {
		n++
	}
	return n
}

// Signature reads a function type: ti is an LF_PROCEDURE or LF_MFUNCTION record of the TPI
// stream.
func (f *File) Signature(ti TypeIndex) (Signature, error) {
	t, err := f.Type(ti)
	if err != nil {
		return Signature{}, err
	}
	if t.Leaf != LF_PROCEDURE && t.Leaf != LF_MFUNCTION {
		return Signature{}, fmt.Errorf("pdb: type %#x is not a function type (leaf %#x)", uint32(ti), t.Leaf)
	}
	sig := Signature{Type: ti, Return: t.Return, Class: t.Class, This: t.This, CallConv: t.CallConv}
	if t.ArgList == 0 {
		return sig, nil
	}
	args, err := f.Type(t.ArgList)
	if err != nil {
		return sig, err
	}
	if args.Leaf != LF_ARGLIST {
		return sig, fmt.Errorf("pdb: argument list %#x of type %#x is leaf %#x", uint32(t.ArgList), uint32(ti), args.Leaf)
	}
	for _, a := range args.Args {
		switch a {
		case 0: // T_NOTYPE: the ... of a variadic function
			sig.Variadic = true
		case tVoid: // f(void) written out as one void parameter
		default:
			sig.Params = append(sig.Params, a)
		}
	}
	return sig, nil
}

// FunctionSignature returns the signature of a procedure: its TypeIndex is a TPI function type
// for S_GPROC32 and S_LPROC32, and an IPI function id for the _ID kinds.
func (f *File) FunctionSignature(fn Function) (Signature, error) {
	ti := TypeIndex(fn.TypeIndex)
	switch fn.Kind {
	case S_GPROC32_ID, S_LPROC32_ID, S_LPROC32_DPC_ID:
		id, err := f.ID(ti)
		if err != nil {
			return Signature{}, err
		}
		if id.Leaf != LF_FUNC_ID && id.Leaf != LF_MFUNC_ID {
			return Signature{}, fmt.Errorf("pdb: id %#x of %s is not a function id (leaf %#x)", uint32(ti), fn.Name, id.Leaf)
		}
		ti = id.FuncType
	}
	if ti == 0 {
		return Signature{}, fmt.Errorf("pdb: %s has no type", fn.Name)
	}
	return f.Signature(ti)
}
