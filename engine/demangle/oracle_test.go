package demangle

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// The oracles are text files made by testdata/capture.sh (llvm-undname 19 and llvm-pdbutil 19 on
// the corpus PDBs), kept in the repository so that these tests run where LLVM is not installed.

type pair struct{ decorated, want string }

func readPairs(t testing.TB, path string) []pair {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pairs []pair
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		d, u, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("%s: bad line %q", path, sc.Text())
		}
		pairs = append(pairs, pair{d, u})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return pairs
}

// knownFullFailures lists the names where Full is allowed to differ from llvm-undname (none at
// present: every name of testdata/undname.txt agrees).
var knownFullFailures = map[string]string{}

// TestFullAgainstUndname compares Full with llvm-undname on every name of testdata/undname.txt:
// 4,700 distinct names from the corpus PDBs' publics, globals and module symbols plus the
// hand-picked names of extra_names.txt. Where llvm-undname refuses a name, Full must refuse it
// too. String literals are the one deliberate difference: llvm-undname decodes their bytes, WinDbg
// and Full say `string'.
func TestFullAgainstUndname(t *testing.T) {
	pairs := readPairs(t, "testdata/undname.txt")
	if len(pairs) < 4000 {
		t.Fatalf("only %d names in testdata/undname.txt", len(pairs))
	}
	pass := 0
	for _, p := range pairs {
		want := p.want
		if strings.HasPrefix(p.decorated, "??_C@_") && want != "!error" {
			if !strings.HasPrefix(want, `"`) && !strings.HasPrefix(want, `L"`) && !strings.HasPrefix(want, `u"`) && !strings.HasPrefix(want, `U"`) {
				t.Errorf("%s: llvm-undname says %s, not a string literal", p.decorated, want)
			}
			want = "`string'"
		}
		got, ok := Full(p.decorated)
		if !ok {
			if got != p.decorated {
				t.Errorf("%s: refused but returned %q", p.decorated, got)
			}
			got = "!error"
		}
		if got == want {
			pass++
			continue
		}
		if _, known := knownFullFailures[p.decorated]; known {
			continue
		}
		t.Errorf("Full(%s)\n got  %s\n want %s", p.decorated, got, want)
	}
	t.Logf("Full: %d of %d names agree with llvm-undname (%.2f%%)", pass, len(pairs), 100*float64(pass)/float64(len(pairs)))
}

// knownNameFailures are the pairs of testdata/procnames.txt (decorated, tab, procedure name) where
// Name differs from the PDB's procedure name, with the reason.
var knownNameFailures = map[string]string{
	// Different compiler versions name the same destructor differently: one PDB says
	// "...::~_Compressed_pair<...>", another "...::~_Compressed_pair" (both pairs are in the file;
	// Name gives the first, as undname does).
	"??1?$_Compressed_pair@V?$allocator@D@std@@V?$_String_val@U?$_Simple_types@D@std@@@2@$00@std@@QAE@XZ\tstd::_Compressed_pair<std::allocator<char>,std::_String_val<std::_Simple_types<char> >,1>::~_Compressed_pair": "destructor template arguments",
	"??1?$_String_alloc@U?$_String_base_types@DV?$allocator@D@std@@@std@@@std@@QAE@XZ\tstd::_String_alloc<std::_String_base_types<char,std::allocator<char> > >::~_String_alloc":                                        "destructor template arguments",
	"??1?$_String_val@U?$_Simple_types@D@std@@@std@@QAE@XZ\tstd::_String_val<std::_Simple_types<char> >::~_String_val":                                                                                                  "destructor template arguments",
	"??1?$basic_string@DU?$char_traits@D@std@@V?$allocator@D@2@@std@@QAE@XZ\tstd::basic_string<char,std::char_traits<char>,std::allocator<char> >::~basic_string":                                                       "destructor template arguments",
	// An array of const function pointers as a template argument: the compiler drops the const
	// ("void (__cdecl*[1])(...)"), Name keeps it ("void (__cdecl* const [1])(...)").
	"??$initialize_from_array@$$BY00Q6AXPB_W00II@Z@?$dual_state_global@P6AXPB_W00II@Z@__crt_state_management@@QAAXAAY00Q6AXPB_W00II@Z@Z\t__crt_state_management::dual_state_global<void (__cdecl*)(wchar_t const *,wchar_t const *,wchar_t const *,unsigned int,unsigned int)>::initialize_from_array<void (__cdecl*[1])(wchar_t const *,wchar_t const *,wchar_t const *,unsigned int,unsigned int)>": "const array element",
}

// TestNameAgainstPDB compares Name with the names the compiler wrote into the corpus PDBs'
// procedure records for the same code (testdata/procnames.txt: a public and a procedure at one
// address), which is what WinDbg shows in stacks with private symbols.
func TestNameAgainstPDB(t *testing.T) {
	pairs := readPairs(t, "testdata/procnames.txt")
	if len(pairs) < 2000 {
		t.Fatalf("only %d pairs in testdata/procnames.txt", len(pairs))
	}
	pass := 0
	for _, p := range pairs {
		got, ok := Name(p.decorated)
		if ok && got == p.want {
			pass++
			continue
		}
		if _, known := knownNameFailures[p.decorated+"\t"+p.want]; known {
			continue
		}
		t.Errorf("Name(%s)\n got  %s (%v)\n want %s", p.decorated, got, ok, p.want)
	}
	t.Logf("Name: %d of %d names agree with the PDB procedure names (%.2f%%)", pass, len(pairs), 100*float64(pass)/float64(len(pairs)))
}
