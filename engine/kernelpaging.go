package engine

import (
	"errors"

	"wdbg/engine/vmem"
)

// ErrNoPageTables: the dump holds no page tables (a small dump keeps only copied blocks of
// virtual memory), so addresses cannot be walked.
var ErrNoPageTables = errors.New("not available in this dump: a small (triage) dump holds no page tables")

// PageTables is the kernel address space's translator, for `!pte` and `!vtop`.
func (t *Target) PageTables() (*vmem.Translator, error) {
	if t.Kernel == nil || t.Kernel.paging == nil {
		return nil, ErrNoPageTables
	}
	return t.Kernel.paging, nil
}

// AddressSpace is the address space whose top table is at dtb (a process's DirBase): user
// addresses of that process translate through it, kernel addresses as in every process.
func (t *Target) AddressSpace(dtb uint64) (*vmem.Translator, error) {
	k := t.Kernel
	if k == nil || k.phys == nil {
		return nil, ErrNoPageTables
	}
	if tr := kernelTranslator(k.phys, t.Arch, dtb, k.pae, k.l1tfBit()); tr != nil {
		return tr, nil
	}
	return nil, ErrNoPageTables
}

// ReadPhysical reads the dump's physical memory (`!db`-style access and page-table display).
func (t *Target) ReadPhysical(p []byte, pa uint64) (int, error) {
	if t.Kernel == nil || t.Kernel.phys == nil {
		return 0, ErrNoPageTables
	}
	return t.Kernel.phys.ReadPhysical(p, pa)
}
