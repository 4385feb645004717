package commands

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"wdbg/engine/ksynth"
)

// An ARM64 kernel dump opened end to end. No real one is in the fixtures, so engine/ksynth
// writes a Windows 11 22621 ARM64 machine (translation tables, ARM64 CONTEXTs, PE images with
// packed ARM64 unwind data and real A64 code, a driver calling KeBugCheckEx) whose structure
// offsets are synthetic: FORMATS.md has no ARM64 tables (§9 item 10) and wdbg no built-in ones,
// so they reach wdbg only through the dump's KDBG block and the kernel PDB's types — the dump
// is opened with the symbol path Dump.WriteWithSymbols gives. Every expected value comes from
// the writer's manifest.

func openARM64Kernel(t *testing.T, storage ksynth.Storage) synthKernel {
	t.Helper()
	s, m := openPoolDump(t, ksynth.Spec{Machine: ksynth.ARM64Win11_22621, Storage: storage})
	return synthKernel{s: s, m: m}
}

func TestSynthKernelARM64(t *testing.T) {
	k := openARM64Kernel(t, ksynth.RunList)
	checkSynthBanner(t, k)
	var b strings.Builder
	Banner(k.s.Target, "", "").WriteText(&b)
	// The OS line WinDbg prints for an ARM64 kernel: "... Free ARM 64-bit (AArch64)" (the brief
	// of issue 4's ARM64 item and WinDbg's banner of ARM64 dumps).
	if want := fmt.Sprintf("Kernel Version %d MP (%d procs) Free ARM 64-bit (AArch64)\n", k.m.Build, k.m.NumberProcessors); !strings.Contains(b.String(), want) {
		t.Errorf("banner lacks %q:\n%s", want, b.String())
	}
	checkSynthModules(t, k)
	checkSynthProcesses(t, k)
	checkARM64Threads(t, k)
	checkSynthCrashStack(t, k)
	checkARM64Kv(t, k)
	checkARM64Registers(t, k)
	checkARM64Processors(t, k)
	checkARM64Pte(t, k)
	checkSynthAnalyze(t, k)
	short := run(t, k.s, "!analyze")
	sym := strings.Replace(k.m.FaultingSymbol, "+0x", "+", 1)
	if want := fmt.Sprintf("Probably caused by : %s.sys ( %s )", k.m.FaultingModule, sym); !strings.Contains(short, want) {
		t.Errorf("!analyze lacks %q:\n%s", want, short)
	}
	if !strings.HasPrefix(k.m.FaultingSymbol, "synthdrv!") {
		t.Errorf("the writer's faulting symbol %q is not in the driver", k.m.FaultingSymbol)
	}
}

// checkARM64Threads: !thread of every thread; the running ones show their whole stack, the
// others say why theirs cannot be walked (no ARM64 switch frame facts).
func checkARM64Threads(t *testing.T, k synthKernel) {
	for _, th := range k.m.Threads {
		out := run(t, k.s, fmt.Sprintf("!thread %x", th.Address))
		head := fmt.Sprintf("THREAD %s  Cid %04x.%04x  Teb: %s", FormatPtr(th.Address, 8), th.PID, th.TID, FormatPtr(th.Teb, 8))
		if !strings.HasPrefix(out, head) {
			t.Errorf("!thread %x starts %q, want %q", th.Address, firstLine(out), head)
		}
		for _, w := range []string{
			fmt.Sprintf("Stack Init %s Current %s", FormatPtr(th.InitialStack, 8), FormatPtr(th.KernelStack, 8)),
			fmt.Sprintf("Base %s Limit %s", FormatPtr(th.StackBase, 8), FormatPtr(th.StackLimit, 8)),
			fmt.Sprintf("Context Switch Count      %-14d", th.ContextSwitches),
			fmt.Sprintf("Priority %d BasePriority %d", th.Priority, th.BasePriority),
		} {
			if !strings.Contains(out, w) {
				t.Errorf("!thread %x lacks %q:\n%s", th.Address, w, out)
			}
		}
		if len(th.Irps) > 0 && !strings.Contains(out, "IRP List:\n    "+FormatPtr(th.Irps[0], 8)+": (0006,") {
			t.Errorf("!thread %x lacks its IRP %x:\n%s", th.Address, th.Irps[0], out)
		}
		if th.State != 2 {
			if want := "(stack: not available: this thread is not running, and the ARM64 switch frame"; !strings.Contains(out, want) {
				t.Errorf("!thread %x (not running) lacks %q:\n%s", th.Address, want, out)
			}
			continue
		}
		if !strings.Contains(firstLine(out), fmt.Sprintf("RUNNING on processor %d", th.Processor)) {
			t.Errorf("running thread %x: %q, want processor %d", th.Address, firstLine(out), th.Processor)
		}
		at := 0
		for _, f := range th.Frames {
			i := strings.Index(out[at:], " "+f.Symbol+"\n")
			if j := strings.Index(out[at:], " "+f.Symbol+" (TrapFrame @ "); i < 0 || j >= 0 && j < i {
				i = j // a trap handler's row carries kv's note (kernel_arm64_trap_test.go)
			}
			if i < 0 {
				t.Errorf("!thread %x stack lacks %s (after offset %d):\n%s", th.Address, f.Symbol, at, out)
				break
			}
			at += i + 1
		}
	}
}

// checkARM64Kv: kv on the bug-checking processor, row by row: frame number, Child-SP, RetAddr and
// call site of each frame the writer laid out.
func checkARM64Kv(t *testing.T, k synthKernel) {
	crash := k.m.Thread(k.m.CrashThread)
	kv := run(t, k.s, "kv")
	lines := strings.Split(strings.TrimRight(kv, "\n"), "\n")
	if len(lines) != len(crash.Frames)+1 {
		t.Fatalf("kv shows %d frames, the writer laid out %d:\n%s", len(lines)-1, len(crash.Frames), kv)
	}
	for i, f := range crash.Frames {
		l := lines[i+1]
		if want := fmt.Sprintf("%02x %s %s ", i, FormatAddr(f.SP, 8), FormatAddr(f.RetAddr, 8)); !strings.HasPrefix(l, want) {
			t.Errorf("kv frame %d: %q, want it to start %q", i, l, want)
		}
		if !strings.HasSuffix(l, " : "+f.Symbol) {
			t.Errorf("kv frame %d: %q, want call site %s", i, l, f.Symbol)
		}
	}
}

// checkARM64Registers: r on the bug-checking processor shows the header's CONTEXT: KeBugCheckEx's
// arguments in x0–x4, and pc, sp, fp, lr.
func checkARM64Registers(t *testing.T, k synthKernel) {
	r := run(t, k.s, "r")
	for _, name := range []string{"x0", "x1", "x2", "x3", "x4", "fp", "lr", "sp", "pc"} {
		if want := fmt.Sprintf("%s=%016x", name, k.m.Context[name]); !strings.Contains(r, want) {
			t.Errorf("r lacks %q:\n%s", want, r)
		}
	}
	if k.m.Context["x0"] != uint64(k.m.BugCheck.Code) || k.m.Context["x1"] != k.m.BugCheck.Parameters[0] {
		t.Errorf("manifest context x0 %#x x1 %#x: not KeBugCheckEx's arguments", k.m.Context["x0"], k.m.Context["x1"])
	}
}

// checkARM64Processors: !pcr and !irql per processor (the KPCR found from the KDBG's
// OffsetPcrContainedPrcb, its Irql from the PDB types), and each processor's registers from its
// KPRCB's ARM64 CONTEXT; the other processor runs its idle thread, whose stack kc walks.
func checkARM64Processors(t *testing.T, k synthKernel) {
	for _, p := range k.m.Processors {
		pcr := run(t, k.s, fmt.Sprintf("!pcr %d", p.Number))
		for _, w := range []string{
			fmt.Sprintf("KPCR for Processor %d at %s:", p.Number, FormatPtr(p.Pcr, 8)),
			"Prcb: " + FormatPtr(p.Prcb, 8),
			"CurrentThread: " + FormatPtr(p.CurrentThread, 8),
			"IdleThread: " + FormatPtr(p.IdleThread, 8),
		} {
			if !strings.Contains(pcr, w) {
				t.Errorf("!pcr %d lacks %q:\n%s", p.Number, w, pcr)
			}
		}
		if got, want := run(t, k.s, fmt.Sprintf("!irql %d", p.Number)), fmt.Sprintf("-- %d (", p.Irql); !strings.Contains(got, want) {
			t.Errorf("!irql %d = %q, want %q", p.Number, got, want)
		}
		if p.Number == k.m.BugCheckProcessor {
			continue
		}
		run(t, k.s, fmt.Sprintf("~%ds", p.Number))
		if pc, want := run(t, k.s, "r pc"), fmt.Sprintf("=%s\n", FormatPtr(p.Context["pc"], 8)); !strings.HasSuffix(pc, want) {
			t.Errorf("~%ds; r pc = %q, want %q (KPRCB context)", p.Number, pc, want)
		}
		idle := k.m.Thread(p.CurrentThread)
		var want []string
		for _, f := range idle.Frames {
			want = append(want, f.Symbol)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(run(t, k.s, "kc")), "\n")[1:] {
			if f := strings.Fields(l); len(f) == 2 {
				got = append(got, f[1])
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("kc on processor %d: %v, want %v", p.Number, got, want)
		}
	}
	run(t, k.s, fmt.Sprintf("~%ds", k.m.BugCheckProcessor))
}

// checkARM64Pte: !pte and !vtop of kernel addresses (4 KB pages, nt's 2 MB block, a 1 GB block)
// show every level's descriptor and its self-map address (KDBG.PteBase), and the physical
// address the writer mapped; dq reads the bytes the writer put there; an unmapped address fails
// at the level the writer left empty; a PEB translates through its process's DirBase.
func checkARM64Pte(t *testing.T, k synthKernel) {
	walks := append(append([]ksynth.Walk(nil), k.m.PTE.Walks...), k.m.PTE.LargePage, *k.m.PTE.GigPage)
	for _, w := range walks {
		out := run(t, k.s, fmt.Sprintf("!pte %x", w.VA))
		self := synthSelfMap(k.m, w.VA)
		for _, l := range w.Levels {
			for _, want := range []string{fmt.Sprintf("contains %016X", l.Entry), fmt.Sprintf("%s at %016X", l.Name, self[l.Name])} {
				if !strings.Contains(out, want) {
					t.Errorf("!pte %x lacks %s's %q:\n%s", w.VA, l.Name, want, out)
				}
			}
		}
		leaf := w.Levels[len(w.Levels)-1]
		if want := fmt.Sprintf("pfn %-9x ", leaf.Entry>>12&0xFFFFFFFFF); !strings.Contains(out, want) {
			t.Errorf("!pte %x lacks the leaf's %q:\n%s", w.VA, want, out)
		}
		vtop := run(t, k.s, fmt.Sprintf("!vtop 0 %x", w.VA))
		if want := fmt.Sprintf("translates to physical address %x.", w.PA); !strings.Contains(vtop, want) {
			t.Errorf("!vtop 0 %x lacks %q:\n%s", w.VA, want, vtop)
		}
		dq := run(t, k.s, fmt.Sprintf("dq %x L2", w.VA))
		want := fmt.Sprintf("%s  %s %s", FormatAddr(w.VA, 8), FormatAddr(binary.LittleEndian.Uint64(w.Pattern), 8),
			FormatAddr(binary.LittleEndian.Uint64(w.Pattern[8:]), 8))
		if !strings.HasPrefix(dq, want) {
			t.Errorf("dq %x L2 = %q, want %q", w.VA, dq, want)
		}
	}
	un := k.m.PTE.Unmapped
	if out := run(t, k.s, fmt.Sprintf("!vtop 0 %x", un.VA)); !strings.Contains(out, "translation fails") {
		t.Errorf("!vtop of an unmapped address:\n%s", out)
	}
	if out := run(t, k.s, fmt.Sprintf("!pte %x", un.VA)); !strings.Contains(out, un.FailLevel+" at ") || !strings.Contains(out, "not valid") {
		t.Errorf("!pte of an unmapped address (fails at %s):\n%s", un.FailLevel, out)
	}
	for _, p := range k.m.Processes {
		if p.Peb == 0 {
			continue
		}
		out := run(t, k.s, fmt.Sprintf("!vtop %x %x", p.DirectoryTableBase, p.Peb))
		if want := fmt.Sprintf("translates to physical address %x.", p.PebPhysical); !strings.Contains(out, want) {
			t.Errorf("!vtop of %s's PEB lacks %q:\n%s", p.ImageFileName, want, out)
		}
	}
}

// The run-list and bitmap forms of the ARM64 dump print the same text.
func TestSynthKernelARM64StorageFormsAgree(t *testing.T) {
	a := openARM64Kernel(t, ksynth.RunList)
	b := openARM64Kernel(t, ksynth.Bitmap)
	for _, c := range []string{"lm", "!process 0 7", "kv", "!pcr 0", "r", "!pte fffff804`3b800000"} {
		if x, y := run(t, a.s, c), run(t, b.s, c); x != y {
			t.Errorf("%s differs between run list and bitmap:\n%s\n---\n%s", c, x, y)
		}
	}
}
