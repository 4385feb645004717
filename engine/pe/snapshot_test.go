package pe

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"wdbg/internal/corpus"
)

// cfiInits reads the "STACK CFI INIT <start> <size>" lines of a symbolic CFI snapshot: one per
// function symbolic found in the image's exception directory.
func cfiInits(t *testing.T, rel string) [][2]uint32 {
	t.Helper()
	fh, err := os.Open(corpus.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out [][2]uint32
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[0] != "STACK" || fields[1] != "CFI" || fields[2] != "INIT" {
			continue
		}
		start, err1 := strconv.ParseUint(fields[3], 16, 32)
		size, err2 := strconv.ParseUint(fields[4], 16, 32)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad snapshot line %q", sc.Text())
		}
		out = append(out, [2]uint32{uint32(start), uint32(size)})
	}
	if len(out) == 0 {
		t.Fatalf("%s: no STACK CFI INIT lines", rel)
	}
	return out
}

// TestCFISnapshotX64: symbolic's test_cfi__cfi_pe_windows.snap has one "STACK CFI INIT start
// size" line per RUNTIME_FUNCTION of CrashWithException.exe: the same ranges, in the same order,
// and LookupFunction finds each from any address inside it.
func TestCFISnapshotX64(t *testing.T) {
	f := openCorpus(t, "symbolic/CrashWithException.exe")
	want := cfiInits(t, "symbolic/snapshots/test_cfi__cfi_pe_windows.snap")
	tab, err := f.ExceptionTable()
	if err != nil || tab == nil {
		t.Fatalf("ExceptionTable: %v, %v", tab, err)
	}
	if len(tab.X64) != len(want) {
		t.Fatalf("%d runtime functions, snapshot %d", len(tab.X64), len(want))
	}
	for i, w := range want {
		r := tab.X64[i]
		if r.BeginAddress != w[0] || r.EndAddress-r.BeginAddress != w[1] {
			t.Errorf("entry %d = [%#x, %#x), snapshot %#x size %#x", i, r.BeginAddress, r.EndAddress, w[0], w[1])
		}
		for _, rva := range []uint32{w[0], w[0] + w[1] - 1} {
			e, ok, err := f.LookupFunction(rva)
			if err != nil || !ok || e.BeginAddress != w[0] || e.EndAddress != w[0]+w[1] {
				t.Errorf("LookupFunction(%#x) = %+v, %v, %v", rva, e, ok, err)
			}
		}
	}
	// Before the first function and in the gaps between functions there is no entry.
	if _, ok, err := f.LookupFunction(want[0][0] - 1); ok || err != nil {
		t.Errorf("LookupFunction before the first function = %v, %v", ok, err)
	}
	for i := 1; i < len(want); i++ {
		if end := want[i-1][0] + want[i-1][1]; end < want[i][0] {
			if e, ok, err := f.LookupFunction(end); ok || err != nil {
				t.Errorf("LookupFunction(%#x) in a gap = %+v, %v, %v", end, e, ok, err)
			}
		}
	}
}

// TestCFISnapshotARM64: symbolic's test_cfi__cfi_pe_arm64.snap starts a "STACK CFI INIT" record
// at functions of arm64/test.exe's .pdata. symbolic skips entries it cannot turn into CFI, so
// the snapshot's starts are a subset of the table's. (Its second number is not the function's
// length for this image, so only the starts are compared.)
func TestCFISnapshotARM64(t *testing.T) {
	f := openCorpus(t, "symbolic/arm64/test.exe")
	want := cfiInits(t, "symbolic/snapshots/test_cfi__cfi_pe_arm64.snap")
	tab, err := f.ExceptionTable()
	if err != nil || tab == nil || tab.ARM64 == nil {
		t.Fatalf("ExceptionTable: %v, %v", tab, err)
	}
	for _, w := range want {
		e, ok, err := f.LookupFunction(w[0])
		if err != nil || !ok || e.BeginAddress != w[0] {
			t.Errorf("LookupFunction(%#x) = %+v, %v, %v; want an entry starting there", w[0], e, ok, err)
		}
	}
	t.Logf("%d of %d entries start a snapshot record", len(want), tab.Len())
}
