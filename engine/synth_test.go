package engine_test

// Tests of engine.Open against dumps written by engine/synth, the project's own minidump writer.
// synth lays bytes out from FORMATS.md §4 without sharing anything with engine/minidump, and its
// own tests check its output with breakpad's minidump_dump and LLVM's obj2yaml; so a value that
// goes in through synth and comes out of engine.Open unchanged has crossed two independent
// implementations of the format.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wdbg/engine"
	"wdbg/engine/cpu"
	"wdbg/engine/synth"
)

// synthOpen writes raw to a temporary file and opens it.
func synthOpen(t testing.TB, raw []byte) (*engine.Target, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "synth.dmp")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	tg, err := engine.Open(path)
	if err == nil {
		t.Cleanup(func() { tg.Close() })
	}
	return tg, err
}

func synthMustOpen(t testing.TB, b *synth.Minidump) *engine.Target {
	t.Helper()
	tg, err := synthOpen(t, b.Bytes())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return tg
}

// guidBytes is a GUID as an RSDS record stores it: Data1, Data2, Data3 little-endian, Data4 as is
// (FORMATS.md §4.3).
func guidBytes(g synth.GUID) [16]byte {
	var b [16]byte
	binary.LittleEndian.PutUint32(b[0:], g.Data1)
	binary.LittleEndian.PutUint16(b[4:], g.Data2)
	binary.LittleEndian.PutUint16(b[6:], g.Data3)
	copy(b[8:], g.Data4[:])
	return b
}

const (
	synthUnicodePath   = `C:\Program Files\Ünïcødé\app.exe`
	synthCJKPath       = `C:\プリンター\ドライバー\印刷.dll`
	synthSurrogatePath = `C:\Drivers\🖨 printer.dll` // U+1F5A8: a surrogate pair in UTF-16
	synthThreadName    = "Работник 打印 🖨"
)

var synthGUID = synth.MustGUID("7DD47A9F-C2E8-499A-A78E-C14AE2C965A2")

// synthEveryStream is an x64 dump with every stream type, an unknown stream included.
func synthEveryStream() *synth.Minidump {
	b := synth.NewMinidump(synth.ArchAMD64)
	b.TimeDateStamp = 0x5C0AE38E
	si := synth.Windows10(synth.ArchAMD64)
	si.CSDVersion = "Service Pack 1"
	b.SystemInfo(si)
	th := b.Thread(0x2A6C, 0xADDAC91000, 0xADDABAE1E8, bytes.Repeat([]byte{0xAB}, 0x40),
		synth.ContextAMD64{Rip: 0x7FF7A13110D9, Rsp: 0xADDABAE1E8, Rbp: 0xADDABAE300})
	th.SuspendCount, th.Priority, th.PriorityClass = 1, 2, 0x20
	b.Thread(0x1111, 0xADDAC93000, 0xADDAC00000, []byte("idle stack"), synth.ContextAMD64{Rip: 0x7FFBDDD70C24})
	m := b.Module(0x7FF7A1310000, 0x7000, synthUnicodePath, 0x5C0AE38E, 0xABCD, synth.CodeView{GUID: synthGUID, Age: 3, PDB: `C:\src\app.pdb`})
	m.Version = &synth.VersionInfo{FileVersion: [4]uint16{10, 0, 16299, 15}, ProductVersion: [4]uint16{10, 0, 16299, 16},
		FileFlagsMask: 0x3F, FileOS: 0x40004, FileType: 1}
	b.Module(0x7FFBDDD00000, 0x1E0000, synthCJKPath, 0x12345678, 0, synth.CodeView{NB10: true, Signature: 0x3A2B1C0D, Age: 7, PDB: "old.pdb"})
	b.Module(0x7FFBDC000000, 0x10000, synthSurrogatePath, 1, 2, synth.CodeView{})
	b.UnloadedModule(0x7FFBD0000000, 0x9000, `C:\Windows\System32\gone.dll`, 0x11223344, 0x5566)
	b.Memory(0x10000, []byte("0123456789abcdef"))
	b.Exception(0x2A6C, 0xC0000005, 0x7FF7A13110D9, []uint64{1, 0x45}, synth.ContextAMD64{Rip: 0x7FF7A13110D9, Rax: 0x45})
	b.MiscInfo(synth.MiscInfo{Size: synth.MiscInfoV5Size, ProcessID: 4440, ProcessCreateTime: 0x5C0AE300,
		ProcessUserTime: 3, ProcessKernelTime: 4, BuildString: "16299.15.amd64fre.rs3_release.170928-1534",
		TimeZoneID: 2, TimeZone: &synth.TimeZone{Bias: -60, StandardName: "W. Europe Standard Time",
			DaylightName: "W. Europe Daylight Time", DaylightBias: -60}})
	b.ThreadInfo(synth.ThreadInfo{ThreadID: 0x2A6C, DumpFlags: 0x1, ExitStatus: 0x103, CreateTime: 0x01D48E6A00000000,
		KernelTime: 10, UserTime: 20, StartAddress: 0x7FF7A1311000, Affinity: 0xF})
	b.ThreadNames(synth.ThreadName{ThreadID: 0x2A6C, Name: synthThreadName})
	b.Handles(synth.HandleDescriptor2Size,
		synth.Handle{Handle: 0x4, TypeName: "File", ObjectName: `\Device\HarddiskVolume3\Ünïcødé`, Attributes: 2,
			GrantedAccess: 0x120089, HandleCount: 1, PointerCount: 2},
		synth.Handle{Handle: 0x8, TypeName: "Event"})
	b.MemoryInfo(synth.MemoryInfo{BaseAddress: 0x10000, AllocationBase: 0x10000, AllocationProtect: 4, RegionSize: 0x1000,
		State: 0x1000, Protect: 4, Type: 0x20000})
	b.CommentA("plain comment")
	b.CommentW("wide comment 世界")
	b.RawStream(0xABCD0001, []byte("nobody knows this stream"))
	return b
}

// TestSynthEveryStream: every value put into every stream comes back out of engine.Open.
func TestSynthEveryStream(t *testing.T) {
	tg := synthMustOpen(t, synthEveryStream())
	if tg.Format != "minidump" || tg.Arch != cpu.ArchAMD64 || tg.Kind != engine.KindUserMini {
		t.Errorf("Format %q Arch %v Kind %v", tg.Format, tg.Arch, tg.Kind)
	}
	if want := time.Unix(0x5C0AE38E, 0).UTC(); !tg.DumpTime.Equal(want) {
		t.Errorf("DumpTime %v, want %v", tg.DumpTime, want)
	}
	s := tg.System
	if s.ProcessorArchitecture != 9 || s.NumberOfProcessors != 4 || s.MajorVersion != 10 || s.BuildNumber != 19041 ||
		s.PlatformID != 2 || s.ProductType != 1 || s.CSDVersion != "Service Pack 1" || s.SuiteMask != 0x100 ||
		s.BuildString != "16299.15.amd64fre.rs3_release.170928-1534" {
		t.Errorf("System %+v", s)
	}
	p := tg.Process
	if !p.HasID || p.ID != 4440 || !p.HasTimes || !p.CreateTime.Equal(time.Unix(0x5C0AE300, 0)) ||
		p.UserTime != 3*time.Second || p.KernelTime != 4*time.Second {
		t.Errorf("Process %+v", p)
	}
	if tz := tg.TimeZone; tz == nil || tz.ID != 2 || tz.Bias != -60 || tz.StandardName != "W. Europe Standard Time" ||
		tz.DaylightName != "W. Europe Daylight Time" || tz.DaylightBias != -60 {
		t.Errorf("TimeZone %+v", tg.TimeZone)
	}

	if len(tg.Threads) != 2 {
		t.Fatalf("%d threads", len(tg.Threads))
	}
	th := tg.Threads[0]
	if th.ID != 0x2A6C || th.SuspendCount != 1 || th.Priority != 2 || th.PriorityClass != 0x20 || th.TEB != 0xADDAC91000 ||
		th.StackStart != 0xADDABAE1E8 || th.StackSize != 0x40 || th.Name != synthThreadName {
		t.Errorf("thread 0 %+v", th)
	}
	if th.Context == nil || th.Context.PC() != 0x7FF7A13110D9 || th.Context.SP() != 0xADDABAE1E8 || th.Context.FP() != 0xADDABAE300 {
		t.Errorf("thread 0 context %v (%v)", th.Context, th.ContextError)
	}
	if i := th.Info; i == nil || i.DumpFlags != 1 || i.ExitStatus != 0x103 || i.CreateTime != 0x01D48E6A00000000 ||
		i.KernelTime != 10 || i.UserTime != 20 || i.StartAddress != 0x7FF7A1311000 || i.Affinity != 0xF {
		t.Errorf("thread 0 info %+v", th.Info)
	}
	if tg.Threads[1].Name != "" || tg.Threads[1].Info != nil {
		t.Errorf("thread 1 has a name %q or info it was not given", tg.Threads[1].Name)
	}
	if i, ok := tg.ThreadByID(0x1111); !ok || i != 1 {
		t.Error("ThreadByID(0x1111)")
	}

	if len(tg.Modules) != 3 {
		t.Fatalf("%d modules", len(tg.Modules))
	}
	m := tg.Modules[0]
	if m.Base != 0x7FF7A1310000 || m.Size != 0x7000 || m.Checksum != 0xABCD || m.TimeDateStamp != 0x5C0AE38E ||
		m.Path != synthUnicodePath || m.ImageName != "app.exe" || m.Name != "app" {
		t.Errorf("module 0 %+v", m)
	}
	if v := m.Version; v == nil || v.FileVersion != [4]uint16{10, 0, 16299, 15} || v.ProductVersion != [4]uint16{10, 0, 16299, 16} ||
		v.FileFlagsMask != 0x3F || v.FileOS != 0x40004 || v.FileType != 1 {
		t.Errorf("module 0 version %+v", m.Version)
	}
	if cv := m.CodeView; cv == nil || cv.Signature != "RSDS" || cv.GUID != guidBytes(synthGUID) || cv.Age != 3 || cv.PDBName != `C:\src\app.pdb` {
		t.Errorf("module 0 CodeView %+v", m.CodeView)
	}
	if cv := tg.Modules[1].CodeView; cv == nil || cv.Signature != "NB10" || cv.Timestamp != 0x3A2B1C0D || cv.Age != 7 || cv.PDBName != "old.pdb" {
		t.Errorf("module 1 NB10 CodeView %+v", cv)
	}
	if tg.Modules[1].Path != synthCJKPath || tg.Modules[2].Path != synthSurrogatePath {
		t.Errorf("Unicode paths: %q, %q", tg.Modules[1].Path, tg.Modules[2].Path)
	}
	if tg.Modules[2].CodeView != nil || tg.Modules[2].Version != nil {
		t.Error("module 2 has a CodeView record or version it was not given")
	}
	if mod, ok := tg.ModuleAt(0x7FF7A1310000 + 0x6FFF); !ok || mod.Base != 0x7FF7A1310000 {
		t.Error("ModuleAt the last byte of module 0")
	}

	if len(tg.Unloaded) != 1 || tg.Unloaded[0] != (engine.UnloadedModule{Base: 0x7FFBD0000000, Size: 0x9000, Checksum: 0x5566,
		TimeDateStamp: 0x11223344, Path: `C:\Windows\System32\gone.dll`, ImageName: "gone.dll"}) {
		t.Errorf("Unloaded %+v", tg.Unloaded)
	}
	e := tg.Exception
	if e == nil || e.ThreadID != 0x2A6C || e.Code != 0xC0000005 || e.Address != 0x7FF7A13110D9 ||
		fmt.Sprint(e.Parameters) != "[1 69]" {
		t.Fatalf("Exception %+v", e)
	}
	if v, ok := e.Context.Register("rax"); !ok || v != 0x45 {
		t.Errorf("exception context rax %#x (%v)", v, e.ContextError)
	}
	if got := strings.Join(tg.Comments, "|"); got != "plain comment|wide comment 世界" {
		t.Errorf("Comments %q", tg.Comments)
	}
	if len(tg.Handles) != 2 || tg.Handles[0] != (engine.Handle{Handle: 4, TypeName: "File", ObjectName: `\Device\HarddiskVolume3\Ünïcødé`,
		Attributes: 2, GrantedAccess: 0x120089, HandleCount: 1, PointerCount: 2}) || tg.Handles[1].TypeName != "Event" || tg.Handles[1].ObjectName != "" {
		t.Errorf("Handles %+v", tg.Handles)
	}
	if len(tg.MemoryInfo) != 1 || tg.MemoryInfo[0] != (engine.MemoryRegion{BaseAddress: 0x10000, AllocationBase: 0x10000,
		AllocationProtect: 4, RegionSize: 0x1000, State: 0x1000, Protect: 4, Type: 0x20000}) {
		t.Errorf("MemoryInfo %+v", tg.MemoryInfo)
	}

	// Memory: the explicit range and both stacks.
	for addr, want := range map[uint64]string{0x10000: "0123456789abcdef", 0xADDAC00000: "idle stack", 0xADDABAE1E8: "\xAB\xAB\xAB\xAB"} {
		got := make([]byte, len(want))
		if err := engine.ReadFull(tg.Memory, got, addr); err != nil || string(got) != want {
			t.Errorf("memory at %#x: %q, %v", addr, got, err)
		}
	}

	// Every stream in the directory is listed; the unknown one too, with a note, without failing.
	types := map[uint32]engine.StreamInfo{}
	for _, si := range tg.Streams {
		types[si.Type] = si
	}
	for _, typ := range []uint32{3, 4, 5, 6, 7, 0xA, 0xB, 0xC, 0xE, 0xF, 0x10, 0x11, 0x18} {
		if si, ok := types[typ]; !ok || !si.Known || si.Name == "" {
			t.Errorf("stream %#x: %+v, %v", typ, si, ok)
		}
	}
	if len(tg.Streams) != 14 {
		t.Errorf("%d streams listed, the directory has 14", len(tg.Streams))
	}
	if si, ok := types[0xABCD0001]; !ok || si.Known || si.Size != uint32(len("nobody knows this stream")) {
		t.Errorf("unknown stream: %+v, %v", si, ok)
	}
	if !synthNoted(tg, "abcd0001") {
		t.Errorf("no note about the unknown stream 0xabcd0001: %q", tg.Notes)
	}
}

// synthNoted reports whether a note mentions s (case-insensitively).
func synthNoted(tg *engine.Target, s string) bool {
	for _, n := range tg.Notes {
		if strings.Contains(strings.ToLower(n), strings.ToLower(s)) {
			return true
		}
	}
	return false
}

// TestSynthContexts: every register of x86, x64 and ARM64 contexts written by synth decodes to
// the same value, in the thread list and in the exception stream.
func TestSynthContexts(t *testing.T) {
	t.Run("ARM64", func(t *testing.T) {
		want := synth.ContextARM64{Cpsr: 0x80000000, Fp: 0xF0F0F0F029, Lr: 0x7FF600003030, Sp: 0x5FFF00, Pc: 0x7FF612341234,
			Fpcr: 0x3000000, Fpsr: 0x10}
		for i := range want.X {
			want.X[i] = 0x0101010100000000*uint64(i+1) + uint64(i)
		}
		for i := range want.V {
			want.V[i][0], want.V[i][15] = byte(i), byte(0xF0+i%16)
		}
		for i := range want.Bcr {
			want.Bcr[i], want.Bvr[i] = uint32(0xB0+i), uint64(0xB000+i)
		}
		want.Wcr, want.Wvr = [2]uint32{0xC1, 0xC2}, [2]uint64{0xC100, 0xC200}
		tg := synthMustOpen(t, synthContextDump(synth.ArchARM64, want))
		if tg.Arch != cpu.ArchARM64 {
			t.Fatalf("Arch %v", tg.Arch)
		}
		for _, ctx := range []cpu.Context{tg.Threads[0].Context, tg.Exception.Context} {
			c, ok := ctx.(*cpu.ARM64Context)
			if !ok {
				t.Fatalf("context %T (%v)", ctx, tg.Threads[0].ContextError)
			}
			if c.ContextFlags != synth.ContextFlagsARM64 || c.Cpsr != want.Cpsr || [29]uint64(c.X[:29]) != want.X || c.X[29] != want.Fp || c.X[30] != want.Lr || c.Fp != want.Fp || c.Lr != want.Lr ||
				c.Sp != want.Sp || c.Pc != want.Pc || c.V != want.V || c.Fpcr != want.Fpcr || c.Fpsr != want.Fpsr ||
				c.Bcr != want.Bcr || c.Bvr != want.Bvr || c.Wcr != want.Wcr || c.Wvr != want.Wvr {
				t.Errorf("ARM64 context differs:\n got %+v\nwant %+v", *c, want)
			}
			if v, _ := c.Register("w28"); v != want.X[28]&0xFFFFFFFF {
				t.Errorf("w28 %#x", v)
			}
		}
	})
	t.Run("AMD64", func(t *testing.T) {
		want := synth.ContextAMD64{P1Home: 1, P6Home: 6, MxCsr: 0x1FA0, SegCs: 0x33, SegDs: 0x2B, SegEs: 0x2C, SegFs: 0x53,
			SegGs: 0x2D, SegSs: 0x2E, EFlags: 0x10297, Dr0: 0xD0, Dr7: 0xD7, Rax: 0xA, Rcx: 0xC, Rdx: 0xD, Rbx: 0xB,
			Rsp: 0x5000, Rbp: 0x5100, Rsi: 0x51, Rdi: 0xD1, R8: 8, R9: 9, R10: 10, R11: 11, R12: 12, R13: 13, R14: 14,
			R15: 0xFFFFFFFFFFFFFF15, Rip: 0x7FF7A13110D9, LastBranchToRip: 0x1234, LastExceptionFromRip: 0x5678}
		for i := range want.Xmm {
			want.Xmm[i][0], want.Xmm[i][15] = byte(0x10+i), byte(0xE0+i)
		}
		tg := synthMustOpen(t, synthContextDump(synth.ArchAMD64, want))
		for _, ctx := range []cpu.Context{tg.Threads[0].Context, tg.Exception.Context} {
			c, ok := ctx.(*cpu.AMD64Context)
			if !ok {
				t.Fatalf("context %T (%v)", ctx, tg.Threads[0].ContextError)
			}
			got := [...]uint64{c.P1Home, c.P6Home, uint64(c.MxCsr), uint64(c.SegCs), uint64(c.SegDs), uint64(c.SegEs), uint64(c.SegFs),
				uint64(c.SegGs), uint64(c.SegSs), uint64(c.EFlags), c.Dr0, c.Dr7, c.Rax, c.Rcx, c.Rdx, c.Rbx, c.Rsp, c.Rbp,
				c.Rsi, c.Rdi, c.R8, c.R9, c.R10, c.R11, c.R12, c.R13, c.R14, c.R15, c.Rip, c.LastBranchToRip,
				c.LastExceptionFromRip, uint64(c.FltSave.MxCsr)}
			exp := [...]uint64{want.P1Home, want.P6Home, uint64(want.MxCsr), uint64(want.SegCs), uint64(want.SegDs), uint64(want.SegEs),
				uint64(want.SegFs), uint64(want.SegGs), uint64(want.SegSs), uint64(want.EFlags), want.Dr0, want.Dr7, want.Rax,
				want.Rcx, want.Rdx, want.Rbx, want.Rsp, want.Rbp, want.Rsi, want.Rdi, want.R8, want.R9, want.R10, want.R11,
				want.R12, want.R13, want.R14, want.R15, want.Rip, want.LastBranchToRip, want.LastExceptionFromRip, uint64(want.MxCsr)}
			if got != exp || c.Xmm != want.Xmm || c.ContextFlags != synth.ContextFlagsAMD64 {
				t.Errorf("x64 context differs:\n got %x\nwant %x", got, exp)
			}
			if cpu.EFlagsText(c.EFlags) != "iopl=0         nv up ei ng nz ac pe cy" { // WINDBG-SPEC §3.9's example value
				t.Errorf("flags text %q", cpu.EFlagsText(c.EFlags))
			}
		}
	})
	t.Run("x86", func(t *testing.T) {
		want := synth.ContextX86{Dr0: 0xD0, Dr7: 0xD7, FloatControlWord: 0xFFFF027F, SegGs: 0, SegFs: 0x3B, SegEs: 0x23,
			SegDs: 0x23, Edi: 0xD1, Esi: 0x7B8, Ebx: 0x7C883780, Edx: 0x7C97C0D8, Ecx: 0x7C80B46E, Eax: 0x400000,
			Ebp: 0x12F384, Eip: 0x7C90EB94, SegCs: 0x1B, EFlags: 0x246, Esp: 0x12F320, SegSs: 0x23}
		want.Xmm[7] = [16]byte{7, 6, 5, 4, 3, 2, 1, 0, 9, 9, 9, 9, 9, 9, 9, 0x77}
		tg := synthMustOpen(t, synthContextDump(synth.ArchX86, want))
		if tg.Arch != cpu.ArchX86 {
			t.Fatalf("Arch %v", tg.Arch)
		}
		for _, ctx := range []cpu.Context{tg.Threads[0].Context, tg.Exception.Context} {
			c, ok := ctx.(*cpu.X86Context)
			if !ok {
				t.Fatalf("context %T (%v)", ctx, tg.Threads[0].ContextError)
			}
			got := [...]uint32{c.Dr0, c.Dr7, c.FloatSave.ControlWord, c.SegGs, c.SegFs, c.SegEs, c.SegDs, c.Edi, c.Esi, c.Ebx,
				c.Edx, c.Ecx, c.Eax, c.Ebp, c.Eip, c.SegCs, c.EFlags, c.Esp, c.SegSs, c.ContextFlags}
			exp := [...]uint32{want.Dr0, want.Dr7, want.FloatControlWord, want.SegGs, want.SegFs, want.SegEs, want.SegDs, want.Edi,
				want.Esi, want.Ebx, want.Edx, want.Ecx, want.Eax, want.Ebp, want.Eip, want.SegCs, want.EFlags, want.Esp,
				want.SegSs, synth.ContextFlagsX86}
			if got != exp || c.Xmm[7] != want.Xmm[7] || !c.HasExtendedRegisters {
				t.Errorf("x86 context differs:\n got %x\nwant %x", got, exp)
			}
			if ah, _ := c.Register("ah"); ah != 0 {
				t.Errorf("ah %#x", ah)
			}
		}
	})
}

func synthContextDump(arch synth.Arch, ctx synth.Context) *synth.Minidump {
	b := synth.NewMinidump(arch)
	b.SystemInfo(synth.Windows10(arch))
	b.Thread(0x42, 0x7000, 0x9000, []byte{1, 2, 3, 4}, ctx)
	b.Exception(0x42, 0x80000003, 0x1234, nil, ctx)
	return b
}

// TestSynthMemory: holes, partial reads, adjacent and overlapping ranges, for MemoryList and
// Memory64List alike.
func TestSynthMemory(t *testing.T) {
	fill := func(v byte, n int) []byte { return bytes.Repeat([]byte{v}, n) }
	b := synth.NewMinidump(synth.ArchAMD64)
	b.SystemInfo(synth.Windows10(synth.ArchAMD64))
	b.Memory(0x1000, fill(1, 0x100)) // 0x1000..0x1100
	b.Memory(0x1100, fill(2, 0x100)) // adjacent: 0x1100..0x1200
	b.Memory(0x3000, fill(3, 0x100)) // 0x3000..0x3100
	b.Memory(0x3080, fill(4, 0x100)) // overlaps the previous one: 0x3080..0x3180
	tg := synthMustOpen(t, b)
	checkSynthMemory(t, tg.Memory)

	// Overlap: engine/minidump documents that the earlier range wins, with a note.
	got := make([]byte, 0x180)
	if err := engine.ReadFull(tg.Memory, got, 0x3000); err != nil {
		t.Fatalf("read across the overlap: %v", err)
	}
	if !bytes.Equal(got[:0x100], fill(3, 0x100)) || !bytes.Equal(got[0x100:], fill(4, 0x80)) {
		t.Errorf("overlap read: % x ... % x", got[:4], got[0xFC:0x104])
	}
	if !synthNoted(tg, "overlap") {
		t.Errorf("no note about the overlapping ranges: %q", tg.Notes)
	}

	// The same layout as a full-memory dump.
	b = synth.NewMinidump(synth.ArchAMD64)
	b.SystemInfo(synth.Windows10(synth.ArchAMD64))
	b.FullMemory(synth.Range{Addr: 0x1000, Data: fill(1, 0x100)}, synth.Range{Addr: 0x1100, Data: fill(2, 0x100)},
		synth.Range{Addr: 0x3000, Data: fill(3, 0x100)})
	tg = synthMustOpen(t, b)
	if tg.Kind != engine.KindUserFull {
		t.Errorf("Kind %v, want KindUserFull", tg.Kind)
	}
	checkSynthMemory(t, tg.Memory)
}

// checkSynthMemory checks reads over ranges 0x1000..0x1200 (two adjacent) and 0x3000..0x3100+.
func checkSynthMemory(t *testing.T, m engine.Memory) {
	t.Helper()
	// Across the boundary of adjacent ranges: one read.
	p := make([]byte, 0x20)
	if n, err := m.ReadAt(p, 0x10F0); n != 0x20 || err != nil || p[0xF] != 1 || p[0x10] != 2 {
		t.Errorf("read across adjacent ranges: n=%#x err=%v % x", n, err, p)
	}
	// Starting in a hole: nothing, and the error names the start.
	var re *engine.ReadError
	n, err := m.ReadAt(p, 0x2000)
	if n != 0 || !errors.As(err, &re) || re.Addr != 0x2000 {
		t.Errorf("read in a hole: n=%d err=%v", n, err)
	}
	// Running off the end of the data: the prefix, and the first missing address.
	p = make([]byte, 0x40)
	n, err = m.ReadAt(p, 0x11E0)
	if n != 0x20 || !errors.As(err, &re) || re.Addr != 0x1200 || p[0x1F] != 2 {
		t.Errorf("partial read: n=%#x err=%v, want 0x20 bytes and a ReadError at 0x1200", n, err)
	}
	// Before the first range.
	if n, err := m.ReadAt(p[:4], 0xFFE); n != 0 || !errors.As(err, &re) || re.Addr != 0xFFE {
		t.Errorf("read straddling the start of a range: n=%d err=%v", n, err)
	}
	if _, err := engine.ReadU32(m, 0xFFFFFFFFFFFFFFFE); !errors.As(err, &re) {
		t.Errorf("read at the top of the address space: %v", err)
	}
}

// TestSynthUnicodeNames: module paths, thread names, handle names and comments survive as
// UTF-16LE with accents, CJK and a surrogate pair.
func TestSynthUnicodeNames(t *testing.T) {
	names := []string{synthUnicodePath, synthCJKPath, synthSurrogatePath, `C:\𝄞\𐐷\😀.dll`}
	b := synth.NewMinidump(synth.ArchX86)
	b.SystemInfo(synth.Windows10(synth.ArchX86))
	for i, n := range names {
		b.Module(uint64(0x10000000*(i+1)), 0x1000, n, 0, 0, synth.CodeView{})
		b.UnloadedModule(uint64(0x50000000+0x10000*i), 0x1000, n, 0, 0)
		b.Thread(uint32(100+i), 0, 0, nil, synth.ContextX86{})
		b.ThreadNames(synth.ThreadName{ThreadID: uint32(100 + i), Name: n})
	}
	b.Handles(synth.HandleDescriptorSize, synth.Handle{Handle: 4, TypeName: "Köhler", ObjectName: synthSurrogatePath})
	b.CommentW(synthThreadName)
	tg := synthMustOpen(t, b)
	for i, n := range names {
		if tg.Modules[i].Path != n || tg.Unloaded[i].Path != n || tg.Threads[i].Name != n {
			t.Errorf("name %d: module %q unloaded %q thread %q, want %q", i, tg.Modules[i].Path, tg.Unloaded[i].Path, tg.Threads[i].Name, n)
		}
	}
	if tg.Modules[2].ImageName != "🖨 printer.dll" {
		t.Errorf("ImageName %q", tg.Modules[2].ImageName)
	}
	if tg.Handles[0].TypeName != "Köhler" || tg.Handles[0].ObjectName != synthSurrogatePath {
		t.Errorf("handle names %+v", tg.Handles[0])
	}
	if len(tg.Comments) != 1 || tg.Comments[0] != synthThreadName {
		t.Errorf("comment %q", tg.Comments)
	}
}

// TestSynthMiscInfoSizes: each MISC_INFO version gives what it holds and nothing more.
func TestSynthMiscInfoSizes(t *testing.T) {
	for _, size := range []int{synth.MiscInfoV1Size, synth.MiscInfoV2Size, synth.MiscInfoV3Size, synth.MiscInfoV4Size, synth.MiscInfoV5Size} {
		b := synth.NewMinidump(synth.ArchX86)
		b.SystemInfo(synth.Windows10(synth.ArchX86))
		b.MiscInfo(synth.MiscInfo{Size: size, ProcessID: 0x1234, ProcessCreateTime: 0x5C000000, ProcessUserTime: 7,
			TimeZone: &synth.TimeZone{Bias: 300, StandardName: "Eastern Standard Time"}, BuildString: "7601.24214.x86fre"})
		tg := synthMustOpen(t, b)
		if tg.Process.ID != 0x1234 || !tg.Process.HasID || tg.Process.UserTime != 7*time.Second ||
			!tg.Process.CreateTime.Equal(time.Unix(0x5C000000, 0)) {
			t.Errorf("size %d: process %+v", size, tg.Process)
		}
		if hasTZ := tg.TimeZone != nil; hasTZ != (size >= synth.MiscInfoV3Size) {
			t.Errorf("size %d: time zone present = %v", size, hasTZ)
		} else if hasTZ && (tg.TimeZone.Bias != 300 || tg.TimeZone.StandardName != "Eastern Standard Time") {
			t.Errorf("size %d: time zone %+v", size, tg.TimeZone)
		}
		if hasBS := tg.System.BuildString != ""; hasBS != (size >= synth.MiscInfoV4Size) {
			t.Errorf("size %d: build string %q", size, tg.System.BuildString)
		}
	}
	// No process flags: no process facts.
	b := synth.NewMinidump(synth.ArchX86)
	b.SystemInfo(synth.Windows10(synth.ArchX86))
	b.MiscInfo(synth.MiscInfo{Size: synth.MiscInfoV1Size, Flags1: 0x4, ProcessID: 99})
	if tg := synthMustOpen(t, b); tg.Process.HasID || tg.Process.HasTimes {
		t.Errorf("flags without PROCESS_ID/TIMES: %+v", tg.Process)
	}
}

// TestSynthThreadExList: threads read from a ThreadExList stream when there is no ThreadList.
func TestSynthThreadExList(t *testing.T) {
	b := synth.NewMinidump(synth.ArchAMD64)
	b.SystemInfo(synth.Windows10(synth.ArchAMD64))
	b.UseThreadExList()
	b.Thread(7, 0x7000, 0x9000, []byte("one"), synth.ContextAMD64{Rip: 0x1007})
	b.Thread(8, 0x8000, 0xA000, []byte("two"), synth.ContextAMD64{Rip: 0x1008})
	tg := synthMustOpen(t, b)
	if len(tg.Threads) != 2 || tg.Threads[1].ID != 8 || tg.Threads[1].TEB != 0x8000 || tg.Threads[1].StackStart != 0xA000 ||
		tg.Threads[1].Context == nil || tg.Threads[1].Context.PC() != 0x1008 {
		t.Fatalf("threads %+v", tg.Threads)
	}
	two := make([]byte, 3)
	if err := engine.ReadFull(tg.Memory, two, 0xA000); err != nil || string(two) != "two" {
		t.Errorf("stack of thread 8: %q %v", two, err)
	}
}

// synthDamageBase is the sound dump the damage cases start from.
func synthDamageBase() *synth.Minidump {
	b := synth.NewMinidump(synth.ArchAMD64)
	b.SystemInfo(synth.Windows10(synth.ArchAMD64))
	b.Thread(1, 0x7000, 0x9000, []byte("stack bytes"), synth.ContextAMD64{Rip: 0x401000})
	b.Module(0x400000, 0x1000, `C:\a.exe`, 1, 2, synth.CodeView{GUID: synthGUID, Age: 1, PDB: "a.pdb"})
	b.UnloadedModule(0x500000, 0x1000, `C:\b.dll`, 1, 2)
	b.Memory(0x20000, []byte("memory"))
	b.Exception(1, 0xC0000005, 0x401000, []uint64{1, 2}, synth.ContextAMD64{Rip: 0x401000})
	b.MiscInfo(synth.MiscInfo{Size: synth.MiscInfoV2Size, ProcessID: 5})
	b.ThreadInfo(synth.ThreadInfo{ThreadID: 1})
	b.ThreadNames(synth.ThreadName{ThreadID: 1, Name: "main"})
	b.Handles(synth.HandleDescriptor2Size, synth.Handle{Handle: 4, TypeName: "File"})
	b.MemoryInfo(synth.MemoryInfo{BaseAddress: 0x20000, RegionSize: 0x1000})
	b.CommentW("comment")
	return b
}

var synthDamageTypes = []uint32{
	synth.ThreadListStream, synth.ModuleListStream, synth.MemoryListStream, synth.ExceptionStream, synth.SystemInfoStream,
	synth.UnloadedModuleListStream, synth.MiscInfoStream, synth.MemoryInfoListStream, synth.ThreadInfoListStream,
	synth.ThreadNamesStream, synth.HandleDataStream, synth.CommentStreamW,
}

// synthOpenDamaged opens a damaged dump: it must not panic, and it must either fail with an
// error or open with notes saying what was skipped; every thread, module and memory read of
// what did open must work without panicking.
func synthOpenDamaged(t *testing.T, what string, raw []byte) (*engine.Target, error) {
	t.Helper()
	var (
		tg  *engine.Target
		err error
	)
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("%s: Open panicked: %v", what, r)
			}
		}()
		tg, err = synthOpen(t, raw)
	}()
	if err != nil {
		if err.Error() == "" {
			t.Errorf("%s: empty error", what)
		}
		return nil, err
	}
	for _, th := range tg.Threads {
		p := make([]byte, 64)
		tg.Memory.ReadAt(p, th.StackStart)
		if th.Context != nil {
			th.Context.PC()
		}
	}
	tg.Memory.ReadAt(make([]byte, 16), 0x20000)
	return tg, nil
}

// TestSynthDamaged: the damage knobs give a clear error or a target with notes, never a panic.
func TestSynthDamaged(t *testing.T) {
	sound := synthDamageBase().Bytes()
	if tg := synthMustOpen(t, synthDamageBase()); len(tg.Notes) != 0 {
		t.Fatalf("the sound base dump has notes: %q", tg.Notes)
	}

	for _, typ := range synthDamageTypes {
		for _, knob := range []struct {
			name  string
			apply func(*synth.Minidump, uint32)
		}{
			{"PointPastEnd", (*synth.Minidump).PointPastEnd},
			{"OversizeStream", (*synth.Minidump).OversizeStream},
			{"HugeCount", (*synth.Minidump).HugeCount},
		} {
			b := synthDamageBase()
			knob.apply(b, typ)
			raw := b.Bytes()
			if knob.name == "HugeCount" && bytes.Equal(raw, sound) {
				continue // the stream has no count (comments, system and misc info)
			}
			what := fmt.Sprintf("%s(%#x)", knob.name, typ)
			tg, err := synthOpenDamaged(t, what, raw)
			if err != nil {
				continue
			}
			if len(tg.Notes) == 0 {
				t.Errorf("%s: opened without a note", what)
			}
		}
	}

	// A stream pointing past the end is named in the note with its offset.
	b := synthDamageBase()
	b.PointPastEnd(synth.ModuleListStream)
	if tg, err := synthOpenDamaged(t, "modules past the end", b.Bytes()); err == nil {
		if !synthNoted(tg, "ModuleList") || len(tg.Modules) != 0 || len(tg.Threads) != 1 {
			t.Errorf("modules past the end: notes %q, %d modules, %d threads", tg.Notes, len(tg.Modules), len(tg.Threads))
		}
	}

	// Truncation at every interesting point: inside the header, the directory, each stream.
	for _, cut := range []int{0, 1, 4, 31, 32, 40, 0x20 + 12*13 - 1, len(sound) / 4, len(sound) / 2, len(sound) - 5} {
		b := synthDamageBase()
		b.TruncateAt(int64(cut))
		synthOpenDamaged(t, fmt.Sprintf("truncated at %d", cut), b.Bytes())
	}
	for _, typ := range synthDamageTypes {
		b := synthDamageBase()
		off, _, _ := b.Locate(typ)
		b.TruncateAt(int64(off + 3))
		synthOpenDamaged(t, fmt.Sprintf("truncated inside stream %#x", typ), b.Bytes())
	}

	// Header damage.
	b = synthDamageBase()
	b.BadSignature()
	if _, err := synthOpenDamaged(t, "bad signature", b.Bytes()); !errors.Is(err, engine.ErrNotDump) {
		t.Errorf("bad signature: %v, want ErrNotDump", err)
	}
	b = synthDamageBase()
	b.StreamCount(0x7FFFFFFF)
	if _, err := synthOpenDamaged(t, "huge stream count", b.Bytes()); err == nil {
		t.Log("huge stream count opened (accepted as a prefix directory)")
	}
	b = synthDamageBase()
	b.DirectoryRva(0xFFFFFF00)
	if _, err := synthOpenDamaged(t, "directory past the end", b.Bytes()); err == nil || !strings.Contains(err.Error(), "0x") {
		t.Errorf("directory past the end: %v, want an error naming the offset", err)
	}
	if _, err := synthOpenDamaged(t, "empty file", nil); !errors.Is(err, engine.ErrNotDump) {
		t.Errorf("empty file: %v", err)
	}

	// Contexts too short to decode: the thread opens, ContextError says why.
	b = synth.NewMinidump(synth.ArchAMD64)
	b.SystemInfo(synth.Windows10(synth.ArchAMD64))
	b.Thread(1, 0, 0, nil, synth.ContextAMD64{Size: 0x80})
	b.Thread(2, 0, 0, nil, synth.RawContext{1, 2, 3})
	tg, err := synthOpenDamaged(t, "short contexts", b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, th := range tg.Threads {
		if th.Context != nil || th.ContextError == nil {
			t.Errorf("thread %d: context %v error %v", th.ID, th.Context, th.ContextError)
		}
	}

	// A full-memory dump cut inside its memory data: reads of the lost part fail cleanly.
	b = synth.NewMinidump(synth.ArchAMD64)
	b.SystemInfo(synth.Windows10(synth.ArchAMD64))
	b.FullMemory(synth.Range{Addr: 0x100000, Size: 0x10000})
	full := len(b.Bytes())
	b.TruncateAt(int64(full - 0x8000))
	tg, err = synthOpenDamaged(t, "memory data cut short", b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var re *engine.ReadError
	if n, err := tg.Memory.ReadAt(make([]byte, 0x10), 0x10C000); !errors.As(err, &re) || n != 0 {
		t.Errorf("read of the lost half: n=%d err=%v", n, err)
	}
	if n, err := tg.Memory.ReadAt(make([]byte, 0x10), 0x100000); n != 0x10 || err != nil {
		t.Errorf("read of the kept half: n=%d err=%v", n, err)
	}
}

// TestSynthSample opens testdata/sample.dmp (written by engine/synth/cmd/gensample; its own test
// keeps it in step) and checks the facts its description states.
func TestSynthSample(t *testing.T) {
	tg, err := engine.Open(filepath.Join("..", "testdata", "sample.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if tg.Arch != cpu.ArchAMD64 || tg.Process.ID != synth.SamplePID || len(tg.Threads) != 2 || len(tg.Modules) != 5 {
		t.Fatalf("arch %v pid %d threads %d modules %d", tg.Arch, tg.Process.ID, len(tg.Threads), len(tg.Modules))
	}
	if len(tg.Notes) != 0 {
		t.Errorf("notes: %q", tg.Notes)
	}
	e := tg.Exception
	if e == nil || e.ThreadID != synth.SampleCrashTID || e.Code != 0xC0000005 || e.Context.PC() != synth.SampleCrashIP {
		t.Fatalf("exception %+v", e)
	}
	if m, ok := tg.ModuleAt(synth.SampleCrashIP); !ok || m.Name != "ContosoLW9K" {
		t.Errorf("crash module %+v", m)
	}
	if th := tg.Threads[1]; th.Name != "Contoso render worker" || th.TEB != synth.SampleTEB1 {
		t.Errorf("crash thread %+v", th)
	}
	// PEB.Ldr (x64 @0x18, FORMATS.md §5) and the printer name on the crashing thread's stack.
	ldr, err := engine.ReadU64(tg.Memory, synth.SamplePEB+0x18)
	if err != nil || ldr < synth.SampleHeap || ldr >= synth.SampleHeap+0x10000 {
		t.Errorf("PEB.Ldr %#x, %v", ldr, err)
	}
	stack := make([]byte, tg.Threads[1].StackSize)
	if err := engine.ReadFull(tg.Memory, stack, tg.Threads[1].StackStart); err != nil ||
		!bytes.Contains(stack, synth.UTF16Z(synth.SamplePrinterName)) {
		t.Errorf("printer name not on the crashing stack (%v)", err)
	}
}
