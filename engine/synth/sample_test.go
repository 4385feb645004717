package synth_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/engine/synth"
)

// TestSampleUpToDate regenerates testdata/sample.dmp in memory and fails when the committed file
// is stale.
func TestSampleUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "sample.dmp")
	committed, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go generate ./engine/synth)", err)
	}
	fresh := synth.Sample().Bytes()
	if !bytes.Equal(committed, fresh) {
		t.Fatalf("testdata/sample.dmp is stale (%d bytes committed, %d generated); run: go generate ./engine/synth",
			len(committed), len(fresh))
	}
	if len(fresh) >= 64<<10 {
		t.Errorf("sample is %d bytes; keep it under 64 KB", len(fresh))
	}
}

// TestSampleMinidumpDump checks the sample's story with breakpad's parser: process id, threads,
// modules, the access violation.
func TestSampleMinidumpDump(t *testing.T) {
	blocks := minidumpDump(t, synth.Sample().Bytes())
	threads := named(blocks, "MDRawThread")
	if len(threads) != 2 {
		t.Fatalf("%d threads", len(threads))
	}
	expectFields(t, "main thread", threads[0], map[string]string{"thread_id": hex64(synth.SampleMainTID), "teb": hex64(synth.SampleTEB0)})
	expectFields(t, "crash thread", threads[1], map[string]string{"thread_id": hex64(synth.SampleCrashTID), "teb": hex64(synth.SampleTEB1)})
	mods := named(blocks, "MDRawModule")
	var files []string
	for _, m := range mods {
		files = append(files, m.fields["(code_file)"])
	}
	if len(mods) != 5 || !strings.Contains(strings.Join(files, ","), `ContosoLW9K.dll`) {
		t.Errorf("modules: %v", files)
	}
	exc := named(blocks, "MDException")
	if len(exc) != 1 {
		t.Fatal("no exception")
	}
	expectFields(t, "exception", exc[0], map[string]string{
		"thread_id": hex64(synth.SampleCrashTID), "exception_record.exception_code": "0xc0000005",
		"exception_record.exception_address":         hex64(synth.SampleCrashIP),
		"exception_record.exception_information[ 0]": "0x0", "exception_record.exception_information[ 1]": "0x18",
	})
	ctxs := named(blocks, "MDRawContextAMD64")
	if len(ctxs) != 3 {
		t.Fatalf("%d contexts, want 2 threads + exception", len(ctxs))
	}
	expectFields(t, "exception context", ctxs[2], map[string]string{"rip": hex64(synth.SampleCrashIP), "rax": "0x0"})
	misc := named(blocks, "MDRawMiscInfo")
	if len(misc) != 1 {
		t.Fatal("no misc info")
	}
	expectFields(t, "misc", misc[0], map[string]string{"process_id": "3884", "process_create_time": hex64(synth.SampleStartTime)})
}

// TestSampleProcessStructures walks the sample's PEB, loader list and process parameters and
// both TEBs with the x64 offsets of FORMATS.md §5 (build 19041 columns), restated here.
func TestSampleProcessStructures(t *testing.T) {
	d := readDump(t, synth.Sample().Bytes())
	const peb = synth.SamplePEB
	if got := d.readU64(peb + 0x10); got != synth.SampleImageBase { // _PEB.ImageBaseAddress
		t.Errorf("PEB.ImageBaseAddress %#x", got)
	}
	ldr := d.readU64(peb + 0x18)    // _PEB.Ldr
	params := d.readU64(peb + 0x20) // _PEB.ProcessParameters
	if d.readU64(peb+0x30) != synth.SampleHeap {
		t.Error("PEB.ProcessHeap")
	}
	if d.readU16(peb+0x120) != 19045 { // _PEB.OSBuildNumber
		t.Error("PEB.OSBuildNumber")
	}
	if d.read(ldr+0x4, 1)[0] != 1 { // _PEB_LDR_DATA.Initialized
		t.Error("Ldr.Initialized")
	}
	wantNames := []string{"spoolsv.exe", "ntdll.dll", "KERNEL32.DLL", "KERNELBASE.dll", "ContosoLW9K.dll"}
	// InLoadOrderModuleList @0x10, links at entry+0; InMemoryOrder @0x20, links at entry+0x10;
	// InInitializationOrder @0x30, links at entry+0x20 (without the image).
	for _, list := range []struct {
		head, link uint64
		names      []string
	}{{0x10, 0x00, wantNames}, {0x20, 0x10, wantNames}, {0x30, 0x20, wantNames[1:]}} {
		head := ldr + list.head
		var got []string
		prev := head
		for link, n := d.readU64(head), 0; link != head; link, n = d.readU64(link), n+1 {
			if n > 10 {
				t.Fatal("loader list does not come back to its head")
			}
			if d.readU64(link+8) != prev {
				t.Errorf("Blink of %#x is %#x, want %#x", link, d.readU64(link+8), prev)
			}
			prev = link
			entry := link - list.link
			got = append(got, d.unicodeString(entry+0x58, 8)) // BaseDllName
			full := d.unicodeString(entry+0x48, 8)            // FullDllName
			if !strings.HasSuffix(full, got[len(got)-1]) {
				t.Errorf("FullDllName %q does not end in BaseDllName %q", full, got[len(got)-1])
			}
			if len(got) == 1 && list.head == 0x10 {
				if d.readU64(entry+0x30) != synth.SampleImageBase || d.readU32(entry+0x40) != 0x101000 ||
					d.readU32(entry+0x80) != 0x5F3A91C4 { // DllBase, SizeOfImage, TimeDateStamp
					t.Error("first loader entry: base/size/timestamp wrong")
				}
			}
		}
		if d.readU64(head+8) != prev {
			t.Errorf("list head Blink %#x, want the last entry %#x", d.readU64(head+8), prev)
		}
		if strings.Join(got, ",") != strings.Join(list.names, ",") {
			t.Errorf("list @%#x: %v, want %v", list.head, got, list.names)
		}
	}
	// _RTL_USER_PROCESS_PARAMETERS: CurrentDirectory 0x38, DllPath 0x50, ImagePathName 0x60,
	// CommandLine 0x70, Environment 0x80, WindowTitle 0xb0, DesktopInfo 0xc0, EnvironmentSize 0x3f0.
	for off, want := range map[uint64]string{
		0x38: `C:\Windows\system32\`,
		0x50: `C:\Windows\System32;C:\Windows\system;C:\Windows`,
		0x60: `C:\Windows\System32\spoolsv.exe`,
		0x70: `C:\Windows\System32\spoolsv.exe`,
		0xb0: `C:\Windows\System32\spoolsv.exe`,
		0xc0: `Service-0x0-3e7$\Default`,
	} {
		if got := d.unicodeString(params+off, 8); got != want {
			t.Errorf("params+%#x = %q, want %q", off, got, want)
		}
	}
	env := d.read(d.readU64(params+0x80), int(d.readU64(params+0x3f0)))
	vars := strings.Split(strings.TrimRight(decodeUTF16(env), "\x00"), "\x00")
	if len(vars) != 10 || vars[0] != `ALLUSERSPROFILE=C:\ProgramData` || vars[9] != `windir=C:\Windows` {
		t.Errorf("environment %q", vars)
	}
	// _TEB: StackBase 0x8, StackLimit 0x10, Self 0x30, ClientId 0x40, PEB 0x60,
	// LastErrorValue 0x68, LastStatusValue 0x1250.
	for _, tc := range []struct{ teb, tid uint64 }{{synth.SampleTEB0, synth.SampleMainTID}, {synth.SampleTEB1, synth.SampleCrashTID}} {
		if d.readU64(tc.teb+0x30) != tc.teb || d.readU64(tc.teb+0x60) != peb ||
			d.readU64(tc.teb+0x40) != synth.SamplePID || d.readU64(tc.teb+0x48) != tc.tid {
			t.Errorf("TEB %#x: Self/PEB/ClientId wrong", tc.teb)
		}
		if base, limit := d.readU64(tc.teb+0x8), d.readU64(tc.teb+0x10); base-limit != 0x4000 {
			t.Errorf("TEB %#x: stack %#x..%#x", tc.teb, limit, base)
		}
	}
	if d.readU32(synth.SampleTEB1+0x68) != 0x7A || d.readU32(synth.SampleTEB1+0x1250) != 0xC0000023 {
		t.Error("crash TEB LastErrorValue/LastStatusValue")
	}
	// Both stacks hold the printer name as UTF-16.
	name := synth.UTF16Z(synth.SamplePrinterName)
	for _, r := range d.memory()[:2] {
		if !bytes.Contains(d.bytes(int(r.off), int(r.size)), name) {
			t.Errorf("stack at %#x lacks the printer name", r.addr)
		}
	}
	// The faulting instruction: mov edx,dword ptr [rax+18h] = 8B 50 18 (checked with cstool).
	if got := d.read(synth.SampleCrashIP, 3); !bytes.Equal(got, []byte{0x8B, 0x50, 0x18}) {
		t.Errorf("code at the crash IP: % x", got)
	}
}

// TestProcessX86 lays the same kind of process out for x86 and walks it with the x86 offsets of
// FORMATS.md §5 (PEB.Ldr 0xc, ProcessParameters 0x10; PEB_LDR_DATA.InLoadOrderModuleList 0xc;
// LDR_DATA_TABLE_ENTRY DllBase 0x18, BaseDllName 0x2c; parameters ImagePathName 0x38,
// CommandLine 0x40; TEB Self 0x18, PEB 0x30), and checks a looped loader list.
func TestProcessX86(t *testing.T) {
	p := synth.Process{PEB: 0x7FFDF000, Heap: 0x00150000, ImageBase: 0x400000,
		Modules: []synth.LoadedModule{{Base: 0x400000, Size: 0x9000, FullName: `C:\test_app.exe`},
			{Base: 0x7C900000, Size: 0xAF000, FullName: `C:\WINDOWS\system32\ntdll.dll`}},
		Params: synth.ProcessParameters{ImagePathName: `C:\test_app.exe`, CommandLine: `test_app.exe /crash`}}
	build := func(p synth.Process) *dump {
		b := synth.NewMinidump(synth.ArchX86)
		for _, blk := range p.Build(synth.ArchX86) {
			b.Memory(blk.Addr, blk.Data)
		}
		b.Memory(0x7FFDE000, synth.TEB{Addr: 0x7FFDE000, PEB: p.PEB, StackBase: 0x130000, StackLimit: 0x12C000}.Bytes(synth.ArchX86))
		return readDump(t, b.Bytes())
	}
	d := build(p)
	if len(d.memory()[0:1]) != 1 || d.memory()[0].size != 0x480 || d.memory()[2].size != 0x1000 {
		t.Errorf("x86 PEB/TEB sizes %#x/%#x, want 0x480/0x1000", d.memory()[0].size, d.memory()[2].size)
	}
	ldr := uint64(d.readU32(p.PEB + 0xc))
	params := uint64(d.readU32(p.PEB + 0x10))
	head := ldr + 0xc
	first := uint64(d.readU32(head))
	second := uint64(d.readU32(first))
	if d.readU32(first+0x18) != 0x400000 || d.unicodeString(second+0x2c, 4) != "ntdll.dll" || uint64(d.readU32(second)) != head {
		t.Error("x86 loader list wrong")
	}
	if d.unicodeString(params+0x38, 4) != `C:\test_app.exe` || d.unicodeString(params+0x40, 4) != `test_app.exe /crash` {
		t.Error("x86 process parameters wrong")
	}
	if d.readU32(0x7FFDE000+0x18) != 0x7FFDE000 || uint64(d.readU32(0x7FFDE000+0x30)) != p.PEB || d.readU32(0x7FFDE000+4) != 0x130000 {
		t.Error("x86 TEB wrong")
	}

	p.LoopLoaderList = true
	d = build(p)
	ldr = uint64(d.readU32(p.PEB + 0xc))
	first = uint64(d.readU32(ldr + 0xc))
	second = uint64(d.readU32(first))
	if uint64(d.readU32(second)) != first {
		t.Error("LoopLoaderList: the last entry does not point back at the first")
	}
}
