package commands

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/cpu"
)

// fakeMemory is a sorted set of captured ranges. Adjacent ranges read through as one, as in a
// minidump whose memory list splits a region; a hole stops the read with the first missing address.
type fakeMemory []fakeRange

type fakeRange struct {
	base uint64
	data []byte
}

func (m fakeMemory) ReadAt(p []byte, addr uint64) (int, error) {
	n := 0
	for n < len(p) {
		a := addr + uint64(n)
		i := sort.Search(len(m), func(i int) bool { return m[i].base+uint64(len(m[i].data)) > a })
		if i == len(m) || m[i].base > a {
			return n, &engine.ReadError{Addr: a}
		}
		n += copy(p[n:], m[i].data[a-m[i].base:])
	}
	return n, nil
}

// fakeContext is just enough of a register context for "start at the current instruction".
type fakeContext struct {
	arch cpu.Arch
	pc   uint64
}

func (c fakeContext) Arch() cpu.Arch                 { return c.arch }
func (c fakeContext) PC() uint64                     { return c.pc }
func (c fakeContext) SP() uint64                     { return 0 }
func (c fakeContext) FP() uint64                     { return 0 }
func (c fakeContext) Register(string) (uint64, bool) { return 0, false }
func (c fakeContext) RegisterNames() []string        { return nil }

// testMemory is the address space the table tests display:
//
//	0x1000-0x103f  bytes 00..1f, then "abcdefghijklmnopqrstuvwxyz012345"
//	0x1040-0x104f  hole
//	0x1050-0x105f  "Hello, world!\r\n" NUL
//	0x1060-0x106f  (adjacent) UTF-16 "wdbg" NUL, ff ff, "ABCD"
//	0x1070-        hole
//	0x2000-0x200b  pointers 0x10001234, 0x10000000, 0x00000005, then a hole
//	0x3000-0x300d  "你好世界" in UTF-8, NUL NUL
func testMemory() fakeMemory {
	a := make([]byte, 0x40)
	for i := range 0x20 {
		a[i] = byte(i)
	}
	copy(a[0x20:], "abcdefghijklmnopqrstuvwxyz012345")
	return fakeMemory{
		{0x1000, a},
		{0x1050, []byte("Hello, world!\r\n\x00")},
		{0x1060, []byte{'w', 0, 'd', 0, 'b', 0, 'g', 0, 0, 0, 0xff, 0xff, 'A', 'B', 'C', 'D'}},
		{0x2000, []byte{0x34, 0x12, 0x00, 0x10, 0x00, 0x00, 0x00, 0x10, 0x05, 0, 0, 0}},
		{0x3000, append([]byte("你好世界"), 0, 0)},
	}
}

func testSession(arch cpu.Arch) *Session {
	t := &engine.Target{
		Arch:    arch,
		Memory:  testMemory(),
		Modules: []engine.Module{{Base: 0x10000000, Size: 0x10000, Name: "mod1"}},
		Threads: []engine.Thread{{ID: 1, Context: fakeContext{arch: arch, pc: 0x1000}}},
	}
	return NewSession(t)
}

func runText(t *testing.T, s *Session, cmd string) string {
	t.Helper()
	res, err := s.Exec(context.Background(), cmd)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	var b strings.Builder
	if err := res.WriteText(&b); err != nil {
		t.Fatalf("%s: WriteText: %v", cmd, err)
	}
	return b.String()
}

// The expected texts follow WINDBG-SPEC §3.6 and §1.3 and the public captures cited in
// memory_dump.go and memory_string.go: two blanks after the address, one between values, '-'
// between the 8th and 9th byte, the ASCII column two blanks after the (padded) values.
func TestDisplayLayouts32(t *testing.T) {
	tests := []struct{ cmd, want string }{
		{"db 1000 L20", "" +
			"00001000  00 01 02 03 04 05 06 07-08 09 0a 0b 0c 0d 0e 0f  ................\n" +
			"00001010  10 11 12 13 14 15 16 17-18 19 1a 1b 1c 1d 1e 1f  ................\n"},
		{"db 1028 l10", "00001028  69 6a 6b 6c 6d 6e 6f 70-71 72 73 74 75 76 77 78  ijklmnopqrstuvwx\n"},
		// A short last line keeps the ASCII column in place (capture: `db 02c0000 L5`).
		{"db 1000 L5", "00001000  00 01 02 03 04" + strings.Repeat(" ", 35) + ".....\n"},
		// Inclusive end, across a hole, and memory resuming inside a line.
		{"db 1038 1057", "" +
			"00001038  79 7a 30 31 32 33 34 35-?? ?? ?? ?? ?? ?? ?? ??  yz012345????????\n" +
			"00001048  ?? ?? ?? ?? ?? ?? ?? ??-48 65 6c 6c 6f 2c 20 77  ????????Hello, w\n"},
		// L- ends the range just before the address.
		{"db 1010 L-4", "0000100c  0c 0d 0e 0f" + strings.Repeat(" ", 38) + "....\n"},
		{"dw 1000 L9", "" +
			"00001000  0100 0302 0504 0706 0908 0b0a 0d0c 0f0e\n" +
			"00001010  1110\n"},
		// Adjacent ranges read through; the short line pads before its ASCII.
		{"dc 1058 L6", "" +
			"00001058  646c726f 000a0d21 00640077 00670062  orld!...w.d.b.g.\n" +
			"00001068  ffff0000 44434241" + strings.Repeat(" ", 20) + "....ABCD\n"},
		{"dc 1000 L?4", "00001000  03020100 07060504 0b0a0908 0f0e0d0c  ................\n"},
		{"dd 1068 L4", "00001068  ffff0000 44434241 ???????? ????????\n"},
		{"dd 1000 1007", "00001000  03020100 07060504\n"},
		{"dd 1000 1008", "00001000  03020100 07060504 0b0a0908\n"},
		{"dq 1000 L3", "" +
			"00001000  07060504`03020100 0f0e0d0c`0b0a0908\n" +
			"00001010  17161514`13121110\n"},
		{"dq 1068 L2", "00001068  44434241`ffff0000 ????????`????????\n"},
		{"dp 1000 L2", "00001000  03020100 07060504\n"},
		{"dds 2000 L4", "" +
			"00002000  10001234 mod1+0x1234\n" +
			"00002004  10000000 mod1\n" +
			"00002008  00000005\n" +
			"0000200c  ????????\n"},
		{"dps 2000 L1", "00002000  10001234 mod1+0x1234\n"},
		{"dd /c 2 1000 L3", "" +
			"00001000  03020100 07060504\n" +
			"00001008  0b0a0908\n"},
		{"dd /c2 1000 L2", "00001000  03020100 07060504\n"},
		{"da 1050", "00001050  \"Hello, world!..\"\n"},
		{"da 1020 L8", "00001020  \"abcdefgh\"\n"},
		// Unreadable characters print as '?' and do not end the string.
		{"da 1020", "" +
			"00001020  \"abcdefghijklmnopqrstuvwxyz012345\"\n" +
			"00001040  \"????????????????Hello, world!..\"\n"},
		{"du 1060", "00001060  \"wdbg\"\n"},
		{"du /c 2 1060", "00001060  \"wd\"\n00001064  \"bg\"\n"},
		{"du 1070 L4", "00001070  \"????\"\n"},
		{"da 105f", "0000105f  \"\"\n"},
		// A public capture (an extension's README) shows WinDbg on the UTF-8 bytes of "你好世界":
		// `da` gives "............" and `du` gives "뷤.붥룤.貕" (U+E5A0 and U+E796 are private-use
		// characters, shown as dots).
		{"da 3000", "00003000  \"............\"\n"},
		{"du 3000", "00003000  \"뷤.붥룤.貕\"\n"},
		{"db 1000 L0", ""},
	}
	for _, tc := range tests {
		s := testSession(cpu.ArchX86)
		if got := runText(t, s, tc.cmd); got != tc.want {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", tc.cmd, got, tc.want)
		}
	}
}

func TestDisplayLayouts64(t *testing.T) {
	tests := []struct{ cmd, want string }{
		{"db 1000 L4", "00000000`00001000  00 01 02 03" + strings.Repeat(" ", 38) + "....\n"},
		{"dq 1000 L1", "00000000`00001000  07060504`03020100\n"},
		{"dp 1068 L2", "00000000`00001068  44434241`ffff0000 ????????`????????\n"},
		{"dps 1008 L1", "00000000`00001008  0f0e0d0c`0b0a0908\n"},
		{"dds 2000 L2", "" +
			"00000000`00002000  10001234 mod1+0x1234\n" +
			"00000000`00002004  10000000 mod1\n"},
		{"dqs 2000 L2", "" +
			"00000000`00002000  10000000`10001234\n" +
			"00000000`00002008  ????????`????????\n"},
		{"du 1060", "00000000`00001060  \"wdbg\"\n"},
	}
	for _, tc := range tests {
		s := testSession(cpu.ArchAMD64)
		if got := runText(t, s, tc.cmd); got != tc.want {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", tc.cmd, got, tc.want)
		}
	}
}

// dW is case-sensitive against dw; the handler is run directly so that this test does not depend
// on how the command table resolves case.
func TestDisplayWordsASCII(t *testing.T) {
	s := testSession(cpu.ArchX86)
	res, err := runDisplay(context.Background(), s, "dW", "1050 L3")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	res.WriteText(&b)
	want := "00001050  6548 6c6c 2c6f" + strings.Repeat(" ", 27) + "Hello,\n"
	if b.String() != want {
		t.Errorf("dW:\ngot  %q\nwant %q", b.String(), want)
	}
}

func TestDisplayContinuation(t *testing.T) {
	s := testSession(cpu.ArchX86)
	// First use without a range starts at the current instruction (fake pc 0x1000) with the
	// default length: 128 bytes = 8 lines.
	out := runText(t, s, "db")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 8 || !strings.HasPrefix(lines[0], "00001000  00 01") || !strings.HasPrefix(lines[7], "00001070  ??") {
		t.Fatalf("db at ip: %q", out)
	}
	if got := runText(t, s, "dd 1000 L2"); got != "00001000  03020100 07060504\n" {
		t.Fatalf("dd: %q", got)
	}
	// Bare dd continues after the last dword with dd's default of 32 dwords (8 lines).
	out = runText(t, s, "dd")
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 8 || lines[0] != "00001008  0b0a0908 0f0e0d0c 13121110 17161514" {
		t.Fatalf("dd continuation: %q", out)
	}
	if s.Display.Next != 0x1088 {
		t.Errorf("next after dd = %#x, want 0x1088", s.Display.Next)
	}
	// d repeats the last kind.
	runText(t, s, "dw 1000 L1")
	if got := runText(t, s, "d 1002 L2"); got != "00001002  0302 0504\n" {
		t.Errorf("d after dw: %q", got)
	}
	// da continues after the NUL.
	runText(t, s, "da 1050")
	if s.Display.Next != 0x1060 {
		t.Errorf("next after da = %#x, want 0x1060", s.Display.Next)
	}
	if got := runText(t, s, "du"); got != "00001060  \"wdbg\"\n" {
		t.Errorf("du continuation: %q", got)
	}
}

func TestDisplayDefaultKindIsDB(t *testing.T) {
	s := testSession(cpu.ArchX86)
	if got := runText(t, s, "d 1000 L2"); got != "00001000  00 01"+strings.Repeat(" ", 44)+"..\n" {
		t.Errorf("d: %q", got)
	}
}

func TestDisplayRangeErrors(t *testing.T) {
	s := testSession(cpu.ArchX86)
	for _, tc := range []struct {
		cmd string
		col int
	}{
		{"db 1000 L10000001", 16}, // 256 MB + 1 byte
		{"dd 1000 L4000001", 15},  // 256 MB + 4 bytes
		{"db 2000 1000", 11},      // ends before it starts
		{"db 0 10000000", 12},     // 256 MB + 1 byte, inclusive
	} {
		_, err := s.Exec(context.Background(), tc.cmd)
		var re *RangeError
		if !errors.As(err, &re) {
			t.Errorf("%s: err = %v, want a range error", tc.cmd, err)
			continue
		}
		if re.Input != tc.cmd || re.Col != tc.col {
			t.Errorf("%s: got input %q col %d, want col %d", tc.cmd, re.Input, re.Col, tc.col)
		}
		if want := strings.Repeat(" ", tc.col) + "^ Range error in '" + tc.cmd + "'"; err.Error() != want {
			t.Errorf("%s: text %q", tc.cmd, err.Error())
		}
	}
	// Exactly 256 MB, or more with L?, is accepted (not rendered here).
	for _, cmd := range []string{"db 1000 L10000000", "dd 1000 L?4000001", "db 0 0fffffff"} {
		if _, err := s.Exec(context.Background(), cmd); err != nil {
			t.Errorf("%s: %v", cmd, err)
		}
	}
}

func TestDisplayArgumentErrors(t *testing.T) {
	s := testSession(cpu.ArchX86)
	for _, cmd := range []string{"db /x 1000", "db 1000 L", "db /c", "db /p 1000", "db 1000 2000 3000", "db nosuchthing"} {
		if _, err := s.Exec(context.Background(), cmd); err == nil {
			t.Errorf("%s: no error", cmd)
		}
	}
	_, err := s.Exec(context.Background(), "db 1000 2000 3000")
	var xe *ExtraCharsError
	if !errors.As(err, &xe) || xe.Col != 13 {
		t.Errorf("extra characters: %v", err)
	}
}

func TestDisplayJSON(t *testing.T) {
	s := testSession(cpu.ArchX86)
	res, err := s.Exec(context.Background(), "dc 1068 L3")
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"dc","address":"0x1068","unit":4,"count":3,"lines":[{"address":"0x1068",` +
		`"values":["0xffff0000","0x44434241",null],"ascii":"....ABCD????"}]}`
	if string(got) != want {
		t.Errorf("json:\ngot  %s\nwant %s", got, want)
	}
	res, _ = s.Exec(context.Background(), "dds 2000 L3")
	got, _ = json.Marshal(res)
	if !strings.Contains(string(got), `"symbols":["mod1+0x1234"]`) || !strings.Contains(string(got), `"symbols":[""]`) {
		t.Errorf("dds json: %s", got)
	}
	res, _ = s.Exec(context.Background(), "da 1050")
	got, _ = json.Marshal(res)
	if want := `{"kind":"da","address":"0x1050","text":"Hello, world!..","terminated":true,"lines":[{"address":"0x1050","text":"Hello, world!.."}]}`; string(got) != want {
		t.Errorf("da json:\ngot  %s\nwant %s", got, want)
	}
}

// cancelWriter cancels the command's context on the first write, as Ctrl-C during output would.
type cancelWriter struct {
	cancel func()
	n      int
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	w.cancel()
	w.n += len(p)
	return len(p), nil
}

func TestDisplayCancel(t *testing.T) {
	s := testSession(cpu.ArchX86)
	ctx, cancel := context.WithCancel(context.Background())
	res, err := s.Exec(ctx, "db 100000 L?1000000") // 16 MB of unreadable bytes: ~75 MB of text
	if err != nil {
		t.Fatal(err)
	}
	w := &cancelWriter{cancel: cancel}
	if err := res.WriteText(w); !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteText after cancel: %v", err)
	}
	if w.n > 1<<20 {
		t.Errorf("wrote %d bytes after the cancel", w.n)
	}
	// A context that ended before rendering began does not suppress the output.
	ctx2, cancel2 := context.WithCancel(context.Background())
	res, _ = s.Exec(ctx2, "db 1000 L1")
	cancel2()
	var b strings.Builder
	if err := res.WriteText(&b); err != nil || b.Len() == 0 {
		t.Errorf("render after the command's context ended: %v %q", err, b.String())
	}
	// da reads while running: a cancelled context stops it.
	ctx3, cancel3 := context.WithCancel(context.Background())
	cancel3()
	if _, err := s.Exec(ctx3, "da 1000 L?1000000"); !errors.Is(err, context.Canceled) {
		t.Errorf("da with a cancelled context: %v", err)
	}
}

func TestReadUnits(t *testing.T) {
	m := fakeMemory{{0x10, []byte{1, 2, 3}}, {0x15, []byte{4, 5, 6, 7, 8, 9, 10}}}
	buf := make([]byte, 16)
	valid := make([]bool, 8)
	readUnits(m, buf, 0x10, 2, valid)
	// Units: 10-11 ok, 12-13 (13 missing), 14-15 (14 missing), 16-17 ok, 18-19 ok, 1a-1b ok, 1c-1d, 1e-1f missing.
	want := []bool{true, false, false, true, true, true, false, false}
	for i := range want {
		if valid[i] != want[i] {
			t.Fatalf("valid = %v, want %v", valid, want)
		}
	}
	if buf[6] != 5 || buf[11] != 10 {
		t.Errorf("bytes = % x", buf)
	}
}

func TestRenderChars(t *testing.T) {
	units := []uint16{'a', 0x0a, 0xd83d, 0xde00, 0x6700, 0xd800, 'b', 0x7f}
	valid := []bool{true, true, true, true, true, true, true, true}
	// A surrogate pair is one character; a lone surrogate and control characters are dots.
	if got := renderChars(units, valid, 2); got != "a.😀最.b." {
		t.Errorf("renderChars = %q", got)
	}
	valid[0] = false
	if got := renderChars(units[:2], valid[:2], 1); got != "?." {
		t.Errorf("renderChars bytes = %q", got)
	}
}

func TestAppendAddr(t *testing.T) {
	for _, v := range []uint64{0, 0x1000, 0x7ffc8d700000, 0xffffffffffffffff, 0x123456789} {
		for _, ptr := range []int{4, 8} {
			if got := string(appendAddr(nil, v, ptr)); got != FormatAddr(v, ptr) {
				t.Errorf("appendAddr(%#x, %d) = %q, FormatAddr %q", v, ptr, got, FormatAddr(v, ptr))
			}
		}
	}
}
