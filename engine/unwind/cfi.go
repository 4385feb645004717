package unwind

import (
	"fmt"
	"strings"

	"wdbg/engine/cpu"
)

// Call frame information from Breakpad symbol files (symbol_files.md, "STACK CFI records"). Chrome,
// Electron and Firefox crash pipelines keep .sym files instead of PDBs and images, so for many x64
// and ARM64 modules of their dumps the STACK CFI rows are the only unwind data there is.
//
// A row is a set of rules `REG: EXPR`, each a postfix expression (postfix.go) over the callee's
// registers. `.cfa` (the canonical frame address) is computed first, from registers alone; it is
// the caller's stack pointer. `.ra` gives the caller's instruction pointer and every other rule
// the caller's value of a register, all of them free to use .cfa. A callee-saved register without
// a rule is unchanged in the caller; a volatile one is unknown there. These are the semantics
// Breakpad's CFIFrameInfo and rust-minidump's breakpad-symbols (sym_file/walker.rs) implement.

// CFIRule is one `register: expression` pair of a STACK CFI row.
type CFIRule struct {
	// Register is ".cfa", ".ra" or a register as the file writes it: "$rbx" on x64, "x29" or
	// "$x29" on ARM64.
	Register string
	// Expr is the postfix expression, e.g. "$rsp 48 +" or ".cfa 8 - ^".
	Expr string
}

// CFIRow is the set of rules in force at an address: a STACK CFI INIT record's rules updated by
// the STACK CFI records at or below the address. Start and Size are the INIT record's range.
type CFIRow struct {
	Start, Size uint32
	Rules       []CFIRule
}

// CFISource looks up a module's call frame information.
type CFISource interface {
	// CFIRow returns the row in force at rva; ok is false when no record covers it.
	CFIRow(rva uint32) (row CFIRow, ok bool)
}

// maxCFIRules bounds the rules of one row: a real row names at most the architecture's registers
// and the two pseudo-registers.
const maxCFIRules = 64

// cfi unwinds an x64 or ARM64 frame with the module's STACK CFI row for its address. A return
// address is looked up one byte back, at the call, as for function tables.
func (w *walker) cfi(callee, _ *Frame) (*candidate, error) {
	lookup := callee.InstructionPointer
	if !callee.Interrupted && lookup > 0 {
		lookup--
	}
	m := w.module(lookup)
	if m == nil || m.CFI == nil || lookup-m.Base > 0xFFFFFFFF {
		return nil, nil
	}
	rva := uint32(lookup - m.Base)
	row, ok := m.CFI.CFIRow(rva)
	if !ok {
		return nil, nil
	}
	regs, err := evalCFIRow(row, callee.Regs, w.mem, w.ptr)
	if err != nil {
		return nil, fmt.Errorf("cfi at RVA %#x: %w", rva, err)
	}
	return &candidate{regs: regs, trust: TrustCFI, functionBegin: row.Start}, nil
}

// evalCFIRow computes the caller's registers from the callee's with a row's rules; width is the
// pointer size. A register rule that cannot be evaluated (memory missing from the dump, .undef)
// leaves that register unknown; .cfa and .ra must evaluate.
func evalCFIRow(row CFIRow, callee Registers, mem Memory, width int) (Registers, error) {
	if len(row.Rules) > maxCFIRules {
		return Registers{}, fmt.Errorf("%d rules (at most %d)", len(row.Rules), maxCFIRules)
	}
	var cfaExpr, raExpr string
	haveCFA, haveRA := false, false
	for _, r := range row.Rules {
		switch r.Register {
		case ".cfa":
			cfaExpr, haveCFA = r.Expr, true
		case ".ra":
			raExpr, haveRA = r.Expr, true
		}
	}
	if !haveCFA {
		return Registers{}, fmt.Errorf("no .cfa rule")
	}
	var cfa uint64
	cfaKnown := false
	env := postfixEnv{
		what:      "CFI rule",
		width:     width,
		mem:       mem,
		bareNames: true,
		lookup: func(name string) (uint64, bool) {
			if name == ".cfa" {
				return cfa, cfaKnown
			}
			if strings.HasPrefix(name, ".") {
				return 0, false // .undef, or a name of the STACK WIN language
			}
			return callee.Get(strings.TrimPrefix(name, "$"))
		},
	}
	var err error
	if cfa, err = env.evalExpr(cfaExpr); err != nil {
		return Registers{}, fmt.Errorf(".cfa: %w", err)
	}
	cfaKnown = true

	caller := callee
	caller.keepCalleeSaved()
	var lr uint64
	lrKnown := false
	for _, r := range row.Rules {
		name := strings.TrimPrefix(r.Register, "$")
		if strings.HasPrefix(name, ".") {
			continue
		}
		i := caller.index(name)
		if i < 0 {
			continue // a register the unwinder does not track (a vector register, say)
		}
		v, err := env.evalExpr(r.Expr)
		if err != nil {
			caller.forget(i)
			continue
		}
		caller.set(i, v)
		if callee.Arch == cpu.ArchARM64 && i == arm64LR {
			lr, lrKnown = v, true
		}
	}

	var ra uint64
	switch {
	case haveRA:
		if ra, err = env.evalExpr(raExpr); err != nil {
			return Registers{}, fmt.Errorf(".ra: %w", err)
		}
	case lrKnown:
		// ARM64 rows may give the caller's x30 instead of .ra: the return goes there.
		ra = lr
	default:
		return Registers{}, fmt.Errorf("no .ra rule")
	}
	if callee.Arch == cpu.ArchARM64 {
		if !lrKnown {
			caller.set(arm64LR, ra) // after the return, lr still holds the return address
		}
		ra = stripPAC(ra)
	}
	caller.set(caller.spIndex(), cfa)
	caller.set(caller.pcIndex(), ra)
	return caller, nil
}
