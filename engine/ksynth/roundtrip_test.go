package ksynth

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"wdbg/engine/cpu"
	"wdbg/engine/kdbg"
	"wdbg/engine/kdump"
	"wdbg/engine/vmem"
)

// The oracle of these tests is the Manifest: what the writer put where, from the FORMATS.md
// facts. The readers (engine/kdump, engine/vmem, engine/kdbg) were written separately from the
// same document, so agreement checks both transcriptions.

type variant struct {
	name string
	spec Spec
}

func variants() []variant {
	var out []variant
	for _, m := range Machines {
		for _, v := range []struct {
			name string
			s    Spec
		}{
			{"runlist", Spec{Storage: RunList}},
			{"bitmap", Spec{Storage: Bitmap}},
			{"bitmap-all-aligned", Spec{Storage: Bitmap, AllPages: true, PageAlignBitmapData: true, Processors: 3}},
		} {
			s := v.s
			s.Machine = m
			out = append(out, variant{m.String() + "/" + v.name, s})
		}
	}
	return out
}

// open builds the dump and opens it through kdump, from memory (Dump.ReadAt).
func open(t testing.TB, spec Spec) (*Dump, *kdump.File, *vmem.Translator) {
	t.Helper()
	d, err := Build(spec)
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
	var tr *vmem.Translator
	if f.Header.Is64 {
		tr = vmem.NewX64(f, f.Header.DirectoryTableBase, false)
	} else {
		tr = vmem.NewX86(f, f.Header.DirectoryTableBase, f.Header.PaeEnabled)
	}
	return d, f, tr
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			d, f, _ := open(t, v.spec)
			m, h := d.Manifest(), &f.Header
			check := func(what string, got, want any) {
				t.Helper()
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s = %#x, manifest says %#x", what, got, want)
				}
			}
			check("Is64", h.Is64, m.PointerSize == 8)
			check("MajorVersion", h.MajorVersion, m.MajorVersion)
			check("MinorVersion", h.MinorVersion, m.Build)
			check("DirectoryTableBase", h.DirectoryTableBase, m.DirectoryTableBase)
			check("PfnDataBase", h.PfnDataBase, m.PfnDataBase)
			check("PsLoadedModuleList", h.PsLoadedModuleList, m.PsLoadedModuleList)
			check("PsActiveProcessHead", h.PsActiveProcessHead, m.PsActiveProcessHead)
			check("KdDebuggerDataBlock", h.KdDebuggerDataBlock, m.KdDebuggerDataBlock)
			check("MachineImageType", h.MachineImageType, m.MachineImageType)
			check("NumberProcessors", h.NumberProcessors, m.NumberProcessors)
			check("BugCheckCode", h.BugCheckCode, m.BugCheck.Code)
			check("BugCheckParameters", h.BugCheckParameters, m.BugCheck.Parameters)
			check("PaeEnabled", h.PaeEnabled, m.PAE)
			check("DumpType", uint32(h.DumpType), m.DumpType)
			check("RequiredDumpSpace", h.RequiredDumpSpace, m.RequiredDumpSpace)
			check("SystemTime", h.SystemTime, m.SystemTime)
			check("SystemUpTime", h.SystemUpTime, m.SystemUpTime)
			check("ProductType", h.ProductType, m.ProductType)
			check("SuiteMask", h.SuiteMask, m.SuiteMask)
			check("Comment", h.Comment, m.Comment)
			// The writer's crash time is 2024-03-01 12:00:00 UTC, up 1:02:03.
			if got := h.Time(); !got.Equal(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)) {
				t.Errorf("SystemTime is %v", got)
			}
			if got := h.UpTime(); got != time.Hour+2*time.Minute+3*time.Second {
				t.Errorf("SystemUpTime is %v", got)
			}
			wantStorage := kdump.StorageRunList
			if v.spec.Storage == Bitmap {
				wantStorage = kdump.StorageBitmap
			}
			check("Storage", f.Storage, wantStorage)
			n, err := f.PhysicalPageCount()
			if err != nil {
				t.Fatal(err)
			}
			check("PhysicalPageCount", n, m.StoredPages)
			if m.Exception != nil {
				check("ExceptionCode", h.Exception.ExceptionCode, m.Exception.Code)
				check("ExceptionAddress", h.Exception.ExceptionAddress, m.Exception.Address)
			}
			// The header's CONTEXT is the bug-checking processor's.
			ctx, err := f.Context()
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range m.Context {
				got, ok := ctx.Register(name)
				if !ok {
					t.Errorf("context has no %s", name)
					continue
				}
				if got != want {
					t.Errorf("context %s = %#x, want %#x", name, got, want)
				}
			}
			if m.PointerSize == 8 {
				c := ctx.(*cpu.AMD64Context)
				if c.MxCsr != c.FltSave.MxCsr {
					t.Errorf("MxCsr %#x != FltSave.MxCsr %#x (FORMATS.md §4.4)", c.MxCsr, c.FltSave.MxCsr)
				}
			}
		})
	}
}

// TestTranslateEveryMapping translates every page the manifest lists and the walk facts.
func TestTranslateEveryMapping(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			d, _, tr := open(t, v.spec)
			m := d.Manifest()
			if len(m.Mappings) < 50 {
				t.Fatalf("only %d mappings", len(m.Mappings))
			}
			for _, mp := range m.Mappings {
				for _, off := range []uint64{0, mp.PageSize - 8} {
					pa, size, err := tr.Translate(mp.VA + off)
					if err != nil {
						t.Errorf("%#x: %v", mp.VA+off, err)
						continue
					}
					if pa != mp.PA+off || size != mp.PageSize {
						t.Errorf("%#x -> %#x (page %#x), manifest %#x (page %#x)", mp.VA+off, pa, size, mp.PA+off, mp.PageSize)
					}
				}
			}
			walks := append([]Walk{m.PTE.Transition, m.PTE.PageFile, m.PTE.Unmapped, m.PTE.LargePage}, m.PTE.Walks...)
			if m.PTE.GigPage != nil {
				walks = append(walks, *m.PTE.GigPage)
			}
			for _, w := range walks {
				got, err := tr.Walk(w.VA)
				if w.Valid != (err == nil) {
					t.Errorf("%#x: valid %v, walk error %v", w.VA, w.Valid, err)
				}
				if len(got.Steps) != len(w.Levels) {
					t.Errorf("%#x: %d steps, manifest %d", w.VA, len(got.Steps), len(w.Levels))
					continue
				}
				for i, s := range got.Steps {
					l := w.Levels[i]
					if s.Level != l.Name || s.EntryAddr != l.EntryAddr || s.Entry != l.Entry {
						t.Errorf("%#x step %d: %s %#x @%#x, manifest %s %#x @%#x", w.VA, i, s.Level, s.Entry, s.EntryAddr, l.Name, l.Entry, l.EntryAddr)
					}
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
				if _, err := tr.ReadAt(buf, w.VA); err != nil {
					t.Errorf("read %#x: %v", w.VA, err)
				} else if !bytes.Equal(buf, w.Pattern) {
					t.Errorf("%#x reads % x, manifest % x", w.VA, buf, w.Pattern)
				}
			}
			if w := m.PTE.Transition; w.Levels[len(w.Levels)-1].Entry&1 != 0 || w.Levels[len(w.Levels)-1].Entry&(1<<11) == 0 {
				t.Errorf("transition PTE %#x is not valid=0 transition=1", w.Levels[len(w.Levels)-1].Entry)
			}
		})
	}
}

// TestKDBG decodes the block with engine/kdbg and compares every field the writer set.
func TestKDBG(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			d, _, tr := open(t, v.spec)
			m := d.Manifest()
			b := make([]byte, m.KDBG.Size)
			if _, err := tr.ReadAt(b, m.KDBG.Address); err != nil {
				t.Fatal(err)
			}
			k, err := kdbg.Decode(b, m.PointerSize)
			if err != nil {
				t.Fatal(err)
			}
			if k.Size != m.KDBG.Size {
				t.Errorf("Size %#x, want %#x", k.Size, m.KDBG.Size)
			}
			if k.PaeEnabled() != m.PAE {
				t.Errorf("PaeEnabled %v", k.PaeEnabled())
			}
			fields := map[string]uint64{}
			for _, f := range k.Fields() {
				fields[f.Name] = f.Value
			}
			for name, want := range m.KDBG.Fields {
				got, ok := fields[name]
				if !ok {
					t.Errorf("kdbg has no field %s", name)
				} else if got != want {
					t.Errorf("%s = %#x, want %#x", name, got, want)
				}
			}
			// Fields the §2 table names that the header repeats.
			if k.KernBase != m.KernBase || k.PsLoadedModuleList != m.PsLoadedModuleList || k.PsActiveProcessHead != m.PsActiveProcessHead {
				t.Errorf("KernBase %#x PsLoadedModuleList %#x PsActiveProcessHead %#x", k.KernBase, k.PsLoadedModuleList, k.PsActiveProcessHead)
			}
			// KeTimeIncrement is the address of the variable (§2).
			ti := make([]byte, 4)
			if _, err := tr.ReadAt(ti, k.KeTimeIncrement); err != nil || le(ti).get32() != m.SharedData.KeTimeIncrement {
				t.Errorf("*KeTimeIncrement = % x (%v)", ti, err)
			}
		})
	}
}

func (b le) get32() uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// TestStorageFormsAgree: run-list and bitmap dumps of one machine give the same bytes at every
// filled page of the manifest (issue 4: both storage forms must give identical answers).
func TestStorageFormsAgree(t *testing.T) {
	for _, m := range Machines {
		_, _, full := open(t, Spec{Machine: m, Storage: RunList})
		d, _, bitmap := open(t, Spec{Machine: m, Storage: Bitmap})
		for _, mp := range d.Manifest().Mappings {
			if mp.PageSize != pageSize {
				continue
			}
			a, b := make([]byte, pageSize), make([]byte, pageSize)
			_, errA := full.ReadAt(a, mp.VA)
			_, errB := bitmap.ReadAt(b, mp.VA)
			if errA != nil || errB != nil {
				t.Errorf("%s %#x: run list %v, bitmap %v", m, mp.VA, errA, errB)
				continue
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s %#x: run-list and bitmap bytes differ", m, mp.VA)
			}
			if want := d.ReadPhysical(mp.PA, pageSize); !bytes.Equal(a, want) {
				t.Errorf("%s %#x: bytes differ from what the writer put at %#x", m, mp.VA, mp.PA)
			}
		}
	}
}

// TestSelfMap reads every entry of the manifest's walks a second time, through the page-table
// self-map as !pte shows it (FORMATS.md §3.1: x64 at PteBase, each level's entry the PTE of the
// level below's; x86 PTEs at 0xC0000000, page directories at 0xC0300000 without PAE and
// 0xC0600000 with it), and expects the same values the walk read physically.
func TestSelfMap(t *testing.T) {
	for _, m := range Machines {
		t.Run(m.String(), func(t *testing.T) {
			d, _, tr := open(t, Spec{Machine: m})
			man := d.Manifest()
			selfMap := func(va uint64) map[string]uint64 {
				if man.PointerSize == 8 {
					pte := func(a uint64) uint64 { return man.PTE.PteBase + (a>>9)&0x7FFFFFFFF8 }
					p := pte(va)
					return map[string]uint64{"PTE": p, "PDE": pte(p), "PPE": pte(pte(p)), "PXE": pte(pte(pte(p)))}
				}
				if man.PAE {
					return map[string]uint64{"PTE": 0xC0000000 + va>>12*8, "PDE": 0xC0600000 + va>>21*8}
				}
				return map[string]uint64{"PTE": 0xC0000000 + va>>12*4, "PDE": 0xC0300000 + va>>22*4}
			}
			if want := map[bool]uint64{true: 0xC0600000, false: 0xC0300000}[man.PAE]; man.PointerSize == 4 && man.PTE.PdeBase != want {
				t.Errorf("PdeBase %#x, want %#x", man.PTE.PdeBase, want)
			}
			entrySize := 8
			if man.PointerSize == 4 && !man.PAE {
				entrySize = 4
			}
			walks := append([]Walk{man.PTE.Transition, man.PTE.PageFile, man.PTE.Unmapped, man.PTE.LargePage}, man.PTE.Walks...)
			checked := 0
			for _, w := range walks {
				at := selfMap(w.VA)
				for _, l := range w.Levels {
					va, ok := at[l.Name]
					if !ok {
						continue // the PAE PDPTE is not in the self-map
					}
					b := make([]byte, 8)
					if _, err := tr.ReadAt(b[:entrySize], va); err != nil {
						t.Errorf("%#x: %s at %#x: %v", w.VA, l.Name, va, err)
						continue
					}
					if got := le(b).get64(); got != l.Entry {
						t.Errorf("%#x: %s at %#x reads %#x, the walk read %#x", w.VA, l.Name, va, got, l.Entry)
					}
					checked++
				}
			}
			if checked < 10 {
				t.Errorf("only %d self-map entries checked", checked)
			}
		})
	}
}

func (b le) get64() uint64 { return uint64(b.get32()) | uint64(le(b[4:]).get32())<<32 }
