package unwind

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"wdbg/engine/cpu"
	"wdbg/internal/corpus"
)

// These tests derive, for every function of real images, the body-state unwind rule our unwinders
// apply (how far above SP the caller's SP is, and where each saved register lies relative to it)
// and compare it with STACK CFI records made independently from the same .pdata/.xdata: symbolic's
// snapshots (test_cfi__cfi_pe_*.snap) and breakpad/mozilla dump_syms output (*.sym).

// cfiRule is the state of a function body: CFA = SP + cfa; register r is saved at CFA + regs[r];
// ra is where the return address is read (CFA + ra), or raReg names the register holding it.
type cfiRule struct {
	cfa   int64
	regs  map[string]int64
	ra    int64
	raReg string
}

func (r cfiRule) String() string {
	names := make([]string, 0, len(r.regs))
	for n := range r.regs {
		names = append(names, n)
	}
	sort.Strings(names)
	s := fmt.Sprintf("cfa=sp+%d", r.cfa)
	for _, n := range names {
		s += fmt.Sprintf(" %s@cfa%+d", n, r.regs[n])
	}
	if r.raReg != "" {
		return s + " ra=" + r.raReg
	}
	return s + fmt.Sprintf(" ra@cfa%+d", r.ra)
}

// symLoc is an oracle address expression: base (".cfa", "rsp"/"sp", or a frame register such
// as "rbp") plus off.
type symLoc struct {
	base string
	off  int64
}

// symRule is a rule as the oracle writes it.
type symRule struct {
	cfa   symLoc
	regs  map[string]symLoc
	ra    symLoc
	raReg string
}

// resolve turns an oracle rule into a cfiRule, given how far the frame register lies above SP in
// the derivation (fpName, fpDelta).
func (s symRule) resolve(fpName string, fpDelta int64) (cfiRule, error) {
	val := func(base string) (int64, error) {
		switch base {
		case "rsp", "sp":
			return 0, nil
		case fpName:
			return fpDelta, nil
		}
		return 0, fmt.Errorf("rule based on %s", base)
	}
	cb, err := val(s.cfa.base)
	if err != nil {
		return cfiRule{}, err
	}
	r := cfiRule{cfa: cb + s.cfa.off, regs: map[string]int64{}, raReg: s.raReg}
	at := func(l symLoc) (int64, error) {
		if l.base == ".cfa" {
			return l.off, nil
		}
		b, err := val(l.base)
		return b + l.off - r.cfa, err
	}
	if r.ra, err = at(s.ra); err != nil && s.raReg == "" {
		return r, err
	}
	for k, l := range s.regs {
		if r.regs[k], err = at(l); err != nil {
			return r, err
		}
	}
	return r, nil
}

// parseSymCFI reads the STACK CFI records of a .sym file or snapshot, applying every row of a
// function to its INIT row: the result is the rule after the prolog.
func parseSymCFI(t *testing.T, path string) map[uint32]symRule {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rules := map[uint32]symRule{}
	var cur uint32
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || fields[0] != "STACK" || fields[1] != "CFI" {
			continue
		}
		var exprs []string
		if fields[2] == "INIT" {
			a, _ := strconv.ParseUint(fields[3], 16, 32)
			cur = uint32(a)
			rules[cur] = symRule{regs: map[string]symLoc{}}
			exprs = fields[5:]
		} else {
			exprs = fields[3:]
		}
		r := rules[cur]
		for len(exprs) > 0 {
			name := strings.TrimSuffix(exprs[0], ":")
			j := 1
			for j < len(exprs) && !strings.HasSuffix(exprs[j], ":") {
				j++
			}
			e := exprs[1:j]
			exprs = exprs[j:]
			loc := func(e []string) symLoc {
				k, _ := strconv.ParseInt(e[1], 10, 64)
				if e[2] == "-" {
					k = -k
				}
				return symLoc{base: strings.TrimLeft(e[0], "$."), off: k}
			}
			switch {
			case name == ".cfa" && len(e) == 3:
				r.cfa = loc(e)
			case name == ".cfa" && len(e) == 1:
				r.cfa = symLoc{base: strings.TrimLeft(e[0], "$.")}
			case len(e) == 4 && e[3] == "^":
				l := loc(e)
				if l.base == "cfa" {
					l.base = ".cfa"
				}
				if name == ".ra" {
					r.ra, r.raReg = l, ""
				} else {
					r.regs[strings.TrimLeft(name, "$.")] = l
				}
			case name == ".ra" && len(e) == 1:
				r.raReg = strings.TrimLeft(e[0], "$.")
			default:
				t.Fatalf("%s: cannot read rule %s: %v", path, name, e)
			}
		}
		rules[cur] = r
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rules
}

// taggedMem answers every read with tag+address, so that a restored register tells where it was
// read from.
type taggedMem struct{}

// memTag is below bit 48 so that PAC stripping (ARM64 pac_sign_lr) keeps it.
const memTag = 0x400000000000

func (taggedMem) ReadAt(p []byte, addr uint64) (int, error) {
	for i := 0; i < len(p); i += 8 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], memTag+addr+uint64(i))
		copy(p[i:], b[:])
	}
	return len(p), nil
}

func untag(v uint64) (uint64, bool) {
	if v>>40 != memTag>>40 {
		return 0, false
	}
	return v - memTag, true
}

// deriveX64 unwinds the body of the function of entry rf with tagged memory and reads the rule
// off the caller registers.
func deriveX64(t *testing.T, ft *FunctionTable, rf RuntimeFunction) (cfiRule, string, int64, error) {
	const base, rsp = 0x140000000, 0x1000000
	rf2, err := resolveIndirect(ft, rf)
	if err != nil {
		return cfiRule{}, "", 0, err
	}
	ui, err := DecodeUnwindInfoX64(ft, rf2.UnwindData)
	if err != nil {
		return cfiRule{}, "", 0, err
	}
	fpName, fpDelta := "", int64(0)
	regs := Registers{Arch: cpu.ArchAMD64}
	for i := range amd64Names {
		regs.set(i, 0x1111*uint64(i+1))
	}
	regs.set(amd64RSP, rsp)
	if ui.FrameRegister != 0 {
		fpName, fpDelta = amd64Names[ui.FrameRegister], 16*int64(ui.FrameOffset)
		regs.set(int(ui.FrameRegister), rsp+uint64(fpDelta))
	}
	// One byte into the body, as a return address: every prolog code applies, no epilogue check.
	regs.set(amd64RIP, base+uint64(rf.Begin)+uint64(ui.SizeOfProlog)+1)
	st, err := unwindX64(taggedMem{}, ft, base, regs, false)
	if err != nil {
		return cfiRule{}, "", 0, err
	}
	cfa := st.caller.SP()
	r := cfiRule{cfa: int64(cfa - rsp), regs: map[string]int64{}}
	ra, ok := untag(st.caller.PC())
	if !ok {
		return r, "", 0, fmt.Errorf("return address not read from the stack")
	}
	r.ra = int64(ra - cfa)
	for i := 0; i < 16; i++ {
		if v, ok := st.caller.get(i); ok && i != amd64RSP {
			if a, ok := untag(v); ok {
				r.regs[amd64Names[i]] = int64(a - cfa)
			}
		}
	}
	return r, fpName, fpDelta, nil
}

// savedNonvol lists the registers an entry (and its chain) saves with UWOP_SAVE_NONVOL(_FAR).
func savedNonvol(ft *FunctionTable, rf RuntimeFunction) map[string]bool {
	out := map[string]bool{}
	rf, err := resolveIndirect(ft, rf)
	if err != nil {
		return out
	}
	for i := 0; i < unwindChainLimit; i++ {
		ui, err := DecodeUnwindInfoX64(ft, rf.UnwindData)
		if err != nil {
			break
		}
		for _, c := range ui.Codes {
			if c.Op == UwopSaveNonvol || c.Op == UwopSaveNonvolFar {
				out[amd64Names[c.OpInfo]] = true
			}
		}
		if ui.Chained == nil {
			break
		}
		rf = *ui.Chained
	}
	return out
}

type cfiMismatch struct {
	begin     uint32
	got, want cfiRule
}

// derivation is a derived rule, the frame register setup it assumed, and the registers the
// unwind data saves with UWOP_SAVE_NONVOL (rather than pushes).
type derivation struct {
	rule    cfiRule
	fpName  string
	fpDelta int64
	moved   map[string]bool
}

// compareCFI checks every function the oracle describes; it returns the functions whose rules
// differ and the number compared.
// Modes of comparison: all of the rule, the CFA and return address only, or everything except
// that a register saved with UWOP_SAVE_NONVOL may appear at CFA+0 (see below).
const (
	compareAll = iota
	compareCFA
	compareSavesAtCFA
)

func compareCFI(t *testing.T, want map[uint32]symRule, derive func(begin uint32) (derivation, bool, error), mode int) ([]cfiMismatch, int) {
	var bad []cfiMismatch
	n := 0
	begins := make([]uint32, 0, len(want))
	for b := range want {
		begins = append(begins, b)
	}
	sort.Slice(begins, func(i, j int) bool { return begins[i] < begins[j] })
	for _, b := range begins {
		d, ok, err := derive(b)
		got := d.rule
		if !ok {
			t.Errorf("oracle describes %#x but the function table has no entry starting there", b)
			continue
		}
		if err != nil {
			t.Errorf("function %#x: %v", b, err)
			continue
		}
		n++
		w, err := want[b].resolve(d.fpName, d.fpDelta)
		if err != nil {
			t.Errorf("function %#x: oracle rule: %v", b, err)
			continue
		}
		same := got.cfa == w.cfa && got.raReg == w.raReg && (w.raReg != "" || got.ra == w.ra)
		if mode != compareCFA {
			same = same && len(got.regs) == len(w.regs)
			for k, v := range w.regs {
				g, ok := got.regs[k]
				if mode == compareSavesAtCFA && v == 0 && d.moved[k] {
					g = 0
				}
				if !ok || g != v {
					same = false
				}
			}
		}
		if !same {
			bad = append(bad, cfiMismatch{b, got, w})
		}
	}
	return bad, n
}

func entryAt(ft *FunctionTable, begin uint32) (RuntimeFunction, bool) {
	rf, ok := ft.RuntimeFunction(begin)
	return rf, ok && rf.Begin == begin
}

func TestCFIx64AgainstSymbolicAndDumpSyms(t *testing.T) {
	dir := corpus.Dir(t)
	cases := []struct {
		image, oracle string
		mode          int
	}{
		// symbolic's PE unwind-info → CFI conversion of the same image: the whole rule.
		{image: "symbolic/CrashWithException.exe", oracle: "symbolic/snapshots/test_cfi__cfi_pe_windows.snap"},
		// breakpad dump_syms output of this age has the CFA and return address only.
		{image: "symbolic/CrashWithException.exe", oracle: "symbolic/CrashWithException.pdb.sym", mode: compareCFA},
		{image: "breakpad/dump_syms_testdata/dump_syms_regtest64.exe", oracle: "breakpad/dump_syms_testdata/dump_syms_regtest64.sym", mode: compareCFA},
		{image: "mozilla-dump_syms/mozwer.dll", oracle: "mozilla-dump_syms/mozwer.sym", mode: compareCFA},
		// mozilla dump_syms writes registers too, but every register saved with UWOP_SAVE_NONVOL
		// (not pushed) comes out at CFA+0. That is wrong: at 0x1400014f4 dump_syms_regtest64.exe
		// runs `mov [rsp+8],rbx; mov [rsp+10h],rbp; mov [rsp+18h],rsi; push rdi; sub rsp,20h`
		// (llvm-objdump), i.e. rbx at CFA+0, rbp at CFA+8, rsi at CFA+16, which is what
		// llvm-readobj's SAVE_NONVOL offsets 0x30/0x38/0x40 say and what symbolic's snapshot above
		// writes for such saves ("$rsi: .cfa -8 - ^"). Pushed registers, the CFA and the return
		// address are compared exactly.
		{image: "breakpad/dump_syms_testdata/dump_syms_regtest64.exe", oracle: "mozilla-dump_syms/dump_syms_regtest64.sym", mode: compareSavesAtCFA},
		{image: "mozilla-dump_syms/basic-opt64.dll", oracle: "mozilla-dump_syms/basic-opt64.sym", mode: compareSavesAtCFA},
		{image: "mozilla-dump_syms/basic64.dll", oracle: "mozilla-dump_syms/basic64.sym", mode: compareSavesAtCFA},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.oracle), func(t *testing.T) {
			pe := openTestPE(t, filepath.Join(dir, c.image))
			ft := pe.table(t)
			want := parseSymCFI(t, filepath.Join(dir, c.oracle))
			if len(want) == 0 {
				t.Fatalf("%s has no STACK CFI records", c.oracle)
			}
			bad, n := compareCFI(t, want, func(b uint32) (derivation, bool, error) {
				rf, ok := entryAt(ft, b)
				if !ok {
					return derivation{}, false, nil
				}
				r, fpName, fpDelta, err := deriveX64(t, ft, rf)
				return derivation{r, fpName, fpDelta, savedNonvol(ft, rf)}, true, err
			}, c.mode)
			for _, m := range bad {
				t.Errorf("function %#x: derived %v, oracle %v", m.begin, m.got, m.want)
			}
			t.Logf("%d functions compared with %s", n, c.oracle)
		})
	}
}
