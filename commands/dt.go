package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"wdbg/engine/pdb"
)

// typeCommands: dt (WINDBG-SPEC §3.11).
var typeCommands = []*Command{
	{
		Name: "dt", Group: "Symbols",
		Usage:   "dt [-r[Depth]] [-v] [Module!]Type [Field...] [Address]",
		Summary: "display a type, or the memory at an address as that type",
		Help: "Shows the members of a structure, union or class from the module's PDB: offset, name and type. " +
			"With an address, shows each member's value read from the dump instead: integers in hex (signed ones " +
			"as 0n decimal), pointers, character arrays and UNICODE_STRINGs as text, LIST_ENTRYs as their two links, " +
			"enums with their name, bitfields in binary. Field names after the type limit the listing to those " +
			"members (`Name*` is a prefix). `-r` expands embedded structures (to Depth levels, 1-9, default 1 when " +
			"given without a number); `-v` adds the type's size. Without a module, the loaded modules' PDBs are " +
			"searched and the module that had the type is named on the first line.",
		Run: runDt,
	},
}

// dtOptions is a parsed dt command line.
type dtOptions struct {
	module, typeName string
	fields           []string
	address          string // the expression, "" for the type alone
	depth            int
	verbose          bool
}

func parseDt(args string) (dtOptions, error) {
	var o dtOptions
	toks := strings.Fields(args)
	i := 0
	for ; i < len(toks) && strings.HasPrefix(toks[i], "-"); i++ {
		switch t := toks[i]; {
		case t == "-v":
			o.verbose = true
		case strings.HasPrefix(t, "-r"):
			o.depth = 1
			if len(t) > 2 {
				n, err := strconv.Atoi(t[2:])
				if err != nil || n < 0 || n > 9 {
					return o, fmt.Errorf("dt: bad recursion depth %q (0 to 9)", t[2:])
				}
				o.depth = n
			}
		default:
			return o, fmt.Errorf("dt: option %s is not supported (only -r[N] and -v)", t)
		}
	}
	if i == len(toks) {
		return o, fmt.Errorf("dt: no type given")
	}
	o.typeName = toks[i]
	if mod, name, ok := strings.Cut(o.typeName, "!"); ok {
		o.module, o.typeName = mod, name
	}
	rest := toks[i+1:]
	// Field names come first; the first token that does not look like a member name starts the
	// address expression.
	for len(rest) > 0 && isDtFieldName(rest[0]) {
		o.fields = append(o.fields, rest[0])
		rest = rest[1:]
	}
	o.address = strings.Join(rest, " ")
	return o, nil
}

// isDtFieldName: an identifier (with an optional trailing *) that cannot be read as a hex number.
// A hex-looking member name needs the address to be given with 0x... — dt's own -n rule.
func isDtFieldName(tok string) bool {
	name := strings.TrimSuffix(tok, "*")
	if name == "" || !isIdentStart(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if !isIdentStart(name[i]) && (name[i] < '0' || name[i] > '9') {
			return false
		}
	}
	_, err := strconv.ParseUint(strings.ReplaceAll(name, "`", ""), 16, 64)
	return err != nil
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func runDt(ctx context.Context, s *Session, args string) (Result, error) {
	o, err := parseDt(args)
	if err != nil {
		return nil, err
	}
	f, module, err := s.findType(ctx, o.module, o.typeName)
	if err != nil {
		return nil, err
	}
	st, err := f.StructByName(o.typeName)
	if err != nil {
		return nil, err
	}
	res := &dtResult{Type: module + "!" + st.Name, Size: st.Size, showHeader: o.module == "", verbose: o.verbose}
	w := &dtWalker{s: s, f: f, ptr: s.PointerSize(), maxDepth: o.depth, res: res}
	if o.address != "" {
		addr, err := s.Eval(o.address)
		if err != nil {
			return nil, err
		}
		w.hasAddr, res.Address = true, hexString(addr)
		w.base = addr
	}
	w.members(st, 0, 0, o.fields)
	if len(o.fields) > 0 && len(res.Fields) == 0 {
		return nil, fmt.Errorf("dt: %s has no member %s", st.Name, strings.Join(o.fields, ", "))
	}
	return res, nil
}

// findType is the PDB holding the type: the named module's, or the first loaded module's PDB
// that defines it.
func (s *Session) findType(ctx context.Context, module, name string) (*pdb.File, string, error) {
	if s.Symbols == nil {
		return nil, "", fmt.Errorf("dt: no symbols are loaded")
	}
	if module != "" {
		i, ok := s.Symbols.ModuleByName(module)
		if !ok {
			return nil, "", fmt.Errorf("dt: no module named %s", module)
		}
		f := s.Symbols.PDB(ctx, i)
		if f == nil {
			return nil, "", fmt.Errorf("dt: %s has no PDB on the symbol path (types come from PDBs)", module)
		}
		if _, ok := f.FindType(name); !ok {
			return nil, "", fmt.Errorf("Symbol %s!%s not found.", module, name)
		}
		return f, s.Target.Modules[i].Name, nil
	}
	for i := range s.Target.Modules {
		f := s.Symbols.PDB(ctx, i)
		if f == nil {
			continue
		}
		if _, ok := f.FindType(name); ok {
			return f, s.Target.Modules[i].Name, nil
		}
	}
	return nil, "", fmt.Errorf("Symbol %s not found.", name)
}

// dtResult is a type's members, with values when an address was given.
type dtResult struct {
	Type       string    `json:"type"` // module!name
	Size       uint64    `json:"size"`
	Address    string    `json:"address,omitempty"`
	Fields     []dtField `json:"fields"`
	ReadError  string    `json:"read_error,omitempty"` // the first address that could not be read
	showHeader bool
	verbose    bool
}

// dtField is one member line.
type dtField struct {
	Depth  int    `json:"depth"` // 0 for the type's own members, 1 for a member of an expanded member, ...
	Offset uint64 `json:"offset"`
	Name   string `json:"name"`
	Type   string `json:"type"`            // as dt spells it: Uint4B, Ptr64 _LIST_ENTRY, [15] UChar, _KPROCESS
	Value  string `json:"value,omitempty"` // with an address: the value as shown
}

func (r *dtResult) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.showHeader {
		b.WriteString(r.Type + "\n")
	}
	if r.verbose {
		fmt.Fprintf(&b, "struct %s, %d elements, 0x%x bytes\n", r.Type[strings.IndexByte(r.Type, '!')+1:], len(r.topLevel()), r.Size)
	}
	for _, f := range r.Fields {
		text := f.Type
		if r.Address != "" {
			text = f.Value
		}
		fmt.Fprintf(&b, "%s+0x%03x %-16s : %s\n", strings.Repeat("   ", f.Depth+1), f.Offset, f.Name, text)
	}
	if r.ReadError != "" {
		fmt.Fprintf(&b, "Memory read error %s\n", r.ReadError)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *dtResult) topLevel() []dtField {
	var out []dtField
	for _, f := range r.Fields {
		if f.Depth == 0 {
			out = append(out, f)
		}
	}
	return out
}
