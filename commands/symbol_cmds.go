package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"wdbg/engine/symbols"
	"wdbg/engine/symstore"
)

// symbolCommands: the symbol path and symbol lookups (WINDBG-SPEC §2.4, §3.13).
var symbolCommands = []*Command{
	{
		Name: ".sympath", Aliases: []string{".sympath+"}, Group: "Symbols",
		Usage:   ".sympath [Path] | .sympath+ Path",
		Summary: "show or set the symbol search path",
		Help: "Without an argument shows the symbol path, its expanded form and a validation summary of its " +
			"elements. With a path, replaces it (`.sympath+` appends). Elements are `;`-separated: directories, " +
			"`srv*[cache*]store` (a store may be a directory or an http(s) server), `cache*[dir]`. Changing the " +
			"path loads nothing by itself; modules look again on their next use or after `.reload`.",
		Run: runSympath,
	},
	{
		Name: ".symfix", Aliases: []string{".symfix+"}, Group: "Symbols",
		Usage:   ".symfix[+] [CacheDir]",
		Summary: "use Microsoft's public symbol server",
		Help: "Sets (`.symfix+` appends) the symbol path to `srv*`, Microsoft's public symbol server, with downloads " +
			"cached in CacheDir or the default cache (~/.cache/wdbg/symbols).",
		Run: runSymfix,
	},
	{
		Name: ".reload", Group: "Symbols",
		Usage:   ".reload [/f] [Module]",
		Summary: "reload module symbols",
		Help: "Forgets loaded symbols so that they load again, from the current path, on next use. `/f` loads them " +
			"now and reports the modules whose symbols could not be found; a module name limits it to that module.",
		Run: runReload,
	},
	{
		Name: ".exepath", Aliases: []string{".exepath+"}, Group: "Symbols",
		Usage:   ".exepath [Dir[;Dir...]]",
		Summary: "show or set the image search path",
		Help:    "Directories searched for module images (their export tables name addresses when no PDB is found).",
		Run:     runExepath,
	},
	{
		Name: "ln", Group: "Symbols",
		Usage: "ln Address", Summary: "list the nearest symbols",
		Help: "Shows the symbol at or before an address and the next one after it, then the exact match if the " +
			"address starts a symbol.",
		Run: runLn,
	},
	{
		Name: "x", Group: "Symbols",
		Usage: "x Module!Pattern", Summary: "list symbols matching a pattern",
		Help: "Lists the symbols of the matching modules whose names match the pattern (`*` and `?` wildcards, " +
			"case-insensitive), with their addresses. Loads the modules' symbols if needed.",
		Run: runX,
	},
}

type pathResult struct {
	Raw      string      `json:"path"`
	Expanded string      `json:"expanded"`
	Checks   []pathCheck `json:"validation"`
	label    string
}

type pathCheck struct {
	Response string `json:"response"`
	TimeMS   int64  `json:"time_ms,omitempty"`
	Location string `json:"location"`
	Error    string `json:"error,omitempty"`
}

func newPathResult(p symstore.Path) *pathResult {
	r := &pathResult{Raw: p.Raw, Expanded: p.Expanded(), label: "Symbol"}
	for _, c := range p.Check() {
		pc := pathCheck{Response: c.Response, Location: c.Location}
		if c.Response != "Deferred" {
			pc.TimeMS = c.Elapsed.Milliseconds()
		}
		if c.Err != nil {
			pc.Error = c.Err.Error()
		}
		r.Checks = append(r.Checks, pc)
	}
	return r
}

// WriteText prints the path and WinDbg's "Path validation summary" table.
func (r *pathResult) WriteText(w io.Writer) error {
	var b strings.Builder
	raw := r.Raw
	if raw == "" && r.label == "Symbol" {
		raw = "*** Invalid ***"
	}
	fmt.Fprintf(&b, "%s search path is: %s\n", r.label, raw)
	fmt.Fprintf(&b, "Expanded %s search path is: %s\n", r.label, r.Expanded)
	if len(r.Checks) > 0 {
		b.WriteString("\n************* Path validation summary **************\n")
		fmt.Fprintf(&b, "%-33s%-14s%s\n", "Response", "Time (ms)", "Location")
		for _, c := range r.Checks {
			t := ""
			if c.Response != "Deferred" {
				t = fmt.Sprint(c.TimeMS)
			}
			fmt.Fprintf(&b, "%-33s%-14s%s\n", c.Response, t, c.Location)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func runSympath(ctx context.Context, s *Session, args string) (Result, error) {
	p := s.Symbols.Path()
	if strings.HasPrefix(args, "+") { // `.sympath +x` spelled apart
		args = "+" + strings.TrimSpace(args[1:])
	}
	switch {
	case strings.HasPrefix(args, "+"):
		p = p.Append(strings.TrimSpace(args[1:]))
		s.Symbols.SetPath(p)
	case args != "":
		p = p.Set(args)
		s.Symbols.SetPath(p)
	}
	return newPathResult(p), nil
}

func runSymfix(ctx context.Context, s *Session, args string) (Result, error) {
	add := strings.HasPrefix(args, "+")
	cache := strings.TrimSpace(strings.TrimPrefix(args, "+"))
	p := symstore.Symfix(s.Symbols.Path(), cache, add)
	s.Symbols.SetPath(p)
	return newPathResult(p), nil
}

func runExepath(ctx context.Context, s *Session, args string) (Result, error) {
	args = strings.TrimSpace(strings.TrimPrefix(args, "+"))
	if args != "" {
		var dirs []string
		for _, d := range strings.Split(args, ";") {
			if d = strings.TrimSpace(d); d != "" {
				dirs = append(dirs, d)
			}
		}
		s.ImagePath = dirs
		s.Symbols.SetImagePath(dirs)
	}
	joined := strings.Join(s.ImagePath, ";")
	return &pathResult{Raw: joined, Expanded: joined, label: "Executable"}, nil
}

type reloadResult struct {
	Modules []reloadEntry `json:"modules,omitempty"`
	loaded  bool
}

type reloadEntry struct {
	Module string   `json:"module"`
	Image  string   `json:"image"`
	Status string   `json:"symbol_status"`
	File   string   `json:"symbol_file,omitempty"`
	Notes  []string `json:"notes,omitempty"`
}

func (r *reloadResult) WriteText(w io.Writer) error {
	var b strings.Builder
	if !r.loaded {
		b.WriteString("Reloading current modules\n")
		b.WriteString(strings.Repeat(".", len(r.Modules)) + "\n")
	}
	for _, m := range r.Modules {
		if !r.loaded {
			break
		}
		// Why a candidate was refused (a mismatched PDB, a store that failed), then dbghelp's
		// messages for the two failures a forced load can end in.
		for _, n := range m.Notes {
			fmt.Fprintf(&b, "*** WARNING: %s\n", n)
		}
		switch m.Status {
		case symbols.Exports.String():
			fmt.Fprintf(&b, "*** ERROR: Symbol file could not be found.  Defaulted to export symbols for %s - \n", m.Image)
		case symbols.None.String():
			fmt.Fprintf(&b, "*** ERROR: Module load completed but symbols could not be loaded for %s\n", m.Image)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func runReload(ctx context.Context, s *Session, args string) (Result, error) {
	force, only := false, ""
	for _, f := range strings.Fields(args) {
		switch {
		case strings.EqualFold(f, "/f"), strings.EqualFold(f, "/i"):
			force = true
		case strings.HasPrefix(f, "/") || strings.HasPrefix(f, "-"):
			// /n, /user, /s, /d, /v, /w ... do not change anything for a dump.
		default:
			only = f
		}
	}
	s.Symbols.Unload()
	r := &reloadResult{loaded: force}
	var chosen []int
	for i := range s.Target.Modules {
		m := &s.Target.Modules[i]
		if only == "" || strings.EqualFold(only, m.Name) || strings.EqualFold(only, m.ImageName) {
			chosen = append(chosen, i)
		}
	}
	if force {
		// Symbol files are looked up (and downloaded) for several modules at once.
		s.Symbols.LoadAll(ctx, chosen, 8)
		if err := ctx.Err(); err != nil {
			return r, err
		}
	}
	for _, i := range chosen {
		m := &s.Target.Modules[i]
		e := reloadEntry{Module: m.Name, Image: m.ImageName}
		kind, file := s.Symbols.Status(i)
		e.Status, e.File, e.Notes = kind.String(), file, s.Symbols.Notes(i)
		r.Modules = append(r.Modules, e)
	}
	return r, nil
}

type lnResult struct {
	Address string `json:"address"`
	Prev    string `json:"symbol,omitempty"`
	PrevAt  string `json:"symbol_address,omitempty"`
	Next    string `json:"next,omitempty"`
	NextAt  string `json:"next_address,omitempty"`
	Exact   bool   `json:"exact"`
	ptr     int
	prev    uint64
	next    uint64
	name    string
}

func (r *lnResult) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "(%s)   %s", FormatAddr(r.prev, r.ptr), r.Prev)
	if r.Next != "" {
		fmt.Fprintf(&b, "   |  (%s)   %s", FormatAddr(r.next, r.ptr), r.Next)
	}
	b.WriteString("\n")
	if r.Exact {
		fmt.Fprintf(&b, "Exact matches:\n    %s (<no parameter info>)\n", r.name)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func runLn(ctx context.Context, s *Session, args string) (Result, error) {
	addr := uint64(0)
	if args == "" {
		c := s.Context()
		if c == nil {
			return nil, &SyntaxError{Input: "ln", Col: 2}
		}
		addr = c.PC()
	} else {
		v, err := s.Eval(args)
		if err != nil {
			return nil, err
		}
		addr = v
	}
	prev, next, ok := s.Symbols.Neighbors(ctx, addr)
	if !ok {
		// No named symbol: WinDbg prints nothing for an address it cannot place.
		return Text(""), nil
	}
	r := &lnResult{Address: hexString(addr), Prev: prev.String(), PrevAt: hexString(prev.Address),
		Exact: prev.Displacement == 0, ptr: s.PointerSize(), prev: prev.Address, name: prev.String()}
	if next.Module != nil {
		r.Next, r.NextAt, r.next = next.String(), hexString(next.Address), next.Address
	}
	return r, nil
}

type xResult struct {
	Symbols []xEntry `json:"symbols"`
	ptr     int
}

type xEntry struct {
	Address string `json:"address"`
	Name    string `json:"name"`
	addr    uint64
}

func (r *xResult) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, e := range r.Symbols {
		fmt.Fprintf(&b, "%s %s (<no parameter info>)\n", FormatAddr(e.addr, r.ptr), e.Name)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func runX(ctx context.Context, s *Session, args string) (Result, error) {
	args = strings.TrimSpace(args)
	for strings.HasPrefix(args, "/") { // display options (/v /t /a /n /z ...) change nothing here
		_, rest, _ := strings.Cut(args, " ")
		args = strings.TrimSpace(rest)
	}
	if args == "" {
		return nil, &SyntaxError{Input: "x", Col: 1}
	}
	mod, pattern, ok := strings.Cut(args, "!")
	if !ok {
		mod, pattern = "*", args
	}
	r := &xResult{ptr: s.PointerSize()}
	for _, sym := range s.Symbols.Search(ctx, mod, pattern) {
		r.Symbols = append(r.Symbols, xEntry{Address: hexString(sym.Address), Name: sym.String(), addr: sym.Address})
	}
	return r, ctx.Err()
}
