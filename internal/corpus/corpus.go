// Package corpus locates the shared real-dump corpus for tests. The corpus lives in
// ../shared/fixtures beside the repository root (never inside it); a test that needs it skips when
// it is absent, and fails instead when WDBG_CORPUS_REQUIRED=1 (as .ci/run sets).
package corpus

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot is the directory holding go.mod, found upwards from the test's working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// Dir is the corpus directory, or skips (fails under WDBG_CORPUS_REQUIRED=1) when it is missing.
func Dir(t testing.TB) string {
	t.Helper()
	fixtures := filepath.Join(RepoRoot(t), "..", "shared", "fixtures")
	if _, err := os.Stat(fixtures); err != nil {
		if os.Getenv("WDBG_CORPUS_REQUIRED") == "1" {
			t.Fatalf("corpus required (WDBG_CORPUS_REQUIRED=1) but %s is missing", fixtures)
		}
		t.Skipf("corpus not present at %s", fixtures)
	}
	return fixtures
}

// Path is one corpus file; the test fails when the corpus is there but the file is not.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s: %v", rel, err)
	}
	return p
}

// Find is the corpus directory for code without a testing.TB (fuzz seeding): "" when absent.
func Find() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", "fixtures")
			if _, err := os.Stat(p); err != nil {
				return ""
			}
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// UserDumps lists the user-mode minidumps of the corpus (CATALOG.md), relative to Dir.
var UserDumps = []string{
	"breakpad/minidump2.dmp",
	"breakpad/minidump_32bit_crash_addr.dmp",
	"breakpad/null_read_av.dmp",
	"breakpad/null_write_av.dmp",
	"breakpad/stack_exhaustion.dmp",
	"breakpad/tiny-exe-fastfail.dmp",
	"breakpad/tiny-exe-with-cet-xsave.dmp",
	"breakpad/write_av_non_canonical.dmp",
	"kdlibcpp/targetapp_minidump/target_minidump.dmp",
	"kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp",
	"kdlibcpp/targetapp_stacktest_x64_release_v1/targetapp_stacktest_x64_release.dmp",
	"kdlibcpp/targetapp_test_cv_allreg_amd64/targetapp_test_cv_allreg_amd64.dmp",
	"lldb/fizzbuzz_no_heap.dmp",
	"lldb/sigsegv.dmp",
	"symbolicator/windows.dmp",
}
