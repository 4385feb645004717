package commands

import "fmt"

// Symbolize names an address as WinDbg does without symbol files (WINDBG-SPEC §1.2): `module+0xoff`
// inside a module's image, `module` exactly at its base, and "" outside every module. PDB and export
// symbols (a later issue) will make this `module!name+0xoff`; every command resolves addresses
// through this one method so that they all improve together.
func (s *Session) Symbolize(addr uint64) string {
	m, ok := s.Target.ModuleAt(addr)
	if !ok {
		return ""
	}
	if off := addr - m.Base; off != 0 {
		return fmt.Sprintf("%s+0x%x", m.Name, off)
	}
	return m.Name
}
