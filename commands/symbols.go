package commands

import (
	"context"

	"wdbg/engine"

	"wdbg/engine/symbols"
)

// Symbolize names an address as WinDbg does (WINDBG-SPEC §1.2): `module!name+0xoff` when the
// module's symbols (PDB, Breakpad, exports) name it, `module+0xoff` inside a module without them,
// `module` exactly at its base, and "" outside every module. Every command resolves addresses
// through this one method.
func (s *Session) Symbolize(addr uint64) string {
	sym, ok := s.Lookup(addr)
	if !ok {
		return ""
	}
	return sym.String()
}

// Lookup is the symbol for an address, with its source line when known.
func (s *Session) Lookup(addr uint64) (symbols.Symbol, bool) {
	if s.Symbols != nil {
		return s.Symbols.Lookup(context.Background(), addr)
	}
	m, ok := s.Target.ModuleAt(addr)
	if !ok {
		return symbols.Symbol{}, false
	}
	return symbols.Symbol{Module: m, Address: m.Base, Displacement: addr - m.Base}, true
}

// Memory is what commands read: the dump's memory, with holes inside modules filled from their
// image files when the image path or symbol path has them (see symbols.Resolver.Memory).
func (s *Session) Memory() engine.Memory {
	if s.Symbols != nil {
		return s.Symbols.Memory()
	}
	return s.Target.Memory
}
