package cpu

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"wdbg/internal/corpus"
)

// fixturesDir is the shared corpus (internal/corpus).
func fixturesDir(t *testing.T) string { return corpus.Dir(t) }

// oracleContext is one CONTEXT as breakpad's minidump_dump printed it: where the record is in the
// file, its architecture block name, and every `name = value` line of the block.
type oracleContext struct {
	rva, size int
	kind      string // MDRawContextX86 or MDRawContextAMD64
	fields    map[string]string
}

// parseMinidumpDump pairs every MDRawContext* block of minidump_dump's output with the
// thread_context location printed just before it (thread list and exception stream alike).
func parseMinidumpDump(t *testing.T, out []byte) []oracleContext {
	t.Helper()
	var (
		list      []oracleContext
		cur       *oracleContext
		rva, size = -1, -1
	)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "MDRawContext") {
			list = append(list, oracleContext{rva: rva, size: size, kind: line, fields: map[string]string{}})
			cur = &list[len(list)-1]
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			if strings.TrimSpace(line) == "" {
				cur = nil
			}
			continue
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if cur != nil {
			cur.fields[name] = value
			continue
		}
		switch name {
		case "thread_context.rva":
			v, _ := strconv.ParseInt(value, 0, 64)
			rva = int(v)
		case "thread_context.data_size":
			v, _ := strconv.ParseInt(value, 0, 64)
			size = int(v)
		}
	}
	return list
}

// breakpadX86 maps minidump_dump's x86 field names to the decoded record.
var breakpadX86 = map[string]func(*X86Context) uint64{
	"context_flags": func(c *X86Context) uint64 { return uint64(c.ContextFlags) },
	"dr0":           func(c *X86Context) uint64 { return uint64(c.Dr0) },
	"dr1":           func(c *X86Context) uint64 { return uint64(c.Dr1) },
	"dr2":           func(c *X86Context) uint64 { return uint64(c.Dr2) },
	"dr3":           func(c *X86Context) uint64 { return uint64(c.Dr3) },
	"dr6":           func(c *X86Context) uint64 { return uint64(c.Dr6) },
	"dr7":           func(c *X86Context) uint64 { return uint64(c.Dr7) },

	"float_save.control_word":   func(c *X86Context) uint64 { return uint64(c.FloatSave.ControlWord) },
	"float_save.status_word":    func(c *X86Context) uint64 { return uint64(c.FloatSave.StatusWord) },
	"float_save.tag_word":       func(c *X86Context) uint64 { return uint64(c.FloatSave.TagWord) },
	"float_save.error_offset":   func(c *X86Context) uint64 { return uint64(c.FloatSave.ErrorOffset) },
	"float_save.error_selector": func(c *X86Context) uint64 { return uint64(c.FloatSave.ErrorSelector) },
	"float_save.data_offset":    func(c *X86Context) uint64 { return uint64(c.FloatSave.DataOffset) },
	"float_save.data_selector":  func(c *X86Context) uint64 { return uint64(c.FloatSave.DataSelector) },
	"float_save.cr0_npx_state":  func(c *X86Context) uint64 { return uint64(c.FloatSave.Cr0NpxState) },

	"gs": func(c *X86Context) uint64 { return uint64(c.SegGs) },
	"fs": func(c *X86Context) uint64 { return uint64(c.SegFs) },
	"es": func(c *X86Context) uint64 { return uint64(c.SegEs) },
	"ds": func(c *X86Context) uint64 { return uint64(c.SegDs) },
	"cs": func(c *X86Context) uint64 { return uint64(c.SegCs) },
	"ss": func(c *X86Context) uint64 { return uint64(c.SegSs) },

	"edi":    func(c *X86Context) uint64 { return uint64(c.Edi) },
	"esi":    func(c *X86Context) uint64 { return uint64(c.Esi) },
	"ebx":    func(c *X86Context) uint64 { return uint64(c.Ebx) },
	"edx":    func(c *X86Context) uint64 { return uint64(c.Edx) },
	"ecx":    func(c *X86Context) uint64 { return uint64(c.Ecx) },
	"eax":    func(c *X86Context) uint64 { return uint64(c.Eax) },
	"ebp":    func(c *X86Context) uint64 { return uint64(c.Ebp) },
	"eip":    func(c *X86Context) uint64 { return uint64(c.Eip) },
	"eflags": func(c *X86Context) uint64 { return uint64(c.EFlags) },
	"esp":    func(c *X86Context) uint64 { return uint64(c.Esp) },
}

// breakpadAMD64 maps minidump_dump's x64 field names to the decoded record.
var breakpadAMD64 = map[string]func(*AMD64Context) uint64{
	"p1_home": func(c *AMD64Context) uint64 { return c.P1Home },
	"p2_home": func(c *AMD64Context) uint64 { return c.P2Home },
	"p3_home": func(c *AMD64Context) uint64 { return c.P3Home },
	"p4_home": func(c *AMD64Context) uint64 { return c.P4Home },
	"p5_home": func(c *AMD64Context) uint64 { return c.P5Home },
	"p6_home": func(c *AMD64Context) uint64 { return c.P6Home },

	"context_flags": func(c *AMD64Context) uint64 { return uint64(c.ContextFlags) },
	"mx_csr":        func(c *AMD64Context) uint64 { return uint64(c.MxCsr) },
	"cs":            func(c *AMD64Context) uint64 { return uint64(c.SegCs) },
	"ds":            func(c *AMD64Context) uint64 { return uint64(c.SegDs) },
	"es":            func(c *AMD64Context) uint64 { return uint64(c.SegEs) },
	"fs":            func(c *AMD64Context) uint64 { return uint64(c.SegFs) },
	"gs":            func(c *AMD64Context) uint64 { return uint64(c.SegGs) },
	"ss":            func(c *AMD64Context) uint64 { return uint64(c.SegSs) },
	"eflags":        func(c *AMD64Context) uint64 { return uint64(c.EFlags) },

	"dr0": func(c *AMD64Context) uint64 { return c.Dr0 },
	"dr1": func(c *AMD64Context) uint64 { return c.Dr1 },
	"dr2": func(c *AMD64Context) uint64 { return c.Dr2 },
	"dr3": func(c *AMD64Context) uint64 { return c.Dr3 },
	"dr6": func(c *AMD64Context) uint64 { return c.Dr6 },
	"dr7": func(c *AMD64Context) uint64 { return c.Dr7 },

	"rax": func(c *AMD64Context) uint64 { return c.Rax },
	"rcx": func(c *AMD64Context) uint64 { return c.Rcx },
	"rdx": func(c *AMD64Context) uint64 { return c.Rdx },
	"rbx": func(c *AMD64Context) uint64 { return c.Rbx },
	"rsp": func(c *AMD64Context) uint64 { return c.Rsp },
	"rbp": func(c *AMD64Context) uint64 { return c.Rbp },
	"rsi": func(c *AMD64Context) uint64 { return c.Rsi },
	"rdi": func(c *AMD64Context) uint64 { return c.Rdi },
	"r8":  func(c *AMD64Context) uint64 { return c.R8 },
	"r9":  func(c *AMD64Context) uint64 { return c.R9 },
	"r10": func(c *AMD64Context) uint64 { return c.R10 },
	"r11": func(c *AMD64Context) uint64 { return c.R11 },
	"r12": func(c *AMD64Context) uint64 { return c.R12 },
	"r13": func(c *AMD64Context) uint64 { return c.R13 },
	"r14": func(c *AMD64Context) uint64 { return c.R14 },
	"r15": func(c *AMD64Context) uint64 { return c.R15 },
	"rip": func(c *AMD64Context) uint64 { return c.Rip },
}

// checkAgainstOracle decodes every context the oracle printed and compares each field it printed;
// a field the test does not know fails, so the oracle's coverage cannot shrink unnoticed.
func checkAgainstOracle(t *testing.T, dump []byte, contexts []oracleContext) {
	t.Helper()
	if len(contexts) == 0 {
		t.Fatal("the oracle printed no CONTEXT")
	}
	for i, oc := range contexts {
		if oc.rva < 0 || oc.size < 0 || oc.rva+oc.size > len(dump) {
			t.Fatalf("context %d: oracle location rva %#x size %#x outside the file", i, oc.rva, oc.size)
		}
		rec := dump[oc.rva : oc.rva+oc.size]
		want := func(name string) uint64 {
			v, err := strconv.ParseUint(oc.fields[name], 0, 64)
			if err != nil {
				t.Fatalf("context %d: oracle field %s = %q: %v", i, name, oc.fields[name], err)
			}
			return v
		}
		switch oc.kind {
		case "MDRawContextX86":
			c, err := DecodeX86(rec)
			if err != nil {
				t.Fatalf("context %d @%#x: %v", i, oc.rva, err)
			}
			x := c.(*X86Context)
			for name, value := range oc.fields {
				switch name {
				case "float_save.register_area[80]":
					compareHex(t, i, name, value, x.FloatSave.RegisterArea[:])
				case "extended_registers[512]":
					compareHex(t, i, name, value, x.ExtendedRegisters[:])
				default:
					get, ok := breakpadX86[name]
					if !ok {
						t.Errorf("context %d: oracle field %q has no counterpart in the test", i, name)
						continue
					}
					if got := get(x); got != want(name) {
						t.Errorf("context %d @%#x: %s = %#x, oracle says %s", i, oc.rva, name, got, value)
					}
				}
			}
		case "MDRawContextAMD64":
			c, err := DecodeAMD64(rec)
			if err != nil {
				t.Fatalf("context %d @%#x: %v", i, oc.rva, err)
			}
			x := c.(*AMD64Context)
			for name, value := range oc.fields {
				get, ok := breakpadAMD64[name]
				if !ok {
					t.Errorf("context %d: oracle field %q has no counterpart in the test", i, name)
					continue
				}
				if got := get(x); got != want(name) {
					t.Errorf("context %d @%#x: %s = %#x, oracle says %s", i, oc.rva, name, got, value)
				}
			}
		default:
			t.Errorf("context %d: oracle block %q not handled by the test", i, oc.kind)
		}
	}
}

func compareHex(t *testing.T, i int, name, value string, got []byte) {
	t.Helper()
	want, err := hex.DecodeString(strings.TrimPrefix(value, "0x"))
	if err != nil {
		t.Fatalf("context %d: oracle %s: %v", i, name, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("context %d: %s differs from the oracle", i, name)
	}
}

// TestX86ContextsMatchBreakpadExpected decodes the x86 contexts of breakpad's minidump2.dmp and
// compares every field with breakpad's own expected minidump_dump output (expected/minidump2.dump.out).
func TestX86ContextsMatchBreakpadExpected(t *testing.T) {
	fx := fixturesDir(t)
	dump, err := os.ReadFile(filepath.Join(fx, "breakpad", "minidump2.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(filepath.Join(fx, "breakpad", "expected", "minidump2.dump.out"))
	if err != nil {
		t.Fatal(err)
	}
	contexts := parseMinidumpDump(t, out)
	// minidump2.dump.out prints the two thread contexts and the exception's (breakpad
	// minidump2.dump.out: thread_context.rva 0xd94, 0x1060 and exception 0xac8).
	if len(contexts) != 3 {
		t.Fatalf("parsed %d contexts from minidump2.dump.out, want 3", len(contexts))
	}
	checkAgainstOracle(t, dump, contexts)
	// One value spelled out, from minidump2.dump.out's first thread: eip = 0x7c90eb94.
	c, _ := DecodeX86(dump[0xd94 : 0xd94+0x2cc])
	if c.PC() != 0x7c90eb94 {
		t.Errorf("thread 0xbf4 eip = %#x, minidump2.dump.out says 0x7c90eb94", c.PC())
	}
}

// minidumpDumpTool finds breakpad's minidump_dump (WDBG_MINIDUMP_DUMP, else the oracle install
// under /tmp/oracles), or "" when it is not installed.
func minidumpDumpTool() string {
	for _, p := range []string{
		os.Getenv("WDBG_MINIDUMP_DUMP"),
		"/tmp/oracles/npm/node_modules/minidump/bin/linux-x64/minidump_dump",
	} {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// TestContextsMatchMinidumpDump runs breakpad's minidump_dump over real x86 and x64 dumps and
// compares every context field it prints with ours.
func TestContextsMatchMinidumpDump(t *testing.T) {
	fx := fixturesDir(t)
	tool := minidumpDumpTool()
	if tool == "" {
		t.Skip("breakpad minidump_dump not installed (set WDBG_MINIDUMP_DUMP); skipping")
	}
	for _, rel := range []string{
		"lldb/sigsegv.dmp",
		"lldb/fizzbuzz_no_heap.dmp",
		"symbolicator/windows.dmp",
		"breakpad/tiny-exe-with-cet-xsave.dmp", // 0x57F-byte contexts: XSTATE after the CONTEXT
		"breakpad/tiny-exe-fastfail.dmp",
		"breakpad/write_av_non_canonical.dmp",
		"kdlibcpp/targetapp_minidump/target_minidump.dmp",
		"kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp",
	} {
		t.Run(rel, func(t *testing.T) {
			path := filepath.Join(fx, filepath.FromSlash(rel))
			dump, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// minidump_dump exits 1 when it meets a stream it cannot print (SystemMemoryInfo,
			// Token, ...) but still prints the rest; only an empty output is a failure.
			out, err := exec.Command(tool, path).Output()
			if len(out) == 0 {
				t.Fatalf("%s printed nothing: %v", tool, err)
			}
			checkAgainstOracle(t, dump, parseMinidumpDump(t, out))
		})
	}
}

// TestSigsegvContextLiteral keeps one x64 check that needs no tool: thread 0x2a6c of
// lldb/sigsegv.dmp, values as breakpad minidump_dump printed them (context at rva 0x112e,
// 0x4d0 bytes; rip 0x7ffbddd70c24, rsp 0xaddabae1e8, eflags 0x246, cs 0x33, mx_csr 0x1f80).
func TestSigsegvContextLiteral(t *testing.T) {
	dump, err := os.ReadFile(filepath.Join(fixturesDir(t), "lldb", "sigsegv.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := DecodeAMD64(dump[0x112e : 0x112e+0x4d0])
	if err != nil {
		t.Fatal(err)
	}
	x := c.(*AMD64Context)
	if x.Rip != 0x7ffbddd70c24 || x.Rsp != 0xaddabae1e8 || x.EFlags != 0x246 || x.SegCs != 0x33 || x.MxCsr != 0x1f80 {
		t.Errorf("rip %#x rsp %#x efl %#x cs %#x mxcsr %#x", x.Rip, x.Rsp, x.EFlags, x.SegCs, x.MxCsr)
	}
	// MxCsr is stored twice; kdmp-parser checks they agree (FORMATS.md §4.4).
	if !x.HasFltSave || x.FltSave.MxCsr != x.MxCsr {
		t.Errorf("FltSave.MxCsr %#x, MxCsr %#x", x.FltSave.MxCsr, x.MxCsr)
	}
}
