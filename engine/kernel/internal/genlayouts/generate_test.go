package main

import (
	"os"
	"path/filepath"
	"testing"

	"wdbg/internal/corpus"
)

// TestDataFilesMatchSpec regenerates the data files from FORMATS.md and compares them with the
// embedded copies, so that an edited spec table or a hand-edited data file is caught.
func TestDataFilesMatchSpec(t *testing.T) {
	root := corpus.RepoRoot(t)
	spec := filepath.Join(root, "..", "shared", "spec", "FORMATS.md")
	text, err := os.ReadFile(spec)
	if err != nil {
		if os.Getenv("WDBG_CORPUS_REQUIRED") == "1" {
			t.Fatalf("spec required: %v", err)
		}
		t.Skipf("spec not present: %v", err)
	}
	files, err := Generate(string(text))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root, "engine", "kernel", "layouts", name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("layouts/%s differs from FORMATS.md §5: run go generate ./engine/kernel", name)
		}
	}
}

func TestGenerateRejectsBadCell(t *testing.T) {
	spec := "**_FOO (x64)**\n\n| field | 7601 |\n|---|---|\n| A | 0x1g |\n"
	if _, err := Generate(spec); err == nil {
		t.Fatal("a malformed cell was accepted")
	}
}
