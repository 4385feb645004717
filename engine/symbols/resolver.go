// Package symbols names addresses of a target and finds addresses by name, as WinDbg's symbol
// handler does. For each module it loads, on first use (WinDbg's "deferred" loading), the best
// source it can find along the symbol path, in this order:
//
//  1. the PDB named by the module's CodeView (RSDS) record, found in a symbol store or directory
//     and checked against the record's GUID and age (a mismatched PDB is refused, as WinDbg does);
//  2. a Breakpad symbol file stored beside it (name.pdb/GUIDAGE/name.sym);
//  3. the export table of the module's image, read from the dump's memory or from an image file
//     found through the image path or a symbol store;
//  4. nothing: addresses are then named module+0xoff.
//
// The package never prints; load failures are kept as notes that commands may show.
package symbols

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"wdbg/engine"
	"wdbg/engine/symstore"
)

// Kind is what a module's symbols came from, as `lm` reports it.
type Kind int

const (
	Deferred   Kind = iota // not loaded yet
	PublicPDB              // a PDB with publics only (stripped)
	PrivatePDB             // a PDB with procedure records
	Breakpad               // a Breakpad .sym file
	Exports                // the image's export table
	None                   // nothing was found
)

// String is lm's symbol-status text (WINDBG-SPEC §2.4).
func (k Kind) String() string {
	switch k {
	case Deferred:
		return "deferred"
	case PublicPDB:
		return "pdb symbols"
	case PrivatePDB:
		return "private pdb symbols"
	case Breakpad:
		return "breakpad symbols"
	case Exports:
		return "export symbols"
	}
	return "no symbols"
}

// Loaded reports whether the module has names from a symbol source (lm l).
func (k Kind) Loaded() bool { return k != Deferred && k != None }

// Symbol is a name found for an address.
type Symbol struct {
	Module       *engine.Module
	Name         string // undecorated; "" when only the module is known
	Address      uint64 // where the named symbol starts
	Displacement uint64 // the address's offset from Address
	File         string // source file, when line information is loaded
	Line         int
}

// String is WinDbg's spelling: module!name+0xoff, module!name, module+0xoff, or module.
func (s Symbol) String() string {
	if s.Module == nil {
		return ""
	}
	name := s.Module.Name
	if s.Name != "" {
		name += "!" + s.Name
	}
	if s.Displacement != 0 {
		name += fmt.Sprintf("+0x%x", s.Displacement)
	}
	return name
}

// Options configure a Resolver.
type Options struct {
	Path      symstore.Path
	ImagePath []string // directories searched for images (-i, .exepath)
	Store     symstore.Options
}

// Resolver names addresses of one target. It is safe for concurrent use.
type Resolver struct {
	target    *engine.Target
	raw       engine.Memory // the dump's own memory, never the image overlay (see Memory)
	client    *symstore.Client
	imagePath []string

	mu   sync.Mutex
	mods []*moduleSymbols // parallel to target.Modules
}

// New makes a resolver for t; nothing is loaded until a name is needed.
func New(t *engine.Target, opts Options) *Resolver {
	r := &Resolver{target: t, raw: t.Memory, client: symstore.NewClient(opts.Path, opts.Store), imagePath: opts.ImagePath}
	r.reset()
	return r
}

func (r *Resolver) reset() {
	r.mods = make([]*moduleSymbols, len(r.target.Modules))
	for i := range r.mods {
		r.mods[i] = &moduleSymbols{module: &r.target.Modules[i]}
	}
}

// Path is the current symbol path.
func (r *Resolver) Path() symstore.Path { return r.client.Path() }

// SetPath changes the symbol path. Like WinDbg, it loads nothing by itself; modules that found
// nothing are looked for again on their next use.
func (r *Resolver) SetPath(p symstore.Path) {
	r.client.SetPath(p)
	r.client.ForgetMisses()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.mods {
		if m.kind == None {
			m.unload()
		}
		m.forgetMissingImage()
	}
}

// SetImagePath changes the directories searched for images.
func (r *Resolver) SetImagePath(dirs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.imagePath = dirs
	for _, m := range r.mods {
		m.forgetMissingImage()
		if m.kind == None {
			m.unload()
		}
	}
}

// Unload forgets every module's symbols (.reload): they load again on next use.
func (r *Resolver) Unload() {
	r.client.ForgetMisses()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.mods {
		m.unload()
	}
}

// Status is a module's symbol state without loading anything, and the file the names came from.
func (r *Resolver) Status(i int) (Kind, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i < 0 || i >= len(r.mods) {
		return None, ""
	}
	return r.mods[i].kind, r.mods[i].file
}

// Notes are what loading a module's symbols ran into (a mismatched PDB, a store that failed).
func (r *Resolver) Notes(i int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i < 0 || i >= len(r.mods) {
		return nil
	}
	return append([]string(nil), r.mods[i].notes...)
}

// Load loads module i's symbols now if they are not loaded yet.
func (r *Resolver) Load(ctx context.Context, i int) Kind {
	if i < 0 || i >= len(r.mods) {
		return None
	}
	m := r.mods[i]
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.kind == Deferred {
		m.load(ctx, r)
	}
	return m.kind
}

// moduleIndex finds the module containing addr.
func (r *Resolver) moduleIndex(addr uint64) (int, bool) {
	for i := range r.target.Modules {
		m := &r.target.Modules[i]
		if addr >= m.Base && addr < m.End() {
			return i, true
		}
	}
	return -1, false
}

// ModuleByName finds a module by its WinDbg name, case-insensitively.
func (r *Resolver) ModuleByName(name string) (int, bool) {
	for i := range r.target.Modules {
		if strings.EqualFold(r.target.Modules[i].Name, name) {
			return i, true
		}
	}
	return -1, false
}

// Lookup names addr: the nearest symbol at or below it in its module, with line information when
// the source has it. ok is false outside every module.
func (r *Resolver) Lookup(ctx context.Context, addr uint64) (Symbol, bool) {
	i, ok := r.moduleIndex(addr)
	if !ok {
		return Symbol{}, false
	}
	r.Load(ctx, i)
	m := r.mods[i]
	sym := Symbol{Module: m.module, Address: m.module.Base, Displacement: addr - m.module.Base}
	if name, start, found := m.nameAt(uint32(addr - m.module.Base)); found {
		sym.Name = name
		sym.Address = m.module.Base + uint64(start)
		sym.Displacement = addr - sym.Address
	}
	sym.File, sym.Line, _ = m.lineAt(uint32(addr - m.module.Base))
	return sym, true
}

// Address finds "module!name" (or a bare name, searched in every module in list order).
func (r *Resolver) Address(ctx context.Context, expr string) (uint64, bool) {
	modName, name, qualified := strings.Cut(expr, "!")
	if !qualified {
		name, modName = expr, ""
	}
	for i := range r.target.Modules {
		if qualified && !strings.EqualFold(r.target.Modules[i].Name, modName) {
			continue
		}
		r.Load(ctx, i)
		if rva, ok := r.mods[i].addressOf(name); ok {
			return r.target.Modules[i].Base + uint64(rva), true
		}
	}
	return 0, false
}

// Search lists the symbols of the modules matching modPattern whose names match namePattern
// (WinDbg wildcards * and ?, case-insensitive), for `x`.
func (r *Resolver) Search(ctx context.Context, modPattern, namePattern string) []Symbol {
	var out []Symbol
	for i := range r.target.Modules {
		if !wildcard(modPattern, r.target.Modules[i].Name) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		r.Load(ctx, i)
		m := r.mods[i]
		for _, e := range m.entries() {
			if wildcard(namePattern, e.name) {
				out = append(out, Symbol{Module: m.module, Name: e.name, Address: m.module.Base + uint64(e.rva)})
			}
		}
	}
	return out
}

// Neighbors are the named symbols around addr in its module: the nearest at or below it and the
// next one above it (what `ln` shows). ok is false when addr is in no module or the module has no
// names.
func (r *Resolver) Neighbors(ctx context.Context, addr uint64) (prev, next Symbol, ok bool) {
	i, inModule := r.moduleIndex(addr)
	if !inModule {
		return Symbol{}, Symbol{}, false
	}
	r.Load(ctx, i)
	m := r.mods[i]
	list := m.entries()
	rva := uint32(addr - m.module.Base)
	j := sort.Search(len(list), func(k int) bool { return list[k].rva > rva })
	if j == 0 {
		return Symbol{}, Symbol{}, false
	}
	p := list[j-1]
	prev = Symbol{Module: m.module, Name: p.name, Address: m.module.Base + uint64(p.rva), Displacement: uint64(rva - p.rva)}
	if j < len(list) {
		n := list[j]
		next = Symbol{Module: m.module, Name: n.name, Address: m.module.Base + uint64(n.rva)}
	}
	return prev, next, true
}

// LoadAll loads the symbols of the given modules now, with up to workers loads (and so downloads)
// at a time; nil means every module.
func (r *Resolver) LoadAll(ctx context.Context, indexes []int, workers int) {
	if indexes == nil {
		for i := range r.mods {
			indexes = append(indexes, i)
		}
	}
	if workers < 1 {
		workers = 1
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r.Load(ctx, i)
			}
		}()
	}
	for _, i := range indexes {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
}
