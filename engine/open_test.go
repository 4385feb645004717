package engine

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"wdbg/internal/corpus"
)

func userdumpFixture(t testing.TB, rel string) string { return corpus.Path(t, rel) }

func openTarget(t testing.TB, rel string) *Target {
	t.Helper()
	tg, err := Open(userdumpFixture(t, rel))
	if err != nil {
		t.Fatalf("Open(%s): %v", rel, err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

func TestOpenSignatures(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name     string
		data     []byte
		sentinel error
		want     string
	}{
		{"empty", nil, ErrNotDump, "not a dump file: the file is empty"},
		{"pe", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), ErrNotDump, `the bytes at offset 0 are 4d 5a 90 00 03 00 00 00 ("MZ......"), not MDMP, PAGEDUMP or PAGEDU64`},
		{"short", []byte("MD"), ErrNotDump, `the bytes at offset 0 are 4d 44 ("MD")`},
		{"kernel64", append([]byte("PAGEDU64"), make([]byte, 100)...), nil, "kdump: DUMP_HEADER64 at 0x0: truncated (need 8192 bytes, have 108)"},
		{"kernel32", append([]byte("PAGEDUMP"), make([]byte, 100)...), nil, "kdump: DUMP_HEADER32 at 0x0: truncated (need 4096 bytes, have 108)"},
		{"userdump", append([]byte("USERDU64"), make([]byte, 100)...), ErrUnsupportedDump, "legacy full user dumps are not supported"},
		{"mdmp-header-only", []byte("MDMP\x93\xa7"), nil, "minidump: header at 0x0: truncated (need 32 bytes, have 6)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name+".dmp")
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			tg, err := Open(p)
			if err == nil {
				tg.Close()
				t.Fatalf("Open succeeded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if c.sentinel != nil && !errors.Is(err, c.sentinel) {
				t.Errorf("error %v is not %v", err, c.sentinel)
			}
			// The same through NewTarget.
			if _, err2 := NewTarget(bytes.NewReader(c.data), int64(len(c.data))); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("NewTarget error %v, Open error %v", err2, err)
			}
		})
	}
	if _, err := Open(filepath.Join(dir, "missing.dmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v", err)
	}
}

// TestOpenKernelFixture: the real kernel triage dump opens as a small kernel dump with the facts
// CATALOG.md and rizin's ORACLE_NOTES give: x64, 16 processors, build 19041, bug check 0x1000007E,
// 151 drivers, the stack pointer's memory (TopOfStack 0xffff850429890ee8) readable.
func TestOpenKernelFixture(t *testing.T) {
	tg, err := Open(userdumpFixture(t, "rizin-testbins/dmp/triage_x64.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if tg.Kind != KindKernelSmall || tg.Arch.String() != "x64" || tg.System.NumberOfProcessors != 16 ||
		tg.System.BuildNumber != 19041 || tg.Kernel == nil || tg.Kernel.BugCheck.Code != 0x1000007E ||
		len(tg.Modules) != 151 {
		t.Fatalf("triage_x64.dmp: kind %v arch %v cpus %d build %d kernel %+v modules %d", tg.Kind, tg.Arch,
			tg.System.NumberOfProcessors, tg.System.BuildNumber, tg.Kernel, len(tg.Modules))
	}
	if _, err := ReadU64(tg.Memory, 0xffff850429890ee8); err != nil {
		t.Errorf("the stack at TopOfStack is not readable: %v", err)
	}
	if tg.Kernel.KernelBase != 0xfffff8047ba00000 {
		t.Errorf("kernel base %#x, want 0xfffff8047ba00000 (ntoskrnl's base in the driver list)", tg.Kernel.KernelBase)
	}
}

// TestOpenRustMinidumpInvalid: rust-minidump's fuzzer-found files start with MDMP but hold
// nothing usable; they are refused with an error that lists what was skipped.
func TestOpenRustMinidumpInvalid(t *testing.T) {
	for _, name := range []string{"invalid-range.dmp", "invalid-record-count.dmp"} {
		_, err := Open(userdumpFixture(t, filepath.Join("rust-minidump", name)))
		if err == nil || !strings.Contains(err.Error(), "nothing usable in the dump") || !strings.Contains(err.Error(), " at 0x") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
