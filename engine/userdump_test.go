package engine

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"wdbg/internal/corpus"

	"wdbg/engine/cpu"
)

// userCorpus lists the user-mode dumps of the corpus (CATALOG.md).
var userCorpus = corpus.UserDumps

// TestCorpusOpensCleanly: every real user dump opens without notes, with an architecture,
// threads whose contexts decode, and an exception context when there is an exception.
func TestCorpusOpensCleanly(t *testing.T) {
	for _, rel := range userCorpus {
		t.Run(rel, func(t *testing.T) {
			tg := openTarget(t, rel)
			if len(tg.Notes) != 0 {
				t.Errorf("notes: %q", tg.Notes)
			}
			if tg.Format != "minidump" || tg.Arch == cpu.ArchUnknown || tg.Path == "" {
				t.Errorf("format %q arch %v path %q", tg.Format, tg.Arch, tg.Path)
			}
			if len(tg.Threads) == 0 || len(tg.Modules) == 0 || tg.Memory == nil {
				t.Fatalf("%d threads, %d modules, memory %v", len(tg.Threads), len(tg.Modules), tg.Memory)
			}
			for _, th := range tg.Threads {
				if th.Context == nil || th.ContextError != nil {
					t.Errorf("thread %#x: context %v, %v", th.ID, th.Context, th.ContextError)
				}
			}
			if x := tg.Exception; x != nil && (x.Context == nil || x.ContextError != nil || x.Context.PC() != x.Address) {
				// Every exception in the corpus faulted at the instruction its context points at.
				t.Errorf("exception context %v, %v", x.Context, x.ContextError)
			}
			names := map[string]bool{}
			for _, m := range tg.Modules {
				if names[strings.ToLower(m.Name)] {
					t.Errorf("module name %q used twice", m.Name)
				}
				names[strings.ToLower(m.Name)] = true
			}
			if len(tg.Streams) == 0 {
				t.Errorf("no streams listed")
			}
		})
	}
}

// bpModule is one module of breakpad's minidump_dump output.
type bpModule struct {
	base, size          uint64
	codeFile, debugFile string
	version, debugID    string
}

// readBreakpadModules reads the module blocks of breakpad/expected/minidump2.dump.out.
func readBreakpadModules(t *testing.T, path string) []bpModule {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	field := regexp.MustCompile(`^\s+(\S+)\s+= (.*)$`)
	var mods []bpModule
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, " ") {
			in = line == "MDRawModule"
			if in {
				mods = append(mods, bpModule{})
			}
			continue
		}
		m := field.FindStringSubmatch(line)
		if !in || m == nil {
			continue
		}
		cur := &mods[len(mods)-1]
		v := strings.Trim(m[2], `"`)
		switch m[1] {
		case "base_of_image":
			cur.base, _ = strconv.ParseUint(v, 0, 64)
		case "size_of_image":
			cur.size, _ = strconv.ParseUint(v, 0, 64)
		case "(code_file)":
			cur.codeFile = v
		case "(debug_file)":
			cur.debugFile = v
		case "(version)":
			cur.version = v
		case "(debug_identifier)":
			cur.debugID = v
		}
	}
	return mods
}

// TestMinidump2Target checks the Target of breakpad/minidump2.dmp against breakpad's oracle
// files (expected/minidump2.dump.out, ORACLE_NOTES.md).
func TestMinidump2Target(t *testing.T) {
	tg := openTarget(t, "breakpad/minidump2.dmp")
	// dump.out: flags = 0x0, processor_architecture = 0x0 (x86).
	if tg.Kind != KindUserMini || tg.Arch != cpu.ArchX86 {
		t.Errorf("kind %v arch %v; want user mini, x86", tg.Kind, tg.Arch)
	}
	// ORACLE_NOTES: time_date_stamp == process_create_time == 1171480435; dump.out: process_id = 3932.
	want := time.Unix(1171480435, 0).UTC()
	if !tg.DumpTime.Equal(want) || !tg.Process.CreateTime.Equal(want) || !tg.Process.HasTimes {
		t.Errorf("dump time %v, process created %v; want %v", tg.DumpTime, tg.Process.CreateTime, want)
	}
	if !tg.Process.HasID || tg.Process.ID != 3932 {
		t.Errorf("pid %d (%v)", tg.Process.ID, tg.Process.HasID)
	}
	if tg.TimeZone != nil {
		t.Errorf("time zone %+v from a 24-byte MiscInfo", tg.TimeZone)
	}
	// dump.out MDRawSystemInfo.
	s := tg.System
	if s.MajorVersion != 5 || s.MinorVersion != 1 || s.BuildNumber != 2600 || s.CSDVersion != "Service Pack 2" ||
		s.CPUVendor != "GenuineIntel" || s.NumberOfProcessors != 1 || s.ProcessorLevel != 6 ||
		s.ProcessorRevision != 0xd08 || s.ProductType != 1 || s.PlatformID != 2 || s.SuiteMask != 0x100 {
		t.Errorf("system %+v", s)
	}
	// dump.out: thread[0] 0xbf4 eip 0x7c90eb94 esp 0x12f320; thread[1] 0x11c0.
	if len(tg.Threads) != 2 || tg.Threads[0].ID != 0xbf4 || tg.Threads[1].ID != 0x11c0 {
		t.Fatalf("threads %+v", tg.Threads)
	}
	th := tg.Threads[0]
	if th.TEB != 0x7ffdf000 || th.StackStart != 0x12f31c || th.StackSize != 0xce4 ||
		th.Context.PC() != 0x7c90eb94 || th.Context.SP() != 0x12f320 {
		t.Errorf("thread 0: %+v pc %#x sp %#x", th, th.Context.PC(), th.Context.SP())
	}
	// dump.out MDException: 0xbf4, 0xc0000005 at 0x40429e, parameters 1, 0x45; context eip
	// 0x40429e, esp 0x12fe84, eax 0x45.
	x := tg.Exception
	if x == nil || x.ThreadID != 0xbf4 || x.Code != 0xc0000005 || x.Address != 0x40429e ||
		fmt.Sprint(x.Parameters) != "[1 69]" || x.Context.SP() != 0x12fe84 {
		t.Fatalf("exception %+v", x)
	}
	if eax, ok := x.Context.Register("eax"); !ok || eax != 0x45 {
		t.Errorf("exception eax = %#x, %v", eax, ok)
	}
	// Modules against the oracle's module blocks.
	want2 := readBreakpadModules(t, userdumpFixture(t, "breakpad/expected/minidump2.dump.out"))
	if len(want2) != 13 || len(tg.Modules) != 13 {
		t.Fatalf("modules: oracle %d, target %d; want 13", len(want2), len(tg.Modules))
	}
	for i, w := range want2 {
		m := tg.Modules[i]
		if m.Base != w.base || uint64(m.Size) != w.size || m.Path != w.codeFile {
			t.Errorf("module %d: %#x %#x %q; oracle %#x %#x %q", i, m.Base, m.Size, m.Path, w.base, w.size, w.codeFile)
		}
		version := ""
		if m.Version != nil {
			v := m.Version.FileVersion
			version = fmt.Sprintf("%d.%d.%d.%d", v[0], v[1], v[2], v[3])
		}
		if version != w.version {
			t.Errorf("module %d version %q, oracle %q", i, version, w.version)
		}
		if m.CodeView == nil || m.CodeView.PDBName != w.debugFile || m.CodeView.Signature != "RSDS" {
			t.Errorf("module %d CodeView %+v, oracle %q", i, m.CodeView, w.debugFile)
			continue
		}
		// debug_identifier is the GUID (Data1..3 as numbers, Data4 as bytes) then the age in hex.
		g := m.CodeView.GUID
		id := fmt.Sprintf("%08X%04X%04X%X%X", binary.LittleEndian.Uint32(g[0:]), binary.LittleEndian.Uint16(g[4:]),
			binary.LittleEndian.Uint16(g[6:]), g[8:], m.CodeView.Age)
		if id != w.debugID {
			t.Errorf("module %d debug identifier %s, oracle %s", i, id, w.debugID)
		}
	}
	if m := tg.Modules[0]; m.ImageName != "test_app.exe" || m.Name != "test_app" {
		t.Errorf("main module %q / %q", m.ImageName, m.Name)
	}
	// ORACLE_NOTES: the module at 0x7c801234 has debug file kernel32.pdb; 0x77d43210 has version 5.1.2600.2622.
	if m, ok := tg.ModuleAt(0x7c801234); !ok || m.Name != "kernel32" || m.CodeView.PDBName != "kernel32.pdb" {
		t.Errorf("ModuleAt(0x7c801234) = %+v", m)
	}
	if m, ok := tg.ModuleAt(0x77d43210); !ok || m.Version == nil || m.Version.FileVersion != [4]uint16{5, 1, 2600, 2622} {
		t.Errorf("ModuleAt(0x77d43210) = %+v", m)
	}
	// dump.out region[0]: 0x7c90eb14, 0x100 bytes, starting ff 83 c4 ec 89 04 24 c7.
	p := make([]byte, 8)
	if err := ReadFull(tg.Memory, p, 0x7c90eb14); err != nil || fmt.Sprintf("%x", p) != "ff83c4ec890424c7" {
		t.Errorf("memory at 0x7c90eb14 = %x, %v", p, err)
	}
	n, err := tg.Memory.ReadAt(make([]byte, 16), 0x7c90eb14+0xf8)
	var re *ReadError
	if n != 8 || !errors.As(err, &re) || re.Addr != 0x7c90ec14 {
		t.Errorf("read past region[0] = %d, %v; want 8, *engine.ReadError at 0x7c90ec14", n, err)
	}
	if _, err := ReadU32(tg.Memory, 0x1000); !errors.As(err, &re) || re.Addr != 0x1000 {
		t.Errorf("ReadU32(0x1000) error = %v", err)
	}
	if len(tg.Streams) != 9 || tg.Streams[6].Name != "BreakpadInfoStream" || tg.Streams[6].Type != 0x47670001 ||
		tg.Streams[0].Name != "ThreadListStream" || tg.Streams[0].Offset != 0x184 || tg.Streams[0].Size != 100 {
		t.Errorf("streams %+v", tg.Streams)
	}
}

// TestFizzbuzzTarget: lldb ORACLE_NOTES (pid 4440, 0xC0000005 at 0x164d14, 6 modules, a thread
// info list) and breakpad minidump_dump's MiscInfo (time zone).
func TestFizzbuzzTarget(t *testing.T) {
	tg := openTarget(t, "lldb/fizzbuzz_no_heap.dmp")
	if tg.Process.ID != 4440 || tg.Exception == nil || tg.Exception.Code != 0xC0000005 || tg.Exception.Address != 0x164d14 || len(tg.Modules) != 6 {
		t.Errorf("pid %d exception %+v modules %d", tg.Process.ID, tg.Exception, len(tg.Modules))
	}
	// minidump_dump: process_create_time = 0x55f88f6d 2015-09-15 21:36:45.
	if want := time.Date(2015, 9, 15, 21, 36, 45, 0, time.UTC); !tg.Process.CreateTime.Equal(want) {
		t.Errorf("process created %v, want %v", tg.Process.CreateTime, want)
	}
	// minidump_dump: time_zone_id 2, bias 480, Pacific Standard/Daylight Time, daylight_bias -60.
	tz := tg.TimeZone
	if tz == nil || tz.ID != 2 || tz.Bias != 480 || tz.StandardName != "Pacific Standard Time" ||
		tz.DaylightName != "Pacific Daylight Time" || tz.DaylightBias != -60 || tz.StandardBias != 0 {
		t.Errorf("time zone %+v", tz)
	}
	// obj2yaml ThreadInfoList: thread 0x2320, ExitStatus 0x103, StartAddress 0x16133E.
	th := tg.Threads[0]
	if th.ID != 0x2320 || th.Info == nil || th.Info.ExitStatus != 0x103 || th.Info.StartAddress != 0x16133E || th.Info.Affinity != 0xFFFFFFFF {
		t.Errorf("thread %+v info %+v", th, th.Info)
	}
	if tg.System.CSDVersion != "Service Pack 1" || tg.System.BuildString != "" {
		t.Errorf("system %+v", tg.System)
	}
}

// TestWOW64Target: the kdlibcpp WOW64 full-memory dump (CATALOG: flags 0x40002, AMD64,
// Memory64List) lists its main image twice; lldb-19's `image list` shows it once (11 modules),
// and WinDbg names the 32-bit ntdll "ntdll_<base>" (WINDBG-SPEC §1.2).
func TestWOW64Target(t *testing.T) {
	tg := openTarget(t, "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp")
	if tg.Kind != KindUserFull || tg.Arch != cpu.ArchAMD64 {
		t.Errorf("kind %v arch %v", tg.Kind, tg.Arch)
	}
	var names []string
	for _, m := range tg.Modules {
		names = append(names, m.Name)
	}
	want := "targetapp ntdll wow64 wow64win wow64cpu ntdll_77cf0000 kernel32 KERNELBASE VCRUNTIME140D MSVCP140D ucrtbased"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("modules\n got  %s\n want %s", got, want)
	}
	// lldb memory read -s1 -c16 0x850000: 4d 5a 90 00 ...; 0x897ff8 holds 8 bytes before a hole.
	if v, err := ReadU16(tg.Memory, 0x850000); err != nil || v != 0x5a4d {
		t.Errorf("ReadU16(0x850000) = %#x, %v", v, err)
	}
	n, err := tg.Memory.ReadAt(make([]byte, 16), 0x897ff8)
	var re *ReadError
	if n != 8 || !errors.As(err, &re) || re.Addr != 0x898000 {
		t.Errorf("ReadAt(0x897ff8) = %d, %v", n, err)
	}
	// kdlibcpp ORACLE_NOTES: exception 0x4000001F (STATUS_WX86_BREAKPOINT).
	if tg.Exception == nil || tg.Exception.Code != 0x4000001F || tg.Exception.Address != 0x875f5d {
		t.Errorf("exception %+v", tg.Exception)
	}
	// minidump_dump: build_string = 17134.1.amd64fre.rs4_release.180410-1804 (flags1 0x3f7).
	if tg.System.BuildString != "17134.1.amd64fre.rs4_release.180410-1804" {
		t.Errorf("build string %q", tg.System.BuildString)
	}
}

// TestCETXSaveTarget: breakpad/tiny-exe-with-cet-xsave.dmp (CATALOG: no exception, unloaded
// modules 1, memory info 557, handles 147; ORACLE_NOTES os_version "10.0.22000 282").
func TestCETXSaveTarget(t *testing.T) {
	tg := openTarget(t, "breakpad/tiny-exe-with-cet-xsave.dmp")
	if tg.Exception != nil || len(tg.Unloaded) != 1 || len(tg.MemoryInfo) != 557 || len(tg.Handles) != 147 {
		t.Fatalf("exception %v, %d unloaded, %d memory regions, %d handles", tg.Exception, len(tg.Unloaded), len(tg.MemoryInfo), len(tg.Handles))
	}
	// obj2yaml raw UnloadedModuleList + xxd at 0x2180 (see engine/minidump TestUnloadedAndHandlesCET).
	u := tg.Unloaded[0]
	if u.Base != 0x7FF90F450000 || u.Size != 0xEA000 || u.Path != "shcore.dll" || u.ImageName != "shcore.dll" {
		t.Errorf("unloaded %+v", u)
	}
	if h := tg.Handles[0]; h.Handle != 4 || h.TypeName != "File" || h.GrantedAccess != 0x12019F {
		t.Errorf("handle 0 %+v", h)
	}
	// minidump_dump info[1]: 0x7ffe0000, region 0x1000, state 0x1000, protection 0x2, type 0x20000.
	if r := tg.MemoryInfo[1]; r.BaseAddress != 0x7ffe0000 || r.RegionSize != 0x1000 || r.State != 0x1000 || r.Protect != 2 || r.Type != 0x20000 {
		t.Errorf("memory info 1 %+v", r)
	}
	if tg.System.CSDVersion != "282" || tg.System.CPUVendor != "" || tg.Kind != KindUserMini {
		t.Errorf("system %+v kind %v", tg.System, tg.Kind)
	}
	// minidump_dump: flags1 0x147 (BUILDSTRING 0x100 set), build_string = Windows NT 10.0.22000.282.
	if tg.System.BuildString != "Windows NT 10.0.22000.282" {
		t.Errorf("build string %q", tg.System.BuildString)
	}
}

// TestSymbolicatorTarget: symbolicator ORACLE_NOTES (thread 1636 crashing, AV write to 0x45)
// and CATALOG (4 threads, 17 modules).
func TestSymbolicatorTarget(t *testing.T) {
	tg := openTarget(t, "symbolicator/windows.dmp")
	x := tg.Exception
	if len(tg.Threads) != 4 || len(tg.Modules) != 17 || x == nil || x.ThreadID != 1636 ||
		x.Code != 0xc0000005 || fmt.Sprint(x.Parameters) != "[1 69]" {
		t.Errorf("%d threads, %d modules, exception %+v", len(tg.Threads), len(tg.Modules), x)
	}
	if i, ok := tg.ThreadByID(1636); !ok || i != 0 {
		t.Errorf("ThreadByID(1636) = %d, %v", i, ok)
	}
}

// TestTargetMinidumpKind: kdlibcpp ORACLE_NOTES says DbgEng calls target_minidump.dmp a Small
// (not full-memory) dump; its flags 0x40824 lack MiniDumpWithFullMemory.
func TestTargetMinidumpKind(t *testing.T) {
	tg := openTarget(t, "kdlibcpp/targetapp_minidump/target_minidump.dmp")
	if tg.Kind != KindUserMini || len(tg.MemoryInfo) != 91 || len(tg.Handles) != 43 {
		t.Errorf("kind %v, %d memory regions, %d handles", tg.Kind, len(tg.MemoryInfo), len(tg.Handles))
	}
}

func TestModuleNames(t *testing.T) {
	for _, c := range []struct{ image, want string }{
		{"ntdll.dll", "ntdll"},
		{"monero-wallet-gui.exe", "monero_wallet_gui"}, // WINDBG-SPEC §1.2
		{"KERNELBASE.dll", "KERNELBASE"},
		{"a b+c.dll", "a_b_c"},
		{"noext", "noext"},
	} {
		if got := moduleName(c.image); got != c.want {
			t.Errorf("moduleName(%q) = %q, want %q", c.image, got, c.want)
		}
	}
	for _, c := range []struct{ path, want string }{
		{`C:\Windows\System32\ntdll.dll`, "ntdll.dll"},
		{"/usr/lib/libc.so.6", "libc.so.6"},
		{`C:\mixed/sep\x.exe`, "x.exe"},
		{"bare.dll", "bare.dll"},
		{`C:\dir\`, ""},
	} {
		if got := imageName(c.path); got != c.want {
			t.Errorf("imageName(%q) = %q, want %q", c.path, got, c.want)
		}
	}
	mods := []Module{
		{Base: 0x7ffe1000, ImageName: "ntdll.dll"},
		{Base: 0x77980000, ImageName: "NTDLL.DLL"},
		{Base: 0x7ffd672c0000, ImageName: "chrome.dll"},
		{Base: 0x400000, ImageName: "chrome.exe"},
		{Base: 0x500000, ImageName: ""},
	}
	assignModuleNames(mods)
	var got []string
	for _, m := range mods {
		got = append(got, m.Name)
	}
	// WINDBG-SPEC §1.2: clashes get _<base>: ntdll_77980000, chrome_7ffd672c0000 style.
	if s := strings.Join(got, " "); s != "ntdll NTDLL_77980000 chrome chrome_400000 Unknown_Module_500000" {
		t.Errorf("names %s", s)
	}
}

// TestDamagedStreamsBecomeNotes corrupts single directory entries of a real dump: the stream
// is skipped with a note naming it and its offset, and the rest of the dump still opens.
func TestDamagedStreamsBecomeNotes(t *testing.T) {
	whole, err := os.ReadFile(userdumpFixture(t, "breakpad/minidump2.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	// dump.out: directory at 0x20; entry 1 is the ModuleList, entry 0 the ThreadList.
	const dir = 0x20
	setRVA := func(b []byte, entry int, rva uint32) {
		binary.LittleEndian.PutUint32(b[dir+12*entry+8:], rva)
	}
	b := bytes.Clone(whole)
	setRVA(b, 1, 0xFFFFFF00)
	tg, err := NewTarget(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.Modules) != 0 || len(tg.Threads) != 2 || len(tg.Notes) != 1 ||
		!strings.HasPrefix(tg.Notes[0], "skipped ModuleListStream at 0xffffff00: minidump: module list at 0xffffff00: points past the end of the file") {
		t.Errorf("modules %d threads %d notes %q", len(tg.Modules), len(tg.Threads), tg.Notes)
	}

	// The first thread's context RVA past the end: that thread has a ContextError, the other not.
	b = bytes.Clone(whole)
	binary.LittleEndian.PutUint32(b[0x184+4+0x2C:], 0xFFFFFF00) // thread list at 0x184, thread 0 ThreadContext.Rva
	tg, err = NewTarget(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if tg.Threads[0].Context != nil || tg.Threads[0].ContextError == nil || tg.Threads[1].Context == nil {
		t.Errorf("threads %+v", tg.Threads)
	}
	if !strings.Contains(tg.Threads[0].ContextError.Error(), "context of thread 0xbf4 at 0xffffff00") {
		t.Errorf("context error %v", tg.Threads[0].ContextError)
	}

	// Every module name past the end: the modules stay, with one note for all of them.
	b = bytes.Clone(whole)
	for i := range 13 {
		binary.LittleEndian.PutUint32(b[0x1e8+4+108*i+0x14:], 0xFFFFFF00) // module list at 0x1e8, ModuleNameRva @0x14
	}
	tg, err = NewTarget(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.Modules) != 13 || tg.Modules[1].Path != "" || tg.Modules[1].CodeView == nil || len(tg.Notes) != 1 ||
		!strings.HasPrefix(tg.Notes[0], "13 module records only partly readable (first: module 0 at 0x400000: minidump: name of module 0 at 0xffffff00") {
		t.Errorf("modules %d notes %q", len(tg.Modules), tg.Notes)
	}

	// An unknown stream type is listed and noted, not fatal.
	b = bytes.Clone(whole)
	binary.LittleEndian.PutUint32(b[dir+12*7:], 0x12345678) // entry 7 was UnusedStream
	tg, err = NewTarget(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.Notes) != 1 || tg.Notes[0] != "skipped 1 stream(s) of unknown type: 0x12345678 at 0x0" ||
		tg.Streams[7].Known || tg.Streams[7].Name != "" {
		t.Errorf("notes %q streams %+v", tg.Notes, tg.Streams[7])
	}

	// A directory past the end of the file is fatal.
	b = bytes.Clone(whole)
	binary.LittleEndian.PutUint32(b[0xC:], 0x10000)
	if _, err := NewTarget(bytes.NewReader(b), int64(len(b))); err == nil ||
		!strings.Contains(err.Error(), "stream directory at 0x10000: points past the end of the file") {
		t.Errorf("bad directory: %v", err)
	}
}

// TestTruncatedTargets opens real dumps cut at many points through engine.Open: each gives an
// error or a Target whose every part can be used; nothing panics.
func TestTruncatedTargets(t *testing.T) {
	for _, rel := range []string{"breakpad/minidump2.dmp", "lldb/fizzbuzz_no_heap.dmp", "breakpad/tiny-exe-with-cet-xsave.dmp"} {
		whole, err := os.ReadFile(userdumpFixture(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "cut.dmp")
		step := max(len(whole)/120, 1)
		opened := 0
		for cut := 0; cut < len(whole); cut += step {
			if err := os.WriteFile(p, whole[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			tg, err := Open(p)
			if err != nil {
				if !regexp.MustCompile(`(at 0x[0-9a-f]+|the file is empty|file is \d+ bytes|bytes at offset 0)`).MatchString(err.Error()) {
					t.Errorf("%s cut at %d: error without a place: %v", rel, cut, err)
				}
				continue
			}
			opened++
			useTarget(tg)
			tg.Close()
		}
		t.Logf("%s: %d of %d cuts opened", rel, opened, (len(whole)+step-1)/step)
	}
}

// useTarget touches every part of a Target, as commands would.
func useTarget(tg *Target) {
	p := make([]byte, 32)
	for _, th := range tg.Threads {
		if th.Context != nil {
			tg.Memory.ReadAt(p, th.Context.SP())
			th.Context.RegisterNames()
		}
		tg.Memory.ReadAt(p, th.StackStart)
		tg.Memory.ReadAt(p, th.TEB)
	}
	for _, m := range tg.Modules {
		tg.Memory.ReadAt(p, m.Base)
	}
	if x := tg.Exception; x != nil {
		tg.Memory.ReadAt(p, x.Address)
	}
	tg.ModuleAt(0x7c801234)
}

// FuzzNewTarget runs the whole adapter (contexts, names, notes) on mutated dumps.
func FuzzNewTarget(f *testing.F) {
	dir := corpus.Find()
	for _, rel := range []string{"breakpad/minidump2.dmp", "lldb/fizzbuzz_no_heap.dmp", "kdlibcpp/targetapp_stacktest_x64_release_v1/targetapp_stacktest_x64_release.dmp"} {
		if b, err := os.ReadFile(filepath.Join(dir, rel)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("MDMP\x93\xa7\x00\x00\x00\x00\x00\x00\x20\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tg, err := NewTarget(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		useTarget(tg)
		tg.Close()
	})
}

// BenchmarkEngineOpenWOW64Full measures engine.Open (everything a session shows first: threads
// with decoded contexts, modules, the exception) on the 11 MB WOW64 full-memory dump.
func BenchmarkEngineOpenWOW64Full(b *testing.B) {
	path := userdumpFixture(b, "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp")
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		tg, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		tg.Close()
	}
	b.ReportMetric(float64(fi.Size()), "file-bytes")
}

// TestContextArch: the dump's architecture decides a CONTEXT's layout unless the record's own
// ContextFlags CPU bit (FORMATS.md §4.4) names another layout that the record is big enough for.
func TestContextArch(t *testing.T) {
	withFlags := func(size, at int, flags uint32) []byte {
		b := make([]byte, size)
		binary.LittleEndian.PutUint32(b[at:], flags)
		return b
	}
	amd64 := withFlags(0x4d0, 0x30, 0x0010001f)
	x86 := withFlags(0x2cc, 0, 0x0001003f)
	arm64 := withFlags(0x390, 0, 0x00400007)
	for _, c := range []struct {
		sys  Arch
		raw  []byte
		want Arch
	}{
		{cpu.ArchAMD64, amd64, cpu.ArchAMD64},
		{cpu.ArchX86, amd64, cpu.ArchAMD64},     // a 64-bit CONTEXT in a dump that says x86
		{cpu.ArchAMD64, x86, cpu.ArchX86},       // a 32-bit writer's WOW64 dump
		{cpu.ArchUnknown, arm64, cpu.ArchARM64}, // no SystemInfo
		{cpu.ArchX86, make([]byte, 0x2cc), cpu.ArchX86},
		{cpu.ArchAMD64, withFlags(0x4d0, 0x30, 0x8010001f), cpu.ArchAMD64}, // exception-state bits above the CPU bits
		{cpu.ArchUnknown, x86[:0x40], cpu.ArchUnknown},                     // too short for any layout
	} {
		if got := contextArch(c.sys, c.raw); got != c.want {
			t.Errorf("contextArch(%v, %d bytes) = %v, want %v", c.sys, len(c.raw), got, c.want)
		}
	}
}

// TestTruncatedFullMemoryDump cuts the WOW64 full-memory dump in half: the metadata at the
// start still opens, the ranges whose bytes were lost are noted, and the rest stays readable.
func TestTruncatedFullMemoryDump(t *testing.T) {
	whole, err := os.ReadFile(userdumpFixture(t, "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	half := whole[:len(whole)/2]
	tg, err := NewTarget(bytes.NewReader(half), int64(len(half)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tg.Notes) != 1 || !regexp.MustCompile(`^minidump: Memory64ListStream range \d+ \(0x[0-9a-f]+, \d+ bytes\) at file offset 0x[0-9a-f]+: truncated to the \d+ bytes the file holds \(and \d+ more ranges cut short or dropped\)$`).MatchString(tg.Notes[0]) {
		t.Errorf("notes %q", tg.Notes)
	}
	if v, err := ReadU16(tg.Memory, 0x850000); err != nil || v != 0x5a4d {
		t.Errorf("ReadU16(0x850000) = %#x, %v", v, err)
	}
	var re *ReadError
	if _, err := ReadU64(tg.Memory, 0x7ffc8d858ff8); !errors.As(err, &re) { // in the lost second half
		t.Errorf("ReadU64 in the lost half: %v", err)
	}
	if len(tg.Threads) != 4 || len(tg.Modules) != 11 {
		t.Errorf("%d threads, %d modules", len(tg.Threads), len(tg.Modules))
	}
}
