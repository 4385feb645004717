package unwind

import (
	"errors"
	"fmt"

	"wdbg/engine/cpu"
)

// The x64 and ARM64 ways of finding a caller besides the stack scan (scan.go); the x86 ones are
// in x86_unwind.go.

// unwindInfo unwinds x64 and ARM64 frames with the module's function table; a module with a
// table but no entry for the address holds a leaf function. It comes before the module's CFI
// (cfi.go), which the walker tries when there is no table or its unwind data fails.
func (w *walker) unwindInfo(callee, _ *Frame) (*candidate, error) {
	lookup := callee.InstructionPointer
	if !callee.Interrupted && lookup > 0 {
		lookup-- // the call instruction, not the instruction after it
	}
	m := w.module(lookup)
	if m == nil || !hasTable(m) {
		return nil, nil
	}
	var st unwindStep
	var err error
	if w.arch == cpu.ArchAMD64 {
		st, err = unwindX64(w.mem, m.Unwind, m.Base, callee.Regs, callee.Interrupted)
	} else {
		st, err = unwindARM64(w.mem, m.Unwind, m.Base, callee.Regs, callee.Interrupted)
	}
	if errors.Is(err, errNoFunctionEntry) {
		return w.leaf(callee, true)
	}
	if err != nil {
		return nil, fmt.Errorf("unwind info: %w", err)
	}
	return &candidate{
		regs:          st.caller,
		trust:         TrustUnwindInfo,
		calleeNote:    st.note,
		functionBegin: st.functionBegin,
		machineFrame:  st.machineFrame,
		trapFrame:     st.trapFrame,
		interrupted:   st.interrupted,
	}, nil
}

// hasTable reports whether the module has a function table to consult: an UnwindSource that
// can say it found none (TableProber) leaves the frame to the module's CFI.
func hasTable(m *Module) bool {
	if m.Unwind == nil {
		return false
	}
	if p, ok := m.Unwind.(TableProber); ok {
		return p.HasFunctionTable()
	}
	return true
}

// leaf unwinds a function that has no unwind data: its return address is at [rsp] on x64 and in
// lr on ARM64, and it has moved no stack. inTable says the module's table proves it is a leaf.
func (w *walker) leaf(callee *Frame, inTable bool) (*candidate, error) {
	r := callee.Regs
	c := &candidate{trust: TrustUnwindInfo, calleeNote: "leaf function (no unwind data)"}
	if !inTable {
		c.trust = TrustScan
		c.calleeNote = ""
		c.note = "no unwind data: return address assumed at the stack pointer"
	}
	switch w.arch {
	case cpu.ArchAMD64:
		rsp := r.SP()
		ra, err := readU64(w.mem, rsp)
		if err != nil {
			return nil, fmt.Errorf("leaf: %w", err)
		}
		r.set(amd64RIP, ra)
		r.set(amd64RSP, rsp+8)
	case cpu.ArchARM64:
		if !callee.Interrupted {
			// Only the interrupted frame can still hold its return address in lr.
			return nil, fmt.Errorf("leaf: no unwind data for %#x", callee.InstructionPointer)
		}
		lr, ok := r.get(arm64LR)
		if !ok || stripPAC(lr) == callee.InstructionPointer {
			return nil, fmt.Errorf("leaf: lr does not hold a return address")
		}
		r.set(arm64PC, stripPAC(lr))
		c.calleeNote = "leaf function (no unwind data): return address in lr"
	}
	r.keepCalleeSaved()
	c.regs = r
	return c, nil
}

// leafGuessX64 handles an interrupted x64 frame in code without any unwind data (an image the dump
// lacks, or generated code): if [rsp] points into a module it is taken as the return address.
func (w *walker) leafGuessX64(callee, _ *Frame) (*candidate, error) {
	if !callee.Interrupted {
		return nil, nil
	}
	if m := w.module(callee.InstructionPointer); m != nil && hasTable(m) {
		return nil, nil // the unwind data has already been consulted
	}
	c, err := w.leaf(callee, false)
	if err != nil || c == nil {
		return c, err
	}
	if !w.looksLikeReturn(c.regs.PC()) {
		return nil, nil
	}
	return c, nil
}

// framePointerARM64 follows the x29 chain: the frame record {caller x29, lr} is at x29.
func (w *walker) framePointerARM64(callee, _ *Frame) (*candidate, error) {
	fp, ok := callee.Regs.get(arm64FP)
	if !ok || fp == 0 || fp&7 != 0 {
		return nil, nil
	}
	if fp < callee.StackPointer {
		return nil, fmt.Errorf("frame pointer: x29 %#x is below sp %#x", fp, callee.StackPointer)
	}
	prevFP, err := readU64(w.mem, fp)
	if err != nil {
		return nil, fmt.Errorf("frame pointer: %w", err)
	}
	lr, err := readU64(w.mem, fp+8)
	if err != nil {
		return nil, fmt.Errorf("frame pointer: %w", err)
	}
	r := callee.Regs
	r.set(arm64FP, prevFP)
	r.set(arm64LR, lr)
	r.set(arm64PC, stripPAC(lr))
	r.set(arm64SP, fp+16)
	r.keepCalleeSaved()
	return &candidate{regs: r, trust: TrustFramePointer}, nil
}
