package unwind

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"wdbg/engine/cpu"
	"wdbg/internal/corpus"
)

// FuzzUnwindInfo feeds random unwind records (x64 UNWIND_INFO, ARM64 .xdata or packed words, x86
// program strings) and random stacks to the unwinders and the walker: they must return, without
// panicking, in bounded time.
func FuzzUnwindInfo(f *testing.F) {
	stack := make([]byte, 64)
	binary.LittleEndian.PutUint64(stack[40:], 0x140001040)
	f.Add(unwindInfo(1, 0, 5, 0, 0, []uint16{uwc(5, UwopAllocSmall, 3), uwc(1, UwopPushNonvol, 3)}), stack, uint8(0), uint16(0x40))
	f.Add(unwindInfo(1, UnwFlagChainInfo, 0, 0, 0, nil, 0x1000, 0x1100, 0x3000), stack, uint8(8), uint16(0x10))
	f.Add(unwindInfo(2, 0, 6, 0, 0, []uint16{uwc(3, UwopEpilog, 1), 0, uwc(1, UwopPushNonvol, 3)}), stack, uint8(8), uint16(0xFE))
	f.Add(xdata(0x100, false, 1, [][2]uint32{{0x40, 3}}, 0xE1, 0x81, 0xE4, 0x81, 0xE4), stack, uint8(1), uint16(0x44))
	f.Add(le32(0x416101ed), stack, uint8(1|16), uint16(0x20))
	f.Add([]byte("$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + ="), stack, uint8(2), uint16(0))
	f.Add([]byte("$T2 $esp .cbLocals + .cbSavedRegs + = $T0 .raSearchStart = $eip $T0 ^ = $esp $T0 4 + ="), stack, uint8(2), uint16(4))
	if dir := corpus.Find(); dir != "" {
		// A few real UNWIND_INFO records (with their codes) from symbolic's CrashWithException.exe.
		if b, err := os.ReadFile(filepath.Join(dir, "symbolic", "CrashWithException.exe")); err == nil {
			if pe, err := parseTestPE(b); err == nil {
				if pdata, err := pe.read(pe.pdataRVA, int(pe.pdataLen)); err == nil {
					for off := 0; off+12 <= len(pdata) && off < 12*6; off += 12 {
						if ui, err := pe.read(binary.LittleEndian.Uint32(pdata[off+8:]), 32); err == nil {
							f.Add(ui, stack, uint8(0), uint16(0x20))
						}
					}
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, rec []byte, stack []byte, sel uint8, off uint16) {
		if len(rec) > 4096 || len(stack) > 4096 {
			return
		}
		m := newFakeMem()
		m.region(0x10000, len(stack)+8)
		m.put(0x10000, stack)
		exact := sel&8 != 0
		switch sel % 3 {
		case 0: // x64
			_, _ = decodeUnwindInfoX64(rec, 0x3000)
			im := newFakeImage(0x4000)
			im.put(0x3000, rec[:min(len(rec), 0x1000)]...)
			im.put(0x1000, rec[:min(len(rec), 0x200)]...) // the same bytes as code, for epilogues
			im.entries = append(im.entries, RuntimeFunction{Begin: 0x1000, End: 0x1100, UnwindData: 0x3000})
			if sel&32 != 0 {
				im.entries[0].UnwindData |= 1 // indirect
			}
			ft := im.table(t, cpu.ArchAMD64)
			regs := amd64Regs(map[string]uint64{"rip": 0x140000000 + 0x1000 + uint64(off%0x120), "rsp": 0x10000})
			_, _ = unwindX64(m, ft, 0x140000000, regs, exact)
			ctx := &cpu.AMD64Context{Rip: regs.PC(), Rsp: 0x10000, Rbp: 0x10008}
			Walk(context.Background(), cpu.ArchAMD64, ctx, m, []Module{{Base: 0x140000000, Size: 0x4000, Unwind: ft}}, 64)
		case 1: // ARM64
			_, _ = decodeXdataBytesARM64(rec, 0x3000)
			im := newFakeImage(0x4000)
			im.put(0x3000, rec[:min(len(rec), 0x1000)]...)
			word := uint32(0x3000)
			if sel&16 != 0 && len(rec) >= 4 {
				word = binary.LittleEndian.Uint32(rec) // packed data, or a chained entry
			}
			im.entries = append(im.entries, RuntimeFunction{Begin: 0x1000, UnwindData: word})
			ft := im.table(t, cpu.ArchARM64)
			ctx := &cpu.ARM64Context{Pc: 0x140000000 + 0x1000 + uint64(off%0x120)&^3, Sp: 0x10000, Fp: 0x10010, Lr: 0x140001040}
			ctx.X[29], ctx.X[30] = ctx.Fp, ctx.Lr
			Walk(context.Background(), cpu.ArchARM64, ctx, m, []Module{{Base: 0x140000000, Size: 0x4000, Unwind: ft}}, 64)
		case 2: // x86 program strings and FPO records
			vars := map[string]uint32{"$ebp": 0x10004, "$esp": 0x10000, ".cbLocals": uint32(off)}
			_ = evalProgram(string(rec), vars, m)
			recs := x86Records{
				{Kind: X86FrameData, Start: 0x1000, Size: 0x100, LocalsSize: uint32(off & 0xFF), SavedRegsSize: uint32(sel), Program: string(rec)},
				{Kind: X86FrameFPO, Start: 0x2000, Size: 0x100, LocalsSize: uint32(off), SavedRegsSize: uint32(sel) * 4, UsesBP: exact},
				{Kind: X86FrameFPO, Start: 0x2100, Size: 0x100, FrameType: FrameTypeTrap, UsesBP: true}, // KTRAP_FRAME at EBP
			}
			ctx := &cpu.X86Context{Eip: 0x400000 + 0x1000 + uint32(off%0x1200), Esp: 0x10000, Ebp: 0x10004}
			Walk(context.Background(), cpu.ArchX86, ctx, m, []Module{{Base: 0x400000, Size: 0x4000, X86: recs}}, 64)
		}
	})
}
