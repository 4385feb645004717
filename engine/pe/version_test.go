package pe

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// versionOracles maps each pefile transcript in testdata/oracles (capture.sh,
// version_oracle.py) to its image.
var versionOracles = map[string]string{
	"user32.dll":              "rizin-testbins/pdb/user32.dll",
	"integration.dll":         "symbolic/integration.dll",
	"amdppm.sys":              "test-pdb-repository/amdppm.sys/c9c030003b000/amdppm.sys",
	"Wdf01000.sys":            "test-pdb-repository/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys",
	"mozwer.dll":              "mozilla-dump_syms/mozwer.dll",
	"pe_only_symbol_test.dll": "breakpad/dump_syms_testdata/pe_only_symbol_test.dll",
}

// versionLines renders a VersionInfo in version_oracle.py's line format. pefile prints the
// StringFileInfo and VarFileInfo children in resource order, so the order is compared too.
func versionLines(v *VersionInfo, order []string) []string {
	if v == nil {
		return []string{"none"}
	}
	var out []string
	if x := v.Fixed; x != nil {
		for _, kv := range []struct {
			k string
			v uint32
		}{{"Signature", x.Signature}, {"StrucVersion", x.StrucVersion}, {"FileVersionMS", x.FileVersionMS},
			{"FileVersionLS", x.FileVersionLS}, {"ProductVersionMS", x.ProductVersionMS}, {"ProductVersionLS", x.ProductVersionLS},
			{"FileFlagsMask", x.FileFlagsMask}, {"FileFlags", x.FileFlags}, {"FileOS", x.FileOS}, {"FileType", x.FileType},
			{"FileSubtype", x.FileSubtype}, {"FileDateMS", x.FileDateMS}, {"FileDateLS", x.FileDateLS}} {
			out = append(out, fmt.Sprintf("fixed %s %#x", kv.k, kv.v))
		}
	}
	for _, part := range order {
		switch part {
		case "table":
			for _, st := range v.StringTables {
				out = append(out, "table "+st.Key)
				for _, s := range st.Strings {
					out = append(out, "string "+s.Key+"="+s.Value)
				}
			}
		case "translation":
			for _, tr := range v.Translations {
				out = append(out, fmt.Sprintf("translation 0x%04x 0x%04x", tr.Language, tr.CodePage))
			}
		}
	}
	return out
}

// TestVersionOracle compares the version resource with pefile's decoding of it, recorded in
// testdata/oracles/*.version.txt.
func TestVersionOracle(t *testing.T) {
	for _, name := range sortedKeys(versionOracles) {
		t.Run(name, func(t *testing.T) {
			f := openCorpus(t, versionOracles[name])
			fh, err := os.Open(filepath.Join("testdata", "oracles", name+".version.txt"))
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			var want, order []string
			sc := bufio.NewScanner(fh)
			for sc.Scan() {
				line := sc.Text()
				if strings.HasPrefix(line, "#") {
					continue
				}
				want = append(want, line)
				kind, _, _ := strings.Cut(line, " ")
				if (kind == "table" || kind == "translation") && !contains(order, kind) {
					order = append(order, kind)
				}
			}
			v, err := f.VersionInfo()
			if err != nil {
				t.Fatalf("VersionInfo: %v", err)
			}
			got := versionLines(v, order)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("version resource:\n%s\npefile:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if v == nil {
				return
			}
			// The table key is language and code page; Lookup finds a string of it.
			for _, st := range v.StringTables {
				if k, _ := strconv.ParseUint(st.Key, 16, 32); uint16(k>>16) != st.Language || uint16(k) != st.CodePage {
					t.Errorf("table %s: language %#x code page %#x", st.Key, st.Language, st.CodePage)
				}
				for _, s := range st.Strings {
					if got, ok := v.Lookup(s.Key); !ok || got != s.Value && s.Key != "" {
						t.Errorf("Lookup(%q) = %q, %v", s.Key, got, ok)
					}
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
