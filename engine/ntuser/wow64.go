package ntuser

import (
	"encoding/binary"
	"fmt"
	"strings"

	"wdbg/engine"
	"wdbg/engine/cpu"
)

// WOW64 runs a 32-bit x86 process on 64-bit Windows. The process has both a 64-bit TEB/PEB
// (used by the 64-bit ntdll and the wow64*.dll layer) and 32-bit ones (used by the x86 code), and
// each thread's x86 registers are kept by wow64cpu.dll while the thread runs 64-bit code.

// TEB32Offset is the distance from a WOW64 thread's 64-bit TEB to its 32-bit TEB (FORMATS.md
// §5.1; on the WOW64 fixture TEB64.NtTib.ExceptionList holds the same address, as Microsoft's
// "Thread Environment Block (Debugging Notes)" says it does for Vista–8.1, and TEB32.WowTebOffset
// is -0x2000).
const TEB32Offset = 0x2000

// TEB32Address is the 32-bit TEB of the WOW64 thread whose 64-bit TEB is at teb64.
func TEB32Address(teb64 uint64) uint64 { return teb64 + TEB32Offset }

// wow64Modules are the images that only a WOW64 process loads (64-bit side of the WOW64 layer).
var wow64Modules = []string{"wow64.dll", "wow64cpu.dll", "wow64win.dll"}

// IsWOW64 reports whether a user-mode dump of an x64 machine holds a 32-bit x86 process running
// under WOW64: it has the WOW64 layer's DLLs loaded, or its main image (the first module) is a
// 32-bit PE image according to the headers in the dump's memory.
func IsWOW64(t *engine.Target) bool {
	if t == nil || t.Arch != cpu.ArchAMD64 || t.Kind.IsKernel() {
		return false
	}
	for i := range t.Modules {
		name := strings.ToLower(t.Modules[i].ImageName)
		if name == "" {
			name = strings.ToLower(baseName(t.Modules[i].Path))
		}
		for _, w := range wow64Modules {
			if name == w {
				return true
			}
		}
	}
	if len(t.Modules) > 0 && t.Memory != nil {
		if m, ok := ImageMachine(t.Memory, t.Modules[0].Base); ok && m == machineI386 {
			return true
		}
	}
	return false
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// PE header facts (Microsoft PE/COFF specification): e_lfanew at 0x3C of the DOS header, then the
// "PE\0\0" signature, then IMAGE_FILE_HEADER.Machine.
const machineI386 = 0x14c

// ImageMachine reads IMAGE_FILE_HEADER.Machine of the image mapped at base, when its headers are
// in the dump.
func ImageMachine(mem engine.Memory, base uint64) (uint16, bool) {
	var dos [0x40]byte
	if engine.ReadFull(mem, dos[:], base) != nil || dos[0] != 'M' || dos[1] != 'Z' {
		return 0, false
	}
	lfanew := binary.LittleEndian.Uint32(dos[0x3c:])
	if lfanew > 0x10000 { // headers live in the first page or so; a larger offset is garbage
		return 0, false
	}
	var nt [6]byte
	if engine.ReadFull(mem, nt[:], base+uint64(lfanew)) != nil || string(nt[:4]) != "PE\x00\x00" {
		return 0, false
	}
	return binary.LittleEndian.Uint16(nt[4:]), true
}

// Code segment selectors of 64-bit Windows for user mode: 0x23 selects the 32-bit compatibility
// mode code segment, 0x33 the 64-bit one (public `dg` captures: 0023 "Code RE ... Bg" 32b compat,
// 0033 "Mode: 64b"). A WOW64 thread whose native context has CS 0x23 was running x86 code.
const selectorCompatCode = 0x23

// RunningX86 reports whether a native x64 context was captured while the thread ran 32-bit code
// (CS selects the compatibility-mode code segment).
func RunningX86(native cpu.Context) bool {
	a, ok := native.(*cpu.AMD64Context)
	return ok && a.SegCs == selectorCompatCode
}

// wow64TLSCPUReserved is TlsSlots[1] of the 64-bit TEB: it points to the CPU simulator's per-thread
// area (WOW64_TLS_CPURESERVED). Microsoft's WOW64_CONTEXT documentation says slot 1 points to a
// structure holding the WOW64_CONTEXT at offset 4 (Vista through 8.1). On Windows 10 the area is
// WOW64_CPURESERVED {USHORT Flags; USHORT Machine} followed by the context, still at offset 4:
// checked on kdlibcpp's targetapp_stacktest_wow64 dump (build 17134: Machine 0x14c at +2,
// ContextFlags 0x1003f at +4), and the same +4 is used by drakvuf's WOW64 support (PR #653).
const (
	wow64TLSCPUReserved  = 1
	wow64ContextOffset   = 4
	x86ContextSize       = 0x2CC // FORMATS.md §4.4
	x86ContextMinimum    = 0xCC  // through SegSs: what the decoder needs
	contextFlagI386      = 0x00010000
	contextFlagsI386Full = contextFlagI386 | 0x1 | 0x2 | 0x4 | 0x10 // CONTROL, INTEGER, SEGMENTS, DEBUG_REGISTERS
)

// WOW64Context is the x86 register context of a thread of a WOW64 process: what WinDbg shows after
// `.effmach x86`. See WOW64ContextOf.
func WOW64Context(t *engine.Target, th *engine.Thread) (cpu.Context, error) {
	if th == nil {
		return nil, fmt.Errorf("ntuser: no thread")
	}
	return WOW64ContextOf(t, th.TEB, th.Context)
}

// WOW64ContextOf derives the x86 context of a WOW64 thread from its native (x64) context and its
// 64-bit TEB. When the native context was captured in 32-bit code (CS 0x23), its low halves are
// the x86 registers. Otherwise the thread was in the 64-bit WOW64 layer and its x86 registers are
// the ones wow64cpu saved (TlsSlots[1] + 4 of the 64-bit TEB).
func WOW64ContextOf(t *engine.Target, teb64 uint64, native cpu.Context) (cpu.Context, error) {
	if !IsWOW64(t) {
		return nil, fmt.Errorf("ntuser: not a WOW64 process")
	}
	if RunningX86(native) {
		return X86FromAMD64(native.(*cpu.AMD64Context))
	}
	return SavedX86Context(t.Memory, teb64)
}

// SavedX86Context reads the x86 context that wow64cpu keeps for the thread whose 64-bit TEB is at
// teb64.
func SavedX86Context(mem engine.Memory, teb64 uint64) (cpu.Context, error) {
	area, err := TLSSlot(mem, teb64, 8, wow64TLSCPUReserved)
	if err != nil {
		return nil, fmt.Errorf("ntuser: WOW64 CPU area pointer (TEB %s TlsSlots[1]): %w", hex(teb64), err)
	}
	if area == 0 {
		return nil, fmt.Errorf("ntuser: thread with TEB %s has no WOW64 CPU area (TlsSlots[1] is NULL)", hex(teb64))
	}
	at := area + wow64ContextOffset
	b := make([]byte, x86ContextSize)
	n, _ := mem.ReadAt(b, at)
	if n < x86ContextMinimum {
		return nil, fmt.Errorf("ntuser: WOW64 x86 context at %s: %w", hex(at), &engine.ReadError{Addr: at + uint64(n)})
	}
	if binary.LittleEndian.Uint32(b)&contextFlagI386 == 0 {
		return nil, fmt.Errorf("ntuser: no x86 context at %s (ContextFlags %#x lacks CONTEXT_i386)", hex(at), binary.LittleEndian.Uint32(b))
	}
	if n < x86ContextSize {
		b = b[:x86ContextMinimum] // a partial extended area would decode as garbage
	}
	return cpu.Decode(cpu.ArchX86, b)
}

// X86FromAMD64 converts a native context captured while a WOW64 thread ran x86 code (CS 0x23) to
// its x86 view: the low 32 bits of the general registers, the selectors, EFLAGS and the debug
// registers. Floating-point state is not carried over.
func X86FromAMD64(a *cpu.AMD64Context) (cpu.Context, error) {
	b := make([]byte, x86ContextMinimum)
	put := func(off int, v uint64) { binary.LittleEndian.PutUint32(b[off:], uint32(v)) }
	// x86 CONTEXT offsets, FORMATS.md §4.4.
	put(0x00, contextFlagsI386Full)
	put(0x04, a.Dr0)
	put(0x08, a.Dr1)
	put(0x0C, a.Dr2)
	put(0x10, a.Dr3)
	put(0x14, a.Dr6)
	put(0x18, a.Dr7)
	put(0x8C, uint64(a.SegGs))
	put(0x90, uint64(a.SegFs))
	put(0x94, uint64(a.SegEs))
	put(0x98, uint64(a.SegDs))
	put(0x9C, a.Rdi)
	put(0xA0, a.Rsi)
	put(0xA4, a.Rbx)
	put(0xA8, a.Rdx)
	put(0xAC, a.Rcx)
	put(0xB0, a.Rax)
	put(0xB4, a.Rbp)
	put(0xB8, a.Rip)
	put(0xBC, uint64(a.SegCs))
	put(0xC0, uint64(a.EFlags))
	put(0xC4, a.Rsp)
	put(0xC8, uint64(a.SegSs))
	return cpu.Decode(cpu.ArchX86, b)
}
