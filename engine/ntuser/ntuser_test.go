package ntuser

import (
	"errors"
	"reflect"
	"testing"

	"wdbg/engine"
)

func TestReadTEB(t *testing.T) {
	for _, ptr := range []int{4, 8} {
		p := buildProcess(ptr)
		teb, err := ReadTEB(p.img, p.teb, ptr)
		if err != nil {
			t.Fatalf("ptr %d: %v", ptr, err)
		}
		want := map[string]Value{
			"ExceptionList":   valid(0x12fc18),
			"StackBase":       valid(p.stackBase),
			"StackLimit":      valid(p.stackLimit),
			"Self":            valid(p.teb),
			"UniqueProcess":   valid(p.pid),
			"UniqueThread":    valid(p.tid),
			"TLS":             valid(p.tls),
			"PEB":             valid(p.peb),
			"LastErrorValue":  valid(183),
			"LastStatusValue": valid(0xc0000034),
			"FiberData":       valid(0),
		}
		got := map[string]Value{
			"ExceptionList":   teb.ExceptionList,
			"StackBase":       teb.StackBase,
			"StackLimit":      teb.StackLimit,
			"Self":            teb.Self,
			"UniqueProcess":   teb.UniqueProcess,
			"UniqueThread":    teb.UniqueThread,
			"TLS":             teb.ThreadLocalStoragePointer,
			"PEB":             teb.ProcessEnvironmentBlock,
			"LastErrorValue":  teb.LastErrorValue,
			"LastStatusValue": teb.LastStatusValue,
			"FiberData":       teb.FiberData,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ptr %d:\n got %v\nwant %v", ptr, got, want)
		}
		if a, err := PEBAddress(p.img, p.teb, ptr); err != nil || a != p.peb {
			t.Errorf("ptr %d: PEBAddress = %#x, %v; want %#x", ptr, a, err, p.peb)
		}
	}
}

func TestReadTEBNotInDump(t *testing.T) {
	img := newImage(8)
	_, err := ReadTEB(img, 0x7ffde000, 8)
	if !IsNotInDump(err) {
		t.Fatalf("err = %v, want NotInDumpError", err)
	}
	// A TEB whose second page (LastStatusValue at 0x1250) is missing still reads its first page.
	p := buildProcess(8)
	p.img.drop(p.teb + 0x1000)
	teb, err := ReadTEB(p.img, p.teb, 8)
	if err != nil {
		t.Fatal(err)
	}
	if teb.LastStatusValue.Valid || !teb.LastErrorValue.Valid {
		t.Errorf("LastStatusValue %v LastErrorValue %v: want the first unreadable, the second read", teb.LastStatusValue, teb.LastErrorValue)
	}
}

func TestReadPEB(t *testing.T) {
	for _, ptr := range []int{4, 8} {
		p := buildProcess(ptr)
		peb, err := ReadPEB(p.img, p.peb, ptr, 19041)
		if err != nil {
			t.Fatalf("ptr %d: %v", ptr, err)
		}
		if peb.BeingDebugged != valid(1) || peb.ImageBaseAddress != valid(testModules[0].base) ||
			peb.Ldr != valid(p.ldr) || peb.ProcessParameters != valid(p.params) || peb.NtGlobalFlag != valid(0x70) ||
			peb.ProcessHeap != valid(0x520000) || peb.InheritedAddressSpace != valid(0) {
			t.Errorf("ptr %d: PEB fields %+v", ptr, peb)
		}
		if peb.NtGlobalFlag2 != valid(0) { // in the image's zero-filled page for build 19041
			t.Errorf("ptr %d: NtGlobalFlag2 = %v", ptr, peb.NtGlobalFlag2)
		}
		if peb.Loader == nil {
			t.Fatalf("ptr %d: loader: %v", ptr, peb.LoaderError)
		}
		l := peb.Loader
		if l.Initialized != valid(1) || l.InLoadOrder.Flink != valid(p.entries[0]) ||
			l.InLoadOrder.Blink != valid(p.entries[2]) || l.InMemoryOrder.Flink != valid(p.entries[0]+0x10) ||
			l.InInitializationOrder.Flink != valid(p.entries[1]+0x20) {
			t.Errorf("ptr %d: loader heads %+v", ptr, l)
		}
		if l.Stop != nil {
			t.Errorf("ptr %d: walk stopped: %v", ptr, l.Stop)
		}
		if len(l.Modules) != len(testModules) {
			t.Fatalf("ptr %d: %d modules, want %d", ptr, len(l.Modules), len(testModules))
		}
		for i, want := range testModules {
			got := l.Modules[i]
			if got.Address != p.entries[i] || got.DllBase != valid(want.base) || got.SizeOfImage != valid(uint64(want.size)) ||
				got.TimeDateStamp != valid(uint64(want.time)) || got.FullDllName.Text != want.path ||
				!got.FullDllName.Readable || got.BaseDllName.Text != baseName(want.path) {
				t.Errorf("ptr %d: module %d = %+v, want %+v", ptr, i, got, want)
			}
		}
		pp := peb.Parameters
		if pp == nil {
			t.Fatalf("ptr %d: parameters: %v", ptr, peb.ParametersError)
		}
		strs := map[string]UnicodeString{"cur": pp.CurrentDirectory, "image": pp.ImagePathName, "cmd": pp.CommandLine,
			"title": pp.WindowTitle, "desktop": pp.DesktopInfo}
		wantStrs := map[string]string{"cur": `C:\app\`, "image": `C:\app\app.exe`, "cmd": `"C:\app\app.exe" --flag`,
			"title": `C:\app\app.exe`, "desktop": `Winsta0\Default`}
		for k, w := range wantStrs {
			if s := strs[k]; !s.Readable || s.Text != w {
				t.Errorf("ptr %d: %s = %+v, want %q", ptr, k, s, w)
			}
		}
		if pp.DllPath.Readable {
			t.Errorf("ptr %d: DllPath with a NULL buffer should be unreadable: %+v", ptr, pp.DllPath)
		}
		if pp.Environment != valid(p.envAddr) || pp.EnvironmentSize != valid(p.envSize) {
			t.Errorf("ptr %d: environment %v size %v", ptr, pp.Environment, pp.EnvironmentSize)
		}
		if pp.EnvironmentError != nil || !reflect.DeepEqual(pp.Variables, testEnv) {
			t.Errorf("ptr %d: variables %q (%v), want %q", ptr, pp.Variables, pp.EnvironmentError, testEnv)
		}
	}
}

func TestNtGlobalFlag2ByBuild(t *testing.T) {
	p := buildProcess(8)
	p.img.u32(p.peb+0x7c4, 0x1234) // NtGlobalFlag2, 17763 and later
	for build, want := range map[uint32]Value{17134: {}, 17763: valid(0x1234), 0: valid(0x1234)} {
		peb, err := ReadPEB(p.img, p.peb, 8, build)
		if err != nil {
			t.Fatal(err)
		}
		if peb.NtGlobalFlag2 != want {
			t.Errorf("build %d: NtGlobalFlag2 = %v, want %v", build, peb.NtGlobalFlag2, want)
		}
	}
}

func TestPEBPartial(t *testing.T) {
	p := buildProcess(8)
	p.img.drop(p.ldr)
	p.img.drop(p.params)
	peb, err := ReadPEB(p.img, p.peb, 8, 0)
	if err != nil {
		t.Fatal(err)
	}
	if peb.Loader != nil || !IsNotInDump(peb.LoaderError) {
		t.Errorf("loader %v, error %v: want NotInDumpError", peb.Loader, peb.LoaderError)
	}
	if peb.Parameters != nil || !IsNotInDump(peb.ParametersError) {
		t.Errorf("parameters %v, error %v: want NotInDumpError", peb.Parameters, peb.ParametersError)
	}
	if _, err := ReadPEB(newImage(8), 0x1000, 8, 0); !IsNotInDump(err) {
		t.Errorf("empty image: err %v, want NotInDumpError", err)
	}
	if _, err := ReadPEB(p.img, p.peb, 6, 0); err == nil {
		t.Error("pointer size 6 accepted")
	}
}

func TestLoaderWalkStops(t *testing.T) {
	p := buildProcess(8)
	// Entry 2 links back to entry 1: a cycle that never reaches the head.
	p.img.u64(p.entries[2], p.entries[1])
	d, err := ReadLoaderData(p.img, p.ldr, 8)
	if err != nil {
		t.Fatal(err)
	}
	if d.Stop == nil || d.Stop.Reason != "cycle" || d.Stop.Addr != p.entries[1] || len(d.Modules) != 3 {
		t.Errorf("cycle: stop %+v after %d modules", d.Stop, len(d.Modules))
	}

	// Entry 1 is not in the dump: the walk ends after entry 0.
	p = buildProcess(8)
	p.img.drop(p.entries[1])
	p.img.ptrAt(p.entries[0], 0x990000) // and point entry 0 at a page that is missing
	d, _ = ReadLoaderData(p.img, p.ldr, 8)
	if d.Stop == nil || d.Stop.Reason != "unreadable" || d.Stop.Addr != 0x990000 || len(d.Modules) != 1 {
		t.Errorf("unreadable: stop %+v after %d modules", d.Stop, len(d.Modules))
	}

	// A self-consistent list longer than the limit.
	img := newImage(4)
	const ldr, first = 0x10000, 0x20000
	img.u32(ldr+0xc, first)
	for i := uint64(0); i < MaxLoaderEntries+10; i++ {
		img.u32(first+i*0x10, uint32(first+(i+1)*0x10))
	}
	d, _ = ReadLoaderData(img, ldr, 4)
	if d.Stop == nil || d.Stop.Reason != "limit" || len(d.Modules) != MaxLoaderEntries {
		t.Errorf("limit: stop %+v after %d modules", d.Stop, len(d.Modules))
	}
	if d.Stop.Error() == "" {
		t.Error("empty stop text")
	}
}

func TestEnvironmentPartial(t *testing.T) {
	img := newImage(8)
	// A block that runs across a page boundary into a missing page.
	start := uint64(0x30ff0)
	img.env(start, "A=1", "LONGVARIABLE=xxxxxxxxxxxx")
	img.drop(0x31000)
	vars, err := ReadEnvironment(img, start, MaxEnvironmentBytes)
	var envErr *EnvironmentError
	if !errors.As(err, &envErr) || envErr.Addr != 0x31000 {
		t.Errorf("err = %v, want an EnvironmentError at 0x31000", err)
	}
	if !reflect.DeepEqual(vars, []string{"A=1"}) {
		t.Errorf("vars = %q", vars)
	}
	// No terminator within the limit.
	img = newImage(8)
	img.put(0x40000, utf16Bytes("ABCDEFGH"))
	vars, err = ReadEnvironment(img, 0x40000, 8)
	if err == nil || len(vars) != 0 {
		t.Errorf("unterminated: vars %q err %v", vars, err)
	}
	// An empty block.
	img.u32(0x50000, 0)
	if vars, err := ReadEnvironment(img, 0x50000, 0x100); err != nil || len(vars) != 0 {
		t.Errorf("empty block: vars %q err %v", vars, err)
	}
}

func TestUnnormalizedParameters(t *testing.T) {
	// Before RtlNormalizeProcessParams the buffers are offsets from the parameter block.
	img := newImage(8)
	const params = 0x60000
	img.u32(params+0x8, 0) // Flags: not normalised
	img.ustr(params+0x70, 0x400, "cmd.exe /c")
	img.put(params+0x400, utf16Bytes("cmd.exe /c"))
	pp, err := ReadProcessParameters(img, params, 8, 19041)
	if err != nil {
		t.Fatal(err)
	}
	if !pp.CommandLine.Readable || pp.CommandLine.Text != "cmd.exe /c" || pp.CommandLine.Buffer != params+0x400 {
		t.Errorf("CommandLine = %+v", pp.CommandLine)
	}
}

func TestUnicodeStringEdges(t *testing.T) {
	img := newImage(4)
	img.ustr(0x1000, 0x2000, "abc")
	img.u16(0x1000, 5) // odd length: the half unit is dropped
	s := ReadUnicodeString(img, 0x1000, 4)
	if !s.Readable || s.Text != "ab" {
		t.Errorf("odd length: %+v", s)
	}
	img.ustr(0x1100, 0x9000, "")
	img.u16(0x1100, 0x100) // buffer page missing
	img.drop(0x9000)
	if s := ReadUnicodeString(img, 0x1100, 4); s.Readable {
		t.Errorf("missing buffer read as %+v", s)
	}
	img.put(0x2100, utf16Bytes("\U0001F600"[:0])) // nothing
	img.put(0x2200, []byte{0x3d, 0xd8})           // lone high surrogate
	img.u16(0x1200, 2)
	img.u32(0x1204, 0x2200)
	if s := ReadUnicodeString(img, 0x1200, 4); !s.Readable || s.Text != "\uFFFD" {
		t.Errorf("lone surrogate: %+v", s)
	}
	if s := ReadUnicodeString(img, 0xdead0000, 8); s.Readable {
		t.Errorf("missing header read as %+v", s)
	}
}

var _ engine.Memory = (*pageImage)(nil)
