package demangle

import (
	"os"
	"strings"
	"testing"
)

// FuzzDemangle undecorates arbitrary strings: nothing may panic, a refused name comes back
// unchanged and an accepted one is not empty. (Name and Full may differ in acceptance only when one
// of them outgrows maxOutput.)
func FuzzDemangle(f *testing.F) {
	if b, err := os.ReadFile("testdata/extra_names.txt"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "?") {
				f.Add(l)
			}
		}
	}
	f.Add("??_C@_0L@OKMGHCGP@ImmEscapeA?$AA@")
	f.Add("??__E?x@Foo@@2HA@@YAXXZ")
	f.Fuzz(func(t *testing.T, s string) {
		name, ok1 := Name(s)
		full, ok2 := Full(s)
		for _, r := range []struct {
			out string
			ok  bool
		}{{name, ok1}, {full, ok2}} {
			if !r.ok && r.out != s {
				t.Fatalf("%q refused but changed to %q", s, r.out)
			}
			if r.ok && r.out == "" {
				t.Fatalf("%q accepted with empty output", s)
			}
		}
	})
}
