package ksynth

import (
	"context"
	"strings"
	"testing"

	"wdbg/engine/cpu"
	"wdbg/engine/pe"
	"wdbg/engine/unwind"
	"wdbg/engine/vmem"
)

// TestImagesParse opens every module through engine/pe as a mapped image in the dump and
// checks the export names and addresses, the CodeView record and (x64) the exception table
// against the manifest.
func TestImagesParse(t *testing.T) {
	for _, m := range Machines {
		d, _, tr := open(t, Spec{Machine: m})
		is64 := d.Manifest().PointerSize == 8
		for _, mod := range d.Manifest().Modules {
			img, err := pe.NewMapped(tr, mod.Base)
			if err != nil {
				t.Fatalf("%s %s: %v", m, mod.Name, err)
			}
			if img.Is64() != is64 {
				t.Errorf("%s: Is64 %v", mod.Name, img.Is64())
			}
			if img.FileHeader.TimeDateStamp != mod.TimeDateStamp || img.OptionalHeader.SizeOfImage != mod.Size ||
				img.OptionalHeader.CheckSum != mod.CheckSum {
				t.Errorf("%s: timestamp %#x size %#x checksum %#x", mod.Name, img.FileHeader.TimeDateStamp,
					img.OptionalHeader.SizeOfImage, img.OptionalHeader.CheckSum)
			}
			exp, err := img.Exports()
			if err != nil || exp == nil {
				t.Fatalf("%s exports: %v", mod.Name, err)
			}
			got := map[string]uint64{}
			for _, e := range exp.Exports {
				got[e.Name] = mod.Base + uint64(e.RVA)
			}
			for _, e := range mod.Exports {
				if got[e.Name] != e.Address {
					t.Errorf("%s!%s at %#x, manifest %#x", mod.Name, e.Name, got[e.Name], e.Address)
				}
			}
			cv, err := img.CodeView()
			if err != nil || cv == nil {
				t.Fatalf("%s CodeView: %v", mod.Name, err)
			}
			if cv.PDBName != mod.PDB || cv.Age != mod.Age || !strings.EqualFold(cv.GUID.String(), mod.GUID) {
				t.Errorf("%s CodeView %s %s %d, manifest %s %s %d", mod.Name, cv.PDBName, cv.GUID, cv.Age, mod.PDB, mod.GUID, mod.Age)
			}
			if is64 {
				et, err := img.ExceptionTable()
				if err != nil || et == nil || et.Len() != len(mod.Exports) {
					t.Errorf("%s exception table: %v", mod.Name, err)
				}
			}
		}
	}
}

// unwindModules gives the walker every module of the dump with its function table read
// through engine/pe from the dump's memory.
func unwindModules(t *testing.T, m *Manifest, tr *vmem.Translator, arch cpu.Arch) []unwind.Module {
	var mods []unwind.Module
	for _, mod := range m.Modules {
		img, err := pe.NewMapped(tr, mod.Base)
		if err != nil {
			t.Fatal(err)
		}
		var pdata []byte
		if arch == cpu.ArchAMD64 {
			dir := img.Directory(pe.DirectoryException)
			if pdata, err = img.ReadRVA(dir.VirtualAddress, int(dir.Size)); err != nil {
				t.Fatal(err)
			}
		}
		ft, err := unwind.NewFunctionTable(arch, pdata, img.ReadRVA)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, unwind.Module{Base: mod.Base, Size: uint64(mod.Size), Name: mod.Name, Unwind: ft})
	}
	return mods
}

// TestStacksUnwind walks every thread's stack with engine/unwind from the manifest's start
// registers (x64: .pdata/.xdata of the images in the dump, through KiPageFault's machine frame;
// x86: the EBP chain, through KiTrap0E's trap frame) and expects the manifest's call chain.
func TestStacksUnwind(t *testing.T) {
	for _, m := range Machines {
		t.Run(m.String(), func(t *testing.T) {
			d, _, tr := open(t, Spec{Machine: m, Processors: 2})
			man := d.Manifest()
			arch := cpu.ArchAMD64
			if man.PointerSize == 4 {
				arch = cpu.ArchX86
			}
			mods := unwindModules(t, man, tr, arch)
			for _, th := range man.Threads {
				var start cpu.Context
				if arch == cpu.ArchAMD64 {
					start = &cpu.AMD64Context{Rip: th.Start.IP, Rsp: th.Start.SP, Rbp: th.Start.FP}
				} else {
					start = &cpu.X86Context{Eip: uint32(th.Start.IP), Esp: uint32(th.Start.SP), Ebp: uint32(th.Start.FP)}
				}
				frames := unwind.Walk(context.Background(), arch, start, tr, mods, 64)
				var got []string
				for _, f := range frames {
					if f.InstructionPointer == 0 {
						break
					}
					got = append(got, man.Symbol(f.InstructionPointer))
				}
				var want []string
				for _, f := range th.Frames {
					want = append(want, f.Symbol)
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("thread %#x (tid %#x):\n got %s\nwant %s\nlast: %s", th.Address, th.TID,
						strings.Join(got, " "), strings.Join(want, " "), frames[len(frames)-1].Stop)
					continue
				}
				for i, f := range th.Frames {
					if arch == cpu.ArchAMD64 && frames[i].StackPointer != f.SP {
						t.Errorf("thread %#x frame %d (%s): Child-SP %#x, manifest %#x", th.TID, i, f.Symbol, frames[i].StackPointer, f.SP)
					}
					if arch == cpu.ArchX86 && frames[i].FramePointer != f.FP {
						t.Errorf("thread %#x frame %d (%s): ChildEBP %#x, manifest %#x", th.TID, i, f.Symbol, frames[i].FramePointer, f.FP)
					}
				}
			}
		})
	}
}
