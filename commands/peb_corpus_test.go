package commands

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"wdbg/internal/corpus"

	"wdbg/engine"
	"wdbg/engine/cpu"
	"wdbg/engine/ntuser"
)

// !peb, !teb and .effmach on the real dumps of ../shared/fixtures. The expected values come from
// streams that are independent of the TEB/PEB memory: the thread list (TEB address, stack), the
// module list (loaded images), MiscInfo (process id) and the exception stream, as breakpad's
// minidump_dump prints them (values copied into the tables below, with the dump each came from).

// oracleModule is one MINIDUMP_MODULE as minidump_dump prints it.
type oracleModule struct {
	base uint64
	size uint32
	ts   uint32
	path string
}

// wow64Modules: minidump_dump targetapp_stacktest_wow64.cab.dmp, module[0..11].
var wow64Modules = []oracleModule{
	{0x850000, 0x48000, 0x5bb4b412, `D:\Projects\kdlibcpp\out\Win32\Debug\targetapp.exe`},
	{0x7ffc8d700000, 0x1e1000, 0xa5a334d4, `C:\Windows\System32\ntdll.dll`},
	{0x77c80000, 0x52000, 0x253876dd, `C:\Windows\System32\wow64.dll`},
	{0x77c00000, 0x78000, 0xe3063870, `C:\Windows\System32\wow64win.dll`},
	{0x77ce0000, 0xa000, 0x67a8ef84, `C:\Windows\System32\wow64cpu.dll`},
	{0x850000, 0x48000, 0x5bb4b412, `D:\Projects\kdlibcpp\out\Win32\Debug\targetapp.exe`},
	{0x77cf0000, 0x190000, 0xbf2f8c99, `C:\Windows\SysWOW64\ntdll.dll`},
	{0x75430000, 0xe0000, 0xae0a74bf, `C:\Windows\SysWOW64\kernel32.dll`},
	{0x74ce0000, 0x1e4000, 0xfa43f4b2, `C:\Windows\SysWOW64\KERNELBASE.dll`},
	{0x609b0000, 0x1b000, 0x5b3efa0d, `C:\Windows\SysWOW64\VCRUNTIME140D.dll`},
	{0x545c0000, 0xb6000, 0x5b3efa12, `C:\Windows\SysWOW64\MSVCP140D.dll`},
	{0x539e0000, 0x174000, 0x6e862f68, `C:\Windows\SysWOW64\ucrtbased.dll`},
}

// oracleThread is one MINIDUMP_THREAD: id, TEB, stack descriptor, and the x64 context's rbp.
type oracleThread struct {
	id              uint32
	teb             uint64
	stackStart      uint64
	stackSize       uint64
	rbp, rip, rsp   uint64
	inCompatibility bool // cs = 0x23
}

// wow64Threads: minidump_dump targetapp_stacktest_wow64.cab.dmp, thread[0..3].
var wow64Threads = []oracleThread{
	{0xbff8, 0x5d9000, 0x348000, 0x7d20, 0x6ff550, 0x875f5d, 0x6ff478, true},
	{0xc0f0, 0x5dc000, 0x3be468, 0x18b8, 0xb6feb4, 0x7ffc8d79d844, 0x3be468, false},
	{0xb868, 0x5df000, 0x3fe978, 0x13a8, 0xc6fc08, 0x7ffc8d79d844, 0x3fe978, false},
	{0x8688, 0x5e2000, 0x9ae518, 0x1808, 0xd6fccc, 0x7ffc8d79d844, 0x9ae518, false},
}

const (
	wow64Dump = "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp"
	wow64PID  = 31488 // minidump_dump MiscInfo process_id
)

// textBlock returns the lines of the block that starts with header, up to the next block header.
func textBlock(t *testing.T, text, header string) []string {
	t.Helper()
	i := strings.Index(text, header+"\n")
	if i < 0 {
		t.Fatalf("no %q in\n%s", header, text)
	}
	var lines []string
	for _, l := range strings.Split(text[i+len(header)+1:], "\n") {
		if l == "" || !strings.HasPrefix(l, " ") {
			break
		}
		lines = append(lines, l)
	}
	return lines
}

// fieldOf finds "    Label:   value" in a block and parses value as hex (the first word).
func fieldOf(t *testing.T, lines []string, label string) uint64 {
	t.Helper()
	for _, l := range lines {
		if strings.HasPrefix(l, "    "+label+":") {
			v, err := strconv.ParseUint(strings.Fields(strings.TrimPrefix(l, "    "+label+":"))[0], 16, 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return v
		}
	}
	t.Fatalf("no %s in block %q", label, lines)
	return 0
}

func lineOf(lines []string, prefix string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func TestTebWOW64Corpus(t *testing.T) {
	s := openCorpus(t, wow64Dump)
	if !ntuser.IsWOW64(s.Target) {
		t.Fatal("WOW64 fixture not recognised as WOW64")
	}
	for i, o := range wow64Threads {
		s.SetThread(i)
		text := run(t, s, "!teb")
		teb32 := o.teb + 0x2000 // FORMATS.md §5.1: TEB32 = TEB64 + 0x2000
		b32 := textBlock(t, text, fmt.Sprintf("Wow64 TEB32 at %016x", teb32))
		b64 := textBlock(t, text, fmt.Sprintf("Wow64 TEB at %016x", o.teb))
		if !strings.HasPrefix(text, "Wow64 TEB32 at ") {
			t.Errorf("thread %d: the 32-bit block should come first:\n%s", i, text)
		}
		// Thread list: TEB address; the stack descriptor runs from the stack pointer up to
		// StackBase of the 64-bit stack (the captured range ends at StackBase).
		if got := fieldOf(t, b64, "Self"); got != o.teb {
			t.Errorf("thread %d: TEB64 Self %#x, thread list TEB %#x", i, got, o.teb)
		}
		if base, limit := fieldOf(t, b64, "StackBase"), fieldOf(t, b64, "StackLimit"); base != o.stackStart+o.stackSize || limit > o.stackStart {
			t.Errorf("thread %d: 64-bit stack %#x-%#x, thread list stack %#x+%#x", i, limit, base, o.stackStart, o.stackSize)
		}
		wantID := fmt.Sprintf("%016x . %016x", wow64PID, o.id)
		for _, b := range [][]string{b32, b64} {
			if l := lineOf(b, "    ClientId:"); !strings.HasSuffix(l, wantID) {
				t.Errorf("thread %d: %q, want pid.tid %s (MiscInfo, thread list)", i, l, wantID)
			}
		}
		if got := fieldOf(t, b32, "Self"); got != teb32 {
			t.Errorf("thread %d: TEB32 Self %#x", i, got)
		}
		// Microsoft's TEB debugging notes: the 64-bit TEB's first field holds the 32-bit TEB.
		if got := fieldOf(t, b64, "ExceptionList"); got != teb32 {
			t.Errorf("thread %d: TEB64 ExceptionList %#x, want TEB32 %#x", i, got, teb32)
		}
		// The x86 stack: the x86 registers of the thread lie on it (checked in TestEffmachWOW64Corpus);
		// here its range must hold the 32-bit frame pointer, which the x64 context keeps in rbp.
		if base, limit := fieldOf(t, b32, "StackBase"), fieldOf(t, b32, "StackLimit"); o.rbp < limit || o.rbp >= base {
			t.Errorf("thread %d: rbp %#x outside the 32-bit stack %#x-%#x", i, o.rbp, limit, base)
		}
	}
}

// loaderRow is one row of !peb's module table.
type loaderRow struct {
	base uint64
	ts   uint32
	date string
	path string
}

var loaderRowRE = regexp.MustCompile(`^ +([0-9a-f]+) ([0-9a-f]{8}) (\w{3} \d{2} \d{2}:\d{2}:\d{2} \d{4}) (.+)$`)

func loaderRows(t *testing.T, block []string) []loaderRow {
	t.Helper()
	var rows []loaderRow
	in := false
	for _, l := range block {
		if strings.HasSuffix(l, "Base TimeStamp                     Module") {
			in = true
			continue
		}
		if !in {
			continue
		}
		m := loaderRowRE.FindStringSubmatch(l)
		if m == nil {
			break
		}
		base, _ := strconv.ParseUint(m[1], 16, 64)
		ts, _ := strconv.ParseUint(m[2], 16, 32)
		rows = append(rows, loaderRow{base, uint32(ts), m[3], m[4]})
	}
	return rows
}

func fileName(p string) string { return strings.ToLower(p[strings.LastIndexAny(p, `\/`)+1:]) }

// checkRowsAgainstModules matches loader rows to the module list: same base, same timestamp,
// same file name (the loader spells WOW64 paths System32 where the module list says SysWOW64).
func checkRowsAgainstModules(t *testing.T, rows []loaderRow, mods []oracleModule) map[uint64]bool {
	t.Helper()
	seen := map[uint64]bool{}
	for _, r := range rows {
		found := false
		for _, m := range mods {
			if m.base == r.base {
				found = true
				if m.ts != r.ts || fileName(m.path) != fileName(r.path) {
					t.Errorf("loader row %+v, module list %+v", r, m)
				}
			}
		}
		if !found {
			t.Errorf("loader row %+v has no module at its base", r)
		}
		seen[r.base] = true
	}
	return seen
}

func TestPebWOW64Corpus(t *testing.T) {
	s := openCorpus(t, wow64Dump)
	text := run(t, s, "!peb")
	if !strings.HasPrefix(text, "Wow64 PEB32 at ") || !strings.Contains(text, "\n\n\nWow64 PEB at ") {
		t.Fatalf("WOW64 !peb should show the PEB32 block, two empty lines, then the PEB:\n%s", text)
	}
	h32 := text[:strings.Index(text, "\n")]
	peb64 := text[strings.Index(text, "Wow64 PEB at "):]
	h64 := peb64[:strings.Index(peb64, "\n")]
	b32, b64 := textBlock(t, text, h32), textBlock(t, text, h64)

	rows32, rows64 := loaderRows(t, b32), loaderRows(t, b64)
	if len(rows32) != 7 || len(rows64) != 5 {
		t.Errorf("loader lists: %d 32-bit and %d 64-bit modules, want 7 and 5 (module list: 12 with the image twice)", len(rows32), len(rows64))
	}
	seen := checkRowsAgainstModules(t, rows32, wow64Modules)
	for b := range checkRowsAgainstModules(t, rows64, wow64Modules) {
		seen[b] = true
	}
	for _, m := range wow64Modules {
		if !seen[m.base] {
			t.Errorf("module %s at %#x is in neither loader list", m.path, m.base)
		}
	}
	// Dates: minidump_dump prints 0x5bb4b412 as 2018-10-03 12:20:34 and 0xbf2f8c99 as 2071-08-23
	// 14:07:21 (UTC).
	if rows32[0].date != "Oct 03 12:20:34 2018" || rows32[1].date != "Aug 23 14:07:21 2071" {
		t.Errorf("dates %q %q", rows32[0].date, rows32[1].date)
	}
	// The base column: minimal hex right-aligned in 24 columns on a 64-bit display.
	if want := "                  850000 5bb4b412 "; !strings.Contains(strings.Join(b32, "\n"), "\n"+want) {
		t.Errorf("module row layout: want a line starting %q in\n%s", want, strings.Join(b32, "\n"))
	}

	for _, b := range [][]string{b32, b64} {
		if got := fieldOf(t, b, "ImageBaseAddress"); got != wow64Modules[0].base {
			t.Errorf("ImageBaseAddress %#x, module list image %#x", got, wow64Modules[0].base)
		}
		if l := lineOf(b, "    ImageFile:"); l != "    ImageFile:    '"+wow64Modules[0].path+"'" {
			t.Errorf("%q, module list image %s", l, wow64Modules[0].path)
		}
	}
	// The environment block: its decoded size (each variable plus NUL, then the final NUL) must
	// equal RTL_USER_PROCESS_PARAMETERS.EnvironmentSize, which Windows wrote.
	th := s.CurrentThread()
	for _, c := range []struct {
		name string
		peb  func() (uint64, error)
		ptr  int
	}{
		{"PEB32", func() (uint64, error) { return ntuser.PEBAddress(s.Target.Memory, ntuser.TEB32Address(th.TEB), 4) }, 4},
		{"PEB64", func() (uint64, error) { return ntuser.PEBAddress(s.Target.Memory, th.TEB, 8) }, 8},
	} {
		addr, err := c.peb()
		if err != nil {
			t.Fatal(err)
		}
		peb, err := ntuser.ReadPEB(s.Target.Memory, addr, c.ptr, s.Target.System.BuildNumber)
		if err != nil || peb.Parameters == nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		pp := peb.Parameters
		n := uint64(2)
		for _, v := range pp.Variables {
			n += uint64(2 * (len(utf16.Encode([]rune(v))) + 1))
		}
		if pp.EnvironmentError != nil || !pp.EnvironmentSize.Valid || n != pp.EnvironmentSize.V || len(pp.Variables) < 10 {
			t.Errorf("%s: %d variables, %d bytes, EnvironmentSize %v, %v", c.name, len(pp.Variables), n, pp.EnvironmentSize, pp.EnvironmentError)
		}
		if !strings.Contains(text, "\n        "+pp.Variables[0]+"\n") {
			t.Errorf("%s: variable %q not printed", c.name, pp.Variables[0])
		}
	}
}

func TestEffmachWOW64Corpus(t *testing.T) {
	s := openCorpus(t, wow64Dump)
	if got, err := effmach(t, s, ""); err != nil || got != "Effective machine: x64 (AMD64)\n" {
		t.Fatalf(".effmach: %q %v", got, err)
	}
	if got, err := effmach(t, s, "x86"); err != nil || got != "Effective machine: x86 compatible (x86)\n" {
		t.Fatalf(".effmach x86: %q %v", got, err)
	}
	if p := s.Prompt(); p != "0:000:x86> " {
		t.Errorf("prompt %q, want 0:000:x86> (WINDBG-SPEC §1.4)", p)
	}
	// x86 view: 8-digit addresses in both blocks.
	text := run(t, s, "!teb")
	if !strings.HasPrefix(text, "Wow64 TEB32 at 005db000\n") || !strings.Contains(text, "\nWow64 TEB at 005d9000\n") ||
		!strings.Contains(text, "    ClientId:             00007b00 . 0000bff8\n") {
		t.Errorf("!teb after .effmach x86:\n%s", text)
	}
	// !peb: 8 digits, except the 64-bit PEB's Ldr, which lies in the 64-bit ntdll (module list:
	// 0x7ffc8d700000 + 0x1e1000) and keeps its 16 digits.
	text = run(t, s, "!peb")
	ldr := regexp.MustCompile(`(?m)^    Ldr                       ([0-9a-f]+)$`).FindAllStringSubmatch(text, -1)
	if !strings.HasPrefix(text, "Wow64 PEB32 at 5d8000\n") || len(ldr) != 2 || len(ldr[0][1]) != 8 || len(ldr[1][1]) != 16 ||
		!strings.HasPrefix(ldr[1][1], "00007ffc8d") {
		t.Errorf("!peb after .effmach x86: Ldr lines %q\n%s", ldr, text)
	}

	for i, o := range wow64Threads {
		th := &s.Target.Threads[i]
		c, err := s.EffectiveContext(th.Context, th.TEB)
		if err != nil {
			t.Fatalf("thread %d: %v", i, err)
		}
		if c.Arch() != cpu.ArchX86 {
			t.Fatalf("thread %d: context is %v", i, c.Arch())
		}
		if o.inCompatibility {
			// The thread list's context was captured in 32-bit code: the exception stream's
			// address 0x875f5d and the context's rsp/rbp are the x86 registers.
			if c.PC() != o.rip || c.SP() != o.rsp || c.FP() != o.rbp {
				t.Errorf("thread %d: eip %#x esp %#x ebp %#x, want %#x %#x %#x", i, c.PC(), c.SP(), c.FP(), o.rip, o.rsp, o.rbp)
			}
			continue
		}
		// Threads in the 64-bit layer: wow64cpu's saved x86 context. Its eip must be inside the
		// 32-bit ntdll (module list: 0x77cf0000 + 0x190000), its ebp equal the x64 context's rbp,
		// and its esp lie on the 32-bit stack below ebp.
		ntdll32 := wow64Modules[6]
		if c.PC() < ntdll32.base || c.PC() >= ntdll32.base+uint64(ntdll32.size) {
			t.Errorf("thread %d: eip %#x outside the 32-bit ntdll", i, c.PC())
		}
		if c.FP() != o.rbp || c.SP() > c.FP() || c.FP()-c.SP() > 0x1000 {
			t.Errorf("thread %d: esp %#x ebp %#x, x64 rbp %#x", i, c.SP(), c.FP(), o.rbp)
		}
	}

	// The .ecxr scope: the exception stream's context, seen as x86, is at the exception address
	// (minidump_dump: exception_address 0x875f5d, thread 0xbff8).
	if e := s.Target.Exception; e == nil {
		t.Error("no exception stream")
	} else if c, err := s.EffectiveContext(e.Context, s.Target.Threads[0].TEB); err != nil || c.Arch() != cpu.ArchX86 || c.PC() != 0x875f5d {
		t.Errorf("exception context as x86: %v %v", c, err)
	}

	if _, err := effmach(t, s, "."); err != nil || s.Prompt() != "0:000> " {
		t.Errorf(".effmach . : %v, prompt %q", err, s.Prompt())
	}
	// The event (STATUS_WX86_BREAKPOINT) happened in 32-bit code: # selects x86.
	if got, err := effmach(t, s, "#"); err != nil || got != "Effective machine: x86 compatible (x86)\n" {
		t.Errorf(".effmach #: %q %v", got, err)
	}
}

func TestPebX64Corpus(t *testing.T) {
	// tiny-exe-with-cet-xsave: TEB and PEB captured; 24 of the 25 loader entries are in the dump.
	s := openCorpus(t, "breakpad/tiny-exe-with-cet-xsave.dmp")
	text := run(t, s, "!teb")
	b := textBlock(t, text, "TEB at 000000cbc80b9000") // minidump_dump: thread 0x5bc, teb 0xcbc80b9000
	// Stack descriptor 0xcbc82f8000 + 0x8000; MiscInfo process_id 15444 (0x3c54).
	if fieldOf(t, b, "StackBase") != 0xcbc8300000 || fieldOf(t, b, "StackLimit") != 0xcbc82f8000 ||
		lineOf(b, "    ClientId:") != "    ClientId:             0000000000003c54 . 00000000000005bc" {
		t.Errorf("!teb:\n%s", text)
	}

	text = run(t, s, "!peb")
	b = textBlock(t, text, "PEB at "+fmt.Sprintf("%016x", fieldOf(t, textBlock(t, run(t, s, "!teb"), "TEB at 000000cbc80b9000"), "PEB Address")))
	rows := loaderRows(t, b)
	if len(rows) != 24 {
		t.Fatalf("%d loader rows, want 24:\n%s", len(rows), text)
	}
	var mods []oracleModule
	for _, m := range s.Target.Modules { // the module list stream: 25 modules (minidump_dump)
		mods = append(mods, oracleModule{m.Base, m.Size, m.TimeDateStamp, m.Path})
	}
	if len(mods) != 25 {
		t.Fatalf("%d modules in the module list, want 25", len(mods))
	}
	checkRowsAgainstModules(t, rows, mods)
	for i, r := range rows { // same order as the module list, whose writer walked the loader list
		if r.base != mods[i].base || r.path != mods[i].path {
			t.Errorf("row %d %+v, module %+v", i, r, mods[i])
		}
	}
	if !regexp.MustCompile(`(?m)^    \*\*\* unable to read Ldr entry at 000002a65853cea0$`).MatchString(text) {
		t.Errorf("missing the incomplete-list line:\n%s", text)
	}
	if l := lineOf(b, "    ImageFile:"); l != `    ImageFile:    'C:\src\crashpad\tiny.exe'` {
		t.Errorf("ImageFile %q (module list: C:\\src\\crashpad\\tiny.exe)", l)
	}
}

func TestPebLdrUnreadableCorpus(t *testing.T) {
	// tiny-exe-fastfail: the PEB is captured, the loader data (inside ntdll's image) is not.
	s := openCorpus(t, "breakpad/tiny-exe-fastfail.dmp")
	text := run(t, s, "!peb")
	m := regexp.MustCompile(`(?m)^    Ldr                       ([0-9a-f]{16})\n    \*\*\* unable to read Ldr table at ([0-9a-f]{16})$`).FindStringSubmatch(text)
	if m == nil || m[1] != m[2] {
		t.Fatalf("no Ldr table message:\n%s", text)
	}
	ldr, _ := strconv.ParseUint(m[1], 16, 64)
	mod, ok := s.Target.ModuleAt(ldr)
	if !ok || !strings.EqualFold(fileName(mod.Path), "ntdll.dll") {
		t.Errorf("Ldr %#x is not inside ntdll (module list)", ldr)
	}
}

func TestTebNotInMinidumps(t *testing.T) {
	for _, c := range []struct{ dump, teb string }{
		{"breakpad/minidump2.dmp", "7ffdf000"},                                  // minidump2.dump.out: thread 0xbf4 teb 0x7ffdf000
		{"symbolicator/windows.dmp", "00fe8000"},                                // minidump_dump: thread 0x664 teb 0xfe8000
		{"kdlibcpp/targetapp_minidump/target_minidump.dmp", "000000532f2d2000"}, // minidump_dump: thread 0x48f0
		// minidump_dump: exception threads 0x3448, 0x5768, 0x4a8, 0x2320 and their TEBs.
		{"kdlibcpp/targetapp_stacktest_x64_release_v1/targetapp_stacktest_x64_release.dmp", "000000eed1b69000"},
		{"kdlibcpp/targetapp_test_cv_allreg_amd64/targetapp_test_cv_allreg_amd64.dmp", "0000000c9099f000"},
		{"breakpad/null_read_av.dmp", "7efdd000"},
		{"lldb/fizzbuzz_no_heap.dmp", "7efdd000"},
	} {
		s := openCorpus(t, c.dump)
		if got := run(t, s, "!teb"); got != "TEB at "+c.teb+"\nerror InitTypeRead( TEB )...\n" {
			t.Errorf("%s: !teb\n%s", c.dump, got)
		}
		if _, err := s.Exec(t.Context(), "!peb"); err == nil || !strings.Contains(err.Error(), "("+c.teb+") is not in the dump") {
			t.Errorf("%s: !peb: %v", c.dump, err)
		}
	}
}

func TestSampleDumpPeb(t *testing.T) {
	// testdata/sample.dmp, written by engine/synth (Sample): the crash thread is current.
	s := openSampleDump(t)
	text := run(t, s, "!teb")
	b := textBlock(t, text, "TEB at 000000a12b3c6000") // synth.SampleTEB1
	if lineOf(b, "    ClientId:") != "    ClientId:             0000000000000f2c . 0000000000002f10" ||
		lineOf(b, "    LastErrorValue:") != "    LastErrorValue:       122" ||
		lineOf(b, "    LastStatusValue:") != "    LastStatusValue:      c0000023" {
		t.Errorf("!teb on the sample:\n%s", text)
	}
	text = run(t, s, "!peb")
	b = textBlock(t, text, "PEB at 000000a12b3c2000") // synth.SamplePEB
	rows := loaderRows(t, b)
	if len(rows) != len(s.Target.Modules) {
		t.Fatalf("%d loader rows, %d modules", len(rows), len(s.Target.Modules))
	}
	for i, r := range rows {
		m := s.Target.Modules[i]
		if r.base != m.Base || r.ts != m.TimeDateStamp || r.path != m.Path {
			t.Errorf("row %+v, module %+v", r, m)
		}
	}
	for _, want := range []string{
		`    CurrentDirectory:  'C:\Windows\system32\'`,
		`    DllPath:      'C:\Windows\System32;C:\Windows\system;C:\Windows'`,
		`    CommandLine:  'C:\Windows\System32\spoolsv.exe'`,
		"        PROCESSOR_ARCHITECTURE=AMD64",
	} {
		if lineOf(b, want) == "" {
			t.Errorf("sample !peb lacks %q:\n%s", want, text)
		}
	}
}

// openSampleDump opens testdata/sample.dmp at the repository root (generated by engine/synth).
func openSampleDump(t *testing.T) *Session {
	t.Helper()
	dir := corpus.RepoRoot(t)
	tgt, err := engine.Open(filepath.Join(dir, "testdata", "sample.dmp"))
	if err != nil {
		t.Fatalf("testdata/sample.dmp: %v", err)
	}
	t.Cleanup(func() { tgt.Close() })
	return NewSession(tgt)
}
