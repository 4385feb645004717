package unwind

import (
	"context"
	"strings"
	"testing"

	"wdbg/engine/cpu"
)

// cfiRows is a CFISource over hand-written rows: INIT records with their deltas, applied as
// symbol_files.md says (each delta's rules replace the earlier ones from its address on).
type cfiRows []cfiInit

type cfiInit struct {
	start, size uint32
	rules       string
	deltas      []cfiDelta
}

type cfiDelta struct {
	at    uint32
	rules string
}

func (c cfiRows) CFIRow(rva uint32) (CFIRow, bool) {
	for _, in := range c {
		if rva < in.start || rva-in.start >= in.size {
			continue
		}
		row := CFIRow{Start: in.start, Size: in.size, Rules: splitRules(nil, in.rules)}
		for _, d := range in.deltas {
			if d.at <= rva {
				row.Rules = splitRules(row.Rules, d.rules)
			}
		}
		return row, true
	}
	return CFIRow{}, false
}

// splitRules reads "REG: EXPR REG: EXPR" into rules, replacing those already present.
func splitRules(rules []CFIRule, text string) []CFIRule {
	var cur *CFIRule
	add := func() {
		if cur == nil {
			return
		}
		for i := range rules {
			if rules[i].Register == cur.Register {
				rules[i] = *cur
				return
			}
		}
		rules = append(rules, *cur)
	}
	for _, f := range strings.Fields(text) {
		if strings.HasSuffix(f, ":") {
			add()
			cur = &CFIRule{Register: strings.TrimSuffix(f, ":")}
			continue
		}
		if cur != nil {
			cur.Expr = strings.TrimSpace(cur.Expr + " " + f)
		}
	}
	add()
	return rules
}

// noTable is an UnwindSource whose image was not found: it says so through TableProber.
type noTable struct{}

func (noTable) RuntimeFunction(uint32) (RuntimeFunction, bool) { return RuntimeFunction{}, false }
func (noTable) ReadRVA(rva uint32, n int) ([]byte, error) {
	return nil, &notMapped{rva}
}
func (noTable) HasFunctionTable() bool { return false }

type notMapped struct{ rva uint32 }

func (e *notMapped) Error() string { return "image not mapped" }

func rowOf(t *testing.T, rules string) CFIRow {
	t.Helper()
	return CFIRow{Start: 0x1000, Size: 0x100, Rules: splitRules(nil, rules)}
}

// The rule set of basic-opt64.sym's `STACK CFI INIT 9610 133` (mozilla-dump_syms fixture,
// dllmain_dispatch): CFA = rsp+96; rsi, rdi, r14 saved 16, 24, 32 below it; rbx in the home
// slot at the CFA; the return address 8 below it. Expected values follow from the rule text.
func TestEvalCFIRowX64(t *testing.T) {
	const sp = 0x20000
	m := newFakeMem()
	m.region(sp, 0x100)
	cfa := uint64(sp + 96)
	m.put64(cfa-8, 0x7FF600001234) // return address
	m.put64(cfa-16, 0x5151)        // rsi
	m.put64(cfa-24, 0xD1D1)        // rdi
	m.put64(cfa-32, 0x1414)        // r14
	m.put64(cfa, 0xB0B0)           // rbx
	callee := amd64Regs(map[string]uint64{"rsp": sp, "rip": 0x7FF600009700, "rbp": 0xBEEF})
	row := rowOf(t, ".cfa: $rsp 96 + $rsi: .cfa 16 - ^ $rdi: .cfa 24 - ^ $r14: .cfa 32 - ^ $rbx: .cfa 0 - ^ .ra: .cfa 8 - ^")
	got, err := evalCFIRow(row, callee, m, 8)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"rip": 0x7FF600001234, "rsp": cfa, "rsi": 0x5151, "rdi": 0xD1D1, "r14": 0x1414,
		"rbx": 0xB0B0, "rbp": 0xBEEF /* callee-saved, no rule: unchanged */, "r12": callee.gpr[12]}
	for name, v := range want {
		if g := mustGet(t, &got, name); g != v {
			t.Errorf("%s = %#x, want %#x", name, g, v)
		}
	}
	for _, volatile := range []string{"rax", "rcx", "rdx", "r8", "r9", "r10", "r11"} {
		if _, ok := got.Get(volatile); ok {
			t.Errorf("volatile %s is still known in the caller", volatile)
		}
	}
}

// ARM64 rows as Breakpad writes them from DWARF: registers without '$', .ra either read from
// the stack or named as x30 (a leaf that has not saved lr).
func TestEvalCFIRowARM64(t *testing.T) {
	const sp = 0x30000
	m := newFakeMem()
	m.region(sp, 0x100)
	m.put64(sp+32-8, 0x0035000140001234) // lr signed with a PAC in bits 48-54 (bit 55 clear: user)
	m.put64(sp+32-16, 0x30080)           // caller's x29
	callee := Registers{Arch: cpu.ArchARM64}
	for i := 0; i < numRegisters; i++ {
		callee.set(i, 0xA000+uint64(i))
	}
	callee.set(arm64SP, sp)
	callee.set(arm64PC, 0x140001100)

	got, err := evalCFIRow(rowOf(t, ".cfa: sp 32 + .ra: .cfa -8 + ^ x29: .cfa -16 + ^"), callee, m, 8)
	if err != nil {
		t.Fatal(err)
	}
	if got.PC() != 0x140001234 || got.SP() != sp+32 || got.FP() != 0x30080 {
		t.Errorf("pc %#x sp %#x fp %#x, want 0x140001234 %#x 0x30080", got.PC(), got.SP(), got.FP(), sp+32)
	}
	if lr := mustGet(t, &got, "lr"); lr != 0x0035000140001234 {
		t.Errorf("lr = %#x, want the return address as loaded", lr)
	}
	if x19 := mustGet(t, &got, "x19"); x19 != 0xA000+19 {
		t.Errorf("x19 = %#x, want it unchanged", x19)
	}
	if _, ok := got.Get("x0"); ok {
		t.Error("x0 is still known in the caller")
	}

	// A leaf: the return address is still in x30 and the CFA is sp itself.
	got, err = evalCFIRow(rowOf(t, ".cfa: sp 0 + .ra: x30"), callee, m, 8)
	if err != nil {
		t.Fatal(err)
	}
	if got.PC() != 0xA000+30 || got.SP() != sp {
		t.Errorf("leaf: pc %#x sp %#x", got.PC(), got.SP())
	}
	// "$"-prefixed names work as well, and x30 given by a rule stands for a missing .ra.
	got, err = evalCFIRow(rowOf(t, ".cfa: $sp 32 + $x30: .cfa -8 + ^"), callee, m, 8)
	if err != nil {
		t.Fatal(err)
	}
	if got.PC() != 0x140001234 {
		t.Errorf("x30 rule: pc %#x", got.PC())
	}
}

func TestEvalCFIRowErrors(t *testing.T) {
	m := newFakeMem()
	m.region(0x20000, 0x100)
	callee := amd64Regs(map[string]uint64{"rsp": 0x20000})
	for _, c := range []struct{ rules, want string }{
		{".ra: .cfa 8 - ^", "no .cfa rule"},
		{".cfa: $rsp 8 +", "no .ra rule"},
		{".cfa: .cfa 8 + .ra: .cfa 8 - ^", ".cfa: CFI rule: .cfa is not defined"},
		{".cfa: $rsp 8 + .ra: .cfa 0x1000 + ^", ".ra: CFI rule: memory at"},
		{".cfa: $rsp 8 + .ra: .undef", ".undef is not defined"},
		{".cfa: $rsp $rsp 8 = .ra: .cfa 8 - ^", "= is not allowed"},
		{".cfa: $rsp 8 + 1 .ra: .cfa 8 - ^", "leaves 2 values"},
		{".cfa: $rsp 8 + .ra: .cfa 8 - ^ ^", "memory at"},
		{".cfa: $rsp 0 / .ra: 1", "division by zero"},
		{".cfa: $nosuch .ra: 1", "$nosuch is not defined"},
		{".cfa: $rsp 8 & .ra: 1", "unexpected token"},
	} {
		_, err := evalCFIRow(rowOf(t, c.rules), callee, m, 8)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.rules, err, c.want)
		}
	}
	long := rowOf(t, ".cfa: $rsp .ra: 1")
	for len(long.Rules) <= maxCFIRules {
		long.Rules = append(long.Rules, CFIRule{Register: "$r15", Expr: "1"})
	}
	if _, err := evalCFIRow(long, callee, m, 8); err == nil || !strings.Contains(err.Error(), "rules (at most") {
		t.Errorf("%d rules: error %v", len(long.Rules), err)
	}
	// A register rule that cannot be evaluated makes that register unknown, nothing more.
	m.put64(0x20000, 0x7FF600001000)
	got, err := evalCFIRow(rowOf(t, ".cfa: $rsp 8 + .ra: .cfa 8 - ^ $rbx: .cfa 0x100000 + ^ $rsi: .undef"), callee, m, 8)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Get("rbx"); ok {
		t.Error("rbx is known though its saved slot is unreadable")
	}
	if _, ok := got.Get("rsi"); ok {
		t.Error("rsi is known though its rule is .undef")
	}
	if got.PC() != 0x7FF600001000 || got.SP() != 0x20008 {
		t.Errorf("pc %#x sp %#x", got.PC(), got.SP())
	}
}

// TestWalkCFIX64 walks three x64 frames through two modules that have only CFI: frame 0 is
// interrupted inside f; its return address is the first byte after g's record, found only by
// looking up IP-1 as Breakpad does; h's return address is 0, which ends the stack.
func TestWalkCFIX64(t *testing.T) {
	const (
		baseA = 0x7FF600000000
		baseB = 0x7FF700000000
		sp    = 0x40000
	)
	m := newFakeMem()
	m.region(sp, 0x400)
	rowsA := cfiRows{
		{start: 0x1000, size: 0x80, rules: ".cfa: $rsp 8 + .ra: .cfa 8 - ^",
			deltas: []cfiDelta{{0x1004, ".cfa: $rsp 16 + $rbx: .cfa 16 - ^"}, {0x1008, ".cfa: $rsp 64 +"}}}, // f
		{start: 0x2000, size: 0x40, rules: ".cfa: $rsp 48 + .ra: .cfa 8 - ^ $rsi: .cfa 16 - ^"}, // h
	}
	rowsB := cfiRows{{start: 0x500, size: 0x20, rules: ".cfa: $rsp 32 + .ra: .cfa 8 - ^"}} // g
	// f at +0x1010: CFA = sp+64; rbx at CFA-16; return into g at its end (B+0x520).
	m.put64(sp+64-16, 0xB0B0)
	m.put64(sp+64-8, baseB+0x520)
	// g: CFA = (sp+64)+32; return into h.
	sp1 := uint64(sp + 64)
	m.put64(sp1+32-8, baseA+0x2010)
	// h: CFA = sp2+48; rsi at CFA-16; return address 0.
	sp2 := sp1 + 32
	m.put64(sp2+48-16, 0x5151)
	m.put64(sp2+48-8, 0)
	mods := []Module{
		{Base: baseA, Size: 0x10000, Name: "a", Unwind: noTable{}, CFI: rowsA},
		{Base: baseB, Size: 0x10000, Name: "b", Unwind: noTable{}, CFI: rowsB},
	}
	ctx := &cpu.AMD64Context{Rip: baseA + 0x1010, Rsp: sp, Rbx: 0x1111, Rsi: 0x2222}
	frames := Walk(context.Background(), cpu.ArchAMD64, ctx, m, mods, 0)
	if len(frames) != 3 {
		t.Fatalf("%d frames: %v", len(frames), frames)
	}
	want := []struct {
		ip, sp uint64
		trust  Trust
		begin  uint32
	}{
		{baseA + 0x1010, sp, TrustContext, 0x1000},
		{baseB + 0x520, sp1, TrustCFI, 0x500},
		{baseA + 0x2010, sp2, TrustCFI, 0}, // the last frame: FunctionBegin comes with finding a caller
	}
	for i, w := range want {
		f := frames[i]
		if f.InstructionPointer != w.ip || f.StackPointer != w.sp || f.Trust != w.trust || f.FunctionBegin != w.begin {
			t.Errorf("frame %d: %v begin %#x, want ip %#x sp %#x %s begin %#x", i, &f, f.FunctionBegin, w.ip, w.sp, w.trust, w.begin)
		}
	}
	if rbx := mustGet(t, &frames[1].Regs, "rbx"); rbx != 0xB0B0 {
		t.Errorf("frame 1 rbx = %#x, want the value f saved", rbx)
	}
	if rbx := mustGet(t, &frames[2].Regs, "rbx"); rbx != 0xB0B0 {
		t.Errorf("frame 2 rbx = %#x, want it carried through g", rbx)
	}
	if frames[2].Stop != "return address is 0 (end of the stack)" {
		t.Errorf("stop = %q", frames[2].Stop)
	}
	if frames[0].ReturnAddress != baseB+0x520 || frames[2].ReturnAddress != 0 {
		t.Errorf("return addresses %#x %#x", frames[0].ReturnAddress, frames[2].ReturnAddress)
	}
	if TrustCFI.String() != "cfi" {
		t.Errorf("TrustCFI prints %q", TrustCFI.String())
	}
}

// The image's unwind data comes before the CFI: with a function table the CFI is not read; with
// a table whose unwind data cannot be read the CFI is the fallback, and the frame says why.
func TestWalkCFIOrder(t *testing.T) {
	const base, sp = 0x140000000, 0x50000
	m := newFakeMem()
	m.region(sp, 0x200)
	m.put64(sp+0x28, base+0x1800) // where the UNWIND_INFO's 0x28-byte frame keeps the return address
	m.put64(sp+0x48, base+0x1900) // where the (deliberately different) CFI row says it is
	// A caller frame at +0x1800 / +0x1900 has no data and returns to 0 via a zero [rsp].
	im := newFakeImage(0x4000)
	im.put(0x3000, unwindInfo(1, 0, 4, 0, 0, []uint16{uwc(4, UwopAllocSmall, 4)})...) // sub rsp, 0x28
	im.entries = append(im.entries, RuntimeFunction{Begin: 0x1000, End: 0x1100, UnwindData: 0x3000})
	rows := cfiRows{{start: 0x1000, size: 0x100, rules: ".cfa: $rsp 80 + .ra: .cfa 8 - ^"}}
	ctx := &cpu.AMD64Context{Rip: base + 0x1050, Rsp: sp}

	withTable := []Module{{Base: base, Size: 0x4000, Unwind: im.table(t, cpu.ArchAMD64), CFI: rows}}
	frames := Walk(context.Background(), cpu.ArchAMD64, ctx, m, withTable, 2)
	if len(frames) < 2 || frames[1].Trust != TrustUnwindInfo || frames[1].InstructionPointer != base+0x1800 {
		t.Fatalf("with .pdata: %v", frames)
	}

	broken := newFakeImage(0x4000) // the entry's UNWIND_INFO lies outside the image
	broken.entries = append(broken.entries, RuntimeFunction{Begin: 0x1000, End: 0x1100, UnwindData: 0x7000})
	badTable := []Module{{Base: base, Size: 0x4000, Unwind: broken.table(t, cpu.ArchAMD64), CFI: rows}}
	frames = Walk(context.Background(), cpu.ArchAMD64, ctx, m, badTable, 2)
	if len(frames) < 2 || frames[1].Trust != TrustCFI || frames[1].InstructionPointer != base+0x1900 ||
		!strings.Contains(frames[1].Note, "unwind info") {
		t.Fatalf("with broken .pdata: %v", frames)
	}

	// No table and no row for the address: the scan is the last resort, as before.
	noRow := []Module{{Base: base, Size: 0x4000, Unwind: noTable{}, CFI: cfiRows{}}}
	frames = Walk(context.Background(), cpu.ArchAMD64, ctx, m, noRow, 2)
	if len(frames) < 2 || frames[1].Trust != TrustScan {
		t.Fatalf("without data: %v", frames)
	}
}

// An ARM64 walk by CFI: a frame that saved fp/lr at the bottom of its 32-byte frame, as the
// usual `stp x29, x30, [sp, #-32]!` prolog does.
func TestWalkCFIARM64(t *testing.T) {
	const base, sp = 0x7FF800000000, 0x60000
	m := newFakeMem()
	m.region(sp, 0x100)
	m.put64(sp, 0x60080)       // saved x29
	m.put64(sp+8, base+0x2004) // saved lr
	m.put64(sp+32, 0)          // the caller's frame record: end of the chain
	m.put64(sp+40, 0)
	rows := cfiRows{
		{start: 0x1000, size: 0x40, rules: ".cfa: sp 32 + .ra: .cfa -24 + ^ x29: .cfa -32 + ^ x30: .cfa -24 + ^"},
		{start: 0x2000, size: 0x40, rules: ".cfa: sp 16 + .ra: .cfa -8 + ^ x29: .cfa -16 + ^"},
	}
	ctx := &cpu.ARM64Context{Pc: base + 0x1010, Sp: sp, Fp: sp + 0x10, Lr: 0x1234}
	ctx.X[29], ctx.X[30] = ctx.Fp, ctx.Lr
	frames := Walk(context.Background(), cpu.ArchARM64, ctx, m, []Module{{Base: base, Size: 0x10000, Unwind: noTable{}, CFI: rows}}, 0)
	if len(frames) != 2 || frames[1].Trust != TrustCFI || frames[1].InstructionPointer != base+0x2004 ||
		frames[1].StackPointer != sp+32 || frames[1].FramePointer != 0x60080 {
		t.Fatalf("frames: %v", frames)
	}
	if frames[1].Stop != "return address is 0 (end of the stack)" {
		t.Errorf("stop %q", frames[1].Stop)
	}
}

// FuzzCFIRow evaluates hostile rule sets on x64 and ARM64 registers and walks with them: errors
// are fine, panics and hangs are not.
func FuzzCFIRow(f *testing.F) {
	f.Add("$rsp 96 +", ".cfa 8 - ^", ".cfa 0 - ^")          // basic-opt64.sym
	f.Add("$rsp 80 +", ".cfa 8 - ^", ".cfa 16 - ^")         // CrashWithException.pdb.sym
	f.Add("sp 32 +", ".cfa -8 + ^", ".cfa -16 + ^")         // ARM64, Breakpad's register names
	f.Add("$rsp 0x10 @ 3 % 2 / 7 *", "x30", "0 -1 + ^ ^ ^") // every operator
	f.Fuzz(func(t *testing.T, cfa, ra, reg string) {
		m := newFakeMem()
		m.region(0x10000, 0x200)
		for _, arch := range []cpu.Arch{cpu.ArchAMD64, cpu.ArchARM64} {
			rules := ".cfa: " + cfa + " .ra: " + ra + " $rbx: " + reg + " x29: " + reg
			rows := cfiRows{{start: 0x1000, size: 0x100, rules: rules}}
			r := Registers{Arch: arch}
			for i := 0; i < numRegisters; i++ {
				r.set(i, 0x10000+8*uint64(i))
			}
			_, _ = evalCFIRow(rowOf(t, rules), r, m, 8)
			var ctx cpu.Context = &cpu.AMD64Context{Rip: 0x140001010, Rsp: 0x10000}
			if arch == cpu.ArchARM64 {
				ctx = &cpu.ARM64Context{Pc: 0x140001010, Sp: 0x10000}
			}
			Walk(context.Background(), arch, ctx, m, []Module{{Base: 0x140000000, Size: 0x4000, Unwind: noTable{}, CFI: rows}}, 32)
		}
	})
}
