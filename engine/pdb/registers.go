package pdb

import "strconv"

// Machine types of the DBI header (FORMATS.md §7.3).
const (
	MachineX86   = 0x014C
	MachineAMD64 = 0x8664
	MachineARM64 = 0xAA64
)

// CodeView register numbers (cvconst.h CV_HREG_e, as listed by LLVM's CodeViewRegisters.def)
// that this package names itself.
const (
	RegNone    = 0
	RegEBX     = 20
	RegESP     = 21
	RegEBP     = 22
	RegRBP     = 334
	RegRSP     = 335
	RegR13     = 341
	RegARM64FP = 79
	RegARM64SP = 81
	// RegVFrame is CV_ALLREG_VFRAME, the function's virtual frame pointer. On x86 it is the $T0
	// that the function's frame data program computes, the CFA in frames that do not realign
	// the stack (LLVM's CodeView writer). A variable relative to it needs the stack walker.
	RegVFrame = 30006
)

// Register numbers shared by every machine (CV_ALLREG_*), from 30000.
var allRegNames = []string{"err", "teb", "timer", "efad1", "efad2", "efad3", "vframe", "handle",
	"params", "locals", "tid", "env", "cmdln"}

// x86Names are the x86 registers 1..34 (the AMD64 numbering keeps them).
var x86Names = []string{"", "al", "cl", "dl", "bl", "ah", "ch", "dh", "bh", "ax", "cx", "dx", "bx", "sp",
	"bp", "si", "di", "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "es", "cs", "ss", "ds", "fs",
	"gs", "ip", "flags", "eip", "efl"}

// amd64Names are the AMD64 registers from 324: sil, dil, bpl, spl, the 64-bit registers, then
// the byte, word and dword forms of r8 to r15.
var amd64Names = func() []string {
	n := []string{"sil", "dil", "bpl", "spl", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"}
	for _, suffix := range []string{"", "b", "w", "d"} {
		for r := 8; r <= 15; r++ {
			n = append(n, "r"+strconv.Itoa(r)+suffix)
		}
	}
	return n
}()

// RegisterName is the debugger's name of a CodeView register number on a machine (the DBI
// header's Machine): "ebp", "rsp", "r14d", "xmm3", "x19", "fp", "vframe". Numbers it does not
// know are named "cvreg" and the number.
func RegisterName(machine uint16, reg uint16) string {
	r := int(reg)
	if r >= 30000 && r-30000 < len(allRegNames) {
		return allRegNames[r-30000]
	}
	switch machine {
	case MachineARM64:
		switch {
		case r >= 10 && r <= 40:
			return "w" + strconv.Itoa(r-10)
		case r == 41:
			return "wzr"
		case r >= 50 && r <= 78:
			return "x" + strconv.Itoa(r-50)
		case r == 79:
			return "fp"
		case r == 80:
			return "lr"
		case r == 81:
			return "sp"
		case r == 82:
			return "xzr"
		case r == 90:
			return "cpsr"
		case r >= 100 && r <= 131:
			return "s" + strconv.Itoa(r-100)
		case r >= 140 && r <= 171:
			return "d" + strconv.Itoa(r-140)
		case r >= 180 && r <= 211:
			return "q" + strconv.Itoa(r-180)
		case r == 220:
			return "fpsr"
		}
	case MachineX86, MachineAMD64:
		amd64 := machine == MachineAMD64
		switch {
		case r > 0 && r < len(x86Names):
			if amd64 {
				switch r {
				case 33:
					return "rip"
				case 31:
					return "ip"
				}
			}
			return x86Names[r]
		case r >= 128 && r <= 135:
			return "st" + strconv.Itoa(r-128)
		case r >= 146 && r <= 153:
			return "mm" + strconv.Itoa(r-146)
		case r >= 154 && r <= 161:
			return "xmm" + strconv.Itoa(r-154)
		case r == 211:
			return "mxcsr"
		case amd64 && r >= 252 && r <= 259:
			return "xmm" + strconv.Itoa(r-252+8)
		case amd64 && r >= 324 && r-324 < len(amd64Names):
			return amd64Names[r-324]
		case amd64 && r >= 368 && r <= 383:
			return "ymm" + strconv.Itoa(r-368)
		}
	}
	return "cvreg" + strconv.Itoa(r)
}

// framePointerRegister decodes a 2-bit frame pointer code of S_FRAMEPROC's flags (bits 15:14
// for locals, 17:16 for parameters): 1 the stack pointer (the virtual frame on x86), 2 the
// frame pointer, 3 the base pointer (EBX on x86, R13 on AMD64), as LLVM's decodeFramePtrReg
// reads them. The ARM64 meaning is not documented; 1 and 2 are taken as SP and FP by analogy.
func framePointerRegister(machine uint16, code uint32) uint16 {
	switch machine {
	case MachineX86:
		return [4]uint16{RegNone, RegVFrame, RegEBP, RegEBX}[code&3]
	case MachineAMD64:
		return [4]uint16{RegNone, RegRSP, RegRBP, RegR13}[code&3]
	case MachineARM64:
		return [4]uint16{RegNone, RegARM64SP, RegARM64FP, RegNone}[code&3]
	}
	return RegNone
}

// Frame pointer codes in FrameProc.Flags.
const (
	frameLocalBaseShift = 14
	frameParamBaseShift = 16
)

// LocalBase and ParamBase are the registers that S_DEFRANGE_FRAMEPOINTER_REL offsets of locals
// and of parameters are relative to, decoded for the given machine; RegNone when the
// S_FRAMEPROC does not say.
func (fp *FrameProc) LocalBase(machine uint16) uint16 {
	return framePointerRegister(machine, fp.Flags>>frameLocalBaseShift)
}

func (fp *FrameProc) ParamBase(machine uint16) uint16 {
	return framePointerRegister(machine, fp.Flags>>frameParamBaseShift)
}
