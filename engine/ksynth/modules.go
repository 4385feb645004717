package ksynth

import "fmt"

// The loaded modules: nt (in a 2 MiB large page, as Windows maps its kernel), hal and two
// drivers, each a PE image whose exports name every function the stacks go through.

// site names a place in a function: a return address (a call ends there) or, for the first
// frame of a stack, the instruction executing.
type site struct {
	fn  string // "module!function"
	off uint32
}

func fn(name string, kind fnKind, alloc uint32, sites ...uint32) *function {
	return &function{name: name, kind: kind, alloc: alloc, sites: sites}
}

// moduleDefs lists the modules of a machine. The frame kinds and sizes keep the body's rsp
// 16-byte aligned on x64 (frameSize + 8 is a multiple of 16).
func moduleDefs(p *profile) []*moduleDef {
	var trap, start, syscall *function
	if p.is64 {
		trap = fn("KiPageFault", fnMachineFrame, 0, 0x469)
		start = fn("KiStartSystemThread", fnAlloc, 0x28, 0x28)
		syscall = fn("KiSystemServiceCopyEnd", fnAlloc, 0x28, 0x25)
	} else {
		trap = fn("KiTrap0E", fnTrap86, 0, 0x2cf)
		start = fn("KiThreadStartup", fnAlloc, 0x8, 0x19)
		syscall = fn("KiFastCallEntry", fnAlloc, 0x28, 0x12a)
	}
	nt := &moduleDef{
		name: "nt", file: p.kernelFile + ".exe", baseName: "ntoskrnl.exe",
		fullName: `\SystemRoot\system32\ntoskrnl.exe`, timestamp: 0x5F0D2E1C, checksum: 0x00A0B5C3, dataSize: 0x6000,
		funcs: []*function{
			fn("KeBugCheckEx", fnAlloc, 0x108, 0x0, 0x1e),
			fn("KiBugCheckDispatch", fnAlloc, 0x138, 0x69),
			fn("KiDispatchException", fnAlloc, 0x2d8, 0x18d),
			trap,
			fn("KiSwapContext", fnAlloc, 0x38, 0x76),
			fn("KiSwapThread", fnPushRbp, 0x60, 0x1b4),
			fn("KiCommitThreadWait", fnAlloc, 0x78, 0x137),
			fn("KeWaitForSingleObject", fnPushRbp, 0x70, 0x233),
			fn("KeDelayExecutionThread", fnAlloc, 0x58, 0x12d),
			fn("IofCallDriver", fnAlloc, 0x38, 0x55),
			fn("NtReadFile", fnAlloc, 0xa8, 0x2f0),
			fn("NtWaitForSingleObject", fnAlloc, 0x48, 0x6a),
			syscall,
			fn("PspSystemThreadStartup", fnAlloc, 0x48, 0x55),
			start,
			fn("KiIdleLoop", fnAlloc, 0x58, 0x9e),
		},
	}
	if !p.is64 {
		// x86 KiSwapContext keeps four registers in a 0x10-byte frame right above the switch
		// frame (see stacks.go).
		nt.funcs[4].alloc = 0x10
		nt.funcs[4].sites = []uint32{0x25}
	}
	hal := &moduleDef{
		name: "hal", file: p.halFile + ".dll", baseName: "hal.dll",
		fullName: `\SystemRoot\system32\hal.dll`, timestamp: 0x4CE7C67D, checksum: 0x0004F12E, dataSize: 0x1000,
		funcs: []*function{
			fn("HalProcessorIdle", fnAlloc, 0x28, 0x12),
			fn("HalRequestSoftwareInterrupt", fnAlloc, 0x28),
			fn("HalReturnToFirmware", fnAlloc, 0x48),
		},
	}
	synth := &moduleDef{
		name: "synthdrv", file: "synthdrv.sys", baseName: "synthdrv.sys",
		fullName: `\SystemRoot\System32\drivers\synthdrv.sys`, timestamp: 0x65A1B2C3, checksum: 0x0000D00D, dataSize: 0x1000,
		funcs: []*function{
			fn("DriverEntry", fnAlloc, 0x28),
			fn("SynthDispatchRead", fnPushRbp, 0x30, 0x40),
			fn("SynthReadRegister", fnAlloc, 0x28, 0x1c),
			fn("SynthWorkerThread", fnAlloc, 0x38, 0x2a),
		},
	}
	printflt := &moduleDef{
		name: "printflt", file: "printflt.sys", baseName: "printflt.sys",
		fullName: `\SystemRoot\System32\drivers\printflt.sys`, timestamp: 0x61F00ABC, checksum: 0x0001BEEF, dataSize: 0x1000,
		funcs: []*function{
			fn("DriverEntry", fnAlloc, 0x28),
			fn("FltQueueWork", fnPushRbp, 0x40, 0x5e),
			fn("FltWaitForWork", fnAlloc, 0x48, 0x3c),
			fn("FltWorkerThread", fnAlloc, 0x38, 0x20),
		},
	}
	defs := []*moduleDef{nt, hal, synth, printflt}
	if p.arm64 {
		armModuleDefs(defs) // arm64_stacks.go
	}
	return defs
}

// buildModules lays out and maps every module. nt goes in a large page (2 MiB, 4 MiB without
// PAE) at frame profile.largePFN (FORMATS.md §3.1); the others in 4 KiB pages, code read-only
// and executable.
func (b *builder) buildModules() error {
	for i, def := range moduleDefs(b.p) {
		base := b.p.driverBase + uint64(i-2)*0x200000
		switch i {
		case 0:
			base = b.p.ntBase
		case 1:
			base = b.p.halBase
		}
		im := layoutImage(b.p, def, base)
		if i == 0 {
			if uint64(im.size) > b.p.largePage() {
				return fmt.Errorf("ksynth: internal: nt image is %#x bytes, more than its large page", im.size)
			}
			if err := b.mapKernelLarge(base, b.p.largePFN()); err != nil {
				return err
			}
			b.nt = im
		} else {
			// Headers and data read-write, .text read-only and executable.
			textEnd := base + uint64(alignUp(0x1000+im.funcsEnd(), pageSize))
			for _, r := range [][3]uint64{{base, 0x1000, leafData}, {base + 0x1000, textEnd - base - 0x1000, leafCode},
				{textEnd, base + uint64(im.size) - textEnd, leafData}} {
				if err := b.mapKernel(r[0], r[1], r[2]); err != nil {
					return err
				}
			}
		}
		b.write(base, im.bytes)
		b.modules = append(b.modules, im)
	}
	return nil
}

// funcsEnd is the end RVA of .text relative to 0x1000.
func (im *image) funcsEnd() uint32 {
	last := im.def.funcs[len(im.def.funcs)-1]
	return last.rva + last.size - 0x1000
}

// function finds "module!name".
func (b *builder) function(name string) *function {
	for _, im := range b.modules {
		prefix := im.def.name + "!"
		if len(name) > len(prefix) && name[:len(prefix)] == prefix {
			if f := im.byName[name[len(prefix):]]; f != nil {
				return f
			}
		}
	}
	panic("ksynth: internal: no function " + name)
}

// buildModuleList writes the loader entries and links them from PsLoadedModuleList in load
// order (FORMATS.md §5.1 "Kernel modules"): KLDR_DATA_TABLE_ENTRY on x64 19041,
// LDR_DATA_TABLE_ENTRY on Windows 7 (x86 and x64).
func (b *builder) buildModuleList() error {
	l := b.p.ldr
	head := b.global("PsLoadedModuleList", 2*uint64(b.p.ptr))
	var entries []uint64
	for _, im := range b.modules {
		e, err := b.allocObject(l.size)
		if err != nil {
			return err
		}
		im.ldrEntry = e
		entries = append(entries, e+l.inLoadOrderLinks)
		b.ptr(e+l.dllBase, im.base)
		b.ptr(e+l.entryPoint, im.base+uint64(im.def.funcs[0].rva))
		b.u32(e+l.sizeOfImage, im.size)
		full, err := b.unicodeString(e+l.fullDllName, im.def.fullName)
		if err != nil {
			return err
		}
		base, err := b.unicodeString(e+l.baseDllName, im.def.baseName)
		if err != nil {
			return err
		}
		b.u32(e+l.flags, 0x49104000)
		b.u16(e+l.loadCount, 1)
		b.u32(e+l.checkSum, im.def.checksum)
		b.u32(e+l.timeDateStamp, im.def.timestamp)
		if l.sizeOfImageNotRounded != 0 {
			b.u32(e+l.sizeOfImageNotRounded, im.size)
		}
		if l.exceptionTable != 0 && im.pdataLen != 0 {
			b.ptr(e+l.exceptionTable, im.base+uint64(im.pdataRVA))
			b.u32(e+l.exceptionTableSize, im.pdataLen)
		}
		mm := Module{
			Name: im.def.name, ImageName: im.def.file, BaseDllName: im.def.baseName, FullDllName: im.def.fullName,
			Base: im.base, Size: im.size, End: im.base + uint64(im.size), TimeDateStamp: im.def.timestamp,
			CheckSum: im.def.checksum, LdrEntry: e, FullDllNameBuffer: full, BaseDllNameBuffer: base,
			PDB: im.pdb, GUID: guidString(im.guid), Age: im.age,
			ExceptionTable: im.base + uint64(im.pdataRVA), ExceptionTableSize: im.pdataLen,
		}
		if im.pdataLen == 0 {
			mm.ExceptionTable = 0
		}
		for _, f := range im.def.funcs {
			mm.Exports = append(mm.Exports, Export{Name: f.name, Address: f.va(), Size: f.size})
		}
		b.m.Modules = append(b.m.Modules, mm)
	}
	b.linkList(head, entries)
	b.m.PsLoadedModuleList = head
	b.m.KernBase = b.nt.base
	return nil
}

// guidString formats an RSDS GUID (Data1..3 little-endian) in registry form.
func guidString(g [16]byte) string {
	return fmt.Sprintf("%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X",
		g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15])
}
