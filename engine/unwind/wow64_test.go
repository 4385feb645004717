package unwind_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/cpu"
	"wdbg/engine/ntuser"
	"wdbg/engine/unwind"
	"wdbg/internal/corpus"
)

// memImage reads a mapped image from the dump's memory (PE/COFF: e_lfanew at 0x3C, data
// directories at optional header +112 for PE32+ and +96 for PE32; 0 exports, 3 exceptions).
type memImage struct {
	mem  engine.Memory
	base uint64
	dirs [16][2]uint32
}

func readMemImage(mem engine.Memory, base uint64) (*memImage, error) {
	im := &memImage{mem: mem, base: base}
	h, err := im.read(0, 0x400)
	if err != nil {
		return nil, err
	}
	pe := int(binary.LittleEndian.Uint32(h[0x3C:]))
	if pe+0x100 > len(h) || string(h[pe:pe+4]) != "PE\x00\x00" {
		return nil, fmt.Errorf("no PE header at %#x", base)
	}
	opt := pe + 24
	dirs := opt + 112
	if binary.LittleEndian.Uint16(h[opt:]) == 0x10B {
		dirs = opt + 96
	}
	for i := range im.dirs {
		im.dirs[i] = [2]uint32{binary.LittleEndian.Uint32(h[dirs+8*i:]), binary.LittleEndian.Uint32(h[dirs+8*i+4:])}
	}
	return im, nil
}

func (im *memImage) read(rva uint32, n int) ([]byte, error) {
	b := make([]byte, n)
	if err := engine.ReadFull(im.mem, b, im.base+uint64(rva)); err != nil {
		return nil, err
	}
	return b, nil
}

// exportAt names the nearest export at or below rva.
func (im *memImage) exportAt(rva uint32) (string, uint32) {
	d := im.dirs[0]
	e, err := im.read(d[0], 40)
	if err != nil || d[0] == 0 {
		return "", 0
	}
	n := binary.LittleEndian.Uint32(e[24:])
	funcs, names, ords := binary.LittleEndian.Uint32(e[28:]), binary.LittleEndian.Uint32(e[32:]), binary.LittleEndian.Uint32(e[36:])
	best, bestRVA := "", uint32(0)
	for i := uint32(0); i < n && i < 10000; i++ {
		nb, err1 := im.read(names+4*i, 4)
		ob, err2 := im.read(ords+2*i, 2)
		if err1 != nil || err2 != nil {
			break
		}
		fb, err := im.read(funcs+4*uint32(binary.LittleEndian.Uint16(ob)), 4)
		if err != nil {
			continue
		}
		f := binary.LittleEndian.Uint32(fb)
		if f <= rva && f >= bestRVA {
			s, err := im.read(binary.LittleEndian.Uint32(nb), 64)
			if err != nil {
				continue
			}
			if i := strings.IndexByte(string(s), 0); i >= 0 {
				s = s[:i]
			}
			best, bestRVA = string(s), f
		}
	}
	return best, rva - bestRVA
}

func modulesFromMemory(tg *engine.Target, arch cpu.Arch) ([]unwind.Module, []*memImage) {
	var mods []unwind.Module
	var imgs []*memImage
	for _, m := range tg.Modules {
		um := unwind.Module{Base: m.Base, Size: uint64(m.Size), Name: m.Name}
		im, err := readMemImage(tg.Memory, m.Base)
		if err == nil {
			var pdata []byte
			if d := im.dirs[3]; d[1] != 0 && arch != cpu.ArchX86 {
				pdata, err = im.read(d[0], int(d[1]))
			}
			if err == nil {
				ftArch := arch
				if pdata == nil {
					ftArch = cpu.ArchX86
				}
				if ft, err := unwind.NewFunctionTable(ftArch, pdata, im.read); err == nil {
					um.Unwind = ft
				}
			}
		}
		mods = append(mods, um)
		imgs = append(imgs, im)
	}
	return mods, imgs
}

func describe(mods []unwind.Module, imgs []*memImage, f *unwind.Frame) string {
	if f.Module < 0 {
		return fmt.Sprintf("%#x", f.InstructionPointer)
	}
	m := mods[f.Module]
	if im := imgs[f.Module]; im != nil {
		if name, off := im.exportAt(uint32(f.InstructionPointer - m.Base)); name != "" {
			return fmt.Sprintf("%s!%s+%#x", m.Name, name, off)
		}
	}
	return fmt.Sprintf("%s+%#x", m.Name, f.InstructionPointer-m.Base)
}

// TestWOW64Dump walks the threads of kdlibcpp's full-memory WOW64 dump, whose images (and so
// their .pdata) are in the dump: the 64-bit stacks with the x64 unwinder and the 32-bit stacks
// with the EBP chain. kdlib's test (ORACLE_NOTES.md) says the worker thread's top symbol is
// NtWaitForWorkViaWorkerFactory; every stack must be walked to its end without scanning.
//
// The 32-bit system-call stub at frame 0 sets up no EBP frame; it is stopped at its `ret 14h`,
// which the x86 unwinder recognises, so that TppWorkerThread is not skipped.
func TestWOW64Dump(t *testing.T) {
	tg, err := engine.Open(corpus.Path(t, "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	mods64, imgs := modulesFromMemory(tg, cpu.ArchAMD64)
	mods32, _ := modulesFromMemory(tg, cpu.ArchX86)
	for i := range tg.Threads {
		th := &tg.Threads[i]
		for _, side := range []struct {
			arch cpu.Arch
			mods []unwind.Module
		}{{cpu.ArchAMD64, mods64}, {cpu.ArchX86, mods32}} {
			ctx := th.Context
			if side.arch == cpu.ArchX86 {
				if ctx, err = ntuser.WOW64Context(tg, th); err != nil {
					t.Errorf("thread %#x: %v", th.ID, err)
					continue
				}
			} else if ntuser.RunningX86(ctx) {
				continue // the native context holds the 32-bit registers: nothing 64-bit to walk
			}
			frames := unwind.Walk(context.Background(), side.arch, ctx, tg.Memory, side.mods, 0)
			var lines []string
			for j := range frames {
				f := &frames[j]
				lines = append(lines, fmt.Sprintf("%02d %#x %-8s %s %s", j, f.StackPointer, f.Trust, describe(side.mods, imgs, f), f.Note))
				if f.Trust == unwind.TrustScan {
					t.Errorf("thread %#x %s frame %d was found by scanning", th.ID, side.arch, j)
				}
			}
			last := frames[len(frames)-1]
			t.Logf("thread %#x %s:\n%s\nstop: %s", th.ID, side.arch, strings.Join(lines, "\n"), last.Stop)
			if !strings.Contains(last.Stop, "return address is 0") {
				t.Errorf("thread %#x %s: the walk ended early: %s", th.ID, side.arch, last.Stop)
			}
			if i == 0 {
				continue // the main thread stopped at the breakpoint in targetapp
			}
			// kdlib: the worker threads' top symbol is NtWaitForWorkViaWorkerFactory (Zw… is
			// the same export), on both sides of WOW64.
			if top := describe(side.mods, imgs, &frames[0]); !strings.Contains(top, "WaitForWorkViaWorkerFactory+") {
				t.Errorf("thread %#x %s: frame 0 is %s", th.ID, side.arch, top)
			}
			// kdlib's frame 1 is ntdll!TppWorkerThread (not exported, so only its module is
			// checked): the 32-bit stub returns straight into it.
			if side.arch == cpu.ArchX86 && (len(frames) < 2 || frames[1].Module != frames[0].Module) {
				t.Errorf("thread %#x x86: frame 1 is not in ntdll", th.ID)
			}
		}
	}
}

// BenchmarkWalkWOW64 walks every stack (64- and 32-bit) of the WOW64 dump.
func BenchmarkWalkWOW64(b *testing.B) {
	tg, err := engine.Open(corpus.Path(b, "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp"))
	if err != nil {
		b.Fatal(err)
	}
	defer tg.Close()
	mods64, _ := modulesFromMemory(tg, cpu.ArchAMD64)
	mods32, _ := modulesFromMemory(tg, cpu.ArchX86)
	b.ReportAllocs()
	for b.Loop() {
		for i := range tg.Threads {
			th := &tg.Threads[i]
			if !ntuser.RunningX86(th.Context) {
				unwind.Walk(context.Background(), cpu.ArchAMD64, th.Context, tg.Memory, mods64, 0)
			}
			if ctx, err := ntuser.WOW64Context(tg, th); err == nil {
				unwind.Walk(context.Background(), cpu.ArchX86, ctx, tg.Memory, mods32, 0)
			}
		}
	}
}
