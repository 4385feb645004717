package commands

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"wdbg/engine/kernel"
	"wdbg/engine/ksynth"
)

// The kernel PDB ksynth writes carries the structures as type records (engine/ksynth
// kpdb_types.go), as a real ntkrnlmp.pdb does. With it on the symbol path, the structure
// offsets must come from the PDB rather than the built-in tables, and every kernel command must
// still answer what the writer put in the dump. EPROCESS.CommitCharge, which no built-in table
// has, then fills !vm's per-process table.

func openSynthKernelWithSymbols(t *testing.T, machine ksynth.Machine) synthKernel {
	t.Helper()
	s, m := openPoolDump(t, ksynth.Spec{Machine: machine, Storage: ksynth.RunList})
	return synthKernel{s: s, m: m}
}

func TestSynthKernelTypedPDB(t *testing.T) {
	for _, mc := range synthMachines {
		t.Run(mc.name, func(t *testing.T) {
			k := openSynthKernelWithSymbols(t, mc.machine)
			r, err := k.s.kernelReader(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ldr := "_KLDR_DATA_TABLE_ENTRY"
			if k.m.Build < 10240 {
				ldr = "_LDR_DATA_TABLE_ENTRY"
			}
			prcbInPcr := "Prcb"
			if k.m.PointerSize == 4 {
				prcbInPcr = "PrcbData"
			}
			for _, f := range [][2]string{
				{"_EPROCESS", "UniqueProcessId"}, {"_EPROCESS", "Pcb.DirectoryTableBase"}, {"_EPROCESS", "CommitCharge"},
				{"_KTHREAD", "ApcState.Process"}, {"_ETHREAD", "Cid.UniqueThread"}, {"_KPRCB", "ProcessorState.ContextFrame"},
				{"_KPCR", prcbInPcr}, {ldr, "DllBase"}, {"_HANDLE_TABLE", "TableCode"}, {"_KSWITCH_FRAME", ""},
			} {
				if f[1] == "" {
					if _, ok := r.Layout.Size(f[0]); !ok {
						t.Errorf("sizeof(%s) unknown", f[0])
					}
					continue
				}
				if fi := r.Layout.Field(f[0], f[1]); !fi.Known || fi.Source != kernel.SourcePDB {
					t.Errorf("%s.%s: known %v from %v, want the PDB", f[0], f[1], fi.Known, fi.Source)
				}
			}
			checkSynthModules(t, k)
			checkSynthProcesses(t, k)
			checkSynthThreads(t, k)
			checkSynthCrashStack(t, k)
			checkSynthProcessors(t, k)
			checkSynthAnalyze(t, k)

			// !vm 0: the per-process commit table, in Kb (CommitCharge counts 4 KiB pages),
			// largest first.
			vm := run(t, k.s, "!vm 0")
			if !strings.Contains(vm, "  Pid ImageName                        Commit   SharedCommit        Debt\n") {
				t.Fatalf("!vm 0 has no process table:\n%s", vm)
			}
			last := -1
			for _, p := range k.m.Processes {
				if p.CommitCharge == 0 {
					t.Fatalf("the writer gave %s no CommitCharge", p.ImageFileName)
				}
				row := fmt.Sprintf("%5x %-24s %11d Kb ", p.PID, p.ImageFileName, p.CommitCharge*4)
				i := strings.Index(vm, row)
				if i < 0 {
					t.Errorf("!vm 0 lacks %q:\n%s", row, vm)
					continue
				}
				// The writer's charges grow with the process index: the table lists them in reverse.
				if last >= 0 && i > last {
					t.Errorf("%s is listed after a smaller charge:\n%s", p.ImageFileName, vm)
				}
				last = i
			}
		})
	}
}

// Without the PDB the built-in tables have no CommitCharge: !vm says where it would come from.
func TestSynthKernelVmWithoutTypes(t *testing.T) {
	k := openSynthKernel(t, ksynth.X64Win10_19041, ksynth.RunList)
	vm := run(t, k.s, "!vm 0")
	if !strings.Contains(vm, "CommitCharge offset (it comes with the kernel's symbols)") {
		t.Errorf("!vm 0 without symbols:\n%s", vm)
	}
}
