package ksynth

import (
	"fmt"

	"wdbg/engine/internal/pdbwrite"
)

// x86 kernel PDBs carry an FPO_DATA record per function (FORMATS.md §8.2), which is how a
// debugger tells a trap handler from an ordinary frame: WinDbg's kv prints
// `(FPO: [0,0] TrapFrame @ addr)` for a FRAME_TRAP function and `(FPO: [Non-Fpo])` for a standard
// EBP frame. The records describe the code layoutImage wrote (pe.go) and the frames
// composeX86 built (stacks.go):
//   - KiTrap0E (fnTrap86) has no prolog, parameters or locals of its own; its EBP is the
//     KTRAP_FRAME: cbFrame FRAME_TRAP.
//   - every other function starts with "mov edi,edi; push ebp; mov ebp,esp; sub esp,N": a
//     standard frame (FRAME_NONFPO, fUseBP) with N/4 dwords of locals and no other register
//     saved. The writer models no parameter counts, so cdwParams is 0.

// ntFPO returns the FPO records of nt's functions on 32-bit machines, nil on 64-bit ones.
func (d *Dump) ntFPO(nt *Module) ([]pdbwrite.FPO, error) {
	p := profileOf(d.spec.Machine)
	if p == nil || p.is64 {
		return nil, nil
	}
	var def *moduleDef
	for _, md := range moduleDefs(p) {
		if md.name == "nt" {
			def = md
		}
	}
	if def == nil {
		return nil, fmt.Errorf("ksynth: no nt module definition for %s", p.name)
	}
	exports := make(map[string]Export, len(nt.Exports))
	for _, e := range nt.Exports {
		exports[e.Name] = e
	}
	out := make([]pdbwrite.FPO, 0, len(def.funcs))
	for _, f := range def.funcs {
		// The placed address and size come from the manifest: what the dump holds.
		e, ok := exports[f.name]
		if !ok || e.Address < nt.Base || e.Address-nt.Base >= uint64(nt.Size) {
			return nil, fmt.Errorf("ksynth: nt function %s is not among nt's exports", f.name)
		}
		rec := pdbwrite.FPO{Start: uint32(e.Address - nt.Base), Size: e.Size, Prolog: uint8(len(prologBytes(p, f))),
			UseBP: true}
		if f.kind == fnTrap86 {
			rec.Frame = pdbwrite.FrameTrap
		} else {
			rec.Frame = pdbwrite.FrameNonFPO
			rec.Locals = f.alloc / 4
		}
		out = append(out, rec)
	}
	return out, nil
}
