package commands

// Disassembly in WinDbg's layout (WINDBG-SPEC §3.12 for `u`, §3.9 for the current-instruction line of
// `r`). Decoding is golang.org/x/arch's (x86asm, arm64asm); the text is ours, written to match public
// captures of WinDbg and cdb output. disasm_x86.go renders x86/x64 in WinDbg's MASM-flavoured Intel
// syntax, disasm_aarch64.go renders ARM64 as Microsoft's disassembler does (not "_arm64.go": Go would
// read that suffix as a build constraint). The captures each rule comes from are cited in
// testdata/disasm.txt, which is the test of this file and its two siblings.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"wdbg/engine"
	"wdbg/engine/cpu"
)

// Instruction is one decoded instruction as WinDbg shows it.
type Instruction struct {
	Addr  uint64
	Bytes []byte // the instruction's encoding; nil when the memory could not be read
	// Text is the mnemonic padded to 8 columns followed by the operands, as WinDbg prints it after
	// a 16-character opcode field: "mov     dword ptr [ebp-4],eax", "ret". ARM64 pads to 12.
	Text string
	Len  int

	Arch     cpu.Arch
	Mnemonic string // "mov", "rep stos", "lock xadd", "ldr"
	Operands string // "dword ptr [ebp-4],eax"

	// Target is the destination of a direct branch or call (HasTarget), for callers that follow
	// control flow (uf, k) and for the branch annotation of `r`.
	Target    uint64
	HasTarget bool

	// Invalid is set when the bytes are not an instruction the decoder knows: Text is "???".
	Invalid bool
	// Unreadable is set when the instruction's memory is not in the dump: the line shows "??".
	Unreadable bool

	mem *memOperand // the explicit memory operand, for the effective-address annotation
	x86 *x86Detail  // x86/x64 facts the annotation needs (condition of a jcc)
}

// memOperand is an explicit memory operand: seg:[base+index*scale+disp] or an absolute address.
type memOperand struct {
	segment  string // "ds", "ss", "fs", "gs", ... ("" on ARM64)
	base     string // register names as cpu.Context.Register knows them
	index    string
	scale    uint64
	disp     int64
	absolute bool // disp is the address (rip-relative already resolved, or an x86 moffs)
	size     int  // bytes accessed; 0 when unknown
	noAccess bool // lea, nop, prefetch: the operand is an address, memory is not read
}

// ErrTruncatedInstruction reports code that ends inside an instruction.
var ErrTruncatedInstruction = errors.New("instruction truncated: more code bytes are needed")

// MaxInstructionLen is the most bytes one instruction can take on any supported architecture
// (x86: 15). Callers read this much code (or what memory allows) before calling Disassemble.
const MaxInstructionLen = 15

// Disassemble decodes the instruction at the start of code, which is located at addr. symbolize
// turns an address into "module!name+0x1f" (or "module+0x1f"), or "" when it knows no name; it may
// be nil. Bytes that are no instruction give an Instruction with Invalid set and Text "???" (one
// byte long on x86, four on ARM64), as WinDbg shows them. The error is ErrTruncatedInstruction when
// code is too short to tell, or an error naming an architecture that has no disassembler.
func Disassemble(arch cpu.Arch, code []byte, addr uint64, symbolize func(uint64) string) (Instruction, error) {
	if symbolize == nil {
		symbolize = func(uint64) string { return "" }
	}
	switch arch {
	case cpu.ArchX86:
		return disassembleX86(code, addr, 32, symbolize)
	case cpu.ArchAMD64:
		return disassembleX86(code, addr, 64, symbolize)
	case cpu.ArchARM64:
		return disassembleARM64(code, addr, symbolize)
	}
	return Instruction{}, fmt.Errorf("no disassembler for %s code", arch)
}

// UnreadableInstruction is the line WinDbg prints for code it cannot read (WINDBG-SPEC §1.3):
// `00000000`00000020 ??              ???`. It stands for one byte on x86 (the next line is the next
// address) and one instruction word on ARM64.
func UnreadableInstruction(arch cpu.Arch, addr uint64) Instruction {
	n := 1
	if arch == cpu.ArchARM64 {
		n = 4
	}
	return Instruction{Addr: addr, Arch: arch, Len: n, Text: "???", Mnemonic: "???", Invalid: true,
		Unreadable: true}
}

// invalidInstruction is readable code that does not decode.
func invalidInstruction(arch cpu.Arch, code []byte, addr uint64, n int) Instruction {
	return Instruction{Addr: addr, Arch: arch, Bytes: append([]byte(nil), code[:n]...), Len: n,
		Text: "???", Mnemonic: "???", Invalid: true}
}

// opcodeField is the width of the opcode-bytes column on x86/x64, separating blank included: the
// mnemonic starts in column 16 and the operands in column 24 (`4883ec28        sub     rsp,28h`).
// Captures of longer encodings show the mnemonic one blank after the bytes and the operands in
// column 25, or one blank after a mnemonic that reaches it (`668381e401000001 add     word ptr
// [rcx+1E4h],1`, `65488b0c2588010000 mov   rcx,qword ptr gs:[188h]`, `48b87ecb928bcecf0000 mov
// rax,0CFCE8B92CB7Eh`; testdata/disasm.txt cites them).
const opcodeField = 16

// FormatInstructionLine renders one instruction as `u` prints it (WINDBG-SPEC §3.12):
//
//	00007ff8`30b269a2 f3410f6f01      movdqu  xmm0,xmmword ptr [r9]
//	00000001`80243814 a9bc7bfd stp         fp,lr,[sp,#-0x40]!
//
// the address (backtick on 64-bit), the opcode bytes (x86: hex bytes left-justified in a 16-character
// field; ARM64: the 32-bit instruction word), then the mnemonic and operands.
func FormatInstructionLine(in Instruction, ptrSize int) string {
	addr := FormatAddr(in.Addr, ptrSize)
	if in.Unreadable {
		return addr + " " + padTo("??", opcodeField) + "???"
	}
	if in.Arch == cpu.ArchARM64 {
		word := "????????"
		if len(in.Bytes) == 4 {
			word = fmt.Sprintf("%08x", arm64Word32(in.Bytes))
		}
		return addr + " " + word + " " + in.Text
	}
	var b strings.Builder
	hexBytes := fmt.Sprintf("%x", in.Bytes)
	operandCol := 24
	if len(hexBytes) < opcodeField {
		b.WriteString(padTo(hexBytes, opcodeField))
	} else {
		b.WriteString(hexBytes + " ")
		operandCol = 25
	}
	b.WriteString(in.Mnemonic)
	if in.Operands != "" {
		b.WriteByte(' ')
		for b.Len() < operandCol {
			b.WriteByte(' ')
		}
		b.WriteString(in.Operands)
	}
	return addr + " " + b.String()
}

// joinText builds Instruction.Text: the mnemonic padded to width-1 columns and a blank, then the
// operands; a lone mnemonic has no trailing blanks (`ret`, `pacibsp`).
func joinText(mnemonic, operands string, width int) string {
	if operands == "" {
		return mnemonic
	}
	return padTo(mnemonic, width-1) + " " + operands
}

func padTo(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

// masmHex writes a number as WinDbg's disassembler does (MASM style): values below ten as one
// decimal digit (`mov ecx,1`, `[rsp+8]`), others as uppercase hex with an `h` suffix and a leading
// 0 when the first digit is a letter (`sub rsp,28h`, `mov ecx,0C0000001h`, `0FFFFFFFFFFFFFFFFh`).
func masmHex(v uint64) string {
	if v < 10 {
		return strconv.FormatUint(v, 10)
	}
	s := strings.ToUpper(strconv.FormatUint(v, 16))
	if s[0] >= 'A' {
		s = "0" + s
	}
	return s + "h"
}

// masmPadded writes an address-sized number zero-padded to digits, MASM style: the moffs forms of
// x86 `mov` show their full 32-bit offset (`mov eax,dword ptr fs:[00000018h]`).
func masmPadded(v uint64, digits int) string {
	s := strings.ToUpper(fmt.Sprintf("%0*x", digits, v))
	if s[0] >= 'A' {
		s = "0" + s
	}
	return s + "h"
}

// symbolicAddress is how branch targets and resolved memory operands appear: `symbol (address)`
// when the symbolizer knows the address, else the bare address (backtick-split on 64-bit).
func symbolicAddress(addr uint64, ptrSize int, symbolize func(uint64) string) string {
	a := FormatAddr(addr, ptrSize)
	if s := symbolize(addr); s != "" {
		return s + " (" + a + ")"
	}
	return a
}

// The current-instruction line of `r`, `.ecxr` and `.cxr` (WINDBG-SPEC §3.9) is the `u` line plus
// what the instruction is about to touch:
//
//	00007ff8`30b269a2 f3410f6f01      movdqu  xmm0,xmmword ptr [r9] ds:00000001`00000000=????????????????
//	7698431b 64a118000000    mov     eax,dword ptr fs:[00000018h] fs:003b:00000018=00e1a000
//	769843e5 0f8830ffffff    js      coml2!DfCreateDocfile+0xd6 (7698431b)   [br=1]
//
// (public captures: the spec's x64 example, a WOW64 coml2 stepping session, KiTrap0E in a kernel
// session). The address is the operand's offset in its segment; x86 adds the segment selector; the
// value is shown in the operand's size up to 8 bytes, as `?` when the dump does not hold it.

// FormatCurrentInstruction renders the current-instruction line: FormatInstructionLine plus the
// effective-address or branch annotation. teb is the thread's TEB, the base of fs (x86) and gs
// (x64) in user mode; 0 when unknown. ARM64 lines carry no annotation (no capture seen).
func FormatCurrentInstruction(in Instruction, ptrSize int, ctx cpu.Context, mem engine.Memory, teb uint64) string {
	line := FormatInstructionLine(in, ptrSize)
	if ann := instructionAnnotation(in, ctx, mem, teb); ann != "" {
		if strings.HasPrefix(ann, "[br=") {
			return line + "   " + ann
		}
		return line + " " + ann
	}
	return line
}

func instructionAnnotation(in Instruction, ctx cpu.Context, mem engine.Memory, teb uint64) string {
	if ctx == nil || in.x86 == nil || in.Invalid {
		return ""
	}
	if taken, ok := branchTaken(in.x86, ctx); ok {
		if taken {
			return "[br=1]"
		}
		return "[br=0]"
	}
	mo := in.mem
	if mo == nil || mo.noAccess {
		return ""
	}
	addr := uint64(mo.disp)
	if !mo.absolute {
		if mo.base != "" {
			v, ok := ctx.Register(mo.base)
			if !ok {
				return ""
			}
			addr += v
		}
		if mo.index != "" {
			v, ok := ctx.Register(mo.index)
			if !ok {
				return ""
			}
			scale := mo.scale
			if scale == 0 {
				scale = 1
			}
			addr += v * scale
		}
	}
	seg := mo.segment
	if seg == "" {
		seg = "ds"
		if b := mo.base; b == "esp" || b == "ebp" || b == "rsp" || b == "rbp" || b == "sp" || b == "bp" {
			seg = "ss"
		}
	}
	size := mo.size
	if size <= 0 || size > 8 {
		size = 8
	}
	// The value is read at the linear address: fs on x86 and gs on x64 are based at the TEB.
	linear := addr
	x86 := in.x86.mode != 64
	if x86 {
		addr = uint64(uint32(addr))
		linear = addr
	}
	if (x86 && seg == "fs") || (!x86 && seg == "gs") {
		linear = teb + addr
		if teb == 0 {
			mem = nil
		}
	} else if !x86 && seg == "fs" {
		mem = nil // fs has no user-mode base on x64
	}
	value := strings.Repeat("?", 2*size)
	if mem != nil {
		var buf [8]byte
		if err := engine.ReadFull(mem, buf[:size], linear); err == nil {
			var v uint64
			for i := size - 1; i >= 0; i-- {
				v = v<<8 | uint64(buf[i])
			}
			value = fmt.Sprintf("%0*x", 2*size, v)
		}
	}
	if x86 {
		sel, _ := ctx.Register(seg)
		return fmt.Sprintf("%s:%04x:%08x=%s", seg, uint16(sel), uint32(addr), value)
	}
	return fmt.Sprintf("%s:%s=%s", seg, FormatAddr(addr, 8), value)
}

// branchTaken evaluates a conditional branch against the flags and counter of ctx, for the
// `[br=1]` annotation; ok is false for other instructions.
func branchTaken(d *x86Detail, ctx cpu.Context) (taken, ok bool) {
	efl, haveFlags := ctx.Register("efl")
	flag := func(bit uint) bool { return efl>>bit&1 == 1 }
	cf, pf, zf, sf, of := flag(0), flag(2), flag(6), flag(7), flag(11)
	counter := func() (uint64, bool) {
		switch d.addrSize {
		case 16:
			return ctx.Register("cx")
		case 64:
			return ctx.Register("rcx")
		}
		return ctx.Register("ecx")
	}
	switch d.op {
	case x86asm.JCXZ, x86asm.JECXZ, x86asm.JRCXZ:
		c, ok := counter()
		return c == 0, ok
	case x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE:
		c, ok := counter()
		if !ok || !haveFlags {
			return false, false
		}
		more := c != 1 // the counter is decremented first
		switch d.op {
		case x86asm.LOOPE:
			return more && zf, true
		case x86asm.LOOPNE:
			return more && !zf, true
		}
		return more, true
	}
	if !haveFlags {
		return false, false
	}
	switch d.op {
	case x86asm.JO:
		return of, true
	case x86asm.JNO:
		return !of, true
	case x86asm.JB:
		return cf, true
	case x86asm.JAE:
		return !cf, true
	case x86asm.JE:
		return zf, true
	case x86asm.JNE:
		return !zf, true
	case x86asm.JBE:
		return cf || zf, true
	case x86asm.JA:
		return !cf && !zf, true
	case x86asm.JS:
		return sf, true
	case x86asm.JNS:
		return !sf, true
	case x86asm.JP:
		return pf, true
	case x86asm.JNP:
		return !pf, true
	case x86asm.JL:
		return sf != of, true
	case x86asm.JGE:
		return sf == of, true
	case x86asm.JLE:
		return zf || sf != of, true
	case x86asm.JG:
		return !zf && sf == of, true
	}
	return false, false
}
