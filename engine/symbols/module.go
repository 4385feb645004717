package symbols

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"wdbg/engine"
	"wdbg/engine/breakpadsym"
	"wdbg/engine/pdb"
	"wdbg/engine/pe"
	"wdbg/engine/symstore"
)

// moduleSymbols is one module's loaded symbol source.
type moduleSymbols struct {
	module *engine.Module

	mu    sync.Mutex // serialises loading
	kind  Kind
	file  string // the symbol file (or image) the names come from
	notes []string

	pdb     *pdb.File
	sym     *breakpadsym.File
	exports *pe.ExportDirectory

	entriesOnce sync.Once
	sorted      []entry // every named address, sorted by RVA (x, ln and names by address)

	imageMu    sync.Mutex
	imageTried bool
	image      *pe.File // the module's image, from the dump or a file (nil when none)
}

type entry struct {
	rva  uint32
	name string
}

func (m *moduleSymbols) unload() {
	if m.pdb != nil {
		m.pdb.Close()
	}
	m.pdb, m.sym, m.exports, m.kind, m.file, m.notes = nil, nil, nil, Deferred, "", nil
	m.entriesOnce, m.sorted = sync.Once{}, nil
}

// forgetMissingImage lets a module whose image was not found look again (after a path change).
func (m *moduleSymbols) forgetMissingImage() {
	m.imageMu.Lock()
	defer m.imageMu.Unlock()
	if m.image == nil {
		m.imageTried = false
	}
}

func (m *moduleSymbols) note(format string, args ...any) {
	m.notes = append(m.notes, fmt.Sprintf(format, args...))
}

// load finds the best source for the module (see the package comment for the order).
func (m *moduleSymbols) load(ctx context.Context, r *Resolver) {
	cv := m.module.CodeView
	if cv == nil {
		// Kernel triage dumps list drivers without CodeView records: the image's debug
		// directory names the PDB instead (the image from the dump or a store).
		cv = r.imageCodeView(ctx, m)
	}
	if cv != nil && cv.Signature == "RSDS" {
		if m.loadPDB(ctx, r, cv) || m.loadBreakpad(ctx, r, cv) {
			return
		}
	}
	if m.loadExports(ctx, r) {
		return
	}
	m.kind = None
}

func (m *moduleSymbols) loadPDB(ctx context.Context, r *Resolver, cv *engine.CodeView) bool {
	key := symstore.PDBKey(cv.PDBName, cv.GUID, cv.Age)
	path, err := r.client.Find(ctx, key)
	if err != nil {
		if !errors.Is(err, symstore.ErrNotFound) {
			m.note("%s: %v", key.Path(), err)
		}
		return false
	}
	f, err := pdb.Open(path)
	if err != nil {
		m.note("%s: %v", path, err)
		return false
	}
	if err := f.Matches(cv.GUID, cv.Age); err != nil {
		f.Close()
		m.note("%s does not match %s: %v", path, m.module.ImageName, err)
		return false
	}
	m.pdb, m.file, m.kind = f, path, PublicPDB
	if fns, err := f.Functions(); err == nil && len(fns) > 0 {
		m.kind = PrivatePDB
	}
	return true
}

func (m *moduleSymbols) loadBreakpad(ctx context.Context, r *Resolver, cv *engine.CodeView) bool {
	key := symstore.BreakpadKey(cv.PDBName, cv.GUID, cv.Age)
	path, err := r.client.Find(ctx, key)
	if err != nil {
		return false
	}
	f, err := breakpadsym.Open(path)
	if err != nil {
		m.note("%s: %v", path, err)
		return false
	}
	m.sym, m.file, m.kind = f, path, Breakpad
	return true
}

// loadExports reads the export table of the image in the dump's memory, else of an image file
// found through the image path or the symbol path.
func (m *moduleSymbols) loadExports(ctx context.Context, r *Resolver) bool {
	img, where := r.image(ctx, m.module)
	if img == nil {
		return false
	}
	dir, err := img.Exports()
	if err != nil || dir == nil || len(dir.Exports) == 0 {
		return false
	}
	m.exports, m.file, m.kind = dir, where, Exports
	return true
}

// image opens a module's PE image: mapped in the dump when its headers are there, else a file
// named like the image in the image path, else the image from a symbol store.
func (r *Resolver) image(ctx context.Context, mod *engine.Module) (*pe.File, string) {
	if f, err := pe.NewMapped(r.raw, mod.Base); err == nil && f.TimeDateStamp == mod.TimeDateStamp {
		return f, mod.Path
	}
	r.mu.Lock()
	dirs := r.imagePath
	r.mu.Unlock()
	for _, dir := range dirs {
		p := filepath.Join(dir, mod.ImageName)
		if f, err := pe.Open(p); err == nil {
			if f.TimeDateStamp == mod.TimeDateStamp && f.SizeOfImage == mod.Size {
				return f, p
			}
			f.Close()
		}
	}
	key := symstore.ImageKey(mod.ImageName, mod.TimeDateStamp, mod.Size)
	if p, err := r.client.Find(ctx, key); err == nil {
		if f, err := pe.Open(p); err == nil {
			return f, p
		}
	}
	return nil, ""
}

// Image returns the module's PE image (from the dump or from disk) for unwinding, or nil. The
// answer is kept: later calls return the same image.
func (r *Resolver) Image(ctx context.Context, i int) *pe.File {
	if i < 0 || i >= len(r.target.Modules) {
		return nil
	}
	m := r.mods[i]
	m.imageMu.Lock()
	defer m.imageMu.Unlock()
	if !m.imageTried {
		m.image, _ = r.image(ctx, m.module)
		m.imageTried = true
	}
	return m.image
}

// PDB returns the module's loaded PDB (for x86 FPO data), or nil.
func (r *Resolver) PDB(ctx context.Context, i int) *pdb.File {
	r.Load(ctx, i)
	return r.mods[i].pdb
}

// BreakpadFile returns the module's Breakpad symbols (STACK WIN/CFI records), or nil.
func (r *Resolver) BreakpadFile(ctx context.Context, i int) *breakpadsym.File {
	r.Load(ctx, i)
	return r.mods[i].sym
}

// nameAt is the nearest symbol at or below rva.
func (m *moduleSymbols) nameAt(rva uint32) (string, uint32, bool) {
	switch {
	case m.pdb != nil:
		if fn, disp, ok := m.pdb.FunctionAt(rva); ok {
			return fn.Name, rva - disp, true
		}
		if p, disp, ok := m.pdb.PublicAt(rva); ok {
			return Undecorate(p.Name), rva - disp, true
		}
	case m.sym != nil:
		if fn := m.sym.FunctionAt(uint64(rva)); fn != nil {
			return stripParameters(fn.Name), uint32(fn.Addr), true
		}
		if p := m.sym.PublicAt(uint64(rva)); p != nil {
			return stripParameters(Undecorate(p.Name)), uint32(p.Addr), true
		}
	case m.exports != nil:
		if e, ok := m.exports.Lookup(rva); ok && e.Name != "" {
			return Undecorate(e.Name), e.RVA, true
		}
	}
	return "", 0, false
}

func (m *moduleSymbols) lineAt(rva uint32) (string, int, bool) {
	switch {
	case m.pdb != nil:
		return m.pdb.LineAt(rva)
	case m.sym != nil:
		if l, ok := m.sym.LineAt(uint64(rva)); ok {
			return l.File, int(l.Number), true
		}
	}
	return "", 0, false
}

// addressOf finds a symbol by its undecorated (or decorated) name.
func (m *moduleSymbols) addressOf(name string) (uint32, bool) {
	if m.pdb != nil {
		if fn, ok := m.pdb.FunctionByName(name); ok {
			return fn.RVA, true
		}
		if p, ok := m.pdb.PublicByName(name); ok {
			return p.RVA, true
		}
	}
	if m.exports != nil {
		if e, ok := m.exports.ByName(name); ok {
			return e.RVA, true
		}
	}
	for _, e := range m.entries() {
		if strings.EqualFold(e.name, name) {
			return e.rva, true
		}
	}
	return 0, false
}

// entries lists every named address of the module once, sorted by RVA, undecorated.
func (m *moduleSymbols) entries() []entry {
	m.entriesOnce.Do(func() {
		seen := map[entry]bool{}
		add := func(rva uint32, name string) {
			e := entry{rva, name}
			if name != "" && !seen[e] {
				seen[e] = true
				m.sorted = append(m.sorted, e)
			}
		}
		switch {
		case m.pdb != nil:
			if fns, err := m.pdb.Functions(); err == nil {
				for _, f := range fns {
					add(f.RVA, f.Name)
				}
			}
			if pubs, err := m.pdb.Publics(); err == nil {
				for _, p := range pubs {
					add(p.RVA, Undecorate(p.Name))
				}
			}
		case m.sym != nil:
			for _, f := range m.sym.Funcs {
				add(uint32(f.Addr), stripParameters(f.Name))
			}
			for _, p := range m.sym.Publics {
				add(uint32(p.Addr), stripParameters(Undecorate(p.Name)))
			}
		case m.exports != nil:
			for _, e := range m.exports.Exports {
				add(e.RVA, Undecorate(e.Name))
			}
		}
		sort.SliceStable(m.sorted, func(i, j int) bool { return m.sorted[i].rva < m.sorted[j].rva })
	})
	return m.sorted
}

// imageCodeView reads the CodeView (RSDS) record from the module's image, nil when there is none.
func (r *Resolver) imageCodeView(ctx context.Context, m *moduleSymbols) *engine.CodeView {
	i, ok := r.moduleIndex(m.module.Base)
	if !ok {
		return nil
	}
	img := r.Image(ctx, i)
	if img == nil {
		return nil
	}
	cv, err := img.CodeView()
	if err != nil || cv == nil || cv.Signature != pe.CvSignatureRSDS {
		return nil
	}
	return &engine.CodeView{Signature: "RSDS", GUID: cv.GUID.Bytes(), Age: cv.Age, PDBName: cv.PDBName}
}
