package main

import (
	"os"
	"strings"
	"testing"
)

const (
	referenceBegin = "<!-- commands:begin -->\n"
	referenceEnd   = "<!-- commands:end -->"
)

// TestReadmeCommandReference fails when README.md's command reference differs from what the
// command table generates; `make readme` (this test with -update) rewrites it.
func TestReadmeCommandReference(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	begin := strings.Index(readme, referenceBegin)
	end := strings.Index(readme, referenceEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md lacks the %q ... %q markers", strings.TrimSpace(referenceBegin), referenceEnd)
	}
	var ref strings.Builder
	if err := writeCommandReference(&ref, true); err != nil {
		t.Fatal(err)
	}
	current := readme[begin+len(referenceBegin) : end]
	want := ref.String()
	if current == want {
		return
	}
	if *update {
		updated := readme[:begin+len(referenceBegin)] + want + readme[end:]
		if err := os.WriteFile("README.md", []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's command reference is out of date; run `make readme`.\n%s", lineDiff(want, current))
}
