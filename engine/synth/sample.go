package synth

import "encoding/binary"

//go:generate go run ./cmd/gensample -o ../../testdata/sample.dmp

// The made-up crash in testdata/sample.dmp: the print spooler of a Windows 10 (build 19045)
// machine loaded a vendor printer driver, ContosoLW9K.dll, whose DEVMODE parser read through a
// NULL pointer while rendering a job for "\\PRINTSRV01\Contoso LaserWriter 9000 (3rd floor)".
// Every value is fixed, so the file is the same on every run.
const (
	SamplePID         = 0x0F2C // 3884
	SampleMainTID     = 0x1A4C
	SampleCrashTID    = 0x2F10
	SamplePrinterName = `\\PRINTSRV01\Contoso LaserWriter 9000 (3rd floor)`

	SamplePEB       = 0x000000A12B3C2000
	SampleTEB0      = 0x000000A12B3C4000 // main thread
	SampleTEB1      = 0x000000A12B3C6000 // crashing thread
	SampleHeap      = 0x0000020B5E4A0000 // ProcessHeap: loader data, process parameters, strings
	sampleStackBase = 0x000000A12B600000 // StackBase of the main thread; the crashing thread's is +0x200000

	SampleImageBase  = 0x00007FF71A2B0000 // spoolsv.exe
	SampleNtdllBase  = 0x00007FFDA5E50000
	SampleK32Base    = 0x00007FFDA4C70000
	SampleKBaseBase  = 0x00007FFDA3610000
	SampleDriverBase = 0x00007FFD8A400000 // ContosoLW9K.dll

	// SampleCrashIP is the faulting instruction, `mov edx,dword ptr [rax+18h]` with rax = 0,
	// inside the driver's ParseDevmode at driver+0x1A2B0.
	SampleCrashIP   = SampleDriverBase + 0x1A2C1
	SampleDumpTime  = 0x6553F4C2 // 2023-11-14 22:29:22 UTC
	SampleStartTime = 0x6553C9A0 // process creation, 2023-11-14 19:25:20 UTC
)

// sampleModule is one module of the sample with the facts both the module list and the loader
// list carry.
type sampleModule struct {
	base      uint64
	size      uint32
	path      string
	timestamp uint32
	checksum  uint32
	entry     uint32 // entry point RVA
	guid      string
	pdb       string
	version   [4]uint16
}

var sampleModules = []sampleModule{
	{SampleImageBase, 0x101000, `C:\Windows\System32\spoolsv.exe`, 0x5F3A91C4, 0x000FF8D1, 0x4D10,
		"3C8A1E56-9B0D-4F2A-8E77-61D0A4B2C913", "spoolsv.pdb", [4]uint16{10, 0, 19041, 2364}},
	{SampleNtdllBase, 0x1F8000, `C:\Windows\SYSTEM32\ntdll.dll`, 0x7B0E2A5D, 0x001F9A43, 0,
		"A1F3C2D4-5E6F-4788-9ABC-DEF012345678", "ntdll.pdb", [4]uint16{10, 0, 19041, 2364}},
	{SampleK32Base, 0xBD000, `C:\Windows\System32\KERNEL32.DLL`, 0x2D6B8F9A, 0x000C1E27, 0x17C40,
		"0B9D4E2F-7A13-4C55-B6E8-92F4A7C1D035", "kernel32.pdb", [4]uint16{10, 0, 19041, 2364}},
	{SampleKBaseBase, 0x2F6000, `C:\Windows\System32\KERNELBASE.dll`, 0x8F2C6B10, 0x002FA2B6, 0x3F2A0,
		"E4C7B920-1D3A-4F68-A5B2-0C9E8D7F6A51", "kernelbase.pdb", [4]uint16{10, 0, 19041, 2364}},
	{SampleDriverBase, 0x48000, `C:\Windows\System32\spool\drivers\x64\3\ContosoLW9K.dll`, 0x5A1E3C77, 0x0004A1B3, 0x2120,
		"5B7E9C31-2A4D-4E86-9F10-3D2C1B0A9E87", "ContosoLW9K.pdb", [4]uint16{3, 1, 0, 42}},
}

// Sample builds the dump written to testdata/sample.dmp (see the constants above).
func Sample() *Minidump {
	b := NewMinidump(ArchAMD64)
	b.TimeDateStamp = SampleDumpTime
	// MiniDumpWithHandleData | WithUnloadedModules | WithProcessThreadData | WithFullMemoryInfo |
	// WithThreadInfo (FORMATS.md §4.1).
	b.SetFlags(0x4 | 0x20 | 0x100 | 0x800 | 0x1000)

	si := Windows10(ArchAMD64)
	si.BuildNumber = 19045
	si.ProcessorFeatures = [2]uint64{0x0000000003FF2FFF, 0}
	b.SystemInfo(si)

	stacks := sampleThreads(b)
	sampleModuleList(b)
	b.UnloadedModule(SampleDriverBase+0x100000, 0x21000, `C:\Windows\System32\spool\drivers\x64\3\ContosoUI.dll`, 0x5A1E3C70, 0x0002233A)

	// The crash: a read of address 0x18 (parameters: 0 = read, the address).
	b.Exception(SampleCrashTID, 0xC0000005, SampleCrashIP, []uint64{0, 0x18}, sampleCrashContext(stacks[1]))

	tz := &TimeZone{Bias: -60, StandardName: "W. Europe Standard Time", DaylightName: "W. Europe Daylight Time",
		StandardDate: SystemTime{Month: 10, Day: 5, Hour: 3}, DaylightDate: SystemTime{Month: 3, Day: 5, Hour: 2},
		DaylightBias: -60}
	b.MiscInfo(MiscInfo{
		Size: MiscInfoV5Size, ProcessID: SamplePID, ProcessCreateTime: SampleStartTime,
		ProcessUserTime: 2, ProcessKernelTime: 1,
		ProcessorMaxMhz: 3600, ProcessorCurrentMhz: 3600, ProcessorMhzLimit: 3600,
		ProcessorMaxIdleState: 1, ProcessorCurrentIdleState: 1,
		ProcessIntegrityLevel: 0x4000, ProcessExecuteFlags: 0x60, TimeZoneID: 1, TimeZone: tz,
		BuildString: "19041.1.amd64fre.vb_release.191206-1406",
		DbgBldStr:   "dbgcore.amd64fre.vb_release.191206-1406",
	})

	sampleProcessMemory(b)
	sampleHandles(b)
	sampleMemoryInfo(b)
	b.ThreadInfo(
		ThreadInfo{ThreadID: SampleMainTID, CreateTime: unixToFiletime(SampleStartTime), KernelTime: 156250, UserTime: 312500,
			StartAddress: SampleImageBase + 0x4D10, Affinity: 0xF},
		ThreadInfo{ThreadID: SampleCrashTID, DumpFlags: 0, CreateTime: unixToFiletime(SampleDumpTime - 5), KernelTime: 0,
			UserTime: 156250, StartAddress: SampleNtdllBase + 0x2A6E0, Affinity: 0xF},
	)
	b.ThreadNames(ThreadName{SampleCrashTID, "Contoso render worker"})
	b.CommentW("wdbg sample: a made-up spoolsv.exe crash written by engine/synth (not a real dump)")
	return b
}

// unixToFiletime converts a time_t to a FILETIME (100 ns units since 1601).
func unixToFiletime(t uint32) uint64 { return (uint64(t) + 11644473600) * 10000000 }

func sampleModuleList(b *Minidump) {
	for _, m := range sampleModules {
		mod := b.Module(m.base, m.size, m.path, m.timestamp, m.checksum, CodeView{GUID: MustGUID(m.guid), Age: 1, PDB: m.pdb})
		mod.Version = &VersionInfo{FileVersion: m.version, ProductVersion: m.version, FileFlagsMask: 0x3F,
			FileOS: 0x40004, FileType: 2}
		if m.base == SampleImageBase {
			mod.Version.FileType = 1 // VFT_APP
		}
	}
}

// sampleStack is a captured stack: where it starts (the stack pointer) and its bytes up to the
// stack base.
type sampleStack struct {
	base, limit, sp uint64
	data            []byte
}

func (s *sampleStack) put64(addr, v uint64) { binary.LittleEndian.PutUint64(s.data[addr-s.sp:], v) }

// sampleThreads adds the main thread (waiting in ntdll) and the crashing thread, whose thread
// list context is inside the exception dispatcher; both stacks hold the printer name.
func sampleThreads(b *Minidump) [2]*sampleStack {
	name := UTF16Z(SamplePrinterName)
	var stacks [2]*sampleStack
	for i, size := range []uint64{0x600, 0x800} {
		base := sampleStackBase + uint64(i)*0x200000
		s := &sampleStack{base: base, limit: base - 0x4000, sp: base - size, data: make([]byte, size)}
		copy(s.data[0x200:], name)
		stacks[i] = s
	}
	// Main thread: ntdll!NtWaitForSingleObject-style wait called from spoolsv.
	main := stacks[0]
	main.put64(main.sp, SampleKBaseBase+0x2E5C3)      // return into KERNELBASE
	main.put64(main.sp+0x28, SampleImageBase+0x1B2F4) // return into spoolsv
	main.put64(main.sp+0x58, SampleK32Base+0x17034)   // BaseThreadInitThunk
	main.put64(main.sp+0x88, SampleNtdllBase+0x52651) // RtlUserThreadStart
	main.put64(main.sp+0x40, main.sp+0x200)           // pointer to the printer name
	mainCtx := ContextAMD64{
		Rip: SampleNtdllBase + 0x9D0C4, Rsp: main.sp, Rbp: 0,
		Rax: 0x4, Rbx: 0x2E4, Rcx: 0x2E4, Rdx: 0, Rsi: 0, Rdi: 0x2E4,
		R8: 0, R9: 0, R10: 0, R11: 0x246, R12: 0, R13: 0, R14: 0, R15: 0,
		EFlags: 0x246, SegCs: 0x33, SegSs: 0x2B, SegDs: 0x2B, SegEs: 0x2B, SegFs: 0x53, SegGs: 0x2B,
	}
	b.Thread(SampleMainTID, SampleTEB0, main.sp, main.data, mainCtx)

	// Crashing thread: the thread list shows it inside KiUserExceptionDispatcher's call chain.
	crash := stacks[1]
	crash.put64(crash.sp+0x20, SampleNtdllBase+0xA0F4E)  // return into the dispatcher
	crash.put64(crash.sp+0x3F8, SampleDriverBase+0x9D12) // ParseDevmode's return address, into its caller
	crash.put64(crash.sp+0x430, crash.sp+0x200)          // pointer to the printer name (the job's printer)
	crash.put64(crash.sp+0x468, SampleDriverBase+0x9C41) // driver's DrvDocumentEvent
	crash.put64(crash.sp+0x4C8, SampleImageBase+0x3A17E) // spoolsv job scheduler
	crash.put64(crash.sp+0x558, SampleK32Base+0x17034)   // BaseThreadInitThunk
	crash.put64(crash.sp+0x588, SampleNtdllBase+0x52651) // RtlUserThreadStart
	dispatcherCtx := ContextAMD64{
		Rip: SampleNtdllBase + 0x9D5A4, Rsp: crash.sp, Rbp: 0,
		Rax: 0x5B, Rbx: 0, Rcx: 0xFFFFFFFF, Rdx: 0xC0000005, Rsi: 0, Rdi: 0,
		R8: crash.sp + 0x100, R9: 0, R10: 0, R11: 0x246,
		EFlags: 0x246, SegCs: 0x33, SegSs: 0x2B, SegDs: 0x2B, SegEs: 0x2B, SegFs: 0x53, SegGs: 0x2B,
	}
	b.Thread(SampleCrashTID, SampleTEB1, crash.sp, crash.data, dispatcherCtx)
	return stacks
}

// sampleCrashContext is the register state at the faulting instruction: rax (the DEVMODE's
// private block) is NULL, rdi/rdx the job, rcx the printer handle's context.
func sampleCrashContext(crash *sampleStack) ContextAMD64 {
	return ContextAMD64{
		Rip: SampleCrashIP, Rsp: crash.sp + 0x3D0, Rbp: crash.sp + 0x480,
		Rax: 0, Rbx: SampleHeap + 0x8A40, Rcx: SampleHeap + 0x7F10, Rdx: crash.sp + 0x200,
		Rsi: 0x1, Rdi: crash.sp + 0x200,
		R8: 0x48, R9: SampleHeap + 0x7F10, R10: 0, R11: crash.sp + 0x3A0,
		R12: 0, R13: 0, R14: 0x2F10, R15: SampleDriverBase,
		EFlags: 0x10246, SegCs: 0x33, SegSs: 0x2B, SegDs: 0x2B, SegEs: 0x2B, SegFs: 0x53, SegGs: 0x2B,
	}
}

// sampleCode is the driver's ParseDevmode at driver+0x1A2B0 (disassembly checked with cstool):
//
//	mov qword ptr [rsp+8],rbx; push rdi; sub rsp,20h; mov rax,qword ptr [rcx+10h];
//	mov rdi,rdx; mov edx,dword ptr [rax+18h] (faults); mov rcx,rdi; call driver+0x1B000;
//	mov rbx,qword ptr [rsp+30h]; add rsp,20h; pop rdi; ret
var sampleCode = []byte{
	0x48, 0x89, 0x5C, 0x24, 0x08, 0x57, 0x48, 0x83, 0xEC, 0x20, 0x48, 0x8B, 0x41, 0x10,
	0x48, 0x8B, 0xFA, 0x8B, 0x50, 0x18, 0x48, 0x8B, 0xCF, 0xE8, 0x34, 0x0D, 0x00, 0x00,
	0x48, 0x8B, 0x5C, 0x24, 0x30, 0x48, 0x83, 0xC4, 0x20, 0x5F, 0xC3,
}

// sampleProcessMemory adds the PEB, the loader data and process parameters, both TEBs and the
// code around the crash.
func sampleProcessMemory(b *Minidump) {
	p := Process{
		PEB: SamplePEB, Heap: SampleHeap, ImageBase: SampleImageBase,
		NumberOfProcessors: 4, OSMajorVersion: 10, OSBuildNumber: 19045, OSPlatformID: 2,
		Params: ProcessParameters{
			CurrentDirectory: `C:\Windows\system32\`,
			DllPath:          `C:\Windows\System32;C:\Windows\system;C:\Windows`,
			ImagePathName:    `C:\Windows\System32\spoolsv.exe`,
			CommandLine:      `C:\Windows\System32\spoolsv.exe`,
			WindowTitle:      `C:\Windows\System32\spoolsv.exe`,
			DesktopInfo:      `Service-0x0-3e7$\Default`,
			Environment: []string{
				`ALLUSERSPROFILE=C:\ProgramData`,
				`ComSpec=C:\Windows\system32\cmd.exe`,
				`NUMBER_OF_PROCESSORS=4`,
				`OS=Windows_NT`,
				`Path=C:\Windows\system32;C:\Windows;C:\Windows\System32\Wbem`,
				`PROCESSOR_ARCHITECTURE=AMD64`,
				`SystemRoot=C:\Windows`,
				`TEMP=C:\Windows\TEMP`,
				`USERNAME=SYSTEM`,
				`windir=C:\Windows`,
			},
		},
	}
	for _, m := range sampleModules {
		p.Modules = append(p.Modules, LoadedModule{Base: m.base, Size: m.size, EntryPoint: m.base + uint64(m.entry),
			FullName: m.path, TimeDateStamp: m.timestamp})
	}
	for _, blk := range p.Build(ArchAMD64) {
		b.Memory(blk.Addr, blk.Data)
	}
	for i, teb := range []uint64{SampleTEB0, SampleTEB1} {
		base := sampleStackBase + uint64(i)*0x200000
		tid := uint64(SampleMainTID)
		if i == 1 {
			tid = SampleCrashTID
		}
		t := TEB{Addr: teb, StackBase: base, StackLimit: base - 0x4000, PEB: SamplePEB,
			ProcessID: SamplePID, ThreadID: tid, TLS: SampleHeap + 0x3000 + uint64(i)*0x100,
			Locale: 0x409, DeallocationStack: base - 0x100000}
		if i == 1 {
			t.LastError = 0x7A        // ERROR_INSUFFICIENT_BUFFER
			t.LastStatus = 0xC0000023 // STATUS_BUFFER_TOO_SMALL
		}
		b.Memory(teb, t.Bytes(ArchAMD64))
	}
	code := make([]byte, 0x60)
	for i := range code {
		code[i] = 0xCC
	}
	copy(code[0x10:], sampleCode) // the function starts at driver+0x1A2B0, the range at +0x1A2A0
	b.Memory(SampleDriverBase+0x1A2A0, code)
}

func sampleHandles(b *Minidump) {
	b.Handles(HandleDescriptor2Size,
		Handle{Handle: 0x4, TypeName: "Event", HandleCount: 1, PointerCount: 32769, GrantedAccess: 0x1F0003},
		Handle{Handle: 0x8, TypeName: "Key", ObjectName: `\REGISTRY\MACHINE\SYSTEM\ControlSet001\Control\Print\Printers`,
			HandleCount: 1, PointerCount: 1, GrantedAccess: 0x20019},
		Handle{Handle: 0x2E4, TypeName: "Event", HandleCount: 1, PointerCount: 2, GrantedAccess: 0x1F0003},
		Handle{Handle: 0x31C, TypeName: "File", ObjectName: `\Device\HarddiskVolume3\Windows\System32\spool\PRINTERS`,
			HandleCount: 1, PointerCount: 32768, GrantedAccess: 0x100001},
		Handle{Handle: 0x3A8, TypeName: "Mutant", ObjectName: `\BaseNamedObjects\ContosoLW9K_JobLock`,
			HandleCount: 1, PointerCount: 3, GrantedAccess: 0x1F0001},
	)
}

func sampleMemoryInfo(b *Minidump) {
	const commit, reserve, private, image = 0x1000, 0x2000, 0x20000, 0x1000000
	for _, m := range sampleModules {
		b.MemoryInfo(MemoryInfo{BaseAddress: m.base, AllocationBase: m.base, AllocationProtect: 0x80,
			RegionSize: 0x1000, State: commit, Protect: 0x2, Type: image})
		b.MemoryInfo(MemoryInfo{BaseAddress: m.base + 0x1000, AllocationBase: m.base, AllocationProtect: 0x80,
			RegionSize: uint64(m.size) - 0x1000, State: commit, Protect: 0x20, Type: image})
	}
	b.MemoryInfo(
		MemoryInfo{BaseAddress: SamplePEB, AllocationBase: SamplePEB, AllocationProtect: 0x4, RegionSize: 0x1000, State: commit, Protect: 0x4, Type: private},
		MemoryInfo{BaseAddress: SampleTEB0, AllocationBase: SamplePEB, AllocationProtect: 0x4, RegionSize: 0x4000, State: commit, Protect: 0x4, Type: private},
		MemoryInfo{BaseAddress: sampleStackBase - 0x100000, AllocationBase: sampleStackBase - 0x100000, AllocationProtect: 0x4, RegionSize: 0xFC000, State: reserve, Type: private},
		MemoryInfo{BaseAddress: sampleStackBase - 0x4000, AllocationBase: sampleStackBase - 0x100000, AllocationProtect: 0x4, RegionSize: 0x4000, State: commit, Protect: 0x4, Type: private},
		MemoryInfo{BaseAddress: SampleHeap, AllocationBase: SampleHeap, AllocationProtect: 0x4, RegionSize: 0x10000, State: commit, Protect: 0x4, Type: private},
	)
}
