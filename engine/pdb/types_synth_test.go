package pdb

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// The expectations below are what types_builder_test.go writes, as its comments describe it.

func openTypesPDB(t *testing.T, blockSize int, reverse, mapped bool) *File {
	t.Helper()
	data := buildTypesPDB(blockSize, reverse)
	var f *File
	var err error
	if mapped {
		f, err = NewFile(mappedReader{bytes.NewReader(data), data}, int64(len(data)))
	} else {
		f, err = NewFile(bytes.NewReader(data), int64(len(data)))
	}
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSyntheticTypes(t *testing.T) {
	for _, bs := range []int{512, 4096} {
		for _, rev := range []bool{false, true} {
			for _, mapped := range []bool{false, true} {
				f := openTypesPDB(t, bs, rev, mapped)
				checkSyntheticTypes(t, f)
				checkSyntheticVariables(t, f)
			}
		}
	}
}

func checkSyntheticTypes(t *testing.T, f *File) {
	t.Helper()
	if n, err := f.NumTypes(); err != nil || n != synTypeCount {
		t.Errorf("NumTypes = %d %v, want %d", n, err, synTypeCount)
	}
	for _, c := range []struct {
		ti      TypeIndex
		c, dt   string
		size    uint64
		sizeOK  bool
		resolve TypeIndex
	}{
		{0x74, "int", "Int4B", 4, true, 0x74},
		{0x0603, "void *", "Ptr64 Void", 8, true, 0x0603},
		{0x0470, "char *", "Ptr32 Char", 4, true, 0x0470},
		{0x23, "unsigned __int64", "Uint8B", 8, true, 0x23},
		{synConstInt, "int", "Int4B", 4, true, synConstInt},
		{synPConstInt, "int *", "Ptr64 Int4B", 8, true, synPConstInt},
		{synFooFwd, "struct _FOO", "_FOO", 40, true, synFoo},
		{synPFoo, "struct _FOO *", "Ptr64 _FOO", 8, true, synPFoo},
		{synBits, "unsigned int", "Pos 2, 3 Bits", 4, true, synBits},
		{synChars, "char [16]", "[16] Char", 16, true, synChars},
		{synFoo, "struct _FOO", "_FOO", 40, true, synFoo},
		{synFunc, "<function>", "    void", 0, false, synFunc},
		{synPFunc, "<function> *", "Ptr64     void", 8, true, synPFunc},
		{synSelfPtr, "", "", 8, true, synSelfPtr},
		{synModA, "", "", 0, false, synModA},
		{synLoopFwd, "struct LOOP", "LOOP", 0, false, synLoopFwd},
		{synColor, "enum COLOR", "COLOR", 4, true, synColor},
		{synWidget, "class Widget", "Widget", 8, true, synWidget},
		{synPWidget, "class Widget *", "Ptr32 Widget", 4, true, synPWidget},
		{synMethod, "<function>", "    int", 0, false, synMethod},
		{0x2000, "<type 0x2000>", "<type 0x2000>", 0, false, 0x2000},
	} {
		// The loops end at the depth limit; only their being finite and short is checked.
		if got := f.TypeName(c.ti); c.c != "" && got != c.c || len(got) > maxTypeNameLen+3 {
			t.Errorf("TypeName(%#x) = %q, want %q", uint32(c.ti), got, c.c)
		}
		if got := f.DtTypeName(c.ti); c.dt != "" && got != c.dt || len(got) > maxTypeNameLen+3 {
			t.Errorf("DtTypeName(%#x) = %q, want %q", uint32(c.ti), got, c.dt)
		}
		if s, ok := f.TypeSize(c.ti); s != c.size || ok != c.sizeOK {
			t.Errorf("TypeSize(%#x) = %d %v, want %d %v", uint32(c.ti), s, ok, c.size, c.sizeOK)
		}
		if got := f.Resolve(c.ti); got != c.resolve {
			t.Errorf("Resolve(%#x) = %#x, want %#x", uint32(c.ti), uint32(got), uint32(c.resolve))
		}
	}
	// In LLVM's spelling the qualifiers and the full signature show.
	for ti, want := range map[TypeIndex]string{
		synPConstInt: "const int*",
		synPFunc:     "void (_FOO*, int, <no type>)*",
		synPWidget:   "Widget* const",
		synMethod:    "int Widget::(double)",
	} {
		if got := f.typeName(ti, llvmStyle); got != want {
			t.Errorf("LLVM name of %#x = %q, want %q", uint32(ti), got, want)
		}
	}

	s, err := f.StructByName("_FOO")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fl := range s.Fields {
		got = append(got, renderField(f, fl))
	}
	want := []string{"a +0 int", "bits +4 unsigned int pos 2 len 3", "name +8 char [16]", "next +24 struct _FOO *", "big +32 unsigned __int64"}
	if s.Index != synFoo || s.Size != 40 || strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("StructByName(_FOO) = %#x %d %q, want %#x 40 %q", uint32(s.Index), s.Size, got, synFoo, want)
	}
	if s2, err := f.Struct(synPFoo); err == nil {
		t.Errorf("Struct of a pointer = %+v", s2)
	}
	if s2, err := f.Struct(synFooFwd); err != nil || s2.Index != synFoo {
		t.Errorf("Struct(forward reference) = %+v %v", s2, err)
	}
	if _, err := f.Struct(synLoopy); err == nil || !strings.Contains(err.Error(), "continues into itself") {
		t.Errorf("Struct(LOOPY) error = %v, want a field list loop", err)
	}
	if _, err := f.Struct(synLoopFwd); err == nil {
		t.Errorf("Struct of an undefined forward reference did not fail")
	}
	w, err := f.Struct(synWidget)
	if err != nil || len(w.Fields) != 4 || w.Fields[0].Kind != FieldVFTable || w.Fields[1].Name != "x" || w.Fields[2].Kind != FieldMethod ||
		w.Fields[2].Name != "method" || w.Fields[3].Kind != FieldStatic {
		t.Errorf("Struct(Widget) = %+v %v", w, err)
	}
	en, err := f.Enumerators(synColor)
	if err != nil || len(en) != 2 || en[0].Name != "RED" || en[0].Value != 0 || en[1].Name != "BLUE" || int64(en[1].Value) != -1 || !en[1].Signed {
		t.Errorf("Enumerators(COLOR) = %+v %v", en, err)
	}
	if ti, ok := f.FindType("COLOR"); !ok || ti != synColor {
		t.Errorf("FindType(COLOR) = %#x %v", uint32(ti), ok)
	}
	if _, ok := f.FindType("LOOP"); ok {
		t.Errorf("FindType found an undefined type")
	}
	sig, err := f.Signature(synFunc)
	if err != nil || sig.Return != 3 || len(sig.Params) != 2 || sig.Params[0] != synPFoo || !sig.Variadic || sig.NumParams() != 2 {
		t.Errorf("Signature(func) = %+v %v", sig, err)
	}
	sig, err = f.Signature(synMethod)
	if err != nil || sig.This != synPWidget || sig.Class != synWidget || sig.NumParams() != 2 || sig.CallConv != 0x0B {
		t.Errorf("Signature(method) = %+v %v", sig, err)
	}
	if _, err := f.Signature(synFoo); err == nil {
		t.Errorf("Signature of a structure did not fail")
	}
	id, err := f.ID(synMethodID)
	if err != nil || id.Leaf != LF_MFUNC_ID || id.Name != "method" || id.FuncType != synMethod || id.Class != synWidget {
		t.Errorf("ID(method) = %+v %v", id, err)
	}
}

func renderField(f *File, fl Field) string {
	s := fl.Name + " +" + itoa(int(fl.Offset)) + " " + f.TypeName(fl.Type)
	if fl.BitLen > 0 {
		s += " pos " + itoa(int(fl.BitPos)) + " len " + itoa(int(fl.BitLen))
	}
	return s
}

func itoa(v int) string {
	if v < 0 {
		return "-" + itoa(-v)
	}
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa(v/10) + itoa(v%10)
}

func checkSyntheticVariables(t *testing.T, f *File) {
	t.Helper()
	fns, err := f.Functions()
	if err != nil || len(fns) != 3 {
		t.Fatalf("Functions = %d %v", len(fns), err)
	}
	byName := map[string]Function{}
	for _, fn := range fns {
		byName[fn.Name] = fn
	}
	render := func(vs []Variable) string {
		var s []string
		for _, v := range vs {
			r := v.Name + ":" + v.TypeName + " " + renderLocation(v.Location)
			if v.Scope.Size != 0 {
				r += " in " + itoa(int(v.Scope.RVA)) + "+" + itoa(int(v.Scope.Size))
			}
			for _, rg := range v.Ranges {
				r += " [" + itoa(int(rg.RVA)) + "+" + itoa(int(rg.Size)) + " " + renderLocation(rg.Location)
				if rg.Location.Kind == LocRegisterRelative {
					r += " @" + itoa(int(rg.Location.OffsetInParent))
				}
				r += "]"
			}
			s = append(s, r)
		}
		return strings.Join(s, "; ")
	}
	fn := byName["func"]
	if fn.RVA != 0x1010 || fn.Kind != S_GPROC32_ID {
		t.Errorf("func = %+v", fn)
	}
	sig, err := f.FunctionSignature(fn)
	if err != nil || sig.Type != synFunc {
		t.Errorf("FunctionSignature(func) = %+v %v", sig, err)
	}
	for _, c := range []struct {
		fn    string
		list  func(Function) ([]Variable, error)
		what  string
		want  string
		isErr bool
	}{
		// Parameters on RSP (S_FRAMEPROC's param base), locals on RBP.
		{"func", f.Params, "Params", "p:struct _FOO * RSP+48 [4112+8 reg RCX] [4120+40 frame RSP+8]; n:int frame RSP+16", false},
		{"func", f.Locals, "Locals", "x:struct _FOO none [4128+4 reg RDX piece@4] [4128+16 RBP-16 @8]; y:unsigned int none in 4144+8 [4144+8 frame RBP-4]", false},
		{"func", f.Statics, "Statics", "sv:int static 0x2004 in 4144+8", false},
		// Two parameters by the signature: this and d.
		{"Widget::method", f.Params, "Params", "this:class Widget * RSP+8; d:double RSP+16", false},
		{"Widget::method", f.Locals, "Locals", "loc:int RSP+32; r:int reg RAX", false},
		// No signature: positive BP-relative offsets are parameters.
		{"notype", f.Params, "Params", "q:int frame RBP+8", false},
		{"notype", f.Locals, "Locals", "l:int frame RBP-4", false},
	} {
		vs, err := c.list(byName[c.fn])
		if got := render(vs); got != c.want || (err != nil) != c.isErr {
			t.Errorf("%s(%s) = %s %v\n want %s", c.what, c.fn, got, err, c.want)
		}
	}
	ps, _ := f.Params(byName["func"])
	if len(ps) == 2 {
		p := ps[0]
		for rva, want := range map[uint32]string{0x1010: "reg RCX", 0x1012: "RSP+48", 0x1014: "reg RCX", 0x1018: "frame RSP+8", 0x1040: "RSP+48"} {
			if loc, ok := p.LocationAt(rva); !ok || renderLocation(loc) != want {
				t.Errorf("p at %#x: %s %v, want %s", rva, renderLocation(loc), ok, want)
			}
		}
	}
	if _, err := f.Variables(Function{Name: "bogus", Module: 7}); err == nil {
		t.Errorf("Variables of a function of no module did not fail")
	}
}

// TestTypesAbsent: a PDB without a TPI stream (the synthetic one of synth_test.go has an empty
// stream 2) answers with ErrNoStream, names types by index and finds nothing.
func TestTypesAbsent(t *testing.T) {
	data := buildSynthPDB(512, false)
	f, err := NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.TPIHeader(); !errors.Is(err, ErrNoStream) {
		t.Errorf("TPIHeader error = %v, want ErrNoStream", err)
	}
	if _, err := f.Type(0x1000); !errors.Is(err, ErrNoStream) {
		t.Errorf("Type error = %v", err)
	}
	if got := f.TypeName(0x1000); got != "<type 0x1000>" {
		t.Errorf("TypeName = %q", got)
	}
	if got := f.TypeName(0x74); got != "int" {
		t.Errorf("TypeName(int) = %q", got)
	}
	if _, ok := f.FindType("x"); ok {
		t.Errorf("FindType found something")
	}
}

// TestBadTypeStreams damages the TPI header and records: each must be an error naming the
// stream and offset, never a panic.
func TestBadTypeStreams(t *testing.T) {
	good := synthTypes()
	for _, c := range []struct {
		name  string
		edit  func([]byte) []byte
		wants string
	}{
		{"short header", func(b []byte) []byte { return b[:40] }, "truncated"},
		{"header size", func(b []byte) []byte { b[4] = 8; return b }, "header of 8 bytes"},
		{"record bytes", func(b []byte) []byte { b[0x12] = 0x7F; return b }, "bytes of records"},
		{"index range", func(b []byte) []byte { b[0xC] = 0; b[0xD] = 0x0F; return b }, "type indices"},
		{"too many records", func(b []byte) []byte { b[0xE] = 1; return b }, "do not fit"},
		{"record length", func(b []byte) []byte { b[56] = 1; b[57] = 0; return b }, "record of length 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.edit(append([]byte(nil), good...))
			f := withTPI(t, b)
			_, err := f.Type(0x1001)
			if err == nil || !strings.Contains(err.Error(), c.wants) || !strings.Contains(err.Error(), "TPI") {
				t.Errorf("error %v, want %q in a TPI error", err, c.wants)
			}
			f.TypeName(0x1001)
			f.StructByName("_FOO")
		})
	}
}

// withTPI builds the types PDB with a replaced TPI stream.
func withTPI(t *testing.T, tpi []byte) *File {
	t.Helper()
	data := buildTypesPDB(512, false)
	f, err := NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	// Rebuild with the replacement: same writer, stream 2 swapped.
	w := &msfWriter{blockSize: 512, nilStream: map[int]bool{}}
	for i := 0; i < f.NumStreams(); i++ {
		s, err := f.Stream(i)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, s.Size())
		s.ReadAt(b, 0)
		if i == streamTPI {
			b = tpi
		}
		w.add(b)
	}
	data = w.bytes()
	f, err = NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
