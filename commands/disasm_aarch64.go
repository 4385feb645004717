package commands

// ARM64 instructions as WinDbg shows them (WINDBG-SPEC §3.12). Public captures of WinDbg on ARM64
// (cited in testdata/disasm.txt) show: the 32-bit instruction word in hex instead of the bytes, the
// mnemonic padded to 12 columns, no blank after commas, Microsoft's register aliases (fp, lr, xpr,
// xip0, xip1), immediates as `#0x` with upper-case digits (`ldr x0,[x8,#0xB0]`), and branch targets
// by name without the address (`bl kernelbase!#__security_push_cookie`).
//
// The decoder is arm64asm; its GNU-style text is rewritten operand by operand. Unverified: the
// condition names of conditional branches (taken from Microsoft's compiler listings: bne, blo), the
// text of a target without a name, extends inside brackets (`[x9,w8 uxtw #2]`, also from listings),
// and floating-point immediates.

import (
	"encoding/binary"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/arch/arm64/arm64asm"

	"wdbg/engine/cpu"
)

// arm64Hints names the HINT encodings the decoder leaves as numbers (Arm ARM, "HINT" aliases).
var arm64Hints = map[uint64]string{
	0x07: "xpaclri", 0x08: "pacia1716", 0x0a: "pacib1716", 0x0c: "autia1716", 0x0e: "autib1716",
	0x10: "esb", 0x11: "psb csync", 0x12: "tsb csync", 0x14: "csdb",
	0x18: "paciaz", 0x19: "paciasp", 0x1a: "pacibz", 0x1b: "pacibsp",
	0x1c: "autiaz", 0x1d: "autiasp", 0x1e: "autibz", 0x1f: "autibsp",
	0x20: "bti", 0x22: "bti c", 0x24: "bti j", 0x26: "bti jc",
}

// arm64Regs are Microsoft's names for registers with a role in the Windows ABI.
var arm64Regs = map[string]string{
	"x16": "xip0", "x17": "xip1", "x18": "xpr", "x29": "fp", "x30": "lr",
	"w16": "wip0", "w17": "wip1",
}

// arm64Conds turns the decoder's condition names into Microsoft's (hs/lo rather than cs/cc).
var arm64Conds = map[string]string{"cs": "hs", "cc": "lo"}

var (
	arm64Word  = regexp.MustCompile(`[a-z][a-z0-9]*`)
	arm64Imm   = regexp.MustCompile(`#(-?)(0x[0-9a-f]+|[0-9]+)([.e][-+0-9.e]*)?`)
	arm64PCRel = regexp.MustCompile(`\.[-+]0x[0-9a-f]+`)
)

func disassembleARM64(code []byte, addr uint64, symbolize func(uint64) string) (in Instruction, err error) {
	if len(code) < 4 {
		return Instruction{}, ErrTruncatedInstruction
	}
	inst, ok := decodeARM64(code[:4])
	if !ok {
		return invalidInstruction(cpu.ArchARM64, code, addr, 4), nil
	}
	out := Instruction{Addr: addr, Arch: cpu.ArchARM64, Bytes: append([]byte(nil), code[:4]...), Len: 4}
	gnu := strings.TrimSpace(arm64asm.GNUSyntax(inst))
	mnemonic, operands, _ := strings.Cut(gnu, " ")
	operands = strings.TrimSpace(operands)

	if inst.Op == arm64asm.HINT {
		if h, ok := inst.Args[0].(arm64asm.Imm_hint); ok {
			if name, ok := arm64Hints[uint64(h)]; ok {
				mnemonic, operands = name, ""
			}
		}
	}
	if c, ok := strings.CutPrefix(mnemonic, "b."); ok {
		if m, ok := arm64Conds[c]; ok {
			c = m
		}
		mnemonic = "b" + c // bne, blo
	}

	// A pc-relative operand is shown as the address it reaches.
	for _, a := range inst.Args {
		rel, ok := a.(arm64asm.PCRel)
		if !ok {
			continue
		}
		target := addr + uint64(int64(rel))
		if inst.Op == arm64asm.ADRP {
			target = addr&^0xfff + uint64(int64(rel))
		}
		out.Target, out.HasTarget = target, true
		name := symbolize(target)
		if name == "" {
			name = FormatAddr(target, 8)
		}
		operands = arm64PCRel.ReplaceAllLiteralString(operands, name)
		break
	}
	operands = rewriteARM64Operands(mnemonic, operands)
	out.Mnemonic, out.Operands = mnemonic, operands
	out.Text = joinText(mnemonic, operands, 12)
	return out, nil
}

func decodeARM64(word []byte) (inst arm64asm.Inst, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	inst, err := arm64asm.Decode(word)
	return inst, err == nil && inst.Op != 0
}

// rewriteARM64Operands turns the decoder's "x29, x30, [sp,#-64]!" into "fp,lr,[sp,#-0x40]!".
func rewriteARM64Operands(mnemonic, ops string) string {
	if ops == "" {
		return ""
	}
	ops = strings.ReplaceAll(ops, ", ", ",")
	// Extends and shifts of an index register sit inside the brackets without a comma.
	if i := strings.IndexByte(ops, '['); i >= 0 {
		if j := strings.IndexByte(ops[i:], ']'); j >= 0 {
			inner := ops[i : i+j]
			for _, ext := range []string{"lsl", "uxtw", "sxtw", "sxtx", "uxtx"} {
				inner = strings.ReplaceAll(inner, ","+ext, " "+ext)
			}
			ops = ops[:i] + inner + ops[i+j:]
		}
	}
	ops = arm64Word.ReplaceAllStringFunc(ops, func(w string) string {
		if r, ok := arm64Regs[w]; ok {
			return r
		}
		if c, ok := arm64Conds[w]; ok {
			return c
		}
		return w
	})
	// mov of a negative constant is shown signed (`mov x8,#-1` in Microsoft's listings).
	signed := mnemonic == "mov" || mnemonic == "movn"
	wide := strings.HasPrefix(ops, "x") || strings.HasPrefix(ops, "fp") || strings.HasPrefix(ops, "lr") ||
		strings.HasPrefix(ops, "sp")
	return arm64Imm.ReplaceAllStringFunc(ops, func(m string) string {
		sub := arm64Imm.FindStringSubmatch(m)
		neg, digits, frac := sub[1] == "-", sub[2], sub[3]
		if frac != "" {
			f, err := strconv.ParseFloat(digits+frac, 64)
			if err != nil {
				return m
			}
			s := strconv.FormatFloat(f, 'f', -1, 64)
			if !strings.Contains(s, ".") {
				s += ".0"
			}
			return "#" + sub[1] + s
		}
		v, err := strconv.ParseUint(digits, 0, 64)
		if err != nil {
			return m
		}
		if signed && !neg {
			if wide && int64(v) < 0 {
				neg, v = true, uint64(-int64(v))
			} else if !wide && v <= 0xffffffff && int32(uint32(v)) < 0 {
				neg, v = true, uint64(-int64(int32(uint32(v))))
			}
		}
		s := armHex(v)
		if neg {
			s = "-" + s
		}
		return "#" + s
	})
}

// armHex writes an ARM64 immediate: below ten in decimal (`#8`), else 0x and upper-case digits.
func armHex(v uint64) string {
	if v < 10 {
		return strconv.FormatUint(v, 10)
	}
	return "0x" + strings.ToUpper(strconv.FormatUint(v, 16))
}

// arm64Word32 is the instruction word that WinDbg prints in place of the bytes.
func arm64Word32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
