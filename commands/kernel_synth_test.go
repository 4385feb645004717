package commands

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/ksynth"
)

// Full and bitmap kernel dumps: no public real one exists, so engine/ksynth writes them from the
// FORMATS.md facts (page tables, KDBG, driver list, processes, threads with stacks through
// exported driver functions, processors, a bug check) and records what it wrote in a manifest.
// Every command is checked against that manifest, for Windows 10 19041 x64, Windows 7 x64 and
// Windows 7 x86 with and without PAE, and the run-list and bitmap forms of each must print the
// same thing.

type synthKernel struct {
	s *Session
	m *ksynth.Manifest
}

func openSynthKernel(t *testing.T, machine ksynth.Machine, storage ksynth.Storage) synthKernel {
	t.Helper()
	d, err := ksynth.Build(ksynth.Spec{Machine: machine, Storage: storage})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "MEMORY.DMP")
	if err := d.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	target, err := engine.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { target.Close() })
	return synthKernel{s: NewSession(target), m: d.Manifest()}
}

var synthMachines = []struct {
	name    string
	machine ksynth.Machine
}{{"x64-19041", ksynth.X64Win10_19041}, {"x86pae-7601", ksynth.X86PAEWin7_7601},
	{"x86-7601", ksynth.X86Win7_7601}, {"x64-7601", ksynth.X64Win7_7601}}

func TestSynthKernelCommands(t *testing.T) {
	for _, mc := range synthMachines {
		t.Run(mc.name, func(t *testing.T) {
			k := openSynthKernel(t, mc.machine, ksynth.RunList)
			checkSynthBanner(t, k)
			checkSynthModules(t, k)
			checkSynthProcesses(t, k)
			checkSynthThreads(t, k)
			checkSynthCrashStack(t, k)
			checkSynthProcessors(t, k)
			checkSynthPte(t, k)
			checkSynthAnalyze(t, k)
			checkSynthPrototype(t, k)
		})
	}
}

func checkSynthBanner(t *testing.T, k synthKernel) {
	m := k.m
	if got, want := k.s.Prompt(), fmt.Sprintf("%d: kd> ", m.BugCheckProcessor); got != want {
		t.Errorf("prompt %q, want %q (the bug-checking processor)", got, want)
	}
	var b strings.Builder
	Banner(k.s.Target, "", "").WriteText(&b)
	p := m.BugCheck.Parameters
	want := fmt.Sprintf("BugCheck %X, {%x, %x, %x, %x}\n", m.BugCheck.Code, p[0], p[1], p[2], p[3])
	if !strings.Contains(b.String(), want) {
		t.Errorf("banner lacks %q:\n%s", want, b.String())
	}
	if !strings.Contains(b.String(), "PsLoadedModuleList = 0x"+FormatAddr(m.PsLoadedModuleList, m.PointerSize)+"\n") {
		t.Errorf("banner lacks PsLoadedModuleList %#x:\n%s", m.PsLoadedModuleList, b.String())
	}
}

func checkSynthModules(t *testing.T, k synthKernel) {
	lm := run(t, k.s, "lm")
	for _, mod := range k.m.Modules {
		row := fmt.Sprintf("%s %s   %s ", FormatAddr(mod.Base, k.m.PointerSize), FormatAddr(mod.End, k.m.PointerSize), mod.Name)
		if !strings.Contains(lm, row) {
			t.Errorf("lm lacks %q:\n%s", row, lm)
		}
	}
	if n := len(k.s.Target.Modules); n != len(k.m.Modules) {
		t.Errorf("%d modules, the writer put %d", n, len(k.m.Modules))
	}
}

func checkSynthProcesses(t *testing.T, k synthKernel) {
	out := run(t, k.s, "!process 0 0")
	if !strings.HasPrefix(out, "**** NT ACTIVE PROCESS DUMP ****\n") {
		t.Errorf("!process 0 0 header:\n%s", out)
	}
	for _, p := range k.m.Processes {
		want := fmt.Sprintf("PROCESS %s\n", FormatPtr(p.Address, k.m.PointerSize))
		i := strings.Index(out, want)
		if i < 0 {
			t.Errorf("!process 0 0 lacks %q", want)
			continue
		}
		block := out[i:]
		if end := strings.Index(block, "\n\n"); end > 0 {
			block = block[:end]
		}
		for _, w := range []string{
			fmt.Sprintf("Cid: %04x ", p.PID),
			fmt.Sprintf("ParentCid: %04x", p.ParentPID),
			fmt.Sprintf("Peb: %x ", p.Peb),
			fmt.Sprintf("DirBase: %x ", dirBaseForDisplay(p.DirectoryTableBase, k.m.PointerSize)),
			"ObjectTable: " + FormatPtr(p.ObjectTable, k.m.PointerSize),
			"Image: " + p.ImageFileName,
		} {
			if !strings.Contains(block, w) {
				t.Errorf("process %s lacks %q:\n%s", p.ImageFileName, w, block)
			}
		}
	}
	if n := strings.Count(out, "\nPROCESS "); n != len(k.m.Processes) {
		t.Errorf("!process 0 0 shows %d processes, the active list has %d", n, len(k.m.Processes))
	}
	// !process 0 7 for one image: its threads as !thread shows them.
	spool := run(t, k.s, "!process 0 7 spoolsv.exe")
	if strings.Count(spool, "\nPROCESS ") != 1 || !strings.Contains(spool, "Image: spoolsv.exe") {
		t.Errorf("!process 0 7 spoolsv.exe:\n%s", spool)
	}
	for _, p := range k.m.Processes {
		if p.ImageFileName != "spoolsv.exe" {
			continue
		}
		for _, th := range p.Threads {
			if want := "        THREAD " + FormatPtr(th, k.m.PointerSize); !strings.Contains(spool, want) {
				t.Errorf("!process 0 7 spoolsv.exe lacks %q:\n%s", want, spool)
			}
		}
	}
}

func checkSynthThreads(t *testing.T, k synthKernel) {
	for _, th := range k.m.Threads {
		out := run(t, k.s, fmt.Sprintf("!thread %x", th.Address))
		head := fmt.Sprintf("THREAD %s  Cid %04x.%04x  Teb: %s", FormatPtr(th.Address, k.m.PointerSize), th.PID, th.TID,
			FormatPtr(th.Teb, k.m.PointerSize))
		if !strings.HasPrefix(out, head) {
			t.Errorf("!thread %x starts %q, want %q", th.Address, firstLine(out), head)
		}
		if th.State == 5 && !strings.Contains(firstLine(out), "WAIT: (") {
			t.Errorf("waiting thread %x: %q", th.Address, firstLine(out))
		}
		if th.State == 2 && !strings.Contains(firstLine(out), fmt.Sprintf("RUNNING on processor %d", th.Processor)) {
			t.Errorf("running thread %x: %q, want processor %d", th.Address, firstLine(out), th.Processor)
		}
		for _, w := range []string{
			fmt.Sprintf("Stack Init %s Current %s", FormatPtr(th.InitialStack, k.m.PointerSize), FormatPtr(th.KernelStack, k.m.PointerSize)),
			fmt.Sprintf("Context Switch Count      %-14d", th.ContextSwitches),
			fmt.Sprintf("Priority %d BasePriority %d", th.Priority, th.BasePriority),
		} {
			if !strings.Contains(out, w) {
				t.Errorf("!thread %x lacks %q:\n%s", th.Address, w, out)
			}
		}
		if len(th.Irps) > 0 && !strings.Contains(out, "IRP List:\n    "+FormatPtr(th.Irps[0], k.m.PointerSize)+": (0006,") {
			t.Errorf("!thread %x lacks its IRP %x:\n%s", th.Address, th.Irps[0], out)
		}
		// The stack: every frame the writer built, in order.
		at := 0
		for _, f := range th.Frames {
			// x64 rows end with the call site; x86 kv rows add " (FPO: ...)" after it.
			i := strings.Index(out[at:], " "+f.Symbol+"\n")
			if j := strings.Index(out[at:], " "+f.Symbol+" ("); i < 0 || j >= 0 && j < i {
				i = j
			}
			if i < 0 {
				t.Errorf("!thread %x stack lacks %s (after offset %d):\n%s", th.Address, f.Symbol, at, out)
				break
			}
			at += i + 1
		}
	}
}

func checkSynthCrashStack(t *testing.T, k synthKernel) {
	crash := k.m.Thread(k.m.CrashThread)
	if crash == nil {
		t.Fatal("manifest has no crash thread")
	}
	lines := strings.Split(strings.TrimSpace(run(t, k.s, "kc")), "\n")
	var got []string
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) == 2 {
			got = append(got, f[1])
		}
	}
	var want []string
	for _, f := range crash.Frames {
		want = append(want, f.Symbol)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("kc on the bug-checking processor:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if k.m.PointerSize == 8 && k.m.TrapFrame != 0 {
		kv := run(t, k.s, "kv")
		if want := fmt.Sprintf("(TrapFrame @ %s)", FormatAddr(k.m.TrapFrame, 8)); strings.Count(kv, want) != 1 {
			t.Errorf("kv lacks %q once:\n%s", want, kv)
		}
	}
}

func checkSynthProcessors(t *testing.T, k synthKernel) {
	for _, p := range k.m.Processors {
		pcr := run(t, k.s, fmt.Sprintf("!pcr %d", p.Number))
		for _, w := range []string{
			fmt.Sprintf("KPCR for Processor %d at %s:", p.Number, FormatPtr(p.Pcr, k.m.PointerSize)),
			"Prcb: " + FormatPtr(p.Prcb, k.m.PointerSize),
			"CurrentThread: " + FormatPtr(p.CurrentThread, k.m.PointerSize),
			"IdleThread: " + FormatPtr(p.IdleThread, k.m.PointerSize),
		} {
			if !strings.Contains(pcr, w) {
				t.Errorf("!pcr %d lacks %q:\n%s", p.Number, w, pcr)
			}
		}
		if got, want := run(t, k.s, fmt.Sprintf("!irql %d", p.Number)), fmt.Sprintf("-- %d (", p.Irql); !strings.Contains(got, want) {
			t.Errorf("!irql %d = %q, want %q", p.Number, got, want)
		}
		if p.Number != k.m.BugCheckProcessor {
			run(t, k.s, fmt.Sprintf("~%ds", p.Number))
			reg := map[int]string{8: "rip", 4: "eip"}[k.m.PointerSize]
			ip := run(t, k.s, "r "+reg)
			if want := fmt.Sprintf("=%s\n", FormatPtr(p.Context[reg], k.m.PointerSize)); !strings.HasSuffix(ip, want) {
				t.Errorf("~%ds; r ip = %q, want %q (KPRCB context)", p.Number, ip, want)
			}
		}
	}
	run(t, k.s, fmt.Sprintf("~%ds", k.m.BugCheckProcessor))
}

func checkSynthPte(t *testing.T, k synthKernel) {
	walks := append(append([]ksynth.Walk(nil), k.m.PTE.Walks...), k.m.PTE.LargePage, k.m.PTE.Transition)
	for _, w := range walks {
		out := run(t, k.s, fmt.Sprintf("!pte %x", w.VA))
		for _, l := range w.Levels {
			// 8-byte entries print 16 digits; a non-PAE x86 PTE is 4 bytes, 8 digits.
			want := fmt.Sprintf("contains %016X", l.Entry)
			if k.m.PointerSize == 4 && !k.m.PAE {
				want = fmt.Sprintf("contains %08X", l.Entry)
			}
			if !strings.Contains(out, want) {
				t.Errorf("!pte %x lacks %s's %q:\n%s", w.VA, l.Name, want, out)
			}
			if at, ok := synthSelfMap(k.m, w.VA)[l.Name]; ok {
				want := fmt.Sprintf("%s at %0*X", l.Name, 2*k.m.PointerSize, at)
				if !strings.Contains(out, want) {
					t.Errorf("!pte %x lacks %q (the self-map address of the entry):\n%s", w.VA, want, out)
				}
			}
		}
		vtop := run(t, k.s, fmt.Sprintf("!vtop 0 %x", w.VA))
		if want := fmt.Sprintf("translates to physical address %x.", w.PA); w.Valid && !strings.Contains(vtop, want) {
			t.Errorf("!vtop 0 %x lacks %q:\n%s", w.VA, want, vtop)
		}
	}
	// A transition PTE: "not valid" once, ending the pfn row, and the entry's state under the
	// last level's column (27 characters per column).
	tw := k.m.PTE.Transition
	out := run(t, k.s, fmt.Sprintf("!pte %x", tw.VA))
	under := "\n" + strings.Repeat(" ", 27*(len(tw.Levels)-1)) + " Transition: "
	if strings.Count(out, "not valid") != 1 || !strings.Contains(out, "  not valid\n") || !strings.Contains(out, under) {
		t.Errorf("!pte of the transition page: want one \"not valid\" and %q in\n%s", under, out)
	}
	un := k.m.PTE.Unmapped
	if out := run(t, k.s, fmt.Sprintf("!vtop 0 %x", un.VA)); !strings.Contains(out, "translation fails") {
		t.Errorf("!vtop of an unmapped address:\n%s", out)
	}
	// The pagefile PTE: its offset is PageFileHigh, bits 63:32 of an 8-byte PTE but 31:12 of a
	// 4-byte non-PAE one (FORMATS.md §3.2).
	if out, want := run(t, k.s, fmt.Sprintf("!pte %x", k.m.PTE.PageFile.VA)), fmt.Sprintf(" Offset: %x\n", k.m.PTE.PageFileHigh); !strings.Contains(out, want) {
		t.Errorf("!pte of the pagefile page lacks %q:\n%s", want, out)
	}
	// A user address translates only through its process's DirBase, given as !process prints
	// it (on PAE the 32-byte-aligned PDPT address, not a page).
	for _, p := range k.m.Processes {
		if p.Peb == 0 {
			continue
		}
		out := run(t, k.s, fmt.Sprintf("!vtop %x %x", dirBaseForDisplay(p.DirectoryTableBase, k.m.PointerSize), p.Peb))
		if want := fmt.Sprintf("translates to physical address %x.", p.PebPhysical); !strings.Contains(out, want) {
			t.Errorf("!vtop of %s's PEB lacks %q:\n%s", p.ImageFileName, want, out)
		}
	}
}

// checkSynthPrototype reads the first user process's image page, which the writer mapped
// through a prototype PTE (FORMATS.md §3.2): the process's PTE names a prototype PTE in system
// space whose frame the writer allocated and filled. !vtop with the process's DirBase, and
// !pte and db after .process, must reach that frame; on non-PAE x86 the prototype address is
// not decodable (the manifest says not followed) and the translation must stop and say so.
func checkSynthPrototype(t *testing.T, k synthKernel) {
	pp := k.m.PTE.Prototype
	if pp == nil {
		t.Fatal("the manifest has no prototype page")
	}
	wide := k.m.PointerSize == 8 || k.m.PAE
	entry := func(v uint64) string {
		if wide {
			return fmt.Sprintf("%016X", v)
		}
		return fmt.Sprintf("%08X", v)
	}
	vtop := run(t, k.s, fmt.Sprintf("!vtop %x %x", dirBaseForDisplay(pp.DirectoryTableBase, k.m.PointerSize), pp.VA))
	pteWant := []string{}
	for _, l := range pp.Walk.Levels {
		pteWant = append(pteWant, "contains "+entry(l.Entry))
	}
	if pp.Followed {
		for _, want := range []string{
			fmt.Sprintf("translates to physical address %x.", pp.PA),
			fmt.Sprintf("Proto at %x, physical %016x - %016x", pp.ProtoVA, pp.ProtoEntryAddr, pp.ProtoEntry),
		} {
			if !strings.Contains(vtop, want) {
				t.Errorf("!vtop of the prototype-mapped page lacks %q:\n%s", want, vtop)
			}
		}
		pteWant = append(pteWant, fmt.Sprintf("Proto at %0*X", 2*k.m.PointerSize, pp.ProtoVA),
			"contains "+entry(pp.ProtoEntry), fmt.Sprintf(" Proto: %x\n", pp.ProtoVA),
			fmt.Sprintf(" Prototype PTE valid: pfn %x\n", pp.PA>>12))
	} else {
		if !strings.Contains(vtop, "translation fails") || !strings.Contains(vtop, "prototype PTE") {
			t.Errorf("!vtop of the undecodable prototype PTE:\n%s", vtop)
		}
		pteWant = append(pteWant, " Proto: not present (prototype PTE")
	}
	run(t, k.s, fmt.Sprintf(".process /p %x", pp.Process))
	defer run(t, k.s, ".process")
	pte := run(t, k.s, fmt.Sprintf("!pte %x", pp.VA))
	for _, want := range pteWant {
		if !strings.Contains(pte, want) {
			t.Errorf("!pte of the prototype-mapped page lacks %q:\n%s", want, pte)
		}
	}
	db := run(t, k.s, fmt.Sprintf("db %x L10", pp.VA))
	hex := make([]string, 8)
	for i, c := range pp.Pattern[:8] {
		hex[i] = fmt.Sprintf("%02x", c)
	}
	hasBytes := strings.Contains(db, strings.Join(hex, " ")) && strings.Contains(db, string(pp.Pattern))
	if hasBytes != pp.Followed {
		t.Errorf("db of the prototype-mapped page (followed %v), want bytes %q:\n%s", pp.Followed, pp.Pattern, db)
	}
}

func checkSynthAnalyze(t *testing.T, k synthKernel) {
	out := run(t, k.s, "!analyze -v")
	for _, w := range []string{
		fmt.Sprintf("%s (%x)", k.m.BugCheck.Name, k.m.BugCheck.Code),
		"SYMBOL_NAME:  " + strings.Replace(k.m.FaultingSymbol, "+0x", "+", 1),
		"MODULE_NAME: " + k.m.FaultingModule,
		"IMAGE_NAME:  " + k.m.FaultingModule + ".sys",
		"PROCESS_NAME:  " + synthCrashProcess(k.m),
	} {
		if !strings.Contains(out, w) {
			t.Errorf("!analyze -v lacks %q:\n%s", w, out)
		}
	}
}

// synthSelfMap is where each level's entry for va appears in the page-table self-map (FORMATS.md
// §3.1): on x64 at the manifest's PteBase (KDBG.PteBase on Windows 10, the fixed
// 0xFFFFF68000000000 on Windows 7, whose KDBG has no such field), each level's entry being the
// PTE of the one below; on x86 the PTEs at PteBase and the page directory at PdeBase.
func synthSelfMap(m *ksynth.Manifest, va uint64) map[string]uint64 {
	if m.PointerSize == 8 {
		pte := func(a uint64) uint64 { return m.PTE.PteBase + (a>>9)&0x7FFFFFFFF8 }
		p := pte(va)
		return map[string]uint64{"PTE": p, "PDE": pte(p), "PPE": pte(pte(p)), "PXE": pte(pte(pte(p)))}
	}
	if m.PAE {
		return map[string]uint64{"PTE": m.PTE.PteBase + va>>12*8, "PDE": m.PTE.PdeBase + va>>21*8}
	}
	return map[string]uint64{"PTE": m.PTE.PteBase + va>>12*4, "PDE": m.PTE.PdeBase + va>>22*4}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// The run-list and bitmap forms of one dump hold the same pages: every command must print the
// same text from both.
func TestSynthKernelStorageFormsAgree(t *testing.T) {
	for _, mc := range synthMachines {
		t.Run(mc.name, func(t *testing.T) {
			a := openSynthKernel(t, mc.machine, ksynth.RunList)
			b := openSynthKernel(t, mc.machine, ksynth.Bitmap)
			cmds := []string{"lm", "!process 0 7", "kv", "!pcr 0", "r", "!analyze -v",
				fmt.Sprintf("!pte %x", a.m.PTE.LargePage.VA), fmt.Sprintf("dq %x L20", a.m.SharedData.Address)}
			for _, c := range cmds {
				ra, rb := run(t, a.s, c), run(t, b.s, c)
				ra = strings.ReplaceAll(ra, "FILE_IN_CAB:  MEMORY.DMP", "")
				rb = strings.ReplaceAll(rb, "FILE_IN_CAB:  MEMORY.DMP", "")
				if ra != rb {
					t.Errorf("%q differs between run list and bitmap:\n--- run list\n%s\n--- bitmap\n%s", c, ra, rb)
				}
			}
		})
	}
}

// Bad input that still opens: a KDBG pointer to nowhere and a process list head that loops back
// on a broken entry give partial answers that say what is missing, never a failure to open.
func TestSynthKernelBrokenPointers(t *testing.T) {
	for _, mc := range synthMachines {
		t.Run(mc.name, func(t *testing.T) { checkSynthBrokenPointers(t, mc.machine) })
	}
}

func checkSynthBrokenPointers(t *testing.T, machine ksynth.Machine) {
	d, err := ksynth.Build(ksynth.Spec{Machine: machine, Storage: ksynth.Bitmap})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "MEMORY.DMP")
	if err := d.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := d.Manifest()
	nowhere, notAHead := m.PTE.Unmapped.VA, m.Processes[1].Address
	if m.PointerSize == 8 {
		// FORMATS.md §1.2: DUMP_HEADER64.KdDebuggerDataBlock @0x80, PsActiveProcessHead @0x28.
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], nowhere)
		f.WriteAt(b[:], 0x80)
		binary.LittleEndian.PutUint64(b[:], notAHead)
		f.WriteAt(b[:], 0x28)
	} else {
		// FORMATS.md §1.3: DUMP_HEADER32.KdDebuggerDataBlock @0x60, PsActiveProcessHead @0x1C.
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(nowhere))
		f.WriteAt(b[:], 0x60)
		binary.LittleEndian.PutUint32(b[:], uint32(notAHead))
		f.WriteAt(b[:], 0x1C)
	}
	f.Close()

	target, err := engine.Open(path)
	if err != nil {
		t.Fatalf("a dump whose KDBG points nowhere must still open: %v", err)
	}
	defer target.Close()
	notes := strings.Join(target.Notes, "\n")
	if !strings.Contains(notes, "KiProcessorBlock is not known") {
		t.Errorf("notes do not say the processor blocks are missing:\n%s", notes)
	}
	s := NewSession(target)
	// The driver list still comes from the header's PsLoadedModuleList.
	if lm := run(t, s, "lm"); !strings.Contains(lm, "   synthdrv ") {
		t.Errorf("lm without KDBG:\n%s", lm)
	}
	if _, err := s.Exec(context.Background(), "!pcr 0"); err == nil || !strings.Contains(err.Error(), "not available in this dump") {
		t.Errorf("!pcr without KiProcessorBlock: %v", err)
	}
	out := run(t, s, "!process 0 0")
	if !strings.Contains(out, "(process list: ") {
		t.Errorf("!process 0 0 over a broken list head does not say the list broke:\n%s", out)
	}
}

func synthCrashProcess(m *ksynth.Manifest) string {
	crash := m.Thread(m.CrashThread)
	for _, p := range m.Processes {
		if crash != nil && p.Address == crash.Process {
			return p.ImageFileName
		}
	}
	return "(crash process not in the manifest)"
}
