package commands

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"wdbg/engine/ksynth"
)

// L1TF swizzling (FORMATS.md §3.2 [gap], engine/vmem/swizzle.go): engine/ksynth's Windows 10
// 19041 machine writes KDBG.L1tfHighPhysicalBitIndex and a kernel page whose transition PTE
// has that physical-address bit inverted, so that the frame it names is far beyond the dump,
// while the bytes are in the frame with the bit clear (Manifest.PTE.L1TF). d*, !pte and !vtop
// must reach those bytes and say how; the Windows 7 machines, without the field, must not.

func TestL1tfSwizzledTransitionPage(t *testing.T) {
	for _, st := range []ksynth.Storage{ksynth.RunList, ksynth.Bitmap} {
		t.Run(st.String(), func(t *testing.T) {
			k := openSynthKernel(t, ksynth.X64Win10_19041, st)
			p := k.m.PTE.L1TF
			if p == nil {
				t.Fatal("the x64-19041 manifest has no L1TF page")
			}
			if d := k.s.Target.Kernel.Debugger; d == nil || uint64(d.L1tfHighPhysicalBitIndex) != k.m.KDBG.Fields["L1tfHighPhysicalBitIndex"] {
				t.Fatalf("KDBG L1tfHighPhysicalBitIndex not read (manifest %d)", k.m.KDBG.Fields["L1tfHighPhysicalBitIndex"])
			}
			tr, err := k.s.Target.PageTables()
			if err != nil {
				t.Fatal(err)
			}
			if tr.L1TFBit() != p.HighPhysicalBit {
				t.Fatalf("kernel page tables: L1TF bit %d, want %d", tr.L1TFBit(), p.HighPhysicalBit)
			}

			// db: 16 bytes as WinDbg prints them, the 8th and 9th joined by '-'.
			hex := func(b []byte) string {
				var s []string
				for _, c := range b {
					s = append(s, fmt.Sprintf("%02x", c))
				}
				return strings.Join(s, " ")
			}
			db := run(t, k.s, fmt.Sprintf("db %x L10", p.VA))
			if want := FormatAddr(p.VA, 8) + "  " + hex(p.Pattern[:8]) + "-" + hex(p.Pattern[8:16]); !strings.Contains(db, want) {
				t.Errorf("db of the swizzled page lacks %q:\n%s", want, db)
			}
			dq := run(t, k.s, fmt.Sprintf("dq %x L2", p.VA))
			q0, q1 := binary.LittleEndian.Uint64(p.Pattern[0:]), binary.LittleEndian.Uint64(p.Pattern[8:])
			if want := FormatAddr(q0, 8) + " " + FormatAddr(q1, 8); !strings.Contains(dq, want) {
				t.Errorf("dq of the swizzled page lacks %q:\n%s", want, dq)
			}

			pte := run(t, k.s, fmt.Sprintf("!pte %x", p.VA))
			for _, want := range []string{
				fmt.Sprintf("contains %016X", p.PTE),
				"not valid\n",
				fmt.Sprintf(" Transition: %x\n", p.PA>>12),
				fmt.Sprintf(" PTE: transition, L1TF-swizzled: PFN bit %d restored", p.HighPhysicalBit-12),
				fmt.Sprintf("the entry names pfn %x\n", p.SwizzledPA>>12),
			} {
				if !strings.Contains(pte, want) {
					t.Errorf("!pte %x lacks %q:\n%s", p.VA, want, pte)
				}
			}
			for _, l := range p.Walk.Levels {
				if want := fmt.Sprintf("contains %016X", l.Entry); !strings.Contains(pte, want) {
					t.Errorf("!pte %x lacks %s's %q:\n%s", p.VA, l.Name, want, pte)
				}
			}

			// !vtop through the kernel tables and through a process's (engine AddressSpace).
			for _, base := range []uint64{0, k.m.Processes[len(k.m.Processes)-1].DirectoryTableBase} {
				vtop := run(t, k.s, fmt.Sprintf("!vtop %x %x", base, p.VA+0x10))
				for _, want := range []string{
					fmt.Sprintf("translates to physical address %x.", p.PA+0x10),
					"Amd64VtoP: PTE transition, L1TF-swizzled",
				} {
					if !strings.Contains(vtop, want) {
						t.Errorf("!vtop %x %x lacks %q:\n%s", base, p.VA+0x10, want, vtop)
					}
				}
			}

			// the ordinary transition page, whose frame is in the dump, is read as it is
			tp := run(t, k.s, fmt.Sprintf("!pte %x", k.m.PTE.Transition.VA))
			if strings.Contains(tp, "L1TF") || !strings.Contains(tp, fmt.Sprintf(" Transition: %x\n", k.m.PTE.Transition.PA>>12)) {
				t.Errorf("!pte of the unswizzled transition page:\n%s", tp)
			}
		})
	}
}

func TestL1tfNotOnWindows7(t *testing.T) {
	for _, mc := range []ksynth.Machine{ksynth.X64Win7_7601, ksynth.X86PAEWin7_7601} {
		k := openSynthKernel(t, mc, ksynth.RunList)
		if k.m.PTE.L1TF != nil {
			t.Errorf("%s: the manifest has an L1TF page", mc)
		}
		if d := k.s.Target.Kernel.Debugger; d == nil {
			t.Errorf("%s: no KDBG", mc)
		} else if d.L1tfHighPhysicalBitIndex != 0 {
			t.Errorf("%s: KDBG L1tfHighPhysicalBitIndex %d", mc, d.L1tfHighPhysicalBitIndex)
		}
		if tr, err := k.s.Target.PageTables(); err != nil {
			t.Error(err)
		} else if tr.L1TFBit() != 0 {
			t.Errorf("%s: page tables with L1TF bit %d", mc, tr.L1TFBit())
		}
	}
}
