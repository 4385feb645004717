package demangle

import (
	"strings"
	"testing"
	"time"
)

// TestName is the hand-checked subset of Name: each expected value was checked by hand against
// the sources named in its comment.
func TestName(t *testing.T) {
	for _, c := range []struct{ decorated, want, why string }{
		{"?f@@YAXXZ", "f", "plain function"},
		// breakpad/expected/minidump2.stackwalk.out names this function
		// test_app.exe!`anonymous namespace'::CrashFunction.
		{"?CrashFunction@?A0x1b2c3d4e@@YAXXZ", "`anonymous namespace'::CrashFunction", "anonymous namespace"},
		{"?raw_name@type_info@@QEBAPEBDXZ", "type_info::raw_name", "x64 member (E qualifier, __ptr64)"},
		{"??0Foo@@QEAA@AEBV0@@Z", "Foo::Foo", "constructor"},
		{"??1Foo@@UAE@XZ", "Foo::~Foo", "virtual destructor"},
		// breakpad/dump_syms_testdata/dump_syms_regtest.pdb has the procedure
		// google_breakpad::CrashGenerationClient::`scalar deleting destructor'.
		{"??_GFoo@@UAEPAXI@Z", "Foo::`scalar deleting destructor'", "MSVC spells destructor out"},
		{"??_EFoo@@UEAAPEAXI@Z", "Foo::`vector deleting destructor'", ""},
		{"??_7Foo@@6B@", "Foo::`vftable'", "vtable (const, no type)"},
		{"??_7Foo@@6BBar@@@", "Foo::`vftable'{for `Bar'}", "vtable of a base"},
		{"??_C@_0L@OKMGHCGP@ImmEscapeA?$AA@", "`string'", "string literal, as WinDbg shows it"},
		{"??4Foo@@QAEAAV0@ABV0@@Z", "Foo::operator=", "operator, back-reference 0 = Foo"},
		{"??BFoo@@QBEHXZ", "Foo::operator int", "conversion operator names its type"},
		{"??2@YAPAXI@Z", "operator new", ""},
		{"??_U@YAPAXI@Z", "operator new[]", ""},
		// mozilla-dump_syms/basic32.pdb: S_GPROC32 std::basic_string<char,std::char_traits<char>,
		// std::allocator<char> >::~basic_string; the same class spelling with append.
		{"?append@?$basic_string@DU?$char_traits@D@std@@V?$allocator@D@2@@std@@QAEAAV12@PBD@Z",
			"std::basic_string<char,std::char_traits<char>,std::allocator<char> >::append", "template class, MSVC spelling"},
		{"?s@?1??f@N@@YAXXZ@4HA", "`N::f'::`2'::s", "function-local static"},
		{"??_R0?AVbad_alloc@std@@@8", "std::bad_alloc `RTTI Type Descriptor'", "RTTI type descriptor"},
		{"??_R4Foo@@6B@", "Foo::`RTTI Complete Object Locator'", ""},
		{"?f@Foo@@W7EAAXXZ", "[thunk]:Foo::f`adjustor{8}'", "this-adjusting thunk, as in WinDbg stacks"},
		{"??__Ex@@YAXXZ", "`dynamic initializer for 'x''", ""},
		{"?x@Foo@@2HA", "Foo::x", "static data member"},
		{"??$g@V?$vector@HV?$allocator@H@std@@@std@@@@YAXXZ", "g<std::vector<int,std::allocator<int> > >", "nested templates"},
		{"?f@?$A@$0BA@$0?0@@QAEXXZ", "A<16,-1>::f", "integer template arguments"},
		{"?f@@YAXP6AHH@Z@Z", "f", "parameters are not part of the name"},
		// procnames.txt: __crt_fast_encoded_nullptr_t::operator<void (__cdecl*)(void)> void (__cdecl**)(void)
		{"??$?BP6AHI@Z@Foo@@QBEP6AHI@ZXZ", "Foo::operator<int (__cdecl*)(unsigned int)> int (__cdecl*)(unsigned int)", "templated conversion"},
		// procnames.txt: __crt_strtox::make_c_string_character_source<char,char * *>
		{"??$f@PEAPEAD@@YAXXZ", "f<char * *>", "MSVC pointer spacing"},
		// procnames.txt: std::_Const_cast<wchar_t const >
		{"??$f@$$CBD@@YAXXZ", "f<char const >", "MSVC's space after a qualified argument"},
		// procnames.txt: __acrt_fenv_shift_bits<enum __acrt_fenv_abstract_control>
		{"??$f@W4E@@@@YAXXZ", "f<enum E>", "MSVC keeps enum"},
		{"??@abcdef0123@", "??@abcdef0123@", "hashed long name, as is"},
	} {
		got, ok := Name(c.decorated)
		if !ok || got != c.want {
			t.Errorf("Name(%s) = %q, %v; want %q (%s)", c.decorated, got, ok, c.want, c.why)
		}
	}
}

func TestNotDecorated(t *testing.T) {
	for _, s := range []string{"", "main", "_main@4", "@f@8", "?", "??", "?bad", "?f@@YAX", "?f@@YAXXZ" + strings.Repeat("@", 0) + "\x00",
		"??_C@_", "?x@@3PAY0?0HA", "?f@@YAX10@Z", "??$f@@@YAXXZ", "?x@@3_OAHA"} {
		for _, fn := range []func(string) (string, bool){Name, Full} {
			got, ok := fn(s)
			if ok && (s == "" || !strings.HasPrefix(s, "?")) {
				t.Errorf("%q accepted as %q", s, got)
			}
			if !ok && got != s {
				t.Errorf("%q refused but returned %q", s, got)
			}
		}
	}
	if IsDecorated("main") || !IsDecorated("?f@@YAXXZ") {
		t.Error("IsDecorated")
	}
}

// TestHostileNames checks that names built to be expensive stay cheap: deep nesting stops at
// maxDepth, and back-references that double the output at each level stop at maxOutput.
func TestHostileNames(t *testing.T) {
	deep := "?f@@YAX" + strings.Repeat("PAP6AX", 500) + "XZ@Z"
	nested := "?f@@YAXV" + strings.Repeat("?$A@V", 300) + "B@@" + strings.Repeat("@@", 300) + "@Z"
	// Each parameter is a function pointer taking the previous one twice (back-references 0-9).
	var b strings.Builder
	b.WriteString("?f@@YAXP6AXH@Z")
	for i := 0; i < 9; i++ {
		b.WriteString("P6AX" + string(rune('0'+i)) + string(rune('0'+i)) + "@Z")
	}
	for i := 0; i < 40; i++ {
		b.WriteString("P6AX99@Z")
	}
	b.WriteString("@Z")
	doubling := b.String()
	long := "?" + strings.Repeat("a", maxInput) + "@@YAXXZ"
	for _, s := range []string{deep, nested, doubling, long} {
		start := time.Now()
		Name(s)
		Full(s)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%.40s...: %v", s, d)
		}
	}
}
