// Package cpu describes the processors wdbg debugs: their architecture identity and the register
// context records (Windows CONTEXT structures) that user-mode minidumps and kernel dumps store.
//
// The layouts follow ../shared/spec/FORMATS.md §4.4 (x86 CONTEXT 0x2CC bytes, AMD64 CONTEXT 0x4D0
// bytes, ARM64 CONTEXT 0x390 bytes). Decoders never trust the input: a record shorter than the
// part of the layout they need is an error that says how many bytes were expected.
package cpu

import "fmt"

// Arch is a processor architecture as the debugger sees it.
type Arch uint8

const (
	ArchUnknown Arch = iota
	ArchX86
	ArchAMD64
	ArchARM64
	ArchARM
)

// String gives the name WinDbg uses in `.effmach`, prompts and OS lines ("x86", "x64", "ARM64").
func (a Arch) String() string {
	switch a {
	case ArchX86:
		return "x86"
	case ArchAMD64:
		return "x64"
	case ArchARM64:
		return "ARM64"
	case ArchARM:
		return "ARM"
	}
	return "unknown"
}

// PointerSize is the width of an address in bytes (4 or 8).
func (a Arch) PointerSize() int {
	switch a {
	case ArchAMD64, ArchARM64:
		return 8
	}
	return 4
}

// Context is one thread's register state. Concrete types are *X86Context, *AMD64Context and
// *ARM64Context; renderers type-switch on them for architecture-specific layouts.
type Context interface {
	Arch() Arch
	PC() uint64 // instruction pointer: eip, rip, pc
	SP() uint64 // stack pointer: esp, rsp, sp
	FP() uint64 // frame pointer: ebp, rbp, fp (x29)
	// Register looks a register up by name, case-insensitively, including the sub-registers a
	// MASM expression may name (eax/ax/al/ah on x64, w0 on ARM64, efl, and the segment registers).
	Register(name string) (uint64, bool)
	// RegisterNames lists the canonical full-width register names in display order.
	RegisterNames() []string
}

// ShortError reports a CONTEXT record too small for the layout being decoded.
type ShortError struct {
	Arch Arch
	Need int
	Have int
}

func (e *ShortError) Error() string {
	return fmt.Sprintf("%s CONTEXT: truncated (need %d bytes, have %d)", e.Arch, e.Need, e.Have)
}
