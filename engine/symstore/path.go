package symstore

import (
	"os"
	"runtime"
	"strings"
)

// MicrosoftSymbolServer is the public store that a bare `srv*` and `.symfix` name
// (WINDBG-SPEC §2.4). Tests never contact it.
const MicrosoftSymbolServer = "https://msdl.microsoft.com/download/symbols"

// ElementKind says what one `;`-separated element of a symbol path is.
type ElementKind uint8

const (
	DirElement    ElementKind = iota // a plain directory
	ServerElement                    // srv*... or symsrv*DLL*...: a chain of stores
	CacheElement                     // cache*[DIR]: caches what elements to its right find
)

func (k ElementKind) String() string {
	switch k {
	case DirElement:
		return "directory"
	case ServerElement:
		return "server"
	case CacheElement:
		return "cache"
	}
	return "?"
}

// Element is one element of a symbol path.
type Element struct {
	Kind ElementKind
	Text string // the element as written, spaces trimmed ("srv*" for both halves of a bare srv*)
	Dir  string // Directory: the directory; Cache: the cache directory, "" = default downstream store
	DLL  string // Server: "symsrv.dll" for srv*, else the DLL symsrv*DLL* names

	// Stores is a Server's chain in search order, downstream first; "" is the default downstream
	// store. A file found in one store is copied into each store to its left.
	Stores []string

	// Implied marks the two elements a bare `srv*` expands to: cache* (the default downstream
	// store) and SRV*https://msdl.microsoft.com/download/symbols.
	Implied bool

	// Note says why the element, or a store of it, cannot be used as written on this system
	// ("" when it can). Such parts are skipped by lookups.
	Note string
}

// Path is a parsed symbol path.
type Path struct {
	Raw      string // as given: `.sympath` prints it as "Symbol search path is: <Raw>"
	Elements []Element

	// DefaultCache is the directory `.symfix DIR` chose for the default downstream store
	// ("" = Options.DefaultCache or DefaultCacheDir()). It survives Set and Append.
	DefaultCache string
}

// ParsePath parses a symbol path as WinDbg takes it (WINDBG-SPEC §2.4, FORMATS.md §7.6). It never
// fails: an element that cannot be used carries a Note and lookups skip it, as dbghelp ignores
// what it cannot open.
func ParsePath(raw string) Path {
	p := Path{Raw: raw}
	for _, part := range strings.Split(raw, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p.Elements = append(p.Elements, parseElement(part)...)
	}
	return p
}

func parseElement(text string) []Element {
	lower := strings.ToLower(text)
	switch {
	case strings.HasPrefix(lower, "srv*"):
		return serverElements(text, "symsrv.dll", text[len("srv*"):])
	case strings.HasPrefix(lower, "symsrv*"):
		dll, stores, ok := strings.Cut(text[len("symsrv*"):], "*")
		if !ok {
			return []Element{{Kind: ServerElement, Text: text, DLL: dll, Note: "symsrv*DLL names no store (symsrv*DLL*STORE)"}}
		}
		return serverElements(text, dll, stores)
	case strings.HasPrefix(lower, "cache*"):
		e := Element{Kind: CacheElement, Text: text, Dir: text[len("cache*"):]}
		e.Note = dirNote(e.Dir)
		return []Element{e}
	}
	return []Element{{Kind: DirElement, Text: text, Dir: text, Note: dirNote(text)}}
}

// serverElements parses the part after `srv*` or `symsrv*DLL*`. Each `*`-separated token is a
// store; an empty token is the default downstream store ("Advanced SymSrv Use", cascading
// stores). Nothing at all is the default server: the debugger's default store, cached in the
// default downstream store, which WinDbg expands to `cache*;SRV*<Microsoft>` (.symfix docs).
func serverElements(text, dll, rest string) []Element {
	var note []string
	if !strings.EqualFold(dll, "symsrv.dll") {
		note = append(note, "symbol server DLL "+dll+" cannot be loaded; its stores are read as symsrv stores")
	}
	if rest == "" {
		return []Element{
			{Kind: CacheElement, Text: text, Implied: true},
			{Kind: ServerElement, Text: text, DLL: dll, Stores: []string{MicrosoftSymbolServer}, Implied: true, Note: strings.Join(note, "; ")},
		}
	}
	stores := strings.Split(rest, "*")
	for i, s := range stores {
		switch {
		case isHTTP(s) && i != len(stores)-1:
			note = append(note, "HTTP store "+s+" is not last: it is read but never written")
		case !isHTTP(s) && s != "":
			if n := dirNote(s); n != "" {
				note = append(note, n)
			}
		}
	}
	return []Element{{Kind: ServerElement, Text: text, DLL: dll, Stores: stores, Note: strings.Join(note, "; ")}}
}

// dirNote explains why a directory from the path cannot be used here, or is "".
func dirNote(dir string) string {
	switch {
	case isHTTP(dir):
		return dir + ": an HTTP store needs the srv* prefix"
	case dir == "":
		return ""
	}
	if _, ok := localPath(dir); !ok {
		return dir + ": Windows path, not reachable on " + runtime.GOOS
	}
	return ""
}

func isHTTP(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// isWindowsPath reports a drive-letter path (C:\x, C:/x, C:) or a UNC path (\\server\share).
func isWindowsPath(p string) bool {
	if strings.HasPrefix(p, `\\`) {
		return true
	}
	if len(p) >= 2 && p[1] == ':' && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z') {
		return len(p) == 2 || p[2] == '\\' || p[2] == '/'
	}
	return false
}

// localPath maps a directory from the symbol path to one this system can open. On Windows it is
// unchanged. Elsewhere a drive-letter or UNC path cannot be reached (ok is false) and other
// backslashes are separators.
func localPath(p string) (string, bool) {
	if runtime.GOOS == "windows" {
		return p, true
	}
	if isWindowsPath(p) {
		return "", false
	}
	return strings.ReplaceAll(p, `\`, "/"), true
}

func (p Path) String() string { return p.Raw }

// Expanded is the path as `.sympath` prints it after "Expanded Symbol search path is: ": a bare
// srv* becomes `cache*<DefaultCache>;SRV*https://msdl.microsoft.com/download/symbols`, and a
// Windows-style plain directory is lower-cased as dbghelp shows it (the .symfix example turns
// c:\someSymbols into c:\somesymbols). POSIX directories keep their case: Linux file names are
// case-sensitive.
func (p Path) Expanded() string {
	parts := make([]string, 0, len(p.Elements))
	for _, e := range p.Elements {
		switch {
		case e.Kind == CacheElement && e.Dir == "":
			parts = append(parts, "cache*"+p.DefaultCache)
		case e.Kind == ServerElement && e.Implied:
			parts = append(parts, "SRV*"+e.Stores[0])
		case e.Kind == DirElement && isWindowsPath(e.Dir):
			parts = append(parts, strings.ToLower(e.Text))
		default:
			parts = append(parts, e.Text)
		}
	}
	return strings.Join(parts, ";")
}

// Set replaces the path (`.sympath PATH`), keeping the .symfix cache.
func (p Path) Set(raw string) Path {
	q := ParsePath(raw)
	q.DefaultCache = p.DefaultCache
	return q
}

// Append adds elements at the end (`.sympath+ PATH`).
func (p Path) Append(raw string) Path {
	switch {
	case strings.TrimSpace(raw) == "":
		return p
	case p.Raw == "":
		return p.Set(raw)
	}
	return p.Set(p.Raw + ";" + raw)
}

// Symfix is `.symfix[+] [cache]`: the path becomes `srv*` (appended with add), and cache, when
// given, becomes the default downstream store, so that the expanded path reads
// `cache*<cache>;SRV*https://msdl.microsoft.com/download/symbols` (WINDBG-SPEC §2.4).
func Symfix(p Path, cache string, add bool) Path {
	cache = strings.TrimSpace(cache)
	if cache != "" {
		p.DefaultCache = cache
	}
	if add {
		return p.Append("srv*")
	}
	return p.Set("srv*")
}

// EnvironmentPath is the symbol path the environment gives: _NT_ALT_SYMBOL_PATH first, then
// _NT_SYMBOL_PATH ("Symbol path for Windows debuggers": the path is _NT_SYMBOL_PATH appended
// after _NT_ALT_SYMBOL_PATH). Plain directories that do not exist are dropped, as the debugger
// ignores invalid directories given through these variables; srv* and cache* elements stay.
func EnvironmentPath(getenv func(string) string) string {
	var keep []string
	for _, name := range []string{"_NT_ALT_SYMBOL_PATH", "_NT_SYMBOL_PATH"} {
		for _, part := range strings.Split(getenv(name), ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if e := parseElement(part); len(e) == 1 && e[0].Kind == DirElement {
				dir, ok := localPath(e[0].Dir)
				if !ok || isHTTP(dir) {
					continue
				}
				if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
					continue
				}
			}
			keep = append(keep, part)
		}
	}
	return strings.Join(keep, ";")
}
