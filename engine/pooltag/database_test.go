package pooltag

import (
	"strings"
	"testing"
)

func mustParse(t *testing.T, name, text string) []Entry {
	t.Helper()
	p, err := Parse(strings.NewReader(text), name)
	if err != nil || len(p.Errors) > 0 {
		t.Fatalf("parse %s: %v %v", name, err, p.Errors)
	}
	return p.Entries
}

func TestDescribePrecedence(t *testing.T) {
	user := mustParse(t, "user.txt", `
Leak - leakydrv.sys - our leaking driver
CM?? - user.sys - user wildcard for CM
Ab*  - userab.sys - user star pattern
Dup1 - first.sys - first of two
Dup1 - second.sys - second of two
`)
	theirs := mustParse(t, "ms.txt", `
Leak - other.sys - must lose to the user file
CM31 - nt!cm - exact CM31
CM?? - nt!cm - ms wildcard for CM
CMk? - nt!cm - more specific pattern
Ab?c - ab.sys - ms question pattern
Zz?? - zz.sys - only here
`)
	db := NewDatabase(user, theirs)
	tests := []struct {
		tag, binary, source string
	}{
		{"Leak", "leakydrv.sys", "user.txt:2"}, // earlier file wins for the same exact tag
		{"Dup1", "first.sys", "user.txt:5"},    // first line wins inside a file
		{"CM31", "nt!cm", "ms.txt:3"},          // exact in a later file beats a pattern in an earlier one
		{"CM00", "user.sys", "user.txt:3"},     // among patterns, the earlier file wins
		{"CMkb", "user.sys", "user.txt:3"},     // ...even against a more specific pattern of a later file
		{"Abxc", "userab.sys", "user.txt:4"},
		{"Zz12", "zz.sys", "ms.txt:7"},
	}
	for _, tc := range tests {
		e, ok := db.Describe(tc.tag)
		if !ok || e.Binary != tc.binary || e.Source != tc.source {
			t.Errorf("Describe(%q) = %+v, %v; want binary %q from %s", tc.tag, e, ok, tc.binary, tc.source)
		}
	}
	if _, ok := db.Describe("Nope"); ok {
		t.Error("Describe(Nope) found something")
	}
	// Inside one file the more specific pattern wins whatever the line order.
	db2 := NewDatabase(mustParse(t, "f", "CM?? - a.sys - generic\nCMk? - b.sys - specific\n"))
	if e, _ := db2.Describe("CMkb"); e.Binary != "b.sys" {
		t.Errorf("specific pattern lost: %+v", e)
	}
	var nilDB *Database
	if _, ok := nilDB.Describe("Proc"); ok || nilDB.Len() != 0 {
		t.Error("nil database describes")
	}
}

// The exact strings come from the captures in WINDBG-SPEC.md §3.8.
func TestFormatting(t *testing.T) {
	db := NewDatabase(mustParse(t, "ms.txt", `
IoWI - nt!io - Io work items
File - <unknown> - File objects
Proc - nt!ps - Process objects
`))
	tests := []struct{ got, want string }{
		{db.PoolusedText("IoWI"), "Io work items , Binary: nt!io"},
		{db.PoolusedText("File"), "File objects "},
		{db.PoolusedText("amda"), "UNKNOWN pooltag 'amda', please update pooltag.txt"},
		{db.PoolusedText("a\x01\x02z"), "UNKNOWN pooltag 'a..z', please update pooltag.txt"},
		{db.PoolText("Proc"), "Pooltag Proc : Process objects, Binary : nt!ps"},
		{db.PoolText("File"), "Pooltag File : File objects"},
		{db.PoolText("7+.#"), "Owning component : Unknown (update pooltag.txt)"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%d: got %q, want %q", i, tc.got, tc.want)
		}
	}
}
