package commands

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"wdbg/engine/cpu"
)

// testSymbol is one `sym` line of testdata/disasm.txt.
type testSymbol struct {
	addr, size uint64
	name       string
}

// tableSymbolizer names addresses from the table's `sym` lines as WinDbg would: the name exactly
// at its start, name+0xoff inside it.
func tableSymbolizer(syms []testSymbol) func(uint64) string {
	return func(a uint64) string {
		for _, s := range syms {
			if a >= s.addr && a-s.addr < s.size {
				if a == s.addr {
					return s.name
				}
				return s.name + "+0x" + strconv.FormatUint(a-s.addr, 16)
			}
		}
		return ""
	}
}

func parseTableAddr(t *testing.T, lineNo int, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.ReplaceAll(s, "`", ""), 16, 64)
	if err != nil {
		t.Fatalf("disasm.txt:%d: bad address %q", lineNo, s)
	}
	return v
}

func tableArch(t *testing.T, lineNo int, s string) cpu.Arch {
	t.Helper()
	switch s {
	case "x86":
		return cpu.ArchX86
	case "x64":
		return cpu.ArchAMD64
	case "arm64":
		return cpu.ArchARM64
	}
	t.Fatalf("disasm.txt:%d: unknown arch %q", lineNo, s)
	return 0
}

// tableCode turns the table's hex into code bytes; an ARM64 word is stored little-endian.
func tableCode(t *testing.T, lineNo int, arch cpu.Arch, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("disasm.txt:%d: bad hex %q", lineNo, s)
	}
	if arch == cpu.ArchARM64 {
		if len(b) != 4 {
			t.Fatalf("disasm.txt:%d: an ARM64 word is 8 hex digits", lineNo)
		}
		binary.LittleEndian.PutUint32(b, binary.BigEndian.Uint32(b))
	}
	return b
}

// TestDisassembleTable checks every instruction of testdata/disasm.txt against the WinDbg text
// captured in public output (sources cited per group in the file).
func TestDisassembleTable(t *testing.T) {
	f, err := os.Open("testdata/disasm.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var syms []testSymbol
	checked := 0
	sc := bufio.NewScanner(f)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if fields[0] == "sym" {
			if len(fields) < 4 {
				t.Fatalf("disasm.txt:%d: sym needs ADDRESS SIZE NAME", lineNo)
			}
			size, err := strconv.ParseUint(fields[2], 16, 64)
			if err != nil {
				t.Fatalf("disasm.txt:%d: bad size", lineNo)
			}
			name := strings.TrimSpace(strings.SplitN(line, " ", 4)[3])
			syms = append(syms, testSymbol{parseTableAddr(t, lineNo, fields[1]), size, name})
			sort.Slice(syms, func(i, j int) bool { return syms[i].addr < syms[j].addr })
			continue
		}
		arch := tableArch(t, lineNo, fields[0])
		symbolize := tableSymbolizer(syms)
		if len(fields) >= 2 && fields[1] == "line" {
			want := strings.SplitN(line, " ", 3)[2]
			wf := strings.Fields(want)
			addr := parseTableAddr(t, lineNo, wf[0])
			code := tableCode(t, lineNo, arch, wf[1])
			in, err := Disassemble(arch, code, addr, symbolize)
			if err != nil {
				t.Errorf("disasm.txt:%d: %v", lineNo, err)
				continue
			}
			if got := FormatInstructionLine(in, arch.PointerSize()); got != want {
				t.Errorf("disasm.txt:%d:\n got %q\nwant %q", lineNo, got, want)
			}
			checked++
			continue
		}
		lhs, want, ok := strings.Cut(line, " => ")
		lf := strings.Fields(lhs)
		if !ok || len(lf) != 3 {
			t.Fatalf("disasm.txt:%d: want `ARCH HEX ADDR => TEXT`", lineNo)
		}
		code := tableCode(t, lineNo, arch, lf[1])
		addr := parseTableAddr(t, lineNo, lf[2])
		in, err := Disassemble(arch, code, addr, symbolize)
		if err != nil {
			t.Errorf("disasm.txt:%d: %s: %v", lineNo, lf[1], err)
			continue
		}
		if in.Text != want {
			t.Errorf("disasm.txt:%d: %s:\n got %q\nwant %q", lineNo, lf[1], in.Text, want)
		}
		if in.Len != len(code) {
			t.Errorf("disasm.txt:%d: %s: decoded %d bytes, the capture shows %d", lineNo, lf[1], in.Len, len(code))
		}
		checked++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Errorf("only %d table entries checked", checked)
	}
}

func TestMasmHex(t *testing.T) {
	// Number styles seen in captures: `mov ecx,1`, `sub rsp,28h`, `ret 2Ch`, `mov ecx,0C0000001h`,
	// `add esp,0FFFFFFACh`, `[rsp+0F8h]`, `mov eax,0`, `shr r9d,0Ch`.
	for v, want := range map[uint64]string{1: "1", 0: "0", 9: "9", 10: "0Ah", 0x28: "28h", 0x2c: "2Ch",
		0xc0000001: "0C0000001h", 0xffffffac: "0FFFFFFACh", 0xf8: "0F8h", 0xc: "0Ch",
		^uint64(0): "0FFFFFFFFFFFFFFFFh"} {
		if got := masmHex(v); got != want {
			t.Errorf("masmHex(%#x) = %q, want %q", v, got, want)
		}
	}
}

// TestFormatUnreadable is the line WINDBG-SPEC §1.3 quotes for code that cannot be read.
func TestFormatUnreadable(t *testing.T) {
	got := FormatInstructionLine(UnreadableInstruction(cpu.ArchAMD64, 0x20), 8)
	if want := "00000000`00000020 ??              ???"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestDisassembleTruncated: code that stops inside an instruction asks for more bytes rather than
// being taken for an invalid one; an empty buffer is the same.
func TestDisassembleTruncated(t *testing.T) {
	for _, c := range []struct {
		arch cpu.Arch
		hex  string
	}{
		{cpu.ArchAMD64, ""},
		{cpu.ArchAMD64, "48b87ecb928bce"}, // mov rax,imm64 cut after 7 of 10 bytes
		{cpu.ArchAMD64, "e8c8"},           // call rel32 cut
		{cpu.ArchX86, "64a118"},           // mov eax,fs:[moffs] cut
		{cpu.ArchARM64, "fd7b"},           // half a word
	} {
		code, _ := hex.DecodeString(c.hex)
		_, err := Disassemble(c.arch, code, 0x1000, nil)
		if !errors.Is(err, ErrTruncatedInstruction) {
			t.Errorf("%s %s: err = %v, want ErrTruncatedInstruction", c.arch, c.hex, err)
		}
	}
	if _, err := Disassemble(cpu.ArchARM, []byte{0, 0, 0, 0}, 0, nil); err == nil {
		t.Error("ARM32 has no disassembler yet and must say so")
	}
}

// TestDisassembleLengthsAgreeWithCapstone cross-checks instruction boundaries with capstone's
// cstool (one of the oracles of /tmp/oracles.log) over the code bytes of the lldb sigsegv dump's
// faulting function, when cstool is installed. Text styles differ (capstone prints `rip + 0x1f45`),
// so only lengths and the mnemonic's first word are compared.
func TestDisassembleLengthsAgreeWithCapstone(t *testing.T) {
	requireCstool(t)
	// 0x7ff7a13110b0..: sigsegv.exe's code as lldb `memory read` shows it (fixtures/lldb/sigsegv.dmp).
	code, _ := hex.DecodeString("884c24084883ec2848" +
		"8d0d411f0000e855ffffff0fb6442430" +
		"85c07417488d0d3c1f0000e840ffffff" +
		"c704250000000000000000488d0d451f" +
		"0000e829ffffff4883c428c3cccccccc")
	compareWithCstool(t, cpu.ArchAMD64, code, 0x7ff7a13110b0)
}

// BenchmarkDisassemble decodes and renders the faulting function of lldb's sigsegv.dmp (x64).
func BenchmarkDisassemble(b *testing.B) {
	code, _ := hex.DecodeString("884c24084883ec2848" + "8d0d411f0000e855ffffff0fb6442430" +
		"85c07417488d0d3c1f0000e840ffffff" + "c704250000000000000000488d0d451f" +
		"0000e829ffffff4883c428c3cccccccc")
	sym := func(a uint64) string { return "sigsegv+0x" + strconv.FormatUint(a-0x7ff7a1310000, 16) }
	b.SetBytes(int64(len(code)))
	for i := 0; i < b.N; i++ {
		for off := 0; off < len(code); {
			in, err := Disassemble(cpu.ArchAMD64, code[off:], 0x7ff7a13110b0+uint64(off), sym)
			if err != nil {
				b.Fatal(err)
			}
			_ = FormatInstructionLine(in, 8)
			off += in.Len
		}
	}
}
