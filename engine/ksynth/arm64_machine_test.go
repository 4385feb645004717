package ksynth

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"wdbg/engine/cpu"
	"wdbg/engine/kdump"
	"wdbg/engine/pe"
	"wdbg/engine/unwind"
	"wdbg/engine/vmem"
)

// The ARM64 machine read back with the engine's readers: engine/kdump for the header,
// engine/vmem's ARM64 walker (written separately from the architecture's descriptor rules) for
// the tables, engine/cpu for the CONTEXT records and engine/unwind's ARM64 unwinder for the
// stacks. The oracle is the manifest: where the writer put what.

func openARM64(t *testing.T, storage Storage) (*Dump, *kdump.File, *vmem.Translator) {
	t.Helper()
	d, err := Build(Spec{Machine: ARM64Win11_22621, Storage: storage, Processors: 2})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	f, err := kdump.NewFile(d, d.Size())
	if err != nil {
		t.Fatalf("kdump.NewFile: %v", err)
	}
	for _, e := range f.Issues() {
		t.Errorf("kdump issue: %v", e)
	}
	// engine/kerneldump.go's view: the header's DirectoryTableBase as TTBR1, no TTBR0.
	return d, f, vmem.NewARM64(f, 0, f.Header.DirectoryTableBase)
}

func TestARM64Header(t *testing.T) {
	d, f, _ := openARM64(t, RunList)
	m, h := d.Manifest(), &f.Header
	if !h.Is64 || h.MachineImageType != 0xAA64 || f.Arch() != cpu.ArchARM64 {
		t.Errorf("header: Is64 %v MachineImageType %#x arch %v, want a PAGEDU64 header of an ARM64 (0xAA64) machine",
			h.Is64, h.MachineImageType, f.Arch())
	}
	if h.MinorVersion != 22621 || h.DirectoryTableBase != m.DirectoryTableBase || h.BugCheckCode != 0xF7 {
		t.Errorf("header: build %d DTB %#x bug check %#x, manifest %d %#x %#x", h.MinorVersion, h.DirectoryTableBase,
			h.BugCheckCode, m.Build, m.DirectoryTableBase, m.BugCheck.Code)
	}
	// §4.4: the header's context record is the bug-checking processor's ARM64 CONTEXT.
	ctx, err := f.Context()
	if err != nil {
		t.Fatalf("header context: %v", err)
	}
	checkARM64Context(t, "header", ctx, m.Context)
}

func checkARM64Context(t *testing.T, what string, ctx cpu.Context, want map[string]uint64) {
	t.Helper()
	c, ok := ctx.(*cpu.ARM64Context)
	if !ok {
		t.Fatalf("%s: context is %T, want ARM64", what, ctx)
	}
	if c.ContextFlags != 0x00400007 {
		t.Errorf("%s: ContextFlags %#x, want CONTEXT_ARM64|CONTROL|INTEGER|FLOATING_POINT", what, c.ContextFlags)
	}
	got := map[string]uint64{"pc": c.Pc, "sp": c.Sp, "fp": c.Fp, "lr": c.Lr}
	for i, x := range c.X {
		got["x"+string(rune('0'+i/10))+string(rune('0'+i%10))] = x
	}
	for name, v := range want {
		key := name
		if len(name) == 2 && name[0] == 'x' {
			key = "x0" + name[1:]
		}
		if got[key] != v {
			t.Errorf("%s: %s = %#x, manifest %#x", what, name, got[key], v)
		}
	}
}

// TestARM64TablesRoundTrip translates every page the manifest lists and walks the notable
// addresses level by level, in both storage forms.
func TestARM64TablesRoundTrip(t *testing.T) {
	for _, s := range []Storage{RunList, Bitmap} {
		t.Run(s.String(), func(t *testing.T) {
			d, f, tr := openARM64(t, s)
			m := d.Manifest()
			if len(m.Mappings) < 50 {
				t.Fatalf("only %d mappings", len(m.Mappings))
			}
			for _, mp := range m.Mappings {
				for _, off := range []uint64{0, mp.PageSize - 8} {
					pa, size, err := tr.Translate(mp.VA + off)
					if err != nil || pa != mp.PA+off || size != mp.PageSize {
						t.Errorf("%#x -> %#x (page %#x, %v), manifest %#x (page %#x)", mp.VA+off, pa, size, err, mp.PA+off, mp.PageSize)
					}
				}
			}
			if m.PTE.GigPage == nil || m.PTE.LargePage.PageSize != 2<<20 {
				t.Fatalf("the manifest lacks the 1 GiB block or nt's 2 MiB block")
			}
			walks := append([]Walk{m.PTE.Unmapped, m.PTE.LargePage, *m.PTE.GigPage}, m.PTE.Walks...)
			for _, w := range walks {
				got, err := tr.Walk(w.VA)
				if w.Valid != (err == nil) || len(got.Steps) != len(w.Levels) {
					t.Errorf("%#x: %d steps, error %v; manifest %d levels, valid %v", w.VA, len(got.Steps), err, len(w.Levels), w.Valid)
					continue
				}
				for i, st := range got.Steps {
					l := w.Levels[i]
					if st.Level != l.Name || st.EntryAddr != l.EntryAddr || st.Entry != l.Entry {
						t.Errorf("%#x level %d: %s %#x @%#x, manifest %s %#x @%#x", w.VA, i, st.Level, st.Entry, st.EntryAddr, l.Name, l.Entry, l.EntryAddr)
					}
					checkDescriptor(t, w.VA, i, i == len(got.Steps)-1 && w.Valid, l.Entry)
				}
				if !w.Valid {
					var te *vmem.TranslationError
					if !errors.As(err, &te) || te.Level != w.FailLevel {
						t.Errorf("%#x: error %v, want a failure at %s", w.VA, err, w.FailLevel)
					}
					continue
				}
				if got.PA != w.PA || got.PageSize != w.PageSize {
					t.Errorf("%#x -> %#x/%#x, manifest %#x/%#x", w.VA, got.PA, got.PageSize, w.PA, w.PageSize)
				}
				buf := make([]byte, len(w.Pattern))
				if _, err := tr.ReadAt(buf, w.VA); err != nil || !bytes.Equal(buf, w.Pattern) {
					t.Errorf("%#x reads % x (%v), manifest % x", w.VA, buf, err, w.Pattern)
				}
			}
			checkARM64SelfMap(t, m, f, tr)
			checkARM64UserHalf(t, m, f)
		})
	}
}

// checkDescriptor applies the architecture's rules to an entry the writer made: bits 1:0 = 11
// for tables and level-3 pages, 01 for level-1/2 blocks; the access flag on every leaf (else
// the first access faults); no software (invalid, non-zero) descriptors anywhere.
func checkDescriptor(t *testing.T, va uint64, level int, leaf bool, e uint64) {
	t.Helper()
	if e == 0 {
		return
	}
	switch {
	case e&1 == 0:
		t.Errorf("%#x level %d: invalid non-zero descriptor %#x (the ARM64 machine writes no software PTEs)", va, level, e)
	case !leaf && e&3 != 3:
		t.Errorf("%#x level %d: %#x is not a table descriptor", va, level, e)
	case leaf && level == 3 && e&3 != 3:
		t.Errorf("%#x: level-3 descriptor %#x is not a page descriptor", va, e)
	case leaf && level < 3 && e&3 != 1:
		t.Errorf("%#x level %d: leaf %#x is not a block descriptor", va, level, e)
	case leaf && e&(1<<10) == 0:
		t.Errorf("%#x level %d: leaf %#x lacks the access flag", va, level, e)
	}
}

// checkARM64SelfMap reads the level-3 entry of a page through the self-map at KDBG.PteBase: the
// top table's entry selfIndex points at the table itself, so PteBase + (va>>9 & ~7) over 39 bits
// is the entry's virtual address, which must hold the walk's last entry.
func checkARM64SelfMap(t *testing.T, m *Manifest, f *kdump.File, tr *vmem.Translator) {
	t.Helper()
	base := m.KDBG.Fields["PteBase"]
	if base == 0 || base != m.PTE.PteBase {
		t.Fatalf("KDBG.PteBase %#x, manifest PteBase %#x", base, m.PTE.PteBase)
	}
	for _, w := range m.PTE.Walks {
		last := w.Levels[len(w.Levels)-1]
		if last.Name != "PTE" {
			continue
		}
		at := base + (w.VA>>9)&0x7FFFFFFFF8
		var b [8]byte
		if _, err := tr.ReadAt(b[:], at); err != nil || binary.LittleEndian.Uint64(b[:]) != last.Entry {
			t.Errorf("PTE of %#x through the self-map at %#x reads %#x (%v), the walk says %#x", w.VA, at, binary.LittleEndian.Uint64(b[:]), err, last.Entry)
		}
	}
}

// checkARM64UserHalf: a process's table roots its whole space (arm64_pagetables.go): its PEB
// through TTBR0, the kernel through TTBR1, both with the process's DirectoryTableBase.
func checkARM64UserHalf(t *testing.T, m *Manifest, f *kdump.File) {
	t.Helper()
	n := 0
	for _, p := range m.Processes {
		if p.Peb == 0 {
			continue
		}
		n++
		tr := vmem.NewARM64(f, p.DirectoryTableBase, p.DirectoryTableBase)
		if pa, _, err := tr.Translate(p.Peb); err != nil || pa != p.PebPhysical {
			t.Errorf("%s: PEB %#x -> %#x (%v), manifest %#x", p.ImageFileName, p.Peb, pa, err, p.PebPhysical)
		}
		if pa, _, err := tr.Translate(m.KernBase); err != nil || pa != m.PTE.LargePage.PA&^(2<<20-1) {
			t.Errorf("%s: nt %#x -> %#x (%v) through the process's table", p.ImageFileName, m.KernBase, pa, err)
		}
	}
	if n == 0 {
		t.Error("no user process")
	}
}

// TestARM64Images parses every module as engine/pe does: an ARM64 PE32+ image whose .pdata
// holds 8-byte entries of packed unwind data, one per function, covering it exactly — except the
// trap handler's, an .xdata record (flag 0) whose codes are set_fp, save_fplr_x, the trap frame
// code 0xE8 and end ("ARM64 exception handling": .xdata header Function Length bits 0–17 in
// words, Code Words bits 27–31).
func TestARM64Images(t *testing.T) {
	d, _, tr := openARM64(t, RunList)
	traps := 0
	defer func() {
		if traps != 1 {
			t.Errorf("%d trap handlers with .xdata, want nt!KiInterruptException", traps)
		}
	}()
	for _, mod := range d.Manifest().Modules {
		img, err := pe.NewMapped(tr, mod.Base)
		if err != nil {
			t.Fatalf("%s: %v", mod.Name, err)
		}
		if img.Machine != 0xAA64 {
			t.Errorf("%s: Machine %#x, want 0xAA64", mod.Name, img.Machine)
		}
		dir := img.Directory(pe.DirectoryException)
		if dir.Size != uint32(8*len(mod.Exports)) {
			t.Errorf("%s: .pdata of %d bytes for %d functions", mod.Name, dir.Size, len(mod.Exports))
			continue
		}
		b, err := img.ReadRVA(dir.VirtualAddress, int(dir.Size))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(b); i += 8 {
			begin, w := binary.LittleEndian.Uint32(b[i:]), binary.LittleEndian.Uint32(b[i+4:])
			p := unwind.DecodePackedARM64(w)
			var e *Export
			for j := range mod.Exports {
				if mod.Exports[j].Address == mod.Base+uint64(begin) {
					e = &mod.Exports[j]
				}
			}
			if w&3 == 0 && e != nil && e.Name == "KiInterruptException" {
				x, err := img.ReadRVA(w, 8)
				if err != nil {
					t.Fatal(err)
				}
				h := binary.LittleEndian.Uint32(x)
				codes := x[4:8]
				if (h&0x3FFFF)*4 != e.Size || h>>27 != 1 || h>>18&0x1FF != 0 || codes[0] != 0xE1 || codes[1]&0xC0 != 0x80 ||
					codes[2] != 0xE8 || codes[3] != 0xE4 {
					t.Errorf("%s .xdata at %#x: header %#x codes % x, want length %#x, one code word, E1 8x E8 E4", e.Name, w, h, codes, e.Size)
				}
				traps++
				continue
			}
			if e == nil || p.Flag != 1 || p.CR != 3 || p.FuncLen != e.Size || p.FrameSize%16 != 0 || p.FrameSize == 0 {
				t.Errorf("%s .pdata[%d]: begin %#x packed %+v, export %+v", mod.Name, i/8, begin, p, e)
			}
		}
	}
}

// TestARM64StacksUnwind walks every thread's frames with engine/unwind's ARM64 unwinder from
// the manifest's start registers (the packed unwind data of the images in the dump) and
// expects the manifest's call chain and frame stack pointers; the processors' KPRCB contexts
// are the manifest's.
func TestARM64StacksUnwind(t *testing.T) {
	d, f, tr := openARM64(t, RunList)
	m := d.Manifest()
	var mods []unwind.Module
	for _, mod := range m.Modules {
		img, err := pe.NewMapped(tr, mod.Base)
		if err != nil {
			t.Fatal(err)
		}
		dir := img.Directory(pe.DirectoryException)
		pdata, err := img.ReadRVA(dir.VirtualAddress, int(dir.Size))
		if err != nil {
			t.Fatal(err)
		}
		ft, err := unwind.NewFunctionTable(cpu.ArchARM64, pdata, img.ReadRVA)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, unwind.Module{Base: mod.Base, Size: uint64(mod.Size), Name: mod.Name, Unwind: ft})
	}
	crash := m.Thread(m.CrashThread)
	if crash == nil || len(crash.Frames) != 8 || !strings.HasPrefix(crash.Frames[0].Symbol, "nt!KeBugCheckEx+") ||
		crash.Frames[1].Symbol != "synthdrv!SynthCheckCookie+0x3c" || crash.Frames[7].RetAddr != 0 {
		t.Fatalf("crash chain: %+v", crash)
	}
	for _, th := range m.Threads {
		start := &cpu.ARM64Context{ContextFlags: 0x00400003, Pc: th.Start.IP, Sp: th.Start.SP, Fp: th.Start.FP, Lr: th.Start.LR}
		frames := unwind.Walk(context.Background(), cpu.ArchARM64, start, tr, mods, 64)
		var got, want []string
		for _, fr := range frames {
			if fr.InstructionPointer == 0 {
				break
			}
			got = append(got, m.Symbol(fr.InstructionPointer))
		}
		for _, fr := range th.Frames {
			want = append(want, fr.Symbol)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("thread %#x (tid %#x):\n got %s\nwant %s", th.Address, th.TID, strings.Join(got, " "), strings.Join(want, " "))
			continue
		}
		for i, fr := range th.Frames {
			if frames[i].StackPointer != fr.SP {
				t.Errorf("thread %#x frame %d (%s): sp %#x, manifest %#x", th.TID, i, fr.Symbol, frames[i].StackPointer, fr.SP)
			}
			// The trap handler's frame names the KTRAP_FRAME its unwind code 0xE8 read.
			if frames[i].TrapFrame != fr.TrapFrame {
				t.Errorf("thread %#x frame %d (%s): trap frame %#x, manifest %#x", th.TID, i, fr.Symbol, frames[i].TrapFrame, fr.TrapFrame)
			}
		}
	}
	// Each KPRCB's ProcessorState.ContextFrame holds that processor's ARM64 CONTEXT.
	for _, p := range m.Processors {
		b := make([]byte, contextSizeARM64)
		if _, err := tr.ReadAt(b, p.ContextFrame); err != nil {
			t.Fatal(err)
		}
		ctx, err := cpu.DecodeARM64(b)
		if err != nil {
			t.Fatal(err)
		}
		checkARM64Context(t, "KPRCB context", ctx, p.Context)
	}
	_ = f
}
