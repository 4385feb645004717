package unwind

import (
	"path/filepath"
	"testing"

	"wdbg/engine/cpu"
	"wdbg/internal/corpus"
)

// fpSetup says where x29 must point in a function body for the unwind codes to be consistent
// with SP: the stack the codes (in unwind order) release before reaching set_fp / add_fp, plus
// add_fp's offset. A body without alloca has exactly this x29.
func fpSetup(x *xdataARM64) (uint64, bool) {
	var delta uint64
	for i := 0; i < len(x.codes); {
		c := x.codes[i]
		size, _ := arm64CodeLen(c)
		arg := func(k int) uint64 {
			if i+k < len(x.codes) {
				return uint64(x.codes[i+k])
			}
			return 0
		}
		switch {
		case c <= 0x1F:
			delta += 16 * uint64(c)
		case c <= 0x3F:
			delta += 8 * uint64(c&0x1F)
		case c >= 0x80 && c <= 0xBF:
			delta += 8 * (uint64(c&0x3F) + 1)
		case c >= 0xC0 && c <= 0xC7:
			delta += 16 * (uint64(c&7)<<8 | arg(1))
		case c >= 0xCC && c <= 0xCF, c >= 0xDA && c <= 0xDB:
			delta += 8 * (arg(1)&0x3F + 1)
		case c >= 0xD4 && c <= 0xD5, c == 0xDE:
			delta += 8 * (arg(1)&0x1F + 1)
		case c == 0xE0:
			delta += 16 * (arg(1)<<16 | arg(2)<<8 | arg(3))
		case c == 0xE1:
			return delta, true
		case c == 0xE2:
			return delta + 8*arg(1), true
		case arm64IsEnd(c):
			return 0, false
		}
		i += size
	}
	return 0, false
}

// deriveARM64 runs the body unwind codes of an entry with tagged memory.
func deriveARM64(ft *FunctionTable, rf RuntimeFunction) (cfiRule, error) {
	const sp = 0x1000000
	x, err := armUnwindData(ft, rf)
	if err != nil {
		return cfiRule{}, err
	}
	r := Registers{Arch: cpu.ArchARM64}
	for i := 0; i < numRegisters; i++ {
		r.set(i, 0x1111*uint64(i+1))
	}
	r.set(arm64SP, sp)
	if d, ok := fpSetup(x); ok {
		r.set(arm64FP, sp+d)
	}
	st := unwindStep{caller: r}
	if err := execARM64(taggedMem{}, x, 0, 0, &st); err != nil {
		return cfiRule{}, err
	}
	cfa := st.caller.SP()
	rule := cfiRule{cfa: int64(cfa - sp), regs: map[string]int64{}, raReg: "x30"}
	for i := 19; i <= 30; i++ {
		if v, ok := st.caller.get(i); ok {
			if a, ok := untag(v); ok {
				rule.regs["x"+itoa(i)] = int64(a - cfa)
			}
		}
	}
	if off, ok := rule.regs["x30"]; ok {
		rule.raReg, rule.ra = "", off
	}
	return rule, nil
}

// TestCFIARM64AgainstSymbolic compares the body rule of every function of symbolic's ARM64 test
// image with symbolic's CFI snapshot of the same image (test_cfi__cfi_pe_arm64.snap).
func TestCFIARM64AgainstSymbolic(t *testing.T) {
	dir := corpus.Dir(t)
	pe := openTestPE(t, filepath.Join(dir, "symbolic/arm64/test.exe"))
	if pe.arch != cpu.ArchARM64 {
		t.Fatalf("test.exe machine is %v", pe.arch)
	}
	ft := pe.table(t)
	want := parseSymCFI(t, filepath.Join(dir, "symbolic/snapshots/test_cfi__cfi_pe_arm64.snap"))
	bad, n := compareCFI(t, want, func(b uint32) (derivation, bool, error) {
		rf, ok := ft.RuntimeFunction(b)
		if !ok || rf.Begin != b {
			return derivation{}, false, nil
		}
		r, err := deriveARM64(ft, rf)
		return derivation{rule: r}, true, err
	}, compareAll)
	for _, m := range bad {
		t.Errorf("function %#x: derived %v, snapshot %v", m.begin, m.got, m.want)
	}
	if n < 200 {
		t.Errorf("only %d functions compared", n)
	}
	t.Logf("%d of %d function table entries compared", n, ft.Len())
}
