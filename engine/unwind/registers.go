package unwind

import (
	"strings"

	"wdbg/engine/cpu"
)

// Register numbers inside Registers. x64 follows the UNWIND_CODE numbering (FORMATS.md §8.1:
// 0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8–15 R8–R15) with RIP after; x86 uses the
// same order for its eight registers (the ModRM numbering) with EIP after; ARM64 numbers X0–X30
// (29 = fp, 30 = lr) then SP and PC.
const (
	amd64RSP = 4
	amd64RBP = 5
	amd64RIP = 16

	x86EBX = 3
	x86ESP = 4
	x86EBP = 5
	x86ESI = 6
	x86EDI = 7
	x86EIP = 8

	arm64FP = 29
	arm64LR = 30
	arm64SP = 31
	arm64PC = 32

	numRegisters = 33
)

var (
	amd64Names = [...]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"}
	x86Names   = [...]string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip"}
	arm64Names = func() []string {
		n := make([]string, 0, numRegisters)
		for i := 0; i <= 28; i++ {
			n = append(n, "x"+itoa(i))
		}
		return append(n, "fp", "lr", "sp", "pc")
	}()

	// Display orders: the order of WinDbg's `r` (WINDBG-SPEC §3.9) for the registers a frame
	// can know.
	amd64Order = []int{0, 3, 1, 2, 6, 7, 16, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15}
	x86Order   = []int{0, 3, 1, 2, 6, 7, 8, 4, 5}
)

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return string(rune('0'+i/10)) + string(rune('0'+i%10))
}

// Registers is the register state of one frame: the values and which of them are known.
// Unwinding keeps callee-saved registers, restores those the unwind data says were saved, and
// forgets the volatile ones, which a caller frame cannot know.
type Registers struct {
	Arch     cpu.Arch
	gpr      [numRegisters]uint64
	known    uint64
	vec      [32][16]byte // x64 xmm0–15; ARM64 v0–31 (unwinding restores the low 8 bytes of d8–d15)
	vecKnown uint32
}

func (r *Registers) names() []string {
	switch r.Arch {
	case cpu.ArchAMD64:
		return amd64Names[:]
	case cpu.ArchX86:
		return x86Names[:]
	case cpu.ArchARM64:
		return arm64Names
	}
	return nil
}

func (r *Registers) index(name string) int {
	name = strings.ToLower(name)
	if r.Arch == cpu.ArchARM64 {
		switch name {
		case "x29":
			return arm64FP
		case "x30":
			return arm64LR
		}
	}
	for i, n := range r.names() {
		if n == name {
			return i
		}
	}
	return -1
}

// Get returns a general register by name (rax…r15 and rip; eax…edi and eip; x0–x28, fp/x29,
// lr/x30, sp, pc), and whether it is known in this frame.
func (r *Registers) Get(name string) (uint64, bool) {
	i := r.index(name)
	if i < 0 {
		return 0, false
	}
	return r.get(i)
}

// Set sets a general register by name; it reports false for a name the architecture lacks.
func (r *Registers) Set(name string, v uint64) bool {
	i := r.index(name)
	if i < 0 {
		return false
	}
	r.set(i, v)
	return true
}

// Names lists the known general registers in WinDbg's display order.
func (r *Registers) Names() []string {
	all := r.names()
	var order []int
	switch r.Arch {
	case cpu.ArchAMD64:
		order = amd64Order
	case cpu.ArchX86:
		order = x86Order
	default:
		order = make([]int, len(all))
		for i := range order {
			order[i] = i
		}
	}
	var out []string
	for _, i := range order {
		if r.known&(1<<uint(i)) != 0 {
			out = append(out, all[i])
		}
	}
	return out
}

// Vector returns vector register i (xmm i on x64, v i on ARM64) when known.
func (r *Registers) Vector(i int) ([16]byte, bool) {
	if i < 0 || i >= len(r.vec) || r.vecKnown&(1<<uint(i)) == 0 {
		return [16]byte{}, false
	}
	return r.vec[i], true
}

// PC, SP and FP are the instruction, stack and frame pointers (0 when unknown).
func (r *Registers) PC() uint64 { v, _ := r.get(r.pcIndex()); return v }
func (r *Registers) SP() uint64 { v, _ := r.get(r.spIndex()); return v }
func (r *Registers) FP() uint64 { v, _ := r.get(r.fpIndex()); return v }

func (r *Registers) pcIndex() int {
	switch r.Arch {
	case cpu.ArchAMD64:
		return amd64RIP
	case cpu.ArchARM64:
		return arm64PC
	}
	return x86EIP
}

func (r *Registers) spIndex() int {
	if r.Arch == cpu.ArchARM64 {
		return arm64SP
	}
	return amd64RSP // x86ESP has the same number
}

func (r *Registers) fpIndex() int {
	if r.Arch == cpu.ArchARM64 {
		return arm64FP
	}
	return amd64RBP // x86EBP has the same number
}

func (r *Registers) get(i int) (uint64, bool) {
	if i < 0 || i >= numRegisters {
		return 0, false
	}
	return r.gpr[i], r.known&(1<<uint(i)) != 0
}

func (r *Registers) set(i int, v uint64) {
	if i < 0 || i >= numRegisters {
		return
	}
	if r.Arch == cpu.ArchX86 {
		v &= 0xFFFFFFFF
	}
	r.gpr[i] = v
	r.known |= 1 << uint(i)
}

func (r *Registers) forget(i int) {
	if i >= 0 && i < numRegisters {
		r.known &^= 1 << uint(i)
	}
}

func (r *Registers) setVector(i int, v [16]byte) {
	if i >= 0 && i < len(r.vec) {
		r.vec[i] = v
		r.vecKnown |= 1 << uint(i)
	}
}

// keepCalleeSaved forgets what a caller frame cannot know: the volatile registers of the
// Windows calling conventions (x64: rax, rcx, rdx, r8–r11, xmm0–5; x86: eax, ecx, edx;
// ARM64: x0–x17 and v0–v7, plus v8–v15's upper halves). ARM64's x18 holds the TEB in user mode
// and does not change between frames.
func (r *Registers) keepCalleeSaved() {
	switch r.Arch {
	case cpu.ArchAMD64:
		for _, i := range []int{0, 1, 2, 8, 9, 10, 11} {
			r.forget(i)
		}
		r.vecKnown &^= 0x3F
	case cpu.ArchX86:
		for _, i := range []int{0, 1, 2} {
			r.forget(i)
		}
		r.vecKnown = 0
	case cpu.ArchARM64:
		for i := 0; i <= 17; i++ {
			r.forget(i)
		}
		r.vecKnown &= 0xFF00 // d8–d15
		for i := 8; i < 16; i++ {
			for j := 8; j < 16; j++ {
				r.vec[i][j] = 0
			}
		}
	}
}

// FromContext copies a thread context into a Registers value with every register known.
func FromContext(c cpu.Context) Registers {
	var r Registers
	switch c := c.(type) {
	case *cpu.AMD64Context:
		r.Arch = cpu.ArchAMD64
		for i, v := range []uint64{c.Rax, c.Rcx, c.Rdx, c.Rbx, c.Rsp, c.Rbp, c.Rsi, c.Rdi,
			c.R8, c.R9, c.R10, c.R11, c.R12, c.R13, c.R14, c.R15, c.Rip} {
			r.set(i, v)
		}
		if c.HasFltSave {
			for i := range c.Xmm {
				r.setVector(i, c.Xmm[i])
			}
		}
	case *cpu.X86Context:
		r.Arch = cpu.ArchX86
		for i, v := range []uint32{c.Eax, c.Ecx, c.Edx, c.Ebx, c.Esp, c.Ebp, c.Esi, c.Edi, c.Eip} {
			r.set(i, uint64(v))
		}
	case *cpu.ARM64Context:
		r.Arch = cpu.ArchARM64
		for i := 0; i < 31; i++ {
			r.set(i, c.X[i])
		}
		r.set(arm64FP, c.Fp)
		r.set(arm64LR, c.Lr)
		r.set(arm64SP, c.Sp)
		r.set(arm64PC, c.Pc)
		if c.HasNeon {
			for i := range c.V {
				r.setVector(i, c.V[i])
			}
		}
	default:
		if c != nil {
			r.Arch = c.Arch()
			for i, n := range r.names() {
				if v, ok := c.Register(n); ok {
					r.set(i, v)
				}
			}
		}
	}
	return r
}

// ApplyTo returns a copy of base (a context of the same architecture) with the registers known in
// r written over it, so that `.frame N` followed by `r` can show the frame's registers. base is
// returned unchanged when its type is not one of the cpu package's contexts.
func (r *Registers) ApplyTo(base cpu.Context) cpu.Context {
	v := func(i int, old uint64) uint64 {
		if x, ok := r.get(i); ok {
			return x
		}
		return old
	}
	switch b := base.(type) {
	case *cpu.AMD64Context:
		c := *b
		ptrs := []*uint64{&c.Rax, &c.Rcx, &c.Rdx, &c.Rbx, &c.Rsp, &c.Rbp, &c.Rsi, &c.Rdi,
			&c.R8, &c.R9, &c.R10, &c.R11, &c.R12, &c.R13, &c.R14, &c.R15, &c.Rip}
		for i, p := range ptrs {
			*p = v(i, *p)
		}
		for i := range c.Xmm {
			if x, ok := r.Vector(i); ok {
				c.Xmm[i] = x
			}
		}
		return &c
	case *cpu.X86Context:
		c := *b
		ptrs := []*uint32{&c.Eax, &c.Ecx, &c.Edx, &c.Ebx, &c.Esp, &c.Ebp, &c.Esi, &c.Edi, &c.Eip}
		for i, p := range ptrs {
			*p = uint32(v(i, uint64(*p)))
		}
		return &c
	case *cpu.ARM64Context:
		c := *b
		for i := 0; i < 31; i++ {
			c.X[i] = v(i, c.X[i])
		}
		c.Fp, c.Lr = c.X[29], c.X[30]
		c.Sp = v(arm64SP, c.Sp)
		c.Pc = v(arm64PC, c.Pc)
		for i := range c.V {
			if x, ok := r.Vector(i); ok {
				c.V[i] = x
			}
		}
		return &c
	}
	return base
}
