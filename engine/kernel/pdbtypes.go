package kernel

import (
	"strings"
	"sync"

	"wdbg/engine/pdb"
)

// PDBTypes adapts a kernel PDB's types (engine/pdb StructByName/Struct) to a TypeSource.
// Dotted paths descend through members whose type is a structure or union: "Pcb.DirectoryTableBase"
// of _EPROCESS is Pcb's offset plus DirectoryTableBase's offset in _KPROCESS. Answers are cached.
func PDBTypes(f *pdb.File) TypeSource {
	return &pdbTypes{f: f, offsets: map[string]pdbAnswer{}, sizes: map[string]pdbAnswer{}}
}

type pdbAnswer struct {
	v  uint64
	ok bool
}

type pdbTypes struct {
	f       *pdb.File
	mu      sync.Mutex
	offsets map[string]pdbAnswer
	sizes   map[string]pdbAnswer
}

// maxPathDepth bounds dotted paths and the search through anonymous members.
const maxPathDepth = 8

func (p *pdbTypes) StructSize(structName string) (uint64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.sizes[structName]; ok {
		return a.v, a.ok
	}
	var a pdbAnswer
	if s, err := p.f.StructByName(structName); err == nil && s.Size > 0 {
		a = pdbAnswer{s.Size, true}
	}
	p.sizes[structName] = a
	return a.v, a.ok
}

func (p *pdbTypes) FieldOffset(structName, fieldPath string) (uint64, bool) {
	key := structName + "." + fieldPath
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.offsets[key]; ok {
		return a.v, a.ok
	}
	var a pdbAnswer
	if s, err := p.f.StructByName(structName); err == nil {
		a.v, a.ok = p.path(s, strings.Split(fieldPath, "."))
	}
	p.offsets[key] = a
	return a.v, a.ok
}

// path resolves the dotted components inside s.
func (p *pdbTypes) path(s *pdb.Struct, parts []string) (uint64, bool) {
	if len(parts) > maxPathDepth {
		return 0, false
	}
	total := uint64(0)
	for i, name := range parts {
		fl, off, ok := p.member(s, name, 0)
		if !ok {
			return 0, false
		}
		total += off
		if i == len(parts)-1 {
			return total, true
		}
		next, err := p.f.Struct(fl.Type)
		if err != nil {
			return 0, false
		}
		s = next
	}
	return total, true
}

// member finds a data member by name. MSVC usually flattens anonymous unions and structures
// into the parent's field list; when it does not, unnamed members of structure type are
// searched too, their offsets added.
func (p *pdbTypes) member(s *pdb.Struct, name string, depth int) (pdb.Field, uint64, bool) {
	for _, fl := range s.Fields {
		if fl.Kind == pdb.FieldMember && fl.Name == name {
			return fl, fl.Offset, true
		}
	}
	if depth >= maxPathDepth {
		return pdb.Field{}, 0, false
	}
	for _, fl := range s.Fields {
		if fl.Kind != pdb.FieldMember || !anonymousMember(fl.Name) {
			continue
		}
		inner, err := p.f.Struct(fl.Type)
		if err != nil || !anonymousMember(inner.Name) {
			continue
		}
		if got, off, ok := p.member(inner, name, depth+1); ok {
			return got, fl.Offset + off, true
		}
	}
	return pdb.Field{}, 0, false
}

func anonymousMember(name string) bool {
	return name == "" || strings.Contains(name, "<unnamed") || strings.Contains(name, "__unnamed") || strings.Contains(name, "<anonymous")
}
