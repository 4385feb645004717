// Package unwind walks thread stacks of Windows x64, ARM64 and x86 targets and says, for every
// frame, how it was found.
//
// The unwinders follow ../shared/spec/FORMATS.md §8 and the public Microsoft documents it cites:
//   - x64 (x64_*.go): RUNTIME_FUNCTION / UNWIND_INFO / UNWIND_CODE from the image's .pdata and
//     .xdata, undone the way RtlVirtualUnwind does it: partial prologs, chained entries, machine
//     frames, epilogues recognised by decoding the code at RIP (version 1) or by UWOP_EPILOG
//     descriptors (version 2), and leaf functions without an entry.
//   - ARM64 (arm64_*.go): packed .pdata words and .xdata records ("ARM64 exception
//     handling"), with prolog/epilog scopes, save_next, chained (flag 3) entries, PAC stripping
//     and the custom trap/machine/context frames.
//   - Breakpad STACK CFI rows (cfi.go), for x64 and ARM64 modules whose image, and so whose
//     .pdata, is missing but whose .sym file is at hand: consulted after the function table and
//     before the frame pointer and the scan.
//   - x86 (x86_unwind.go): FPO_DATA and FRAMEDATA records (or breakpad STACK WIN lines, which
//     carry the same fields) with a bounded postfix evaluator for their program strings; the
//     EBP chain; a stack scan as the last resort.
//
// The package reads no files and knows no PE or PDB layout beyond the unwind records: the caller
// supplies each module's function table (UnwindSource, see NewFunctionTable), x86 frame records
// (X86FrameInfo) and CFI rows (CFISource), so that the PE, PDB and breakpad readers stay
// independent of it. One postfix evaluator (postfix.go) serves FRAMEDATA programs and CFI rules.
//
// Nothing read from a dump is trusted. Every read is bounds-checked, chains and loops are
// bounded, a program string may run a fixed number of steps, and a walk stops at MaxFrames, at a
// repeated frame, when the stack pointer stops growing or when the context is cancelled. Each
// Frame carries its Trust (context, unwind info, cfi, FPO, frame pointer, scan) and a Note when the
// walker had to guess, so that callers such as !analyze can weigh the frames.
package unwind
