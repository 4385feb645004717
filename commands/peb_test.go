package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/synth"
)

// The synthetic dumps here come from engine/synth, the project's minidump writer, which lays the
// PEB and TEB out from FORMATS.md §5 with its own code; the expected text is written by hand from
// the values given to the writer and the layouts of WINDBG-SPEC §3.5.

// openSynth opens a synthetic dump in memory and starts a session on it.
func openSynth(t *testing.T, b *synth.Minidump) *Session {
	t.Helper()
	data := b.Bytes()
	tgt, err := engine.NewTarget(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open synthetic dump: %v", err)
	}
	t.Cleanup(func() { tgt.Close() })
	return NewSession(tgt)
}

// runPebCmd runs one command and returns its text or its error's text.
func runPebCmd(t *testing.T, s *Session, line string) (string, error) {
	t.Helper()
	res, err := s.Exec(context.Background(), line)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := res.WriteText(&b); err != nil {
		t.Fatalf("%s: render: %v", line, err)
	}
	return b.String(), nil
}

// effmach runs .effmach through its table entry (table.go registers effmachCommands).
func effmach(t *testing.T, s *Session, arg string) (string, error) {
	t.Helper()
	res, err := effmachCommands[0].Run(context.Background(), s, arg)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	res.WriteText(&b)
	return b.String(), nil
}

// x86Process is a 32-bit process: its PEB at 0x7ffdf000, heap at 0x500000, one thread whose TEB is
// at 0x7ffde000.
func x86Process(loop bool) *synth.Minidump {
	b := synth.NewMinidump(synth.ArchX86)
	b.SystemInfo(synth.Windows10(synth.ArchX86))
	p := synth.Process{
		PEB: 0x7ffdf000, Heap: 0x500000, ImageBase: 0x400000, BeingDebugged: true, NtGlobalFlag: 0x70,
		Modules: []synth.LoadedModule{
			{Base: 0x400000, Size: 0x9000, EntryPoint: 0x401000, FullName: `C:\app\app.exe`, TimeDateStamp: 0x5bb4b412},
			{Base: 0x77cf0000, Size: 0x190000, FullName: `C:\Windows\SYSTEM32\ntdll.dll`, TimeDateStamp: 0xbf2f8c99},
		},
		Params: synth.ProcessParameters{
			CurrentDirectory: `C:\app\`, ImagePathName: `C:\app\app.exe`, CommandLine: `app.exe /x`,
			WindowTitle: "app", Environment: []string{"A=1", `PATH=C:\Windows`},
		},
		LoopLoaderList: loop,
	}
	for _, blk := range p.Build(synth.ArchX86) {
		b.Memory(blk.Addr, blk.Data)
	}
	teb := synth.TEB{Addr: 0x7ffde000, ExceptionList: 0x12fc18, StackBase: 0x130000, StackLimit: 0x12c000,
		PEB: 0x7ffdf000, ProcessID: 0xd1c, ThreadID: 0xd20, TLS: 0x7ffde02c, LastError: 2, LastStatus: 0xc0000034}
	b.Memory(teb.Addr, teb.Bytes(synth.ArchX86))
	b.Thread(0xd20, teb.Addr, 0x12ff00, make([]byte, 0x100), synth.ContextX86{Eip: 0x401010, Esp: 0x12ff00})
	b.Module(0x400000, 0x9000, `C:\app\app.exe`, 0x5bb4b412, 0, synth.CodeView{})
	b.Module(0x77cf0000, 0x190000, `C:\Windows\SYSTEM32\ntdll.dll`, 0xbf2f8c99, 0, synth.CodeView{})
	return b
}

func TestTebX86Synthetic(t *testing.T) {
	s := openSynth(t, x86Process(false))
	got, err := runPebCmd(t, s, "!teb")
	if err != nil {
		t.Fatal(err)
	}
	// WINDBG-SPEC §3.5 layout, values from x86Process.
	want := `TEB at 7ffde000
    ExceptionList:        0012fc18
    StackBase:            00130000
    StackLimit:           0012c000
    SubSystemTib:         00000000
    FiberData:            00000000
    ArbitraryUserPointer: 00000000
    Self:                 7ffde000
    EnvironmentPointer:   00000000
    ClientId:             00000d1c . 00000d20
    RpcHandle:            00000000
    Tls Storage:          7ffde02c
    PEB Address:          7ffdf000
    LastErrorValue:       2
    LastStatusValue:      c0000034
    Count Owned Locks:    0
    HardErrorMode:        0
`
	if got != want {
		t.Errorf("!teb:\n%s\nwant:\n%s", got, want)
	}
	// The same TEB by address, as a MASM expression.
	if got2, err := runPebCmd(t, s, "!teb 7ffde000"); err != nil || got2 != want {
		t.Errorf("!teb 7ffde000: %v\n%s", err, got2)
	}
	if _, err := runPebCmd(t, s, "!teb nosuchsymbol"); err == nil {
		t.Error("!teb with a bad expression did not fail")
	}
}

func TestPebX86Synthetic(t *testing.T) {
	s := openSynth(t, x86Process(false))
	got, err := runPebCmd(t, s, "!peb")
	if err != nil {
		t.Fatal(err)
	}
	// The three list heads and Ldr depend on where the writer packs the loader data in the heap;
	// they are checked below against the memory they point to.
	listLine := regexp.MustCompile(`(?m)^    (Ldr {23}|Ldr\.In\w+ModuleList: +)[0-9a-f]{8}( \. [0-9a-f]{8})?$`)
	masked := listLine.ReplaceAllString(got, "    ${1}<addr>")
	want := `PEB at 7ffdf000
    InheritedAddressSpace:    No
    ReadImageFileExecOptions: No
    BeingDebugged:            Yes
    ImageBaseAddress:         00400000
    NtGlobalFlag:             70
    NtGlobalFlag2:            0
    Ldr                       <addr>
    Ldr.Initialized:          Yes
    Ldr.InInitializationOrderModuleList: <addr>
    Ldr.InLoadOrderModuleList:           <addr>
    Ldr.InMemoryOrderModuleList:         <addr>
            Base TimeStamp                     Module
          400000 5bb4b412 Oct 03 12:20:34 2018 C:\app\app.exe
        77cf0000 bf2f8c99 Aug 23 14:07:21 2071 C:\Windows\SYSTEM32\ntdll.dll
    SubSystemData:     00000000
    ProcessHeap:       00500000
    ProcessParameters: ` // address of the parameter block: checked below
	if !strings.HasPrefix(masked, want) {
		t.Errorf("!peb:\n%s\nwant prefix:\n%s", masked, want)
	}
	// Timestamps: 0x5bb4b412 is 2018-10-03 12:20:34 UTC and 0xbf2f8c99 2071-08-23 14:07:21 UTC
	// (breakpad minidump_dump prints the same dates for these stamps in the WOW64 fixture).
	tail := got[strings.Index(got, "    ProcessParameters: "):]
	wantTail := `    CurrentDirectory:  'C:\app\'
    WindowTitle:  'app'
    ImageFile:    'C:\app\app.exe'
    CommandLine:  'app.exe /x'
    DllPath:      ''
    Environment:  `
	if i := strings.Index(tail, "\n"); i < 0 || !strings.HasPrefix(tail[i+1:], wantTail) {
		t.Errorf("parameters:\n%s\nwant:\n%s", tail, wantTail)
	}
	if !strings.HasSuffix(got, "\n        A=1\n        PATH=C:\\Windows\n") {
		t.Errorf("environment lines:\n%s", got)
	}

	// The list heads point at the entries: InLoadOrder.Flink at the first entry, whose DllBase
	// (x86 LDR_DATA_TABLE_ENTRY +0x18, FORMATS.md §5) is the image base.
	m := regexp.MustCompile(`Ldr.InLoadOrderModuleList:\s+([0-9a-f]{8}) \. ([0-9a-f]{8})`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no load-order line in\n%s", got)
	}
	first, _ := s.Eval(m[1])
	base, err := engine.ReadU32(s.Target.Memory, first+0x18)
	if err != nil || base != 0x400000 {
		t.Errorf("InLoadOrder.Flink %#x: DllBase %#x, %v", first, base, err)
	}
}

func TestPebLoopedLoaderList(t *testing.T) {
	// The writer's LoopLoaderList links the last entry back to the first instead of the head: the
	// walk must stop with a message and not print entries twice.
	s := openSynth(t, x86Process(true))
	got, err := runPebCmd(t, s, "!peb")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(got, `C:\app\app.exe`) != 2 || // one module row and ImageFile (WindowTitle is "app")
		strings.Count(got, "ntdll.dll") != 1 || !regexp.MustCompile(`(?m)^    \*\*\* Ldr list loops back to [0-9a-f]{8}$`).MatchString(got) {
		t.Errorf("looped list:\n%s", got)
	}
}

func TestPebJSON(t *testing.T) {
	s := openSynth(t, x86Process(false))
	res, err := s.Exec(context.Background(), "!peb")
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Blocks []struct {
			Title         string  `json:"title"`
			Address       string  `json:"address"`
			BeingDebugged *bool   `json:"being_debugged"`
			ImageBase     *string `json:"image_base_address"`
			Loader        struct {
				Modules []struct {
					Base      string  `json:"base"`
					Timestamp uint32  `json:"timestamp"`
					Path      *string `json:"path"`
				} `json:"modules"`
			} `json:"loader"`
			Parameters struct {
				CommandLine *string  `json:"command_line"`
				DllPath     *string  `json:"dll_path"`
				ShellInfo   *string  `json:"shell_info"`
				Variables   []string `json:"environment_variables"`
			} `json:"parameters"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if len(doc.Blocks) != 1 {
		t.Fatalf("blocks: %s", data)
	}
	b := doc.Blocks[0]
	if b.Title != "PEB" || b.Address != "0x7ffdf000" || b.BeingDebugged == nil || !*b.BeingDebugged ||
		b.ImageBase == nil || *b.ImageBase != "0x400000" || len(b.Loader.Modules) != 2 ||
		b.Loader.Modules[1].Base != "0x77cf0000" || b.Loader.Modules[1].Timestamp != 0xbf2f8c99 ||
		b.Parameters.CommandLine == nil || *b.Parameters.CommandLine != "app.exe /x" ||
		b.Parameters.DllPath == nil || *b.Parameters.DllPath != "" || len(b.Parameters.Variables) != 2 {
		t.Errorf("JSON: %s", data)
	}

	res, err = s.Exec(context.Background(), "!teb")
	if err != nil {
		t.Fatal(err)
	}
	data, _ = json.Marshal(res)
	if !strings.Contains(string(data), `"client_id_thread":"0xd20"`) || !strings.Contains(string(data), `"last_error_value":2`) {
		t.Errorf("!teb JSON: %s", data)
	}
}

func TestPebNotInDump(t *testing.T) {
	// A thread whose TEB the dump does not hold: WinDbg's !teb text, and our !peb message.
	b := synth.NewMinidump(synth.ArchAMD64)
	b.SystemInfo(synth.Windows10(synth.ArchAMD64))
	b.Thread(0x10, 0xe934518000, 0x7ff000, make([]byte, 0x10), synth.ContextAMD64{Rip: 0x1000})
	b.Memory(0xe934519000, make([]byte, 0x18)) // a PEB that ends before Ldr (+0x18, FORMATS.md §5)
	s := openSynth(t, b)
	got, err := runPebCmd(t, s, "!teb")
	if err != nil || got != "TEB at 000000e934518000\nerror InitTypeRead( TEB )...\n" {
		t.Errorf("!teb: %v\n%q", err, got)
	}
	if _, err := runPebCmd(t, s, "!peb"); err == nil || !strings.Contains(err.Error(), "TEB (000000e934518000) is not in the dump") {
		t.Errorf("!peb: %v", err)
	}
	got, err = runPebCmd(t, s, "!peb e934520000")
	if err != nil || got != "PEB at 000000e934520000\nerror 1 InitTypeRead( nt!_PEB at 000000e934520000)...\n" {
		t.Errorf("!peb addr: %v\n%q", err, got)
	}
	// Only the first bytes of the PEB: the fields that are there print, the rest show ??.
	got, err = runPebCmd(t, s, "!peb e934519000")
	if err != nil || !strings.Contains(got, "    ImageBaseAddress:         0000000000000000\n    NtGlobalFlag:             ??\n") ||
		!strings.Contains(got, "    Ldr                       ????????????????\n    *** unable to read Ldr table at ????????????????\n") ||
		!strings.Contains(got, "    DllPath:      '< Name not readable >'\n    Environment:  ????????????????\n       Unable to read Environment string.\n") {
		t.Errorf("partial PEB: %v\n%s", err, got)
	}
}

func TestEffmachNative(t *testing.T) {
	s := openSynth(t, x86Process(false))
	if got, err := effmach(t, s, ""); err != nil || got != "Effective machine: x86 compatible (x86)\n" {
		t.Errorf(".effmach on x86: %q %v", got, err)
	}
	if _, err := effmach(t, s, "amd64"); err == nil {
		t.Error(".effmach amd64 accepted on an x86 dump")
	}
	if _, err := effmach(t, s, "mips"); err == nil {
		t.Error(".effmach mips accepted")
	}

	b := synth.NewMinidump(synth.ArchAMD64)
	b.SystemInfo(synth.Windows10(synth.ArchAMD64))
	b.Thread(0x10, 0x1000, 0x7ff000, make([]byte, 0x10), synth.ContextAMD64{Rip: 0x1000, SegCs: 0x33})
	b.Module(0x140000000, 0x1000, `C:\app\app64.exe`, 0, 0, synth.CodeView{})
	s = openSynth(t, b)
	if got, err := effmach(t, s, ""); err != nil || got != "Effective machine: x64 (AMD64)\n" {
		t.Errorf(".effmach on x64: %q %v", got, err)
	}
	if _, err := effmach(t, s, "x86"); err == nil || s.EffMach != 0 {
		t.Errorf(".effmach x86 on a native x64 process: err %v, EffMach %v", err, s.EffMach)
	}
	if got, err := effmach(t, s, "amd64"); err != nil || got != "Effective machine: x64 (AMD64)\n" || s.Prompt() != "0:000> " {
		t.Errorf(".effmach amd64: %q %v prompt %q", got, err, s.Prompt())
	}
	if c, err := s.EffectiveContext(s.CurrentThread().Context, 0x1000); err != nil || c != s.CurrentThread().Context {
		t.Errorf("EffectiveContext on native x64: %v %v", c, err)
	}
}
