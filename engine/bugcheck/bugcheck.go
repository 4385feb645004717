// Package bugcheck is wdbg's catalog of Windows bug-check (stop) codes: each code's name, a short
// description in our own words, what its four parameters hold, and which parameters !analyze can
// use (an exception code, a context record, a trap frame, the memory referenced...). The catalog
// is data (catalog.txt, embedded); WINDBG-SPEC §4 is the source of the names and parameter roles.
package bugcheck

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

//go:embed catalog.txt
var catalogText string

// MVariant is the bit that marks the "_M" variant of a code (0x1000007E is 0x7E_M).
const MVariant = 0x10000000

// Entry describes one bug-check code.
type Entry struct {
	Code        uint32
	Name        string // SYSTEM_THREAD_EXCEPTION_NOT_HANDLED
	Description string // one paragraph, our own words
	// Params is what each parameter holds ("" when the catalog does not say).
	Params [4]string
	// Values names particular values of a parameter; for the selecting parameter (Hints.Select)
	// they are the subtypes.
	Values [4]map[uint64]string
	// Subtypes gives, per value of the selecting parameter, what the other parameters hold.
	Subtypes map[uint64][4]string
	Hints    Hints

	subtypeParam int // the parameter the subtype lines were keyed by (checked against Hints.Select)
}

// Hints say which parameters (1-4; 0 = none) !analyze can use.
type Hints struct {
	ExceptionCode    int
	ExceptionAddress int
	ExceptionRecord  int
	ContextRecord    int
	TrapFrame        int
	Memory           int // memory referenced (READ_ADDRESS / WRITE_ADDRESS)
	FaultingIP       int
	Select           int // the parameter that selects the subtype
	ExceptionParam0  int // the exception's first parameter (read/write for an access violation)
	ExceptionParam1  int // the exception's second parameter (the address for an access violation)
	// Access is the parameter that encodes the access kind, and AccessKinds its values:
	// READ, WRITE or EXECUTE; AccessAny applies to every value.
	Access      int
	AccessKinds map[uint64]string
	AccessAny   string
}

// Known reports whether the entry came from the catalog (false for an unknown code).
func (e Entry) Known() bool { return e.Name != "" }

// Title is the heading !analyze prints: `DRIVER_IRQL_NOT_LESS_OR_EQUAL (d1)`, or
// `Unknown bugcheck code (c0000218)` (WINDBG-SPEC §3.1.2).
func (e Entry) Title() string {
	if !e.Known() {
		return fmt.Sprintf("Unknown bugcheck code (%x)", e.Code)
	}
	return fmt.Sprintf("%s (%x)", e.Name, e.Code)
}

// About is the description, or WinDbg's sentence for a code it does not know.
func (e Entry) About() string {
	if !e.Known() || e.Description == "" {
		return "Unknown bugcheck description"
	}
	return e.Description
}

// ParamText says what parameter i (0-3) holds, given all four values: a named value wins (the
// subtype's meaning, for the selecting parameter), then the subtype's meaning of the parameter,
// then the general meaning. "" when the catalog says nothing.
func (e Entry) ParamText(i int, params [4]uint64) string {
	if i < 0 || i > 3 {
		return ""
	}
	if v, ok := e.Values[i][params[i]]; ok {
		return v
	}
	if sel := e.Hints.Select; sel > 0 && sel-1 != i {
		if sub, ok := e.Subtypes[params[sel-1]]; ok && sub[i] != "" {
			return sub[i]
		}
	}
	return e.Params[i]
}

// AccessKind decodes the access kind from the parameters: READ, WRITE, EXECUTE, or "" when the
// code does not encode one or the value is not one the catalog names.
func (e Entry) AccessKind(params [4]uint64) string {
	h := e.Hints
	if h.Access == 0 {
		return ""
	}
	if h.AccessAny != "" {
		return h.AccessAny
	}
	return h.AccessKinds[params[h.Access-1]]
}

var catalog = mustParse(catalogText)

func mustParse(text string) map[uint32]Entry {
	m, err := Parse(text)
	if err != nil {
		panic("bugcheck: catalog.txt: " + err.Error())
	}
	return m
}

// Lookup finds a code. An "_M" variant (0x1000007E) is its base code's entry with the name
// suffixed "_M" and the code kept. Unknown codes give an entry with only Code set and false.
func Lookup(code uint32) (Entry, bool) {
	if e, ok := catalog[code]; ok {
		return e, true
	}
	if code&0xF0000000 == MVariant {
		if e, ok := catalog[code&^MVariant]; ok {
			e.Code = code
			e.Name += "_M"
			return e, true
		}
	}
	return Entry{Code: code}, false
}

// Base is the code without the "_M" bit, for codes whose base the catalog knows.
func Base(code uint32) uint32 {
	if _, ok := catalog[code]; !ok && code&0xF0000000 == MVariant {
		if _, ok := catalog[code&^MVariant]; ok {
			return code &^ MVariant
		}
	}
	return code
}

// Codes lists every code in the catalog, ascending.
func Codes() []uint32 {
	out := make([]uint32, 0, len(catalog))
	for c := range catalog {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Parse reads catalog text (the syntax is described at the top of catalog.txt).
func Parse(text string) (map[uint32]Entry, error) {
	m := map[uint32]Entry{}
	var cur *Entry
	flush := func() error {
		if cur == nil {
			return nil
		}
		if cur.subtypeParam != 0 && cur.Hints.Select != cur.subtypeParam {
			return fmt.Errorf("code %#x: subtype lines keyed by P%d need `hint select=P%d`", cur.Code, cur.subtypeParam, cur.subtypeParam)
		}
		m[cur.Code] = *cur
		return nil
	}
	for n, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bad := func(why string) error { return fmt.Errorf("line %d: %s: %q", n+1, why, line) }
		if strings.HasPrefix(line, "[") {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return nil, bad("want [0xCODE] NAME")
			}
			code, err := strconv.ParseUint(line[1:end], 0, 32)
			name := strings.TrimSpace(line[end+1:])
			if err != nil || name == "" {
				return nil, bad("want [0xCODE] NAME")
			}
			if _, dup := m[uint32(code)]; dup || (cur != nil && cur.Code == uint32(code)) {
				return nil, bad("code listed twice")
			}
			if err := flush(); err != nil {
				return nil, err
			}
			cur = &Entry{Code: uint32(code), Name: name}
			continue
		}
		if cur == nil {
			return nil, bad("item before the first [0xCODE] line")
		}
		word, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch {
		case word == "about":
			cur.Description = strings.TrimSpace(cur.Description + " " + rest)
		case word == "hint":
			if err := parseHints(&cur.Hints, rest); err != nil {
				return nil, bad(err.Error())
			}
		case len(word) == 2 && word[0] == 'P':
			i, ok := paramIndex(word)
			if !ok || rest == "" {
				return nil, bad("want Pn TEXT")
			}
			cur.Params[i] = rest
		case strings.HasPrefix(word, "P") && strings.Contains(word, "="):
			if err := parseValue(cur, word, rest); err != nil {
				return nil, bad(err.Error())
			}
		default:
			return nil, bad("unknown item")
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return m, nil
}

// parseValue reads `Pn=VALUE TEXT` and `Pn=VALUE Pm TEXT`.
func parseValue(e *Entry, word, rest string) error {
	p, val, _ := strings.Cut(word, "=")
	i, ok := paramIndex(p)
	v, err := strconv.ParseUint(val, 0, 64)
	if !ok || err != nil || rest == "" {
		return fmt.Errorf("want Pn=VALUE TEXT")
	}
	if sub, text, ok := strings.Cut(rest, " "); ok {
		if j, isParam := paramIndex(sub); isParam {
			if e.subtypeParam != 0 && e.subtypeParam != i+1 {
				return fmt.Errorf("subtype lines of one code must all be keyed by the same parameter")
			}
			e.subtypeParam = i + 1
			if e.Subtypes == nil {
				e.Subtypes = map[uint64][4]string{}
			}
			s := e.Subtypes[v]
			s[j] = strings.TrimSpace(text)
			e.Subtypes[v] = s
			return nil
		}
	}
	if e.Values[i] == nil {
		e.Values[i] = map[uint64]string{}
	}
	e.Values[i][v] = rest
	return nil
}

func parseHints(h *Hints, text string) error {
	for _, f := range strings.Fields(text) {
		key, val, ok := strings.Cut(f, "=")
		if !ok {
			return fmt.Errorf("hint %q: want KEY=Pn", f)
		}
		param, kinds, _ := strings.Cut(val, ":")
		i, ok := paramIndex(param)
		if !ok {
			return fmt.Errorf("hint %q: want KEY=Pn", f)
		}
		n := i + 1
		switch key {
		case "code":
			h.ExceptionCode = n
		case "address":
			h.ExceptionAddress = n
		case "record":
			h.ExceptionRecord = n
		case "context":
			h.ContextRecord = n
		case "trap":
			h.TrapFrame = n
		case "memory":
			h.Memory = n
		case "ip":
			h.FaultingIP = n
		case "select":
			h.Select = n
		case "param0":
			h.ExceptionParam0 = n
		case "param1":
			h.ExceptionParam1 = n
		case "access":
			h.Access = n
			if err := parseAccess(h, kinds); err != nil {
				return fmt.Errorf("hint %q: %v", f, err)
			}
		default:
			return fmt.Errorf("unknown hint %q", key)
		}
	}
	return nil
}

func parseAccess(h *Hints, kinds string) error {
	if kinds == "" {
		return fmt.Errorf("access needs :VALUE=KIND,...")
	}
	for _, pair := range strings.Split(kinds, ",") {
		val, kind, ok := strings.Cut(pair, "=")
		if !ok || (kind != "READ" && kind != "WRITE" && kind != "EXECUTE") {
			return fmt.Errorf("want VALUE=READ|WRITE|EXECUTE, have %q", pair)
		}
		if val == "*" {
			h.AccessAny = kind
			continue
		}
		v, err := strconv.ParseUint(val, 0, 64)
		if err != nil {
			return fmt.Errorf("bad value %q", val)
		}
		if h.AccessKinds == nil {
			h.AccessKinds = map[uint64]string{}
		}
		h.AccessKinds[v] = kind
	}
	return nil
}

func paramIndex(s string) (int, bool) {
	if len(s) != 2 || s[0] != 'P' || s[1] < '1' || s[1] > '4' {
		return 0, false
	}
	return int(s[1] - '1'), true
}
