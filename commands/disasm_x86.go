package commands

// x86 and x64 instructions in WinDbg's text (WINDBG-SPEC §3.12). The decoder is x86asm; every
// choice below (names, number style, which segment is shown, how addresses are resolved) follows a
// public capture cited in testdata/disasm.txt. What no capture settled is marked "unverified".

import (
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"wdbg/engine/cpu"
)

// x86Detail keeps what the effective-address and branch annotations of `r` need.
type x86Detail struct {
	op       x86asm.Op
	mode     int
	addrSize int
}

// x86Formatter renders one decoded instruction.
type x86Formatter struct {
	inst      x86asm.Inst
	addr      uint64
	mode      int
	ptrSize   int
	symbolize func(uint64) string
	out       *Instruction
}

func disassembleX86(code []byte, addr uint64, mode int, symbolize func(uint64) string) (in Instruction, err error) {
	arch := cpu.ArchX86
	if mode == 64 {
		arch = cpu.ArchAMD64
	}
	if len(code) == 0 {
		return Instruction{}, ErrTruncatedInstruction
	}
	if len(code) > MaxInstructionLen {
		code = code[:MaxInstructionLen]
	}
	// CET's end-branch markers are newer than the decoder; WinDbg names them.
	if len(code) >= 4 && code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && (code[3] == 0xfa || code[3] == 0xfb) {
		name := "endbr64"
		if code[3] == 0xfb {
			name = "endbr32"
		}
		return Instruction{Addr: addr, Arch: arch, Bytes: append([]byte(nil), code[:4]...), Len: 4,
			Mnemonic: name, Text: name}, nil
	}
	inst, ok := decodeX86(code, mode)
	if !ok {
		if len(code) < MaxInstructionLen {
			// Short code may only be cut off: decode it padded, and if the instruction then runs past
			// the bytes we have, the caller must read more before anything can be said.
			padded := make([]byte, MaxInstructionLen)
			copy(padded, code)
			if p, ok := decodeX86(padded, mode); ok && p.Len > len(code) {
				return Instruction{}, ErrTruncatedInstruction
			}
		}
		return invalidInstruction(arch, code, addr, 1), nil
	}
	f := &x86Formatter{inst: inst, addr: addr, mode: mode, ptrSize: mode / 8, symbolize: symbolize,
		out: &Instruction{Addr: addr, Arch: arch, Len: inst.Len, Bytes: append([]byte(nil), code[:inst.Len]...),
			x86: &x86Detail{op: inst.Op, mode: mode, addrSize: inst.AddrSize}}}
	f.out.Mnemonic = f.mnemonic()
	f.out.Operands = strings.Join(f.operands(), ",")
	f.out.Text = joinText(f.out.Mnemonic, f.out.Operands, 8)
	return *f.out, nil
}

// decodeX86 decodes one instruction; ok is false for anything that is not a whole instruction. The
// decoder has been fuzzed upstream, but a panic on hostile bytes must still not escape: a dump's
// code is input like any other.
func decodeX86(code []byte, mode int) (inst x86asm.Inst, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	inst, err := x86asm.Decode(code, mode)
	if err != nil || inst.Op == 0 || inst.Len <= 0 || inst.Len > len(code) {
		return inst, false
	}
	return inst, true
}

// stringOps maps the string instructions to WinDbg's mnemonic and operand size: `rep stos dword ptr
// [rdi]`, `repne scas word ptr [rdi]`, `outs dx,byte ptr [rsi]`.
var stringOps = map[x86asm.Op]struct {
	name string
	size int
}{
	x86asm.MOVSB: {"movs", 1}, x86asm.MOVSW: {"movs", 2}, x86asm.MOVSD: {"movs", 4}, x86asm.MOVSQ: {"movs", 8},
	x86asm.CMPSB: {"cmps", 1}, x86asm.CMPSW: {"cmps", 2}, x86asm.CMPSD: {"cmps", 4}, x86asm.CMPSQ: {"cmps", 8},
	x86asm.STOSB: {"stos", 1}, x86asm.STOSW: {"stos", 2}, x86asm.STOSD: {"stos", 4}, x86asm.STOSQ: {"stos", 8},
	x86asm.LODSB: {"lods", 1}, x86asm.LODSW: {"lods", 2}, x86asm.LODSD: {"lods", 4}, x86asm.LODSQ: {"lods", 8},
	x86asm.SCASB: {"scas", 1}, x86asm.SCASW: {"scas", 2}, x86asm.SCASD: {"scas", 4}, x86asm.SCASQ: {"scas", 8},
	x86asm.INSB: {"ins", 1}, x86asm.INSW: {"ins", 2}, x86asm.INSD: {"ins", 4},
	x86asm.OUTSB: {"outs", 1}, x86asm.OUTSW: {"outs", 2}, x86asm.OUTSD: {"outs", 4},
}

// x86Names are the mnemonics that are not simply the decoder's name in lower case.
var x86Names = map[x86asm.Op]string{
	x86asm.MOVSD_XMM: "movsd",
	x86asm.LRET:      "retf",
	x86asm.LCALL:     "call",
	x86asm.LJMP:      "jmp",
	x86asm.XLATB:     "xlat",
	x86asm.ICEBP:     "int1",
}

func (f *x86Formatter) mnemonic() string {
	op := f.inst.Op
	name := strings.ToLower(op.String())
	if s, ok := stringOps[op]; ok {
		name = s.name
	} else if n, ok := x86Names[op]; ok {
		name = n
	} else if op == x86asm.NOP && f.inst.Opcode>>24 == 0x90 && f.inst.DataSize == 16 {
		name = "xchg" // 66 90 is shown as what it encodes: xchg ax,ax (unverified)
	}
	var prefixes []string
	for _, p := range f.inst.Prefix {
		if p == 0 {
			break
		}
		_, isString := stringOps[op]
		switch p &^ (x86asm.PrefixImplicit | x86asm.PrefixIgnored | x86asm.PrefixInvalid) {
		case x86asm.PrefixLOCK:
			prefixes = append(prefixes, "lock") // `lock xadd dword ptr [rcx+18h],eax`
		case x86asm.PrefixREP:
			// F3 is also the mandatory prefix of SSE instructions (movdqu): only string
			// instructions and `rep ret` show it.
			switch {
			case op == x86asm.CMPSB || op == x86asm.CMPSW || op == x86asm.CMPSD || op == x86asm.CMPSQ ||
				op == x86asm.SCASB || op == x86asm.SCASW || op == x86asm.SCASD || op == x86asm.SCASQ:
				prefixes = append(prefixes, "repe")
			case isString || op == x86asm.RET:
				prefixes = append(prefixes, "rep")
			}
		case x86asm.PrefixREPN:
			if isString {
				prefixes = append(prefixes, "repne")
			}
		}
	}
	return strings.Join(append(prefixes, name), " ")
}

func (f *x86Formatter) operands() []string {
	inst := &f.inst
	op := inst.Op
	var args []x86asm.Arg
	for _, a := range inst.Args {
		if a == nil {
			break
		}
		args = append(args, a)
	}
	if s, ok := stringOps[op]; ok {
		return f.stringOperands(args, s.size)
	}
	switch {
	case op == x86asm.INT && inst.Opcode>>24 == 0xcc:
		return []string{"3"}
	case op == x86asm.NOP && inst.Opcode>>24 == 0x90 && inst.DataSize == 16:
		return []string{"ax", "ax"}
	case (op == x86asm.LJMP || op == x86asm.LCALL) && len(args) == 2:
		// jmp 0033:58787009 (public capture of a WOW64 transition)
		seg, _ := args[0].(x86asm.Imm)
		off, _ := args[1].(x86asm.Imm)
		digits := 8
		if inst.DataSize == 16 {
			digits = 4
		}
		return []string{fmt.Sprintf("%04x:%0*x", uint16(seg), digits, uint64(off)&mask(digits*4))}
	case isFPU(op):
		args = fpuArgs(op, args)
	}
	var out []string
	for i, a := range args {
		out = append(out, f.arg(a, i, args))
	}
	return out
}

// stringOperands shows the explicit memory operands of a string instruction. On x86 the
// destination is es:[edi] (`rep stos dword ptr es:[edi]`); on x64 no segment is shown
// (`rep stos dword ptr [rdi]`), as in the captures.
func (f *x86Formatter) stringOperands(args []x86asm.Arg, size int) []string {
	op := f.inst.Op
	var out []string
	for _, a := range args {
		switch a := a.(type) {
		case x86asm.Mem:
			seg := ""
			if f.mode != 64 && (a.Base == x86asm.EDI || a.Base == x86asm.DI) {
				seg = "es:"
			} else if a.Segment == x86asm.FS || a.Segment == x86asm.GS || (f.mode != 64 &&
				a.Segment != 0 && a.Segment != x86asm.DS && a.Segment != x86asm.ES) {
				seg = x86RegName(a.Segment) + ":"
			}
			out = append(out, sizeWord(size)+seg+"["+x86RegName(a.Base)+"]")
			f.out.mem = &memOperand{segment: strings.TrimSuffix(seg, ":"), base: x86RegName(a.Base), size: size}
		case x86asm.Reg:
			// stos/lods/scas name their accumulator only through the size; ins/outs show dx.
			if op == x86asm.INSB || op == x86asm.INSW || op == x86asm.INSD ||
				op == x86asm.OUTSB || op == x86asm.OUTSW || op == x86asm.OUTSD {
				out = append(out, x86RegName(a))
			}
		}
	}
	return out
}

func (f *x86Formatter) arg(a x86asm.Arg, i int, args []x86asm.Arg) string {
	switch a := a.(type) {
	case x86asm.Reg:
		return x86RegName(a)
	case x86asm.Imm:
		return f.imm(a, i, args)
	case x86asm.Rel:
		target := f.addr + uint64(f.inst.Len) + uint64(int64(a))
		if f.mode != 64 {
			target = uint64(uint32(target))
		}
		if f.inst.DataSize == 16 {
			target &= 0xffff // an operand-size prefix truncates the target (captured `6670cc jo 00000000`0000c664`)
		}
		f.out.Target, f.out.HasTarget = target, true
		return symbolicAddress(target, f.ptrSize, f.symbolize)
	case x86asm.Mem:
		return f.memArg(a, args)
	}
	return strings.ToLower(fmt.Sprint(a))
}

// imm writes an immediate in the width WinDbg shows it: the operand size for most instructions, so
// that sign-extended bytes read `or rcx,0FFFFFFFFFFFFFFFFh` and `add esp,0FFFFFFACh`, but a byte for
// shift counts, bit numbers, interrupt vectors, ports and the selectors of SSE instructions.
func (f *x86Formatter) imm(a x86asm.Imm, i int, args []x86asm.Arg) string {
	inst := &f.inst
	bits := inst.DataSize
	switch op := inst.Op; op {
	case x86asm.RET, x86asm.LRET:
		bits = 16
	case x86asm.ENTER:
		bits = 16
		if i == 1 {
			bits = 8
		}
	case x86asm.INT, x86asm.IN, x86asm.OUT, x86asm.AAM, x86asm.AAD,
		x86asm.SHL, x86asm.SHR, x86asm.SAR, x86asm.ROL, x86asm.ROR, x86asm.RCL, x86asm.RCR,
		x86asm.SHLD, x86asm.SHRD, x86asm.BT, x86asm.BTS, x86asm.BTR, x86asm.BTC:
		bits = 8
	case x86asm.PUSH:
		if f.mode == 64 && inst.DataSize != 16 {
			bits = 64 // a push in 64-bit mode pushes 8 bytes, sign-extended
		}
	default:
		if hasVectorReg(args) {
			bits = 8
		} else if len(args) > 0 && i > 0 {
			switch d := args[0].(type) {
			case x86asm.Reg:
				if n := x86RegBits(d); n != 0 {
					bits = n
				}
			case x86asm.Mem:
				if inst.MemBytes > 0 && inst.MemBytes <= 8 {
					bits = inst.MemBytes * 8
				}
			}
		}
	}
	if bits <= 0 || bits > 64 {
		bits = 32
	}
	v := uint64(a) & mask(bits)
	// An address pushed or moved on x86 is shown by name: `push offset kernel32!`string'+0x40
	// (7c81c0d0)`, `mov edx,offset ntdll!Wow64SystemServiceCall (77ad8e00)` (captures).
	if f.mode == 32 && bits == 32 && (inst.Op == x86asm.PUSH || inst.Op == x86asm.MOV) {
		if s := f.symbolize(v); s != "" {
			return "offset " + s + " (" + FormatAddr(v, 4) + ")"
		}
	}
	return masmHex(v)
}

// memArg writes a memory operand: `dword ptr [ebp-4]`, `qword ptr gs:[188h]`,
// `qword ptr [KERNEL32!_imp_CreateRemoteThreadEx (00007ffa`7f752c50)]`, `dword ptr ds:[0FFDF0304h]`.
func (f *x86Formatter) memArg(m x86asm.Mem, args []x86asm.Arg) string {
	inst := &f.inst
	size := f.memSize(args)
	prefix := sizeWord(size)
	if size == 8 && hasVectorReg(args) {
		switch inst.Op {
		case x86asm.CVTSI2SD, x86asm.CVTSI2SS, x86asm.VCVTSI2SD, x86asm.VCVTSI2SS:
			// the memory operand is an integer
		default:
			prefix = "mmword ptr "
		}
	}
	mo := &memOperand{size: size}
	switch inst.Op {
	case x86asm.LEA, x86asm.NOP, x86asm.PREFETCHNTA, x86asm.PREFETCHT0, x86asm.PREFETCHT1,
		x86asm.PREFETCHT2, x86asm.PREFETCHW, x86asm.CLFLUSH, x86asm.INVLPG:
		mo.noAccess = true
	}
	f.out.mem = mo
	seg := ""
	if m.Segment != 0 {
		seg = x86RegName(m.Segment)
	}
	mo.segment = seg

	// Displacements are 8 or 32 bits, sign-extended, except the 64-bit offset of mov's moffs forms.
	moffs := inst.Op == x86asm.MOV && inst.Opcode>>24 >= 0xa0 && inst.Opcode>>24 <= 0xa3
	disp := m.Disp
	if !moffs {
		disp = int64(int32(disp))
	}

	// rip-relative: WinDbg shows the address it reaches, by name when it has one.
	if m.Base == x86asm.RIP || m.Base == x86asm.EIP {
		target := f.addr + uint64(inst.Len) + uint64(disp)
		mo.absolute, mo.disp = true, int64(target)
		text := "[" + symbolicAddress(target, f.ptrSize, f.symbolize) + "]"
		if seg == "fs" || seg == "gs" {
			text = seg + ":" + text
		}
		return prefix + text
	}
	// An absolute address: by name when it resolves (`push dword ptr [nt!PspCidTable (8055b260)]`),
	// else as a MASM number with its segment (`push dword ptr ds:[0FFDF0304h]`, `fs:[30h]`). The
	// moffs forms of mov show the offset full width (`mov eax,dword ptr fs:[00000018h]`).
	if m.Base == 0 && m.Index == 0 {
		a := uint64(disp)
		if inst.AddrSize != 64 {
			a = uint64(uint32(a))
		}
		mo.absolute, mo.disp = true, int64(a)
		if seg == "" || seg == "ds" {
			if s := f.symbolize(a); s != "" {
				return prefix + "[" + s + " (" + FormatAddr(a, f.ptrSize) + ")]"
			}
		}
		if seg == "" {
			seg = "ds" // x64 with no symbol: unverified, assumed to follow x86
			mo.segment = seg
		}
		num := masmHex(a)
		if moffs {
			num = masmPadded(a, inst.AddrSize/4)
		}
		return prefix + seg + ":[" + num + "]"
	}
	var b strings.Builder
	b.WriteString(prefix)
	// Default segments are implied; an override other than ds is shown (gs:[rdx+60h]).
	if seg != "" && seg != "ds" && !(f.mode == 64 && seg != "fs" && seg != "gs") {
		b.WriteString(seg + ":")
	}
	b.WriteByte('[')
	if m.Base != 0 {
		b.WriteString(x86RegName(m.Base))
		mo.base = x86RegName(m.Base)
	}
	if m.Index != 0 {
		if m.Base != 0 {
			b.WriteByte('+')
		}
		b.WriteString(x86RegName(m.Index))
		mo.index = x86RegName(m.Index)
		mo.scale = uint64(m.Scale)
		if m.Scale > 1 {
			fmt.Fprintf(&b, "*%d", m.Scale)
		}
	}
	d := disp
	mo.disp = d
	if m.Base == 0 {
		// Without a base register the displacement is a table's address: [eax*4+4BFBA8h].
		if inst.AddrSize != 64 {
			d = int64(uint32(d))
		}
		if d < 0 {
			d = 0 // unverified: shown below as +address
			b.WriteString("+" + masmHex(uint64(disp)))
		}
	}
	switch {
	case d < 0:
		b.WriteString("-" + masmHex(uint64(-d)))
	case d > 0:
		b.WriteString("+" + masmHex(uint64(d)))
	}
	b.WriteByte(']')
	return b.String()
}

// memSize is the size of the memory operand in bytes, 0 when WinDbg shows none (lea).
func (f *x86Formatter) memSize(args []x86asm.Arg) int {
	inst := &f.inst
	switch inst.Op {
	case x86asm.LEA:
		return 0
	case x86asm.FBLD, x86asm.FBSTP:
		return 10
	case x86asm.XLATB:
		return 1 // xlat reads a byte table
	case x86asm.FLD, x86asm.FSTP:
		if inst.MemBytes == 0 && inst.Opcode>>24 == 0xdb {
			return 10 // fld/fstp tbyte ptr: the decoder leaves the size out
		}
	}
	return inst.MemBytes
}

// sizeWord is MASM's operand size keyword. An 8-byte operand of an SSE/MMX instruction is an
// "mmword" (`movsd xmm0,mmword ptr [rsp+58h]` in Microsoft's disassembler); WinDbg's r output for
// such operands was not seen, so this is unverified.
func sizeWord(n int) string {
	switch n {
	case 1:
		return "byte ptr "
	case 2:
		return "word ptr "
	case 4:
		return "dword ptr "
	case 6:
		return "fword ptr "
	case 8:
		return "qword ptr "
	case 10:
		return "tbyte ptr "
	case 16:
		return "xmmword ptr "
	case 32:
		return "ymmword ptr "
	case 64:
		return "zmmword ptr "
	}
	return ""
}

func isFPU(op x86asm.Op) bool {
	s := op.String()
	return len(s) > 1 && s[0] == 'F' && op != x86asm.FWAIT
}

// fpuArgs drops the implied st(0) that the decoder lists: `fstp qword ptr [esp]`, `fxch st(1)`,
// `fld st(1)` (two-register arithmetic keeps both: `fmulp st(1),st`).
func fpuArgs(op x86asm.Op, args []x86asm.Arg) []x86asm.Arg {
	if len(args) != 2 {
		return args
	}
	_, mem0 := args[0].(x86asm.Mem)
	_, mem1 := args[1].(x86asm.Mem)
	single := op == x86asm.FXCH || op == x86asm.FLD || op == x86asm.FST || op == x86asm.FSTP ||
		op == x86asm.FCOM || op == x86asm.FCOMP || op == x86asm.FUCOM || op == x86asm.FUCOMP ||
		op == x86asm.FFREE || op == x86asm.FFREEP
	switch {
	case mem0 && args[1] == x86asm.F0:
		return args[:1]
	case mem1 && args[0] == x86asm.F0:
		return args[1:]
	case single && args[0] == x86asm.F0:
		return args[1:]
	case single && args[1] == x86asm.F0:
		return args[:1]
	}
	return args
}

func hasVectorReg(args []x86asm.Arg) bool {
	for _, a := range args {
		if r, ok := a.(x86asm.Reg); ok && (r >= x86asm.M0 && r <= x86asm.K7) {
			return true
		}
	}
	return false
}

// x86RegName is the register as WinDbg writes it: lower case, r8d/r8w/r8b for the new registers'
// parts (`mov r8b,1`), spl..dil, xmm/ymm/zmm, mm0, st(1).
func x86RegName(r x86asm.Reg) string {
	switch {
	case r >= x86asm.R8B && r <= x86asm.R15B:
		return fmt.Sprintf("r%db", 8+int(r-x86asm.R8B))
	case r >= x86asm.R8W && r <= x86asm.R15W:
		return fmt.Sprintf("r%dw", 8+int(r-x86asm.R8W))
	case r >= x86asm.R8L && r <= x86asm.R15L:
		return fmt.Sprintf("r%dd", 8+int(r-x86asm.R8L))
	case r >= x86asm.SPB && r <= x86asm.DIB:
		return [...]string{"spl", "bpl", "sil", "dil"}[r-x86asm.SPB]
	case r == x86asm.F0:
		return "st"
	case r >= x86asm.F1 && r <= x86asm.F7:
		return fmt.Sprintf("st(%d)", int(r-x86asm.F0))
	case r >= x86asm.M0 && r <= x86asm.M7:
		return fmt.Sprintf("mm%d", int(r-x86asm.M0))
	case r >= x86asm.X0 && r <= x86asm.X31:
		return fmt.Sprintf("xmm%d", int(r-x86asm.X0))
	case r >= x86asm.Y0 && r <= x86asm.Y31:
		return fmt.Sprintf("ymm%d", int(r-x86asm.Y0))
	case r >= x86asm.Z0 && r <= x86asm.Z31:
		return fmt.Sprintf("zmm%d", int(r-x86asm.Z0))
	case r >= x86asm.K0 && r <= x86asm.K7:
		return fmt.Sprintf("k%d", int(r-x86asm.K0))
	}
	return strings.ToLower(r.String())
}

// x86RegBits is a general register's width, 0 for others.
func x86RegBits(r x86asm.Reg) int {
	switch {
	case r >= x86asm.AL && r <= x86asm.R15B:
		return 8
	case r >= x86asm.AX && r <= x86asm.R15W:
		return 16
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return 32
	case r >= x86asm.RAX && r <= x86asm.R15:
		return 64
	}
	return 0
}

func mask(bits int) uint64 {
	if bits >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(bits) - 1
}
