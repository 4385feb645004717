package commands

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"wdbg/engine/cpu"
)

// Capstone's cstool is an independent x86 decoder (installed as an oracle, see /tmp/oracles.log).
// Its Intel text differs from WinDbg's in style (`rip + 0x1f45`, `int3`, `movabs`), so these tests
// compare what style cannot change: where each instruction ends, and the mnemonic.

func requireCstool(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("cstool"); err != nil {
		if os.Getenv("WDBG_ORACLES_REQUIRED") == "1" {
			t.Fatal("cstool (capstone) is required but not installed")
		}
		t.Skip("cstool (capstone) not installed; install capstone-tool to cross-check the decoder")
	}
}

type cstoolInsn struct {
	addr     uint64
	length   int
	mnemonic string
}

func runCstool(arch cpu.Arch, code []byte, addr uint64) ([]cstoolInsn, error) {
	mode := "x64"
	if arch == cpu.ArchX86 {
		mode = "x32"
	}
	out, err := exec.Command("cstool", mode, hex.EncodeToString(code), strconv.FormatUint(addr, 16)).Output()
	if err != nil {
		return nil, fmt.Errorf("cstool: %v", err)
	}
	var insns []cstoolInsn
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		// "7ff7a13110e4  f3 41 0f 6f 01      movdqu\txmm0, xmmword ptr [r9]"
		line := sc.Text()
		head, rest, ok := strings.Cut(line, "  ")
		if !ok {
			continue
		}
		a, err := strconv.ParseUint(strings.TrimSpace(head), 16, 64)
		if err != nil {
			continue
		}
		rest = strings.TrimLeft(rest, " ")
		n := 0
		for len(rest) >= 2 && isHexPair(rest[:2]) && (len(rest) == 2 || rest[2] == ' ') {
			n++
			rest = strings.TrimLeft(rest[2:], " ")
		}
		// The mnemonic (with any prefix: "rep stosd", "lock xadd") ends at the tab.
		mn, _, _ := strings.Cut(rest, "\t")
		words := strings.Fields(mn)
		m := ""
		if len(words) > 0 {
			m = words[len(words)-1]
		}
		insns = append(insns, cstoolInsn{a, n, m})
	}
	return insns, nil
}

func isHexPair(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// capstoneNames maps capstone's mnemonics to WinDbg's where they differ only in spelling.
var capstoneNames = map[string]string{"int3": "int", "movabs": "mov", "ljmp": "jmp", "lcall": "call",
	"pushal": "pushad", "popal": "popad"}

func compareWithCstool(t *testing.T, arch cpu.Arch, code []byte, addr uint64) {
	t.Helper()
	want, err := runCstool(arch, code, addr)
	if err != nil {
		t.Fatal(err)
	}
	off := 0
	for i, w := range want {
		in, err := Disassemble(arch, code[off:], addr+uint64(off), nil)
		if err != nil {
			t.Fatalf("at %#x: %v", addr+uint64(off), err)
		}
		if in.Addr != w.addr || in.Len != w.length {
			t.Fatalf("instruction %d: we decode %d bytes at %#x, capstone %d at %#x", i, in.Len, in.Addr, w.length, w.addr)
		}
		words := strings.Fields(in.Mnemonic)
		mine := words[len(words)-1] // compare the operation, not its prefixes
		theirs := w.mnemonic
		if n, ok := capstoneNames[theirs]; ok {
			theirs = n
		}
		// capstone names string instructions by size (stosd) and WinDbg by operand (stos).
		if mine != theirs && !strings.HasPrefix(theirs, mine) {
			t.Errorf("at %#x: mnemonic %q, capstone %q", in.Addr, in.Mnemonic, w.mnemonic)
		}
		off += in.Len
	}
	if off != len(code) && len(want) > 0 {
		t.Errorf("capstone stopped at %d of %d bytes", off, len(code))
	}
}

// TestDisasmTableAgainstCstool decodes every x86/x64 entry of testdata/disasm.txt with capstone too.
func TestDisasmTableAgainstCstool(t *testing.T) {
	requireCstool(t)
	f, err := os.Open("testdata/disasm.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for lineNo := 1; sc.Scan(); lineNo++ {
		lhs, want, ok := strings.Cut(sc.Text(), " => ")
		fields := strings.Fields(lhs)
		if !ok || len(fields) != 3 || (fields[0] != "x86" && fields[0] != "x64") || want == "???" {
			continue
		}
		arch := tableArch(t, lineNo, fields[0])
		code := tableCode(t, lineNo, arch, fields[1])
		compareWithCstool(t, arch, code, parseTableAddr(t, lineNo, fields[2]))
		n++
	}
	t.Logf("%d table entries cross-checked with capstone", n)
}
