package commands

import (
	"encoding/json"
	"strings"
	"testing"
)

// lmFlags runs lm and returns each module's symbol flag by name (JSON), and the text.
func lmFlags(t *testing.T, s *Session, args string) (map[string]string, string) {
	t.Helper()
	r, err := s.Exec(t.Context(), "lm"+args)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	var out struct {
		Modules []struct {
			Name string `json:"name"`
			Flag string `json:"symbol_flag"`
		} `json:"modules"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	flags := map[string]string{}
	for _, m := range out.Modules {
		flags[m.Name] = m.Flag
	}
	return flags, run(t, s, "lm"+args)
}

// lm's flag letters (WINDBG-SPEC §3.4, the debugger documentation's symbol status
// abbreviations): the WOW64 dump holds every image, and DbgEng wrote its module list from those
// same images, so after loading no module is flagged. A module list entry that disagrees with its
// image is flagged M (mismatch, used anyway) whether the checksum, size or timestamp differs. In the x64 minidump, which
// holds no image, a module without a timestamp gives T.
func TestLmMismatchFlags(t *testing.T) {
	s := sessionWithSymbols(t, "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp", "")
	if flags, text := lmFlags(t, s, ""); len(flags) != len(s.Target.Modules) || strings.Join(mapValues(flags), "") != "" {
		t.Fatalf("lm before loading flags modules:\n%s", text)
	}
	run(t, s, ".reload /f")
	flags, text := lmFlags(t, s, "")
	for name, f := range flags {
		// targetapp is a debug build linked without a checksum (breakpad minidump_dump: its module
		// record has checksum = 0x0), which the documentation's C flag marks.
		if want := map[string]string{"targetapp": "C"}[name]; f != want {
			t.Errorf("%s flagged %q, want %q:\n%s", name, f, want, text)
		}
	}
	k32, ok := s.Symbols.ModuleByName("kernel32")
	base, ok2 := s.Symbols.ModuleByName("KERNELBASE")
	if !ok || !ok2 {
		t.Fatal("no kernel32 or KERNELBASE")
	}
	s.Target.Modules[k32].Checksum ^= 0x10
	s.Target.Modules[base].Size += 0x1000
	flags, text = lmFlags(t, s, "")
	if flags["kernel32"] != "M" || flags["KERNELBASE"] != "M" || flags["ntdll"] != "" {
		t.Errorf("flags %v:\n%s", flags, text)
	}
	if got := run(t, s, "lm m kernel32"); !strings.Contains(got, "   kernel32 M (export symbols)") {
		t.Errorf("lm m kernel32 = %q", got)
	}

	s = sessionWithSymbols(t, "kdlibcpp/targetapp_stacktest_x64_release_v1/targetapp_stacktest_x64_release.dmp", "")
	run(t, s, ".reload /f")
	nt, _ := s.Symbols.ModuleByName("ntdll")
	s.Target.Modules[nt].TimeDateStamp = 0
	if flags, text := lmFlags(t, s, ""); flags["ntdll"] != "T" || flags["kernel32"] != "" {
		t.Errorf("flags %v:\n%s", flags, text)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
