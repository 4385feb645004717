package symstore

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// describe writes elements compactly: D(dir) directory, C(dir) cache, S(dll:store|store) server;
// a trailing + marks the elements a bare srv* expands to.
func describe(p Path) string {
	var parts []string
	for _, e := range p.Elements {
		var s string
		switch e.Kind {
		case DirElement:
			s = "D(" + e.Dir + ")"
		case CacheElement:
			s = "C(" + e.Dir + ")"
		case ServerElement:
			s = "S(" + e.DLL + ":" + strings.Join(e.Stores, "|") + ")"
		}
		if e.Implied {
			s += "+"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

const ms = MicrosoftSymbolServer

// parseTests are symbol paths with their elements and the expanded form `.sympath` shows. The
// element rules are those of "Symbol path for Windows debuggers" and "Advanced SymSrv Use"
// (WINDBG-SPEC §2.4, FORMATS.md §7.6); the examples marked "docs" are quoted from those pages.
var parseTests = []struct {
	in, elements, expanded string
}{
	{"", "", ""},
	{" ; ;", "", ""},
	{`c:\syms`, `D(c:\syms)`, `c:\syms`},
	// docs (.symfix): "Symbol search path is: c:\someSymbols", "Expanded ...: c:\somesymbols".
	{`c:\someSymbols`, `D(c:\someSymbols)`, `c:\somesymbols`},
	{`C:\Dir1;C:\Dir2\DirA;C:\Dir2\DirB`, `D(C:\Dir1) D(C:\Dir2\DirA) D(C:\Dir2\DirB)`, `c:\dir1;c:\dir2\dira;c:\dir2\dirb`},
	{`/home/Me/Syms; ../rel\Sub `, `D(/home/Me/Syms) D(../rel\Sub)`, `/home/Me/Syms;../rel\Sub`},
	// docs (.symfix): a bare srv* expands to cache*;SRV*https://msdl.microsoft.com/download/symbols.
	{"srv*", "C()+ S(symsrv.dll:" + ms + ")+", "cache*;SRV*" + ms},
	{"SRV*", "C()+ S(symsrv.dll:" + ms + ")+", "cache*;SRV*" + ms},
	{"srv*https://msdl.microsoft.com/download/symbols", "S(symsrv.dll:" + ms + ")", "srv*" + ms},
	{`srv*c:\MyServerSymbols*https://msdl.microsoft.com/download/symbols`, `S(symsrv.dll:c:\MyServerSymbols|` + ms + `)`,
		`srv*c:\MyServerSymbols*` + ms},
	// docs (cascading stores): empty token = default downstream store.
	{`srv**\\interim\store*https://internetsite`, `S(symsrv.dll:|\\interim\store|https://internetsite)`, `srv**\\interim\store*https://internetsite`},
	{`srv*c:\localcache*\\interim\store*https://msdl.microsoft.com/download/symbols`,
		`S(symsrv.dll:c:\localcache|\\interim\store|` + ms + `)`, `srv*c:\localcache*\\interim\store*` + ms},
	{`srv*\\Server\Share`, `S(symsrv.dll:\\Server\Share)`, `srv*\\Server\Share`},
	// docs (Advanced SymSrv Use): srv is short for symsrv*symsrv.dll.
	{`symsrv*symsrv.dll*c:\localsymbols*\\mybuilds\mysymbols`, `S(symsrv.dll:c:\localsymbols|\\mybuilds\mysymbols)`,
		`symsrv*symsrv.dll*c:\localsymbols*\\mybuilds\mysymbols`},
	{`symsrv*symsrv.dll*`, "C()+ S(symsrv.dll:" + ms + ")+", "cache*;SRV*" + ms},
	{`symsrv*other.dll*\\s\x`, `S(other.dll:\\s\x)`, `symsrv*other.dll*\\s\x`},
	{`symsrv*symsrv.dll`, `S(symsrv.dll:)`, `symsrv*symsrv.dll`},
	{`cache*`, `C()`, `cache*`},
	// docs: .sympath cache*c:\MySymbols;\\someshare.
	{`cache*c:\MySymbols;\\someshare`, `C(c:\MySymbols) D(\\someshare)`, `cache*c:\MySymbols;\\someshare`},
	{`cache*;srv*https://msdl.microsoft.com/download/symbols`, "C() S(symsrv.dll:" + ms + ")", "cache*;srv*" + ms},
	// The brief's mixed example.
	{`srv*c:\cache*https://x/y;d:\syms;cache*;srv*`, `S(symsrv.dll:c:\cache|https://x/y) D(d:\syms) C() C()+ S(symsrv.dll:` + ms + `)+`,
		`srv*c:\cache*https://x/y;d:\syms;cache*;cache*;SRV*` + ms},
	// docs (cache*localsymbolcache example).
	{`\\someshare\that\cachestar\ignores;srv*c:\mysymbols*https://msdl.microsoft.com/download/symbols;cache*c:\mysymbols;\\anothershare\that\gets\cached`,
		`D(\\someshare\that\cachestar\ignores) S(symsrv.dll:c:\mysymbols|` + ms + `) C(c:\mysymbols) D(\\anothershare\that\gets\cached)`,
		`\\someshare\that\cachestar\ignores;srv*c:\mysymbols*` + ms + `;cache*c:\mysymbols;\\anothershare\that\gets\cached`},
	{`https://x/y`, `D(https://x/y)`, `https://x/y`},
	{`srv`, `D(srv)`, `srv`},
	{`srv*/tmp/cache*http://127.0.0.1:8080/sym/`, `S(symsrv.dll:/tmp/cache|http://127.0.0.1:8080/sym/)`, `srv*/tmp/cache*http://127.0.0.1:8080/sym/`},
}

func TestParsePath(t *testing.T) {
	for _, tt := range parseTests {
		p := ParsePath(tt.in)
		if got := describe(p); got != tt.elements {
			t.Errorf("ParsePath(%q) elements:\n got %s\nwant %s", tt.in, got, tt.elements)
		}
		if got := p.Expanded(); got != tt.expanded {
			t.Errorf("ParsePath(%q).Expanded():\n got %s\nwant %s", tt.in, got, tt.expanded)
		}
		if p.String() != tt.in {
			t.Errorf("ParsePath(%q).String() = %q", tt.in, p.String())
		}
	}
}

func TestParsePathNotes(t *testing.T) {
	notes := func(s string) string {
		var out []string
		for _, e := range ParsePath(s).Elements {
			out = append(out, e.Note)
		}
		return strings.Join(out, " | ")
	}
	for _, c := range []struct{ in, want string }{
		{`https://x/y`, "needs the srv* prefix"},
		{`cache*https://x/y`, "needs the srv* prefix"},
		{`symsrv*symsrv.dll`, "names no store"},
		{`symsrv*other.dll*/x`, "cannot be loaded"},
		{`srv*https://a*https://b`, "is not last"},
	} {
		if got := notes(c.in); !strings.Contains(got, c.want) {
			t.Errorf("%q: notes %q, want %q", c.in, got, c.want)
		}
	}
	if runtime.GOOS != "windows" {
		for _, in := range []string{`c:\syms`, `\\server\share`, `srv*C:\cache*https://x`, `cache*D:/c`} {
			if got := notes(in); !strings.Contains(got, "not reachable on "+runtime.GOOS) {
				t.Errorf("%q: notes %q, want a Windows-path note", in, got)
			}
		}
	}
	for _, in := range []string{`/tmp/x`, `srv*/tmp/c*https://x/y`, `srv*`, `cache*`, `rel\dir`} {
		if got := notes(in); strings.Trim(got, " |") != "" {
			t.Errorf("%q: unexpected notes %q", in, got)
		}
	}
}

func TestLocalPath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows paths are used as they are on Windows")
	}
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{`/abs/dir`, `/abs/dir`, true},
		{`..\syms\x64`, `../syms/x64`, true},
		{`rel`, `rel`, true},
		{`C:\cache`, ``, false},
		{`c:/cache`, ``, false},
		{`C:`, ``, false},
		{`\\server\share\sym`, ``, false},
		{`c:cache`, `c:cache`, true}, // not a drive path: a relative file name with a colon
	} {
		got, ok := localPath(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("localPath(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestSymfixAndAppend(t *testing.T) {
	// docs (.symfix): ".symfix c:\myCache" then ".sympath" shows
	//   Symbol search path is: srv*
	//   Expanded Symbol search path is: cache*c:\myCache;SRV*https://msdl.microsoft.com/download/symbols
	p := Symfix(ParsePath(`c:\old`), `c:\myCache`, false)
	if p.Raw != "srv*" || p.Expanded() != `cache*c:\myCache;SRV*https://msdl.microsoft.com/download/symbols` {
		t.Errorf(".symfix c:\\myCache: raw %q expanded %q", p.Raw, p.Expanded())
	}
	// docs (.symfix+): from c:\someSymbols, ".symfix+ c:\myCache" gives
	//   Symbol search path is: c:\someSymbols;srv*
	//   Expanded Symbol search path is: c:\somesymbols;cache*c:\myCache;SRV*https://msdl.microsoft.com/download/symbols
	p = Symfix(ParsePath(`c:\someSymbols`), `c:\myCache`, true)
	if p.Raw != `c:\someSymbols;srv*` || p.Expanded() != `c:\somesymbols;cache*c:\myCache;SRV*https://msdl.microsoft.com/download/symbols` {
		t.Errorf(".symfix+ c:\\myCache: raw %q expanded %q", p.Raw, p.Expanded())
	}
	// .symfix without a cache keeps the one chosen before; .sympath keeps it too.
	p = Symfix(p, "", false).Set(`d:\x;srv*`).Append(`e:\y`)
	if p.Raw != `d:\x;srv*;e:\y` || p.DefaultCache != `c:\myCache` {
		t.Errorf("after .symfix, .sympath, .sympath+: raw %q cache %q", p.Raw, p.DefaultCache)
	}
	if got := Symfix(Path{}, "", true).Raw; got != "srv*" {
		t.Errorf(".symfix+ on an empty path: %q", got)
	}
	if got := ParsePath("a").Append("  ").Raw; got != "a" {
		t.Errorf(".sympath+ of nothing: %q", got)
	}
}

func TestEnvironmentPath(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	missing := filepath.Join(a, "missing")
	env := map[string]string{
		"_NT_ALT_SYMBOL_PATH": a + ";srv*https://alt/sym",
		"_NT_SYMBOL_PATH":     missing + ";" + b + ";cache*;https://not/a/dir;" + filepath.Join(a, "..", filepath.Base(a)),
	}
	got := EnvironmentPath(func(k string) string { return env[k] })
	// _NT_ALT_SYMBOL_PATH first; directories that do not exist (and URLs without srv*) dropped.
	want := a + ";srv*https://alt/sym;" + b + ";cache*;" + filepath.Join(a, "..", filepath.Base(a))
	if got != want {
		t.Errorf("EnvironmentPath:\n got %s\nwant %s", got, want)
	}
	if runtime.GOOS != "windows" {
		env = map[string]string{"_NT_SYMBOL_PATH": `c:\symbols;srv*c:\symbols*https://msdl.microsoft.com/download/symbols`}
		if got := EnvironmentPath(func(k string) string { return env[k] }); got != `srv*c:\symbols*https://msdl.microsoft.com/download/symbols` {
			t.Errorf("EnvironmentPath with Windows directories: %q", got)
		}
	}
	if got := EnvironmentPath(func(string) string { return "" }); got != "" {
		t.Errorf("empty environment: %q", got)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("DBGHELP_HOMEDIR", home)
	if got, err := DefaultCacheDir(); err != nil || got != filepath.Join(home, "sym") {
		t.Errorf("with DBGHELP_HOMEDIR: %q, %v", got, err)
	}
	t.Setenv("DBGHELP_HOMEDIR", "")
	t.Setenv("XDG_CACHE_HOME", home)
	t.Setenv("HOME", home)
	want, err := os.UserCacheDir()
	if err != nil {
		t.Skip(err)
	}
	if got, err := DefaultCacheDir(); err != nil || got != filepath.Join(want, "wdbg", "symbols") {
		t.Errorf("default: %q, %v; want %q", got, err, filepath.Join(want, "wdbg", "symbols"))
	}
}

func TestPathCheck(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	file := filepath.Join(dir, "file")
	writeFile(t, file, "x")
	p := ParsePath("srv*;" + dir + ";" + missing + ";" + file + ";cache*;srv*" + dir + "*https://x/y")
	var got []string
	for _, c := range p.Check() {
		got = append(got, c.Response+" "+c.Location)
		if (c.Response == "Error") != (c.Err != nil) {
			t.Errorf("%s %s: err %v", c.Response, c.Location, c.Err)
		}
	}
	// WINDBG-SPEC §1.2: the banner's validation block shows "Deferred  srv*" for a bare srv*.
	want := []string{"Deferred srv*", "OK " + dir, "Error " + missing, "Error " + file, "Deferred cache*", "Deferred srv*" + dir + "*https://x/y"}
	if !slices.Equal(got, want) {
		t.Errorf("Check:\n got %q\nwant %q", got, want)
	}
	if runtime.GOOS != "windows" {
		if c := ParsePath(`c:\syms`).Check(); len(c) != 1 || c[0].Response != "Error" || !strings.Contains(c[0].Err.Error(), "Windows path") {
			t.Errorf("Windows directory: %+v", c)
		}
	}
}

func TestProgressString(t *testing.T) {
	k := Key{Name: "amdppm.pdb", ID: "1"}
	for _, c := range []struct {
		p    Progress
		want string
	}{
		{Progress{Key: k, Bytes: 262144, Total: 674816}, "amdppm.pdb: 256 KB of 659 KB"},
		{Progress{Key: k, Bytes: 500, Total: -1}, "amdppm.pdb: 500 bytes"},
		{Progress{Key: k, Bytes: 3 << 20, Total: 100 << 20}, "amdppm.pdb: 3.0 MB of 100 MB"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
}
