package commands

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/cpu"
)

// codeMemory is a dump's memory made of byte ranges, for listings over known code.
type codeMemory []struct {
	addr uint64
	data []byte
}

func (m codeMemory) ReadAt(p []byte, addr uint64) (int, error) {
	for _, r := range m {
		if addr >= r.addr && addr < r.addr+uint64(len(r.data)) {
			n := copy(p, r.data[addr-r.addr:])
			if n < len(p) {
				return n, &engine.ReadError{Addr: addr + uint64(n)}
			}
			return n, nil
		}
	}
	return 0, &engine.ReadError{Addr: addr}
}

// pcContext is a register context that only knows its instruction pointer.
type pcContext struct {
	arch cpu.Arch
	pc   uint64
}

func (c pcContext) Arch() cpu.Arch                 { return c.arch }
func (c pcContext) PC() uint64                     { return c.pc }
func (c pcContext) SP() uint64                     { return 0 }
func (c pcContext) FP() uint64                     { return 0 }
func (c pcContext) Register(string) (uint64, bool) { return 0, false }
func (c pcContext) RegisterNames() []string        { return nil }

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unassemble runs one of the u commands through its table entry (the lead wires the family into
// table.go; this does not depend on that).
func unassemble(t *testing.T, s *Session, line string) (string, *UnassembleResult, error) {
	t.Helper()
	name, args, _ := strings.Cut(line, " ")
	for _, c := range unassembleCommands {
		if c.Name == name {
			res, err := c.Run(context.Background(), s, strings.TrimSpace(args))
			if err != nil {
				return "", nil, err
			}
			var b strings.Builder
			if err := res.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			return b.String(), res.(*UnassembleResult), nil
		}
	}
	t.Fatalf("no command %q", name)
	return "", nil, nil
}

// forgetListing clears where a bare u would go on, as a change of register context does in WinDbg
// (the next u starts at the new instruction pointer).
func forgetListing(s *Session) {
	if st := s.unassembleState(); st != nil {
		*st = UnassembleState{}
	}
}

// ntdllStubSession holds the ntdll!NtCreateFile system-call stub of a public capture (`u
// ntdll!NtCreateFile` on Windows 10 x64, cited in testdata/disasm.txt) in a module named ntdll.
// Without PDB symbols the names are module+offset (WINDBG-SPEC §1.2), so the capture's
// `ntdll!NtCreateFile+0x15` reads `ntdll+0x5cb65` here; everything else is the capture's text.
func ntdllStubSession(t *testing.T) *Session {
	code := mustHex(t, "4c8bd1"+"b855000000"+"f604250803fe7f01"+"7503"+"0f05"+"c3"+"cd2e"+"c3")
	tgt := &engine.Target{Arch: cpu.ArchAMD64,
		Modules: []engine.Module{{Base: 0x00007ff89f400000, Size: 0x1f0000, Name: "ntdll"}},
		Memory:  codeMemory{{0x00007ff89f45cb50, code}},
		Threads: []engine.Thread{{ID: 1, Context: pcContext{cpu.ArchAMD64, 0x00007ff89f45cb50}}},
	}
	return NewSession(tgt)
}

func TestUnassembleListing(t *testing.T) {
	s := ntdllStubSession(t)
	got, res, err := unassemble(t, s, "u 00007ff8`9f45cb50")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"ntdll+0x5cb50:",
		"00007ff8`9f45cb50 4c8bd1          mov     r10,rcx",
		"00007ff8`9f45cb53 b855000000      mov     eax,55h",
		"00007ff8`9f45cb58 f604250803fe7f01 test    byte ptr ds:[7FFE0308h],1",
		"00007ff8`9f45cb60 7503            jne     ntdll+0x5cb65 (00007ff8`9f45cb65)",
		"00007ff8`9f45cb62 0f05            syscall",
		"00007ff8`9f45cb64 c3              ret",
		"00007ff8`9f45cb65 cd2e            int     2Eh",
		"00007ff8`9f45cb67 c3              ret",
	}, "\n") + "\n"
	if got != want {
		t.Errorf("u:\n%s\nwant:\n%s", got, want)
	}
	if len(res.Instructions) != 8 || res.Instructions[3].Target != "0x7ff89f45cb65" {
		t.Errorf("result: %+v", res.Instructions)
	}

	// The same eight as a range (the end address is included) and with L.
	if r, _, _ := unassemble(t, s, "u 00007ff8`9f45cb50 00007ff8`9f45cb67"); r != want {
		t.Errorf("u a b:\n%s", r)
	}
	if r, _, _ := unassemble(t, s, "u 00007ff8`9f45cb50 L2"); !strings.HasSuffix(r, "mov     eax,55h\n") || strings.Count(r, "\n") != 3 {
		t.Errorf("u a L2:\n%s", r)
	}
	// A bare u with no listing before it starts at the current instruction (the thread's rip).
	forgetListing(s)
	if r, _, _ := unassemble(t, s, "u"); r != want {
		t.Errorf("bare u:\n%s", r)
	}
}

// TestUnassembleBackward: ub finds the instructions that end exactly at the address; they must be
// the ones a forward listing shows.
func TestUnassembleBackward(t *testing.T) {
	s := ntdllStubSession(t)
	got, _, err := unassemble(t, s, "ub 00007ff8`9f45cb65 L3")
	if err != nil {
		t.Fatal(err)
	}
	want := "ntdll+0x5cb60:\n" +
		"00007ff8`9f45cb60 7503            jne     ntdll+0x5cb65 (00007ff8`9f45cb65)\n" +
		"00007ff8`9f45cb62 0f05            syscall\n" +
		"00007ff8`9f45cb64 c3              ret\n"
	if got != want {
		t.Errorf("ub:\n%s\nwant:\n%s", got, want)
	}
	if _, _, err := unassemble(t, s, "ub 00007ff8`9f45cb65 00007ff8`9f45cb70"); err == nil {
		t.Error("ub with an end address must be refused: it takes only L")
	}
}

func TestUnassembleUnreadable(t *testing.T) {
	s := ntdllStubSession(t)
	// WINDBG-SPEC §1.3: `00000000`00000020 ??              ???`. u stops there; uu goes on.
	got, res, err := unassemble(t, s, "u 20")
	if err != nil {
		t.Fatal(err)
	}
	if got != "00000000`00000020 ??              ???\n" || res.Stopped == "" {
		t.Errorf("u 20: %q (stopped %q)", got, res.Stopped)
	}
	got, _, _ = unassemble(t, s, "uu 20 L3")
	want := "00000000`00000020 ??              ???\n00000000`00000021 ??              ???\n00000000`00000022 ??              ???\n"
	if got != want {
		t.Errorf("uu 20 L3: %q", got)
	}
	// Code that runs into a hole: the last instruction cannot be read whole.
	got, _, _ = unassemble(t, s, "u 00007ff8`9f45cb66 L3")
	if !strings.HasSuffix(got, "00007ff8`9f45cb68 ??              ???\n") {
		t.Errorf("listing into a hole:\n%s", got)
	}
}

func TestUnassembleArgumentErrors(t *testing.T) {
	s := ntdllStubSession(t)
	for _, c := range []struct {
		line string
		want any
	}{
		{"u 00007ff8`9f45cb50 L0", &RangeError{}},
		{"u 00007ff8`9f45cb50 L", &SyntaxError{}},
		{"u 00007ff8`9f45cb50 L 200000", &RangeError{}},
		{"u 2000 1000", &RangeError{}},
		{"ub 2000 3000", &SyntaxError{}},
	} {
		_, _, err := unassemble(t, s, c.line)
		switch c.want.(type) {
		case *RangeError:
			var re *RangeError
			if !errors.As(err, &re) {
				t.Errorf("%s: err = %v, want a range error", c.line, err)
			}
		case *SyntaxError:
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("%s: err = %v, want a syntax error", c.line, err)
			} else if se.Input != c.line {
				t.Errorf("%s: the caret points into %q", c.line, se.Input)
			}
		}
	}
	// L? lifts the limit.
	if _, _, err := unassemble(t, s, "uu 20 L?3"); err != nil {
		t.Errorf("L?: %v", err)
	}
	// No register context and no address: an error, not a panic.
	s.Target.Threads = nil
	forgetListing(s)
	if _, _, err := unassemble(t, s, "u"); err == nil {
		t.Error("bare u without a context must fail")
	}
}

func TestUnassembleJSON(t *testing.T) {
	s := ntdllStubSession(t)
	_, res, err := unassemble(t, s, "u 00007ff8`9f45cb58 L1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Command      string
		Instructions []map[string]any
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	in := back.Instructions[0]
	if back.Command != "u" || in["address"] != "0x7ff89f45cb58" || in["bytes"] != "f604250803fe7f01" ||
		in["mnemonic"] != "test" || in["label"] != "ntdll+0x5cb58" {
		t.Errorf("json: %s", b)
	}
}

// TestUnassembleARM64 lists the ARM64 prologue of the Arm64EC ABI overview (testdata/disasm.txt)
// and walks back over it; ARM64 instructions are 4 bytes, so ub is exact.
func TestUnassembleARM64(t *testing.T) {
	words := []uint32{0xd503237f, 0xa9bc7bfd, 0xa90153f3, 0xa9025bf5, 0xf9001bf9, 0x910003fd}
	var code []byte
	for _, w := range words {
		code = append(code, byte(w), byte(w>>8), byte(w>>16), byte(w>>24))
	}
	tgt := &engine.Target{Arch: cpu.ArchARM64, Memory: codeMemory{{0x180243810, code}},
		Modules: []engine.Module{{Base: 0x180000000, Size: 0x400000, Name: "kernelbase"}}}
	s := NewSession(tgt)
	got, _, err := unassemble(t, s, "u 00000001`80243810 L3")
	if err != nil {
		t.Fatal(err)
	}
	want := "kernelbase+0x243810:\n" +
		"00000001`80243810 d503237f pacibsp\n" +
		"00000001`80243814 a9bc7bfd stp         fp,lr,[sp,#-0x40]!\n" +
		"00000001`80243818 a90153f3 stp         x19,x20,[sp,#0x10]\n"
	if got != want {
		t.Errorf("u:\n%s\nwant:\n%s", got, want)
	}
	got, _, _ = unassemble(t, s, "ub 00000001`80243828 L2")
	if !strings.HasSuffix(got, "00000001`80243824 910003fd mov         fp,sp\n") || strings.Count(got, "\n") != 3 {
		t.Errorf("ub:\n%s", got)
	}
}

// TestUnassembleSigsegv lists the faulting code of lldb's sigsegv.dmp. The oracle is lldb's own
// disassembly in fixtures/lldb/expected/sigsegv.test (AT&T syntax) and `dis -b` of the same dump:
//
//	-> 0x7ff7a13110d9: movl   $0x0, 0x0
//	   0x7ff7a13110e4: leaq   0x1f45(%rip), %rcx      (0x7ff7a13110eb + 0x1f45 = 0x7ff7a1313030)
//	   0x7ff7a13110eb: callq  0x7ff7a1311019
//	   0x7ff7a13110f0: addq   $0x28, %rsp
//	   0x7ff7a13110f4: retq
//	   0x7ff7a13110f5: int3
//
// written here in WinDbg's syntax; sigsegv.exe is loaded at 0x7ff7a1310000 (lldb `image list`) and
// has no symbols loaded, so names are sigsegv+offset.
func TestUnassembleSigsegv(t *testing.T) {
	s := openCorpus(t, "lldb/sigsegv.dmp")
	got, _, err := unassemble(t, s, "u 7ff7a13110d9 L6")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"sigsegv+0x10d9:",
		"00007ff7`a13110d9 c704250000000000000000 mov dword ptr ds:[0],0",
		"00007ff7`a13110e4 488d0d451f0000  lea     rcx,[sigsegv+0x3030 (00007ff7`a1313030)]",
		"00007ff7`a13110eb e829ffffff      call    sigsegv+0x1019 (00007ff7`a1311019)",
		"00007ff7`a13110f0 4883c428        add     rsp,28h",
		"00007ff7`a13110f4 c3              ret",
		"00007ff7`a13110f5 cc              int     3",
	}, "\n") + "\n"
	if got != want {
		t.Errorf("u:\n%s\nwant:\n%s", got, want)
	}
	// In the exception context (what .ecxr selects) the pc is the faulting instruction (lldb: stop
	// at 0x7ff7a13110d9), so a bare u starts there.
	if s.Target.Exception == nil || s.Target.Exception.Context == nil {
		t.Fatal("sigsegv.dmp has an exception context (CATALOG.md: exc 0xc0000005 @ 0x7ff7a13110d9)")
	}
	s.Scope = &Scope{Context: s.Target.Exception.Context, Reason: "exception"}
	forgetListing(s)
	if r, _, _ := unassemble(t, s, "u"); !strings.HasPrefix(r, "sigsegv+0x10d9:\n00007ff7`a13110d9 ") {
		t.Errorf("bare u:\n%s", r)
	}
	// ub walks back to the instructions lldb shows before the fault (`dis -b -s 0x7ff7a13110b7`):
	// movzbl at c4, testl at c9, je 0x7ff7a13110e4 at cb, leaq at cd, callq 0x7ff7a1311019 at d4.
	got, _, _ = unassemble(t, s, "ub 7ff7a13110d9 L5")
	want = strings.Join([]string{
		"sigsegv+0x10c4:",
		"00007ff7`a13110c4 0fb6442430      movzx   eax,byte ptr [rsp+30h]",
		"00007ff7`a13110c9 85c0            test    eax,eax",
		"00007ff7`a13110cb 7417            je      sigsegv+0x10e4 (00007ff7`a13110e4)",
		"00007ff7`a13110cd 488d0d3c1f0000  lea     rcx,[sigsegv+0x3010 (00007ff7`a1313010)]",
		"00007ff7`a13110d4 e840ffffff      call    sigsegv+0x1019 (00007ff7`a1311019)",
	}, "\n") + "\n"
	if got != want {
		t.Errorf("ub:\n%s\nwant:\n%s", got, want)
	}
}

// FuzzDisassemble: no bytes may make the disassembler panic, loop or claim more bytes than given.
func FuzzDisassemble(f *testing.F) {
	for _, seed := range []string{"f3410f6f01", "c704250000000000000000", "65488b0c2588010000",
		"48b87ecb928bcecf0000", "f00fc14118", "66f2af", "ea097078583300", "db2c24", "c4e27d58c0",
		"62f17c48100424", "f30f1efa", "fd7bbca9", "7f2303d5", "06", ""} {
		b, _ := hex.DecodeString(seed)
		f.Add(b, uint64(0x7ff7a13110d9))
	}
	f.Fuzz(func(t *testing.T, code []byte, addr uint64) {
		for _, arch := range []cpu.Arch{cpu.ArchX86, cpu.ArchAMD64, cpu.ArchARM64} {
			in, err := Disassemble(arch, code, addr, func(a uint64) string {
				if a%3 == 0 {
					return "mod+0x1"
				}
				return ""
			})
			if err != nil {
				continue
			}
			if in.Len <= 0 || in.Len > len(code) || len(in.Bytes) != in.Len || in.Text == "" {
				t.Fatalf("%s % x: len %d of %d, bytes %d, text %q", arch, code, in.Len, len(code), len(in.Bytes), in.Text)
			}
			_ = FormatInstructionLine(in, arch.PointerSize())
		}
	})
}

// regContext is a register context given as a table of register values.
type regContext struct {
	arch cpu.Arch
	regs map[string]uint64
}

func (c regContext) Arch() cpu.Arch { return c.arch }
func (c regContext) PC() uint64     { return c.regs["pc"] }
func (c regContext) SP() uint64     { return 0 }
func (c regContext) FP() uint64     { return 0 }
func (c regContext) Register(n string) (uint64, bool) {
	v, ok := c.regs[n]
	return v, ok
}
func (c regContext) RegisterNames() []string { return nil }

// TestCurrentInstructionAnnotation reproduces current-instruction lines of r from public captures
// (WINDBG-SPEC §3.9 and the sessions cited in testdata/disasm.txt): the register values are the
// captures' own, the memory holds what the captures show.
func TestCurrentInstructionAnnotation(t *testing.T) {
	le32 := func(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
	for _, c := range []struct {
		arch cpu.Arch
		hex  string
		addr uint64
		regs map[string]uint64
		mem  codeMemory
		teb  uint64
		syms []testSymbol
		want string
	}{
		{ // WINDBG-SPEC §3.9: r9=0000000100000000, memory not in the dump
			cpu.ArchAMD64, "f3410f6f01", 0x7ff830b269a2, map[string]uint64{"r9": 0x100000000}, nil, 0, nil,
			"00007ff8`30b269a2 f3410f6f01      movdqu  xmm0,xmmword ptr [r9] ds:00000001`00000000=????????????????"},
		{ // coml2 stepping session: fs=003b, the TEB at 00e1a000 points to itself
			cpu.ArchX86, "64a118000000", 0x7698431b, map[string]uint64{"fs": 0x3b},
			codeMemory{{0x00e1a018, le32(0x00e1a000)}}, 0x00e1a000, nil,
			"7698431b 64a118000000    mov     eax,dword ptr fs:[00000018h] fs:003b:00000018=00e1a000"},
		{ // same session: efl=00000282 (ng: SF set), so js is taken
			cpu.ArchX86, "0f8830ffffff", 0x769843e5, map[string]uint64{"efl": 0x282}, nil, 0,
			[]testSymbol{{0x76984245, 0x1000, "coml2!DfCreateDocfile"}},
			"769843e5 0f8830ffffff    js      coml2!DfCreateDocfile+0xd6 (7698431b)   [br=1]"},
		{ // kd r at nt!KiTrap0E+0x2cf: ds=0023, KiFreezeFlag = 0
			cpu.ArchX86, "833d04db768200", 0x826495cb, map[string]uint64{"ds": 0x23},
			codeMemory{{0x8276db04, le32(0)}}, 0, []testSymbol{{0x8276db04, 4, "nt!KiFreezeFlag"}},
			"826495cb 833d04db768200  cmp     dword ptr [nt!KiFreezeFlag (8276db04)],0 ds:0023:8276db04=00000000"},
		{ // shellcode session: gs:[rdx+60h] with rdx=0 reads the PEB pointer, here not in the dump
			cpu.ArchAMD64, "65488b5260", 0x13f21e014, map[string]uint64{"rdx": 0}, nil, 0x7fffffde000, nil,
			"00000001`3f21e014 65488b5260      mov     rdx,qword ptr gs:[rdx+60h] gs:00000000`00000060=????????????????"},
	} {
		code := mustHex(t, c.hex)
		in, err := Disassemble(c.arch, code, c.addr, tableSymbolizer(c.syms))
		if err != nil {
			t.Fatal(err)
		}
		var mem engine.Memory
		if c.mem != nil {
			mem = c.mem
		}
		got := FormatCurrentInstruction(in, c.arch.PointerSize(), regContext{c.arch, c.regs}, mem, c.teb)
		if got != c.want {
			t.Errorf("\n got %q\nwant %q", got, c.want)
		}
	}
}

// BenchmarkUnassembleBackward walks back 100 instructions over code that is mostly int 3 padding
// and real instructions (the ntdll stub repeated).
func BenchmarkUnassembleBackward(b *testing.B) {
	stub, _ := hex.DecodeString("4c8bd1b855000000f604250803fe7f0175030f05c3cd2ec3")
	var code []byte
	for len(code) < 4096 {
		code = append(code, stub...)
	}
	tgt := &engine.Target{Arch: cpu.ArchAMD64, Memory: codeMemory{{0x10000, code}}}
	s := NewSession(tgt)
	end := uint64(0x10000 + 100*len(stub))
	for i := 0; i < b.N; i++ {
		if out := unassembleBackward(context.Background(), s, cpu.ArchAMD64, end, 100); len(out) != 100 {
			b.Fatalf("%d instructions", len(out))
		}
	}
}

// TestUnassembleFizzbuzz lists x86 code of lldb's fizzbuzz_no_heap.dmp (Windows 7, WOW64 process)
// around the faulting eip 0x164d14 (ORACLE_NOTES: exception at 0x164d14). The oracle is lldb-19
// with the Intel flavour on the same dump (`dis -b -s 0x164d14 -c 6`, `dis -b -s 0x164cf0 -e 0x164d14`):
//
//	0x164cfe: a1 b0 20 17 00  mov    eax, dword ptr [0x1720b0]
//	0x164d03: 50              push   eax
//	0x164d04: e8 3d c8 ff ff  call   0x161546
//	0x164d09: 83 c4 08        add    esp, 0x8
//	0x164d0c: e9 4d ff ff ff  jmp    0x164c5e
//	0x164d11: 8b 45 f8        mov    eax, dword ptr [ebp - 0x8]
//	0x164d14: 8b 00           mov    eax, dword ptr [eax]
//	0x164d16: 5f / 5e / 5b    pop edi / pop esi / pop ebx
//	0x164d19: 81 c4 d8 00 00 00  add esp, 0xd8
//	0x164d1f: 3b ec           cmp    ebp, esp
//
// fizzbuzz.exe is loaded at 0x150000 (lldb `image list`) without symbols: names are fizzbuzz+offset.
func TestUnassembleFizzbuzz(t *testing.T) {
	s := openCorpus(t, "lldb/fizzbuzz_no_heap.dmp")
	got, _, err := unassemble(t, s, "u 164d14 L6")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"fizzbuzz+0x14d14:",
		"00164d14 8b00            mov     eax,dword ptr [eax]",
		"00164d16 5f              pop     edi",
		"00164d17 5e              pop     esi",
		"00164d18 5b              pop     ebx",
		"00164d19 81c4d8000000    add     esp,0D8h",
		"00164d1f 3bec            cmp     ebp,esp",
	}, "\n") + "\n"
	if got != want {
		t.Errorf("u:\n%s\nwant:\n%s", got, want)
	}
	got, _, _ = unassemble(t, s, "ub 164d14 L6")
	want = strings.Join([]string{
		"fizzbuzz+0x14cfe:",
		"00164cfe a1b0201700      mov     eax,dword ptr [fizzbuzz+0x220b0 (001720b0)]",
		"00164d03 50              push    eax",
		"00164d04 e83dc8ffff      call    fizzbuzz+0x11546 (00161546)",
		"00164d09 83c408          add     esp,8",
		"00164d0c e94dffffff      jmp     fizzbuzz+0x14c5e (00164c5e)",
		"00164d11 8b45f8          mov     eax,dword ptr [ebp-8]",
	}, "\n") + "\n"
	if got != want {
		t.Errorf("ub:\n%s\nwant:\n%s", got, want)
	}
}

// TestUnassembleContinues: a bare u goes on after the previous listing (u--unassemble-.md).
func TestUnassembleContinues(t *testing.T) {
	s := ntdllStubSession(t)
	if s.unassembleState() == nil {
		t.Skip("Session has no Unassemble field yet (see unassembleState); a bare u starts at the pc")
	}
	if _, _, err := unassemble(t, s, "u 00007ff8`9f45cb50 L2"); err != nil {
		t.Fatal(err)
	}
	got, _, err := unassemble(t, s, "u L2")
	if err != nil {
		t.Fatal(err)
	}
	want := "ntdll+0x5cb58:\n" +
		"00007ff8`9f45cb58 f604250803fe7f01 test    byte ptr ds:[7FFE0308h],1\n" +
		"00007ff8`9f45cb60 7503            jne     ntdll+0x5cb65 (00007ff8`9f45cb65)\n"
	if got != want {
		t.Errorf("u L2 after a listing:\n%s\nwant:\n%s", got, want)
	}
}
