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
		{"kernel64", append([]byte("PAGEDU64"), make([]byte, 100)...), ErrUnsupportedDump, `kernel dumps are not supported yet (signature "PAGEDU64" at offset 0)`},
		{"kernel32", append([]byte("PAGEDUMP"), make([]byte, 100)...), ErrUnsupportedDump, `kernel dumps are not supported yet (signature "PAGEDUMP" at offset 0)`},
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

// TestOpenKernelFixture: a real kernel triage dump (CATALOG: PAGEDU64) is recognised and
// refused with the "not supported yet" error.
func TestOpenKernelFixture(t *testing.T) {
	_, err := Open(userdumpFixture(t, "rizin-testbins/dmp/triage_x64.dmp"))
	if !errors.Is(err, ErrUnsupportedDump) || !strings.Contains(err.Error(), "kernel dumps are not supported yet") {
		t.Errorf("Open(triage_x64.dmp) = %v", err)
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
