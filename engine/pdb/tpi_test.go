package pdb

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Type records against llvm-pdbutil (LLVM 19) dumps recorded by testdata/oracles/capture.sh:
// an independent reader of the same TPI streams. Three PDBs: an x86 C++ program (kdlibcpp's
// WOW64 stack test), an optimized x64 build of it (kdlibcpp's CV_ALLREG test) and an x64 C
// kernel driver (amdppm).
var typeOracles = []struct{ name, pdb string }{
	{"wow64", "kdlibcpp/targetapp_stacktest_wow64/targetapp.pdb"},
	{"allreg", "kdlibcpp/targetapp_test_cv_allreg_amd64/targetapp.pdb"},
	{"amdppm", "test-pdb-repository/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb"},
}

// llvmStyle spells types as llvm-pdbutil does, so that its names can be compared with ours
// exactly: LLVM's TypeNameComputer (RecordName.cpp) and the simple type names of TypeIndex.cpp.
// No space before * and &, qualifiers kept (const before the pointee, after the star of a
// const pointer), functions as "ret (args)", arrays by their record's name, no keywords.
var llvmStyle = &nameStyle{
	primitives: primitiveNames{
		kindVoid: "void", kindHResult: "HRESULT", kindChar: "signed char", kindUChar: "unsigned char",
		kindRChar: "char", kindWChar: "wchar_t", kindChar16: "char16_t", kindChar32: "char32_t", kindChar8: "char8_t",
		kindInt8: "__int8", kindUInt8: "unsigned __int8", kindShort: "short", kindUShort: "unsigned short",
		kindInt16: "__int16", kindUInt16: "unsigned __int16", kindLong: "long", kindULong: "unsigned long",
		kindInt32: "int", kindUInt32: "unsigned", kindQuad: "__int64", kindUQuad: "unsigned __int64",
		kindInt64: "__int64", kindUInt64: "unsigned __int64", kindInt128: "__int128", kindUInt128: "unsigned __int128",
		kindOct: "__int128", kindUOct: "unsigned __int128", kindReal16: "__half", kindReal32: "float",
		kindReal32P: "float", kindReal48: "__float48", kindReal64: "double", kindReal80: "long double",
		kindReal128: "__float128", kindBool8: "bool", kindBool16: "__bool16", kindBool32: "__bool32", kindBool64: "__bool64",
	},
	qualifiers: true, noType: "<no type>", nullptrT: "std::nullptr_t",
}

var reArgName = regexp.MustCompile("^(0x[0-9A-F]+)(?: \\(.*\\))?: `(.*)`$")

func parseTI(t *testing.T, s string) TypeIndex {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 32)
	if err != nil {
		t.Fatalf("type index %q: %v", s, err)
	}
	return TypeIndex(v)
}

// TestTypeNamesLLVM names every type that appears as a function argument in the three PDBs
// (pointers, references, modifiers, function pointers, classes, templates, primitives) in
// LLVM's spelling and compares with llvm-pdbutil's.
func TestTypeNamesLLVM(t *testing.T) {
	for _, o := range typeOracles {
		t.Run(o.name, func(t *testing.T) {
			f := openCorpus(t, o.pdb)
			n, bad := 0, 0
			for _, line := range readOracle(t, o.name+".typenames.txt") {
				m := reArgName.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				n++
				ti := parseTI(t, m[1])
				if got := f.typeName(ti, llvmStyle); got != m[2] {
					if bad++; bad <= 10 {
						t.Errorf("%s: %q, llvm-pdbutil says %q", m[1], got, m[2])
					}
				}
			}
			if n < 300 || bad > 0 {
				t.Errorf("%d of %d names differ", bad, n)
			}
		})
	}
}

// TestTypeNameC checks the C spelling kp uses against the LLVM names of the same types, for a
// few that show each rule: no qualifiers, " *" and references as pointers, keywords,
// "<function>", array dimensions from the sizes.
func TestTypeNameC(t *testing.T) {
	f := openCorpus(t, typeOracles[0].pdb)
	for _, c := range []struct {
		ti   TypeIndex
		llvm string // what llvm-pdbutil calls it (wow64.typenames.txt, wow64.vars.txt)
		c    string
	}{
		{0x0074, "int", "int"},
		{0x0075, "unsigned", "unsigned int"},
		{0x0471, "wchar_t*", "wchar_t *"},
		{0x0403, "void*", "void *"},
		{0x1EFC, "stackTestClass* const", "class stackTestClass *"},
		{0x249A, "const float&", "float *"},
		{0x1060, "const std::basic_string<char,std::char_traits<char>,std::allocator<char> >&", "class std::basic_string<char,std::char_traits<char>,std::allocator<char> > *"},
		{0x103E, "const char*", "char *"},
		{0x1029, "classChild&&", "class classChild *"},
		{0x249D, "volatile double", "double"},
		{0x1C54, "", "struct _PROCESS_INFORMATION *"},
		// localChars is char[256]: an LF_ARRAY of 256 bytes of char (wow64.records.txt).
		{0x249F, "", "char [256]"},
	} {
		if c.llvm != "" {
			if got := f.typeName(c.ti, llvmStyle); got != c.llvm {
				t.Errorf("%#x in LLVM's spelling: %q, want %q", uint32(c.ti), got, c.llvm)
			}
		}
		if got := f.TypeName(c.ti); got != c.c {
			t.Errorf("TypeName(%#x) = %q, want %q", uint32(c.ti), got, c.c)
		}
	}
	// A pointer to a function: LLVM "void (void*)*" (wow64.typenames.txt); the engine's
	// "<function> *".
	ti := findTypeNamed(t, "wow64", "void (void*)*")
	if got := f.TypeName(ti); got != "<function> *" {
		t.Errorf("TypeName(%#x) = %q, want <function> *", uint32(ti), got)
	}
}

// findTypeNamed returns the index that llvm-pdbutil names name in a typenames oracle.
func findTypeNamed(t *testing.T, oracle, name string) TypeIndex {
	t.Helper()
	for _, line := range readOracle(t, oracle+".typenames.txt") {
		if m := reArgName.FindStringSubmatch(line); m != nil && m[2] == name {
			return parseTI(t, m[1])
		}
	}
	t.Fatalf("%s: no type named %q", oracle, name)
	return 0
}

var (
	reUDT       = regexp.MustCompile("^(0x[0-9A-F]+) \\| (LF_[A-Z]+) `(.*)` \\| (.*)$")
	reFieldList = regexp.MustCompile(`field list: (0x[0-9A-F]+|<no type>)`)
	reSizeof    = regexp.MustCompile(`, sizeof (\d+)$`)
	reFwd       = regexp.MustCompile(`forward ref \((->|<-) (0x[0-9A-F]+)\)`)
	reVShape    = regexp.MustCompile(`^vtable: (0x[0-9A-F]+|<no type>), base list: (0x[0-9A-F]+|<no type>)`)
	reUnderlyng = regexp.MustCompile(`underlying type: (0x[0-9A-F]+)`)
)

var leafNames = map[string]uint16{"LF_CLASS": LF_CLASS, "LF_STRUCTURE": LF_STRUCTURE, "LF_UNION": LF_UNION,
	"LF_ENUM": LF_ENUM, "LF_INTERFACE": LF_INTERFACE}

func optTI(t *testing.T, s string) TypeIndex {
	if s == "<no type>" {
		return 0
	}
	return parseTI(t, s)
}

// TestUDTsLLVM decodes every class, structure, union and enum record and compares kind, name,
// field list, size, vtable shape, base list and underlying type with llvm-pdbutil; forward
// references must resolve to the definition llvm-pdbutil names, and TypeSize of both must be the
// definition's size.
func TestUDTsLLVM(t *testing.T) {
	for _, o := range []string{"wow64", "amdppm"} {
		t.Run(o, func(t *testing.T) {
			pdb := typeOracles[0].pdb
			if o == "amdppm" {
				pdb = typeOracles[2].pdb
			}
			f := openCorpus(t, pdb)
			sizes := map[TypeIndex]uint64{}
			type fwd struct{ from, to TypeIndex }
			var fwds []fwd
			n, bad := 0, 0
			fail := func(format string, args ...any) {
				if bad++; bad <= 10 {
					t.Errorf(format, args...)
				}
			}
			for _, line := range readOracle(t, o+".udts.txt") {
				m := reUDT.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				n++
				ti := parseTI(t, m[1])
				rest := m[4]
				ty, err := f.Type(ti)
				if err != nil {
					fail("%s: %v", m[1], err)
					continue
				}
				var want Type
				want.Leaf = leafNames[m[2]]
				want.Name = m[3]
				if fm := reFieldList.FindStringSubmatch(rest); fm != nil {
					want.FieldList = optTI(t, fm[1])
				}
				if sm := reSizeof.FindStringSubmatch(rest); sm != nil {
					s, _ := strconv.ParseUint(sm[1], 10, 64)
					want.Size = s
				}
				if vm := reVShape.FindStringSubmatch(rest); vm != nil {
					want.VShape, want.DerivedFrom = optTI(t, vm[1]), optTI(t, vm[2])
				}
				if um := reUnderlyng.FindStringSubmatch(rest); um != nil {
					want.Underlying = parseTI(t, um[1])
				}
				isFwd := strings.Contains(rest, "forward ref")
				got := fmt.Sprintf("%#x %q fl=%#x size=%d vshape=%#x base=%#x under=%#x fwd=%v", ty.Leaf, ty.Name,
					uint32(ty.FieldList), ty.Size, uint32(ty.VShape), uint32(ty.DerivedFrom), uint32(ty.Underlying), ty.IsForwardRef())
				exp := fmt.Sprintf("%#x %q fl=%#x size=%d vshape=%#x base=%#x under=%#x fwd=%v", want.Leaf, want.Name,
					uint32(want.FieldList), want.Size, uint32(want.VShape), uint32(want.DerivedFrom), uint32(want.Underlying), isFwd)
				if got != exp {
					fail("%s:\n got %s\nwant %s", m[1], got, exp)
				}
				if fm := reFwd.FindStringSubmatch(rest); fm != nil {
					fwds = append(fwds, fwd{ti, parseTI(t, fm[2])})
				} else if !isFwd && ty.Leaf != LF_ENUM {
					sizes[ti] = want.Size
				}
			}
			for _, fw := range fwds {
				if got := f.Resolve(fw.from); got != fw.to {
					fail("Resolve(%#x) = %#x, llvm-pdbutil says %#x", uint32(fw.from), uint32(got), uint32(fw.to))
				}
				if s, ok := sizes[fw.to]; ok {
					if got, gok := f.TypeSize(fw.from); !gok || got != s {
						fail("TypeSize(%#x) = %d %v, its definition %#x is %d bytes", uint32(fw.from), got, gok, uint32(fw.to), s)
					}
				}
			}
			for ti, s := range sizes {
				if got, ok := f.TypeSize(ti); !ok || got != s {
					fail("TypeSize(%#x) = %d %v, llvm-pdbutil says sizeof %d", uint32(ti), got, ok, s)
				}
			}
			if n < 500 || len(fwds) < 300 || bad > 0 {
				t.Errorf("%d records, %d forward references: %d differences", n, len(fwds), bad)
			}
		})
	}
}

// TestFieldListsLLVM reads the field lists of some types (structures with bitfields, arrays,
// enums, nested types, base classes, virtual bases, methods, static members; kernel structures
// with unions) and compares every member with llvm-pdbutil's.
func TestFieldListsLLVM(t *testing.T) {
	for _, o := range typeOracles {
		t.Run(o.name, func(t *testing.T) {
			f := openCorpus(t, o.pdb)
			want := parseFieldLists(t, readOracle(t, o.name+".fields.txt"))
			if len(want) < 5 {
				t.Fatalf("%d field lists in the oracle", len(want))
			}
			members := 0
			for ti, w := range want {
				var got []string
				err := f.walkFieldList(ti, func(fl Field, en Enumerator, isEnum bool) bool {
					got = append(got, renderMember(fl, en, isEnum))
					return true
				})
				if err != nil {
					t.Errorf("%#x: %v", uint32(ti), err)
				}
				members += len(w)
				if strings.Join(got, "\n") != strings.Join(w, "\n") {
					t.Errorf("field list %#x:\n got %s\nwant %s", uint32(ti), strings.Join(got, "\n     "), strings.Join(w, "\n     "))
				}
			}
			t.Logf("%d field lists, %d members", len(want), members)
		})
	}
}

func renderMember(fl Field, en Enumerator, isEnum bool) string {
	if isEnum {
		if en.Signed {
			return fmt.Sprintf("enumerate %s = %d", en.Name, int64(en.Value))
		}
		return fmt.Sprintf("enumerate %s = %d", en.Name, en.Value)
	}
	switch fl.Kind {
	case FieldMember:
		return fmt.Sprintf("member %s %#x +%d", fl.Name, uint32(fl.Type), fl.Offset)
	case FieldStatic:
		return fmt.Sprintf("static %s %#x", fl.Name, uint32(fl.Type))
	case FieldBaseClass:
		return fmt.Sprintf("base %#x +%d", uint32(fl.Type), fl.Offset)
	case FieldVirtualBase:
		return fmt.Sprintf("vbase %#x vbptr +%d", uint32(fl.Type), fl.Offset)
	case FieldVFTable:
		return fmt.Sprintf("vftable %#x", uint32(fl.Type))
	case FieldMethod:
		return fmt.Sprintf("method %s %#x", fl.Name, uint32(fl.Type))
	case FieldNestedType:
		return fmt.Sprintf("nested %s %#x", fl.Name, uint32(fl.Type))
	}
	return fmt.Sprintf("kind %d", fl.Kind)
}

var (
	reFLHeader = regexp.MustCompile(`^(0x[0-9A-F]+) \| LF_FIELDLIST`)
	reMember   = regexp.MustCompile("^- LF_MEMBER \\[name = `(.*)`, Type = (0x[0-9A-F]+).*, offset = (\\d+), attrs")
	reStatic   = regexp.MustCompile("^- LF_STMEMBER \\[name = `(.*)`, type = (0x[0-9A-F]+)")
	reBase     = regexp.MustCompile(`^- LF_BCLASS type = (0x[0-9A-F]+), offset = (\d+)`)
	reVBase    = regexp.MustCompile(`^- LF_I?VBCLASS base = (0x[0-9A-F]+), vbptr = 0x[0-9A-F]+, vbptr offset = (\d+)`)
	reVFTab    = regexp.MustCompile(`^- LF_VFUNCTAB type = (0x[0-9A-F]+)`)
	reOneMeth  = regexp.MustCompile("^- LF_ONEMETHOD \\[name = `(.*)`\\] type = (0x[0-9A-F]+)")
	reMethod   = regexp.MustCompile("^- LF_METHOD \\[name = `(.*)`, # overloads = \\d+, overload list = (0x[0-9A-F]+)\\]")
	reNested   = regexp.MustCompile("^- LF_NESTTYPE \\[name = `(.*)`, parent = (0x[0-9A-F]+)")
	reEnumer   = regexp.MustCompile(`^- LF_ENUMERATE \[(.*) = (-?\d+)\]$`)
)

// parseFieldLists reads llvm-pdbutil's field list records into our rendering of each member.
// A member is its "- LF_..." line and the continuation lines after it.
func parseFieldLists(t *testing.T, lines []string) map[TypeIndex][]string {
	out := map[TypeIndex][]string{}
	var cur TypeIndex
	for _, line := range lines {
		switch ms := out[cur]; {
		case reFLHeader.MatchString(line):
			cur = parseTI(t, reFLHeader.FindStringSubmatch(line)[1])
			out[cur] = []string{}
		case cur == 0:
		case strings.HasPrefix(line, "- "):
			out[cur] = append(ms, line)
		case len(ms) > 0:
			ms[len(ms)-1] += " " + line
		}
	}
	for ti, ms := range out {
		var r []string
		for _, m := range ms {
			var s string
			if x := reMember.FindStringSubmatch(m); x != nil {
				s = fmt.Sprintf("member %s %#x +%s", x[1], uint32(parseTI(t, x[2])), x[3])
			} else if x := reStatic.FindStringSubmatch(m); x != nil {
				s = fmt.Sprintf("static %s %#x", x[1], uint32(parseTI(t, x[2])))
			} else if x := reBase.FindStringSubmatch(m); x != nil {
				s = fmt.Sprintf("base %#x +%s", uint32(parseTI(t, x[1])), x[2])
			} else if x := reVBase.FindStringSubmatch(m); x != nil {
				s = fmt.Sprintf("vbase %#x vbptr +%s", uint32(parseTI(t, x[1])), x[2])
			} else if x := reVFTab.FindStringSubmatch(m); x != nil {
				s = fmt.Sprintf("vftable %#x", uint32(parseTI(t, x[1])))
			} else if x := reOneMeth.FindStringSubmatch(m); x != nil {
				s = fmt.Sprintf("method %s %#x", x[1], uint32(parseTI(t, x[2])))
			} else if x := reMethod.FindStringSubmatch(m); x != nil {
				s = fmt.Sprintf("method %s %#x", x[1], uint32(parseTI(t, x[2])))
			} else if x := reNested.FindStringSubmatch(m); x != nil {
				s = fmt.Sprintf("nested %s %#x", x[1], uint32(parseTI(t, x[2])))
			} else if x := reEnumer.FindStringSubmatch(m); x != nil {
				s = fmt.Sprintf("enumerate %s = %s", x[1], x[2])
			} else {
				t.Fatalf("field list %#x: member not understood: %q", uint32(ti), m)
			}
			r = append(r, s)
		}
		out[ti] = r
	}
	return out
}

var reRecord = regexp.MustCompile(`^(0x[0-9A-F]+) \| (LF_[A-Z]+) \| (.*)$`)

// TestRecordsLLVM decodes pointers, modifiers, arrays, bitfields and procedure types and
// renders them in llvm-pdbutil's layout (type names left out of both).
func TestRecordsLLVM(t *testing.T) {
	for _, o := range typeOracles {
		t.Run(o.name, func(t *testing.T) {
			f := openCorpus(t, o.pdb)
			n, bad := 0, 0
			for _, line := range readOracle(t, o.name+".records.txt") {
				m := reRecord.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				n++
				ti := parseTI(t, m[1])
				ty, err := f.Type(ti)
				var got string
				if err != nil {
					got = err.Error()
				} else {
					got = renderLLVMRecord(ty)
				}
				if got != m[2]+" | "+m[3] {
					if bad++; bad <= 10 {
						t.Errorf("%s:\n got %s\nwant %s | %s", m[1], got, m[2], m[3])
					}
				}
			}
			if n < 50 || bad > 0 {
				t.Errorf("%d of %d records differ", bad, n)
			}
		})
	}
}

// renderLLVMRecord writes a record as llvm-pdbutil's dump does (MinimalTypeDumper.cpp output
// seen in the oracle files), without type names.
func renderLLVMRecord(ty Type) string {
	ti := func(x TypeIndex) string { return fmt.Sprintf("0x%04X", uint32(x)) }
	flags := func(v uint32, names []string) string {
		var s []string
		for i, n := range names {
			if n != "" && v&(1<<i) != 0 {
				s = append(s, n)
			}
		}
		if len(s) == 0 {
			return "None"
		}
		return strings.Join(s, " | ")
	}
	switch ty.Leaf {
	case LF_MODIFIER:
		return "LF_MODIFIER | referent = " + ti(ty.Referent) + ", modifiers = " + flags(uint32(ty.Modifiers), []string{"const", "volatile", "unaligned"})
	case LF_BITFIELD:
		return fmt.Sprintf("LF_BITFIELD | type = %s, bit offset = %d, # bits = %d", ti(ty.Underlying), ty.BitPos, ty.BitLen)
	case LF_ARRAY:
		s := fmt.Sprintf("LF_ARRAY | size: %d, index type: %s, element type: %s", ty.Size, ti(ty.IndexType), ti(ty.Element))
		if ty.Name != "" {
			s += ", name: `" + ty.Name + "`"
		}
		return s
	case LF_POINTER:
		modes := []string{"pointer", "ref", "data member pointer", "member fn pointer", "rvalue ref"}
		kinds := map[uint32]string{0x0A: "ptr32", 0x0C: "ptr64"}
		return fmt.Sprintf("LF_POINTER | referent = %s, mode = %s, opts = %s, kind = %s", ti(ty.Referent), modes[ty.PtrMode()],
			flags(ty.PtrAttrs>>8, []string{"flat32", "volatile", "const", "unaligned", "restrict"}), kinds[ty.PtrAttrs&0x1F])
	case LF_PROCEDURE:
		conv := map[uint8]string{0: "cdecl", 4: "fastcall", 7: "stdcall", 0x0B: "thiscall", 0x18: "vectorcall"}
		return fmt.Sprintf("LF_PROCEDURE | return type = %s, # args = %d, param list = %s | calling conv = %s, options = %s",
			ti(ty.Return), ty.Count, ti(ty.ArgList), conv[ty.CallConv], flags(uint32(ty.FuncAttrs), []string{"", "constructor", "constructor with virtual base"}))
	}
	return fmt.Sprintf("leaf %#x", ty.Leaf)
}

// TestCorpusTypes reads every type and IPI record, every defined UDT's members, every enum's
// values and every procedure's variables of the corpus PDBs. The record counts are
// llvm-pdbutil's ("Showing N records" of dump -types and dump -ids, LLVM 19); nothing may fail
// to decode, and no type of a value may be left unnamed.
func TestCorpusTypes(t *testing.T) {
	for _, c := range []struct {
		pdb       string
		types, id int
	}{
		{"lldb/test-pdb-types.pdb", 97, 18},
		{"lldb/test-pdb.pdb", 80, 23},
		{"lldb/sigsegv.pdb", 82, 16},
		{"symbolic/crash.pdb", 7449, 1725},
		{"symbolic/CrashWithException.pdb", 3899, 1039},
		{"kdlibcpp/targetapp_stacktest_wow64/targetapp.pdb", 8711, 1731},
		{"kdlibcpp/targetapp_stacktest_x64_release_v1/targetapp.pdb", 7187, 1824},
		{"kdlibcpp/targetapp_test_cv_allreg_amd64/targetapp.pdb", 7195, 1820},
		{"breakpad/dump_syms_testdata/dump_syms_regtest.pdb", 1220, -1},
		{"breakpad/dump_syms_testdata/dump_syms_regtest64.pdb", 1625, 1139},
		{"rizin-testbins/pdb/vs2019_cpp_override.pdb", 5107, 613},
		{"rizin-testbins/pdb/SimplePDB.pdb", 395, 299},
		{"rizin-testbins/pdb/Project1.pdb", 1148, 357},
		{"rizin-testbins/pdb/exceptions-test.pdb", 5018, 756},
		{"rizin-testbins/pdb/ghidra_rust_pdb_bug.pdb", 4031, 4816},
		{"rizin-testbins/pdb/minimal.pdb", 21, 15},
		{"rizin-testbins/pdb/test.pdb", 1266, -1},
		{"mozilla-dump_syms/basic32.pdb", 9915, 23358},
		{"test-pdb-repository/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb", 4877, 1073},
	} {
		t.Run(c.pdb, func(t *testing.T) {
			f := openCorpus(t, c.pdb)
			n, err := f.NumTypes()
			if err != nil || n != c.types {
				t.Errorf("NumTypes = %d %v, llvm-pdbutil shows %d records", n, err, c.types)
			}
			if ts, err := f.ipi(); c.id < 0 {
				if err == nil {
					t.Errorf("IPI stream read, llvm-pdbutil shows none")
				}
			} else if err != nil || ts.count() != c.id {
				t.Errorf("IPI records: %v, llvm-pdbutil shows %d", err, c.id)
			} else {
				for k := range c.id {
					if _, err := f.ID(TypeIndex(FirstTypeIndex + k)); err != nil {
						t.Fatalf("ID(%#x): %v", FirstTypeIndex+k, err)
					}
				}
			}
			bad := 0
			fail := func(format string, args ...any) {
				if bad++; bad <= 5 {
					t.Errorf(format, args...)
				}
			}
			for k := range n {
				ti := TypeIndex(FirstTypeIndex + k)
				ty, err := f.Type(ti)
				if err != nil {
					fail("Type(%#x): %v", uint32(ti), err)
					continue
				}
				switch ty.Leaf {
				case LF_FIELDLIST, LF_METHODLIST, LF_ARGLIST:
					continue // not the type of a value
				}
				if name := f.TypeName(ti); strings.Contains(name, "<type 0x") || strings.Contains(name, "...") && ty.Leaf != LF_PROCEDURE {
					fail("TypeName(%#x) = %q (leaf %#x)", uint32(ti), name, ty.Leaf)
				}
				if name := f.DtTypeName(ti); strings.Contains(name, "<type 0x") {
					fail("DtTypeName(%#x) = %q (leaf %#x)", uint32(ti), name, ty.Leaf)
				}
				if !isUDT(ty.Leaf) || ty.IsForwardRef() {
					continue
				}
				if ty.Leaf == LF_ENUM {
					if _, err := f.Enumerators(ti); err != nil {
						fail("Enumerators(%#x): %v", uint32(ti), err)
					}
				} else if _, err := f.Struct(ti); err != nil {
					fail("Struct(%#x): %v", uint32(ti), err)
				}
			}
			fns, _ := f.Functions()
			for _, fn := range fns {
				if _, err := f.Variables(fn); err != nil {
					fail("Variables(%s): %v", fn.Name, err)
				}
			}
		})
	}
}

// TestConcurrentTypes uses one File from several goroutines from its first type lookup on (run
// with -race): the lazily built record index and name index are shared.
func TestConcurrentTypes(t *testing.T) {
	f := openCorpus(t, typeOracles[0].pdb)
	fns, err := f.Functions()
	if err != nil {
		t.Fatal(err)
	}
	want := f.TypeName(0x1EFC) // computed before the File is shared
	f2 := openCorpus(t, typeOracles[0].pdb)
	done := make(chan string, 8)
	for g := range 8 {
		go func() {
			if _, ok := f2.FindType("stackTestClass"); !ok {
				done <- "FindType failed"
				return
			}
			for k := g; k < 2000; k += 8 {
				f2.TypeName(TypeIndex(FirstTypeIndex + k))
			}
			for _, fn := range fns[g*10 : g*10+10] {
				if _, err := f2.Variables(fn); err != nil {
					done <- err.Error()
					return
				}
			}
			done <- f2.TypeName(0x1EFC)
		}()
	}
	for range 8 {
		if got := <-done; got != want {
			t.Errorf("goroutine: %q, want %q", got, want)
		}
	}
}
