package stack

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/cpu"
	"wdbg/engine/symbols"
	"wdbg/engine/symstore"
	"wdbg/engine/synth"
	"wdbg/engine/unwind"
	"wdbg/internal/corpus"
)

// Real STACK CFI rows drive a hand-built x64 stack through two modules whose images are missing,
// so that the .sym files are the only unwind data. The rows (the oracle) are, in the fixtures:
//
//	mozilla-dump_syms/basic-opt64.sym (MODULE windows x86_64 2B02EEDFFB7C497B9F3A107E5193B3652):
//	  FUNC 9610 133 0 dllmain_dispatch(...)
//	  STACK CFI INIT 9610 133 .cfa: $rsp 96 + $rsi: .cfa 16 - ^ $rdi: .cfa 24 - ^ $r14: .cfa 32 - ^ $rbx: .cfa 0 - ^ .ra: .cfa 8 - ^
//	  FUNC 6af0 68 0 test5(...)
//	  STACK CFI INIT 6af0 68 .cfa: $rsp 48 + $rsi: .cfa 16 - ^ .ra: .cfa 8 - ^
//	symbolic/CrashWithException.pdb.sym (MODULE windows x86_64 F535C5FB2AE84BB8AA206C30BE566C5A1):
//	  FUNC 1010 55 0 printf
//	  STACK CFI INIT 1010 55 .cfa: $rsp .ra: .cfa 8 - ^
//	  STACK CFI 1010 .cfa: $rsp 80 +
//
// Frame 0 stops in dllmain_dispatch; it returns into printf, whose CFA comes from the delta
// record; printf returns to basic-opt64+0x6b58, one past test5's end (no record covers 0x6b58:
// only looking up the call at 0x6b57 finds test5); test5 returns to 0.
func TestWalkBreakpadCFI(t *testing.T) {
	const (
		baseA = 0x7FF650000000 // basic-opt64.dll, SizeOfImage 0x8B000 (INFO CODE_ID 5DDC1E9E8B000)
		baseB = 0x7FF660000000 // CrashWithException.exe, SizeOfImage 0x9000 (INFO CODE_ID 5C9E09599000)
		sp0   = 0x000000C0DE000000
	)
	store := t.TempDir()
	link := func(fixture, pdb, id, sym string) {
		dir := filepath.Join(store, pdb, id)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(corpus.Path(t, fixture), filepath.Join(dir, sym)); err != nil {
			t.Fatal(err)
		}
	}
	link("mozilla-dump_syms/basic-opt64.sym", "basic-opt64.pdb", "2B02EEDFFB7C497B9F3A107E5193B3652", "basic-opt64.sym")
	link("symbolic/CrashWithException.pdb.sym", "CrashWithException.pdb", "F535C5FB2AE84BB8AA206C30BE566C5A1", "CrashWithException.sym")

	// The stack, by the rows above.
	stack := make([]byte, 0x200)
	put := func(addr, v uint64) { binary.LittleEndian.PutUint64(stack[addr-sp0:], v) }
	cfa0 := uint64(sp0 + 96)  // dllmain_dispatch: .cfa = $rsp 96 +
	put(cfa0-8, baseB+0x1030) // .ra: return into printf
	put(cfa0-16, 0x5151)      // $rsi
	put(cfa0-24, 0xD1D1)      // $rdi
	put(cfa0-32, 0x1414)      // $r14
	put(cfa0, 0xB0B0)         // $rbx: .cfa 0 - ^
	cfa1 := cfa0 + 80         // printf at 0x102f: the delta's .cfa: $rsp 80 +
	put(cfa1-8, baseA+0x6b58) // .ra
	cfa2 := cfa1 + 48         // test5: .cfa: $rsp 48 +
	put(cfa2-16, 0x6666)      // $rsi
	put(cfa2-8, 0)            // .ra: the end of the stack

	b := synth.NewMinidump(synth.ArchAMD64)
	b.Module(baseA, 0x8B000, `C:\app\basic-opt64.dll`, 0x5DDC1E9E, 0, synth.CodeView{
		GUID: synth.MustGUID("2B02EEDF-FB7C-497B-9F3A-107E5193B365"), Age: 2, PDB: "basic-opt64.pdb"})
	b.Module(baseB, 0x9000, `C:\app\CrashWithException.exe`, 0x5C9E0959, 0, synth.CodeView{
		GUID: synth.MustGUID("F535C5FB-2AE8-4BB8-AA20-6C30BE566C5A"), Age: 1, PDB: "CrashWithException.pdb"})
	b.Thread(1, 0x7FF000000000, sp0, stack, synth.ContextAMD64{Rip: baseA + 0x9700, Rsp: sp0,
		Rbx: 0x1111, Rsi: 0x2222, Rdi: 0x3333, R14: 0x4444, Rbp: 0x5555})
	dump := filepath.Join(t.TempDir(), "cfi.dmp")
	if err := b.WriteFile(dump, false); err != nil {
		t.Fatal(err)
	}
	tgt, err := engine.Open(dump)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tgt.Close() })
	r := symbols.New(tgt, symbols.Options{Path: symstore.ParsePath(store), Store: symstore.Options{DefaultCache: t.TempDir()}})
	frames := NewWalker(tgt, r).Walk(context.Background(), cpu.ArchAMD64, tgt.Threads[0].Context, 0)

	want := []struct {
		ip, sp uint64
		trust  unwind.Trust
		name   string
	}{
		{baseA + 0x9700, sp0, unwind.TrustContext, "dllmain_dispatch"},
		{baseB + 0x1030, cfa0, unwind.TrustCFI, "printf"},
		{baseA + 0x6b58, cfa1, unwind.TrustCFI, ""},
		{0, 0, 0, ""}, // test5 returns to 0: no frame
	}
	if len(frames) != 3 {
		t.Fatalf("%d frames, want 3: %v", len(frames), frames)
	}
	for i, f := range frames {
		w := want[i]
		if f.InstructionPointer != w.ip || f.StackPointer != w.sp || f.Trust != w.trust {
			t.Errorf("frame %d: %v, want ip %#x sp %#x %s", i, &f.Frame, w.ip, w.sp, w.trust)
		}
		if w.name != "" && !strings.HasPrefix(f.Symbol.Name, w.name) {
			t.Errorf("frame %d: symbol %q, want %s", i, f.Symbol.Name, w.name)
		}
	}
	// FunctionBegin comes from the INIT records: 9610 (frame 0) and 1010 (frame 1).
	if frames[0].FunctionBegin != 0x9610 || frames[1].FunctionBegin != 0x1010 {
		t.Errorf("function begins %#x %#x", frames[0].FunctionBegin, frames[1].FunctionBegin)
	}
	regs := func(i int, name string) uint64 {
		v, ok := frames[i].Regs.Get(name)
		if !ok {
			t.Errorf("frame %d: %s unknown", i, name)
		}
		return v
	}
	// Frame 1 gets the registers dllmain_dispatch saved; printf's rows restore none, so frame 2
	// (test5) has the same callee-saved values. test5's own $rsi rule would give its caller's
	// rsi, and that caller is the end of the stack.
	for _, c := range []struct {
		frame int
		reg   string
		want  uint64
	}{
		{1, "rsi", 0x5151}, {1, "rdi", 0xD1D1}, {1, "r14", 0x1414}, {1, "rbx", 0xB0B0}, {1, "rbp", 0x5555},
		{2, "rsi", 0x5151}, {2, "rbx", 0xB0B0},
	} {
		if got := regs(c.frame, c.reg); got != c.want {
			t.Errorf("frame %d %s = %#x, want %#x", c.frame, c.reg, got, c.want)
		}
	}
	if _, ok := frames[1].Regs.Get("rax"); ok {
		t.Error("frame 1 knows the volatile rax")
	}
	if frames[2].Stop != "return address is 0 (end of the stack)" {
		t.Errorf("stop = %q", frames[2].Stop)
	}
}

// SymCFI with no symbol file has no rows (a module whose .sym was not found).
func TestSymCFINil(t *testing.T) {
	if _, ok := (SymCFI{}).CFIRow(0x1000); ok {
		t.Error("a nil symbol file has a CFI row")
	}
}
