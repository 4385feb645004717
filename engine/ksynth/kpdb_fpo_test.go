package ksynth

import (
	"os"
	"strings"
	"testing"

	"wdbg/engine/pdb"
)

// The x86 kernel PDB's FPO records, read back with engine/pdb: one per nt export (the manifest's
// address and size), FRAME_TRAP for the function whose frame owns the manifest's trap frame,
// FRAME_NONFPO with fUseBP for the others; 64-bit kernels get none.
func TestWriteSymbolsFPO(t *testing.T) {
	for _, mc := range []Machine{X86PAEWin7_7601, X86Win7_7601, X64Win10_19041} {
		t.Run(mc.String(), func(t *testing.T) {
			d, err := Build(Spec{Machine: mc, Storage: RunList})
			if err != nil {
				t.Fatal(err)
			}
			path, err := d.WriteSymbols(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			st, _ := fh.Stat()
			f, err := pdb.NewFile(fh, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			recs, err := f.FPO()
			if err != nil {
				t.Fatal(err)
			}
			m := d.Manifest()
			nt := m.Module("nt")
			if m.PointerSize == 8 {
				if len(recs) != 0 {
					t.Errorf("%d FPO records in a 64-bit kernel PDB", len(recs))
				}
				return
			}
			// The function owning the trap frame, by the manifest's crash stack.
			trapFn := ""
			for _, fr := range m.Thread(m.CrashThread).Frames {
				if fr.TrapFrame == m.TrapFrame && m.TrapFrame != 0 {
					trapFn = strings.TrimPrefix(strings.SplitN(fr.Symbol, "+", 2)[0], "nt!")
				}
			}
			if trapFn == "" {
				t.Fatal("no crash frame owns the trap frame")
			}
			if len(recs) != len(nt.Exports) {
				t.Errorf("%d FPO records for %d nt functions", len(recs), len(nt.Exports))
			}
			for _, e := range nt.Exports {
				rva := uint32(e.Address - nt.Base)
				r, ok := f.FPOAt(rva + e.Size - 1)
				if !ok || r.RVA != rva || r.Size != e.Size {
					t.Errorf("%s at RVA %#x size %#x: record %+v, %v", e.Name, rva, e.Size, r, ok)
					continue
				}
				want := uint8(pdb.FrameNonFPO)
				if e.Name == trapFn {
					want = pdb.FrameTrap
				}
				if r.Frame != want || !r.UseBP || r.Params != 0 || r.Regs != 0 {
					t.Errorf("%s: record %+v, want frame type %d with fUseBP", e.Name, r, want)
				}
			}
		})
	}
}
