// Package ntuser reads the Windows user-mode structures of a process from a target's memory: the
// TEB, the PEB, the loader's module list (PEB_LDR_DATA and LDR_DATA_TABLE_ENTRY), the process
// parameters (RTL_USER_PROCESS_PARAMETERS with its UNICODE_STRINGs and environment block), and the
// 32-bit structures and register context that WOW64 keeps for a 32-bit process on 64-bit Windows.
//
// Field offsets come from ../shared/spec/FORMATS.md §5 (per pointer size and, where a field moved
// or appeared, per build); each offset is cited beside its value in layout.go.
//
// The readers never trust the target's memory: a field the dump does not hold is returned as an
// invalid Value, not as an error, so that a caller can print what is there; list walks are bounded
// and stop at the first cycle; strings and the environment block are read with size caps. The
// package returns values and never prints.
package ntuser
