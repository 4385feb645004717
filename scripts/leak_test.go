package scripts

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"wdbg/commands"
	"wdbg/engine/ksynth"
	"wdbg/internal/corpus"
)

// TestPlaybookLeak runs leak.lua on the Leak scenario of each machine and checks its transcript
// for the facts the writer put in (Manifest.Pool, ksynth.LeakScenario): the !vm banner of paged
// pool at its maximum, the top tags in the manifest's order with their bytes, the owner image
// the writer planted the tag in, and the verdict naming Leak.
func TestPlaybookLeak(t *testing.T) {
	for _, mc := range ksynth.Machines {
		t.Run(mc.String(), func(t *testing.T) {
			h, m := poolHost(t, mc, Options{})
			out := playbook(t, h, "leak.lua")
			v := m.Pool.VM.Values
			usage, max := v["PagedPoolCommit"], v["SizeOfPagedPoolInBytes"]/4096
			mustContain(t, "leak", out, "********** Excessive Paged Pool Usage *****")
			for _, re := range []string{
				fmt.Sprintf(`\n  PagedPool Usage: +%d pages \(%d Kb\)\n`, usage, usage*4),
				fmt.Sprintf(`\n  PagedPool Maximum: +%d pages \(%d Kb\)\n`, max, max*4),
			} {
				if !regexp.MustCompile(re).MatchString(out) {
					t.Errorf("leak: output lacks %s:\n%s", re, out)
				}
			}

			// The two top-10 lists, in the manifest's order.
			for _, paged := range []bool{true, false} {
				title := "TOP NONPAGED TAGS"
				if paged {
					title = "TOP PAGED TAGS"
				}
				section := sectionOf(out, title)
				ranked := rankedTags(m, paged)
				n := min(10, len(ranked))
				lines := rankLines.FindAllStringSubmatch(section, -1)
				if len(lines) != n {
					t.Errorf("%s: %d rows, want %d\n%s", title, len(lines), n, section)
					continue
				}
				for i, l := range lines {
					w := ranked[i]
					allocs, frees := w.npAllocs, w.npFrees
					if paged {
						allocs, frees = w.pAllocs, w.pFrees
					}
					want := []string{fmt.Sprint(i + 1), strings.TrimRight(w.tag, " "), fmt.Sprint(bytesOf(w, paged)), fmt.Sprint(allocs - frees)}
					if got := []string{l[1], l[2], l[3], l[4]}; strings.Join(got, " ") != strings.Join(want, " ") {
						t.Errorf("%s row %d: %v, manifest %v", title, i+1, got, want)
					}
				}
			}
			// Leak's description: not in any tag list, so WinDbg's unknown-tag text.
			mustContain(t, "leak", out, "UNKNOWN pooltag 'Leak', please update pooltag.txt")

			// Owners: the images the writer put the Leak tag in (Manifest.Pool.Owners).
			owners := map[string]int{}
			for _, o := range m.Pool.Owners {
				if o.Tag == "Leak" {
					owners[o.Module]++
				}
			}
			if len(owners) == 0 {
				t.Fatal("the scenario puts Leak in no image")
			}
			for mod, n := range owners {
				mustContain(t, "leak owners", out, fmt.Sprintf("  Leak %s (%d hits", mod, n))
			}

			// The verdict: Leak, with the numbers (56242 paged allocations never
			// freed, 115633552 bytes) and the owner.
			leak := manifestTags(m)["Leak"]
			if leak.pAllocs != 56242 || leak.pBytes != 115633552 || leak.pFrees != 0 {
				t.Fatalf("the Leak scenario changed: %+v", leak)
			}
			verdict := lastLine(out)
			for _, w := range []string{"VERDICT: tag 'Leak' most likely leaks: 115633552 bytes in 56242 paged allocations, never freed",
				"paged pool at its maximum (Excessive Paged Pool Usage)"} {
				if !strings.Contains(verdict, w) {
					t.Errorf("verdict %q lacks %q", verdict, w)
				}
			}
			for mod := range owners {
				if !strings.Contains(verdict, "owner "+mod) {
					t.Errorf("verdict %q does not name the owner %s", verdict, mod)
				}
			}
		})
	}
}

// TestPlaybookLeakNoPool: dumps without pool get the clear refusal, not an error.
func TestPlaybookLeakNoPool(t *testing.T) {
	out := playbook(t, sampleHost(t, Options{}), "leak")
	mustContain(t, "leak on a user dump", out, "not a kernel dump with pool: this is a user-mini dump",
		"VERDICT: not a kernel dump with pool")

	// A synthetic kernel dump built without pool: no tracker table to read.
	d, err := ksynth.Build(ksynth.Spec{Machine: ksynth.X64Win10_19041, Storage: ksynth.Bitmap})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "MEMORY.DMP")
	if err := d.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	out = playbook(t, openHost(t, path, Options{}, commands.SessionOptions{}), "leak")
	mustContain(t, "leak on a kernel dump without pool", out, "not a kernel dump with pool: ",
		"VERDICT: not a kernel dump with pool")

	// The real kernel triage dump holds no pool tracker table (CATALOG.md: a triage dump keeps
	// the stacks and module list only).
	dir := corpus.Dir(t)
	k := openHost(t, corpus.Path(t, "rizin-testbins/dmp/triage_x64.dmp"), Options{},
		commands.SessionOptions{SymbolPath: dir + "/test-pdb-repository"})
	out = playbook(t, k, "leak")
	mustContain(t, "leak on a triage dump", out, "not a kernel dump with pool: ", "VERDICT: not a kernel dump with pool")
}

// rankLines matches a row of leak.lua's top-tag lists: rank, tag, bytes, share, outstanding.
var rankLines = regexp.MustCompile(`(?m)^\s+(\d+) (\S+)\s+(\d+) bytes\s+\S+\s+(\d+) outstanding`)

// sectionOf is the text from the line starting title to the next blank line.
func sectionOf(out, title string) string {
	i := strings.Index(out, title)
	if i < 0 {
		return ""
	}
	s := out[i:]
	if j := strings.Index(s, "\n\n"); j >= 0 {
		s = s[:j]
	}
	return s
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestPlaybookLeakNonPaged: the same scenario turned into a nonpaged pool exhaustion (the
// spec's counters changed here: nonpaged usage at 65000 of 65536 pages, paged pool nearly
// empty, and a tag NpLk holding 200000000 nonpaged bytes), so the verdict must follow the
// pool the banner names, not the biggest tag overall.
func TestPlaybookLeakNonPaged(t *testing.T) {
	spec := ksynth.LeakScenario(ksynth.X64Win7_7601)
	spec.VM.AllocatedNonPagedPool = 65000
	spec.VM.MaximumNonPagedPoolInBytes = 65536 * 4096
	spec.VM.PagedPoolCommit = 1000
	spec.Trackers = append(spec.Trackers, ksynth.PoolTracker{Tag: "NpLk", NonPagedAllocs: 90010,
		NonPagedFrees: 10, NonPagedBytes: 200000000})
	d, err := ksynth.Build(ksynth.Spec{Machine: ksynth.X64Win7_7601, Storage: ksynth.Bitmap, Pool: spec})
	if err != nil {
		t.Fatal(err)
	}
	path, syms, err := d.WriteWithSymbols(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := playbook(t, openHost(t, path, Options{}, commands.SessionOptions{SymbolPath: syms}), "leak")
	mustContain(t, "leak nonpaged", out, "********** Excessive NonPaged Pool Usage *****",
		"   1 NpLk    200000000 bytes")
	if strings.Contains(out, "Excessive Paged Pool Usage") {
		t.Errorf("paged pool is at 1000 of 32768 pages, yet:\n%s", out)
	}
	want := "VERDICT: tag 'NpLk' most likely leaks: 200000000 bytes in 90000 nonpaged allocations, " +
		"90000 of 90010 allocations not freed"
	if v := lastLine(out); !strings.HasPrefix(v, want) || !strings.Contains(v, "nonpaged pool at its maximum (Excessive NonPaged Pool Usage)") {
		t.Errorf("verdict %q, want it to start %q and name the nonpaged banner\n%s", v, want, out)
	}
}
