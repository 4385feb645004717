package commands

import (
	"bufio"
	"context"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Display commands on real dumps, checked against oracles that did not come from wdbg:
// breakpad's minidump_dump (breakpad/expected/minidump2.dump.out prints every memory region's
// bytes) and lldb-19 (`memory read` on the same files; the values are recorded beside the
// assertions). Fixture helpers (corpusDir, openCorpus, run) are in corpus_test.go.

// breakpadRegion is one MINIDUMP_MEMORY_DESCRIPTOR of the oracle with its bytes.
type breakpadRegion struct {
	start uint64
	data  []byte
}

// breakpadMemory reads the MinidumpMemoryList regions of minidump_dump's output: a
// `start_of_memory_range = 0x...` line, later a `Memory` line, then the bytes as 0x<hex>.
func breakpadMemory(t *testing.T, path string) []breakpadRegion {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var regions []breakpadRegion
	inList, start, wantBytes := false, uint64(0), false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "MinidumpMemoryList":
			inList = true
		case !inList:
		case strings.HasPrefix(line, "start_of_memory_range"):
			v := strings.TrimSpace(line[strings.Index(line, "=")+1:])
			start, err = strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64)
			if err != nil {
				t.Fatalf("oracle: %q: %v", line, err)
			}
		case line == "Memory":
			wantBytes = true
		case wantBytes:
			data, err := hex.DecodeString(strings.TrimPrefix(line, "0x"))
			if err != nil {
				t.Fatalf("oracle bytes at %#x: %v", start, err)
			}
			regions = append(regions, breakpadRegion{start, data})
			wantBytes = false
		case strings.HasPrefix(line, "MDException"):
			return regions
		}
	}
	return regions
}

// dbBytes parses db output back into address → byte, with -1 for "??".
func dbBytes(t *testing.T, out string) map[uint64]int {
	t.Helper()
	got := map[uint64]int{}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		addrText, rest, ok := strings.Cut(line, "  ")
		if !ok || len(rest) < 47 {
			t.Fatalf("db line %q", line)
		}
		addr, err := strconv.ParseUint(strings.ReplaceAll(addrText, "`", ""), 16, 64)
		if err != nil {
			t.Fatalf("db line %q: %v", line, err)
		}
		hexPart := strings.ReplaceAll(rest[:47], "-", " ")
		for i, field := range strings.Fields(hexPart) {
			if field == "??" {
				got[addr+uint64(i)] = -1
				continue
			}
			v, err := strconv.ParseUint(field, 16, 8)
			if err != nil {
				t.Fatalf("db line %q: %v", line, err)
			}
			got[addr+uint64(i)] = int(v)
		}
	}
	return got
}

// TestDisplayBreakpadMemory shows every memory region of minidump2.dmp (x86 XP) with db and
// compares each byte with the oracle's, and the bytes just past each region with "??".
func TestDisplayBreakpadMemory(t *testing.T) {
	s := openCorpus(t, "breakpad/minidump2.dmp")
	regions := breakpadMemory(t, filepath.Join(corpusDir(t), "breakpad/expected/minidump2.dump.out"))
	if len(regions) != 3 {
		t.Fatalf("oracle has %d memory regions, want 3 (region_count = 3)", len(regions))
	}
	for _, r := range regions {
		// One byte before and one after the region: neither is in the dump (the three regions,
		// 0x7c90eb14, 0x12f31c and 0x97f6e8, are far apart).
		cmd := "db " + strconv.FormatUint(r.start-1, 16) + " L" + strconv.FormatUint(uint64(len(r.data))+2, 16)
		got := dbBytes(t, run(t, s, cmd))
		if len(got) != len(r.data)+2 {
			t.Fatalf("%s: %d bytes shown, want %d", cmd, len(got), len(r.data)+2)
		}
		if got[r.start-1] != -1 || got[r.start+uint64(len(r.data))] != -1 {
			t.Errorf("%s: the bytes around the region should be ??", cmd)
		}
		for i, b := range r.data {
			if got[r.start+uint64(i)] != int(b) {
				t.Fatalf("%s: byte at %#x = %d, oracle %#02x", cmd, r.start+uint64(i), got[r.start+uint64(i)], b)
			}
		}
	}

	// Exact text. lldb-19 `memory read --size 1 --count 32 0x7c90eb14`:
	// ff 83 c4 ec 89 04 24 c7 44 24 04 01 00 00 00 89 5c 24 08 c7 44 24 10 00 00 00 00 54 e8 77 00 00
	want := "" +
		"7c90eb14  ff 83 c4 ec 89 04 24 c7-44 24 04 01 00 00 00 89  ......$.D$......\n" +
		"7c90eb24  5c 24 08 c7 44 24 10 00-00 00 00 54 e8 77 00 00  \\$..D$.....T.w..\n"
	if got := run(t, s, "db 7c90eb14 L20"); got != want {
		t.Errorf("db 7c90eb14 L20:\ngot:\n%s\nwant:\n%s", got, want)
	}
	// lldb-19 `memory read --size 4 --count 8 0x12f31c`:
	// 0x00000000 0x7c90e9c0 0x7c8025cb 0x000007b8 0x00000000 0x00000000 0x0012ff34 0x0012feb0
	want = "" +
		"0012f31c  00000000 7c90e9c0 7c8025cb 000007b8\n" +
		"0012f32c  00000000 00000000 0012ff34 0012feb0\n"
	if got := run(t, s, "dd 12f31c L8"); got != want {
		t.Errorf("dd 12f31c L8:\ngot:\n%s\nwant:\n%s", got, want)
	}
	// The same dwords as symbols: ntdll is at 0x7c900000 (size 0xb0000) and kernel32 at 0x7c800000
	// (size 0xf4000) in the oracle's module list.
	want = "" +
		"0012f31c  00000000\n" +
		"0012f320  7c90e9c0 ntdll+0xe9c0\n" +
		"0012f324  7c8025cb kernel32+0x25cb\n" +
		"0012f328  000007b8\n"
	if got := run(t, s, "dds 12f31c L4"); got != want {
		t.Errorf("dds 12f31c L4:\ngot:\n%s\nwant:\n%s", got, want)
	}
	if got := run(t, s, "dps 12f320 L1"); got != "0012f320  7c90e9c0 ntdll+0xe9c0\n" {
		t.Errorf("dps on x86 should be dds: %q", got)
	}
}

// TestDisplayWOW64 runs dc across the end of a captured range of the WOW64 full-memory dump
// (Memory64List: 0x720000-0x731000 is followed by a hole until 0x850000) and db across two
// adjacent ranges (0x348000-0x350000 and 0x350000-0x354000). The target is x64, so addresses print
// 64-bit with the backtick.
func TestDisplayWOW64(t *testing.T) {
	s := openCorpus(t, "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp")
	// lldb-19 `memory read --size 4 --count 8 0x730fe0`: 0x00990f1b 0x0300f80d 0x0072008c 0x0072008c
	// 0x00720038 0x00720038 0x00731000 0x000ee000; `memory read 0x731000` fails (not in the dump).
	want := "" +
		"00000000`00730fe0  00990f1b 0300f80d 0072008c 0072008c  ..........r...r.\n" +
		"00000000`00730ff0  00720038 00720038 00731000 000ee000  8.r.8.r...s.....\n" +
		"00000000`00731000  ???????? ???????? ???????? ????????  ????????????????\n" +
		"00000000`00731010  ???????? ???????? ???????? ????????  ????????????????\n"
	if got := run(t, s, "dc 730fe0 L10"); got != want {
		t.Errorf("dc 730fe0 L10:\ngot:\n%s\nwant:\n%s", got, want)
	}
	// The inclusive form over the same boundary: 0x730ff0 through 0x73100f is 8 dwords.
	if got := run(t, s, "dc 730ff0 73100f"); got != want[len(want)/4:len(want)*3/4] {
		t.Errorf("dc 730ff0 73100f:\n%s", got)
	}
	// lldb-19 `memory read --size 1 --count 8 0x34fff8`: eight zeros; `--count 16 0x350000`:
	// 41 63 74 78 20 00 00 00 01 00 00 00 18 33 00 00. (lldb reads the two ranges separately.)
	want = "00000000`0034fff8  00 00 00 00 00 00 00 00-41 63 74 78 20 00 00 00  ........Actx ...\n"
	if got := run(t, s, "db 34fff8 L10"); got != want {
		t.Errorf("db across adjacent ranges:\ngot  %q\nwant %q", got, want)
	}
	// `dc 01398000 013a0000` (issue 2): inclusive, 0x2001 dwords, so a last line of one dword. This
	// range is not in this dump, so every unit is unreadable.
	out := run(t, s, "dc 01398000 013a0000")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 0x801 {
		t.Fatalf("dc 01398000 013a0000: %d lines, want 0x801", len(lines))
	}
	if last := lines[len(lines)-1]; last != "00000000`013a0000  ????????"+strings.Repeat(" ", 29)+"????" {
		t.Errorf("last line %q", last)
	}
}

// BenchmarkDisplayDC renders dc over the 788 KB range at 0x8a0000 of the WOW64 dump.
func BenchmarkDisplayDC(b *testing.B) {
	s := openCorpus(b, "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp")
	b.SetBytes(0xc5000)
	for b.Loop() {
		res, err := s.Exec(context.Background(), "dc 8a0000 L31400")
		if err != nil {
			b.Fatal(err)
		}
		if err := res.WriteText(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
