package commands

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"wdbg/engine/ksynth"
)

// !pooltag finds the tags ksynth put into driver images (Manifest.Pool.Owners) at the RVAs the
// writer recorded, and nothing for a tag no image holds.
func TestPoolTagOwnersSynth(t *testing.T) {
	for _, mc := range ksynth.Machines {
		t.Run(mc.String(), func(t *testing.T) {
			s, m := openPoolSynth(t, mc)
			want := map[string]map[string][]uint32{} // tag → module → RVAs
			for _, o := range m.Pool.Owners {
				if want[o.Tag] == nil {
					want[o.Tag] = map[string][]uint32{}
				}
				want[o.Tag][o.Module] = append(want[o.Tag][o.Module], o.RVA)
			}
			if len(want["Leak"]) == 0 {
				t.Fatal("the scenario puts Leak in no image")
			}
			for tag, mods := range want {
				r, text := runPoolCmd(t, s, "!pooltag "+tag)
				res := r.(*poolTagResult)
				if len(res.Owners) != len(mods) {
					t.Fatalf("%s: owners %+v, want modules %v\n%s", tag, res.Owners, mods, text)
				}
				for _, o := range res.Owners {
					rvas := mods[o.Module]
					if o.Hits != len(rvas) || len(o.RVAs) != len(rvas) {
						t.Errorf("%s in %s: %d hits %v, want RVAs %#x", tag, o.Module, o.Hits, o.RVAs, rvas)
						continue
					}
					for i, rva := range rvas {
						if o.RVAs[i] != fmt.Sprintf("0x%x", rva) {
							t.Errorf("%s in %s: hit %d at %s, want %#x", tag, o.Module, i, o.RVAs[i], rva)
						}
					}
					if !strings.Contains(text, fmt.Sprintf("%s ", o.Module)) || !strings.Contains(text, ".data") {
						t.Errorf("%s: text lacks %s or its section:\n%s", tag, o.Module, text)
					}
				}
			}
			r, text := runPoolCmd(t, s, "!pooltag Qzqz")
			if res := r.(*poolTagResult); len(res.Owners) != 0 || !strings.Contains(text, "No loaded module image") {
				t.Errorf("Qzqz found: %+v\n%s", res.Owners, text)
			}
			// The numeric form is the little-endian dword (WINDBG-SPEC §3.8): 0x6b61654c is Leak.
			if r, _ := runPoolCmd(t, s, "!pooltag 0x6b61654c"); r.(*poolTagResult).Tag != "Leak" {
				t.Errorf("0x6b61654c is %q", r.(*poolTagResult).Tag)
			}
		})
	}
}

// A tag from the built-in list prints its description as !pool words it.
func TestPoolTagDescription(t *testing.T) {
	s, _ := openPoolSynth(t, ksynth.X64Win10_19041)
	_, text := runPoolCmd(t, s, "!pooltag Proc")
	if !strings.HasPrefix(text, "Pooltag Proc : ") || !strings.Contains(text, ", Binary : nt!ps") {
		t.Errorf("Proc:\n%s", text)
	}
}

// !poolused -o names, per row, the modules whose images hold the tag: the scenario's owners,
// and exactly the modules !pooltag finds for every other tag (export names like DriverEntry
// hold "Driv": real string hits, as findstr would report them).
func TestPoolUsedOwnerColumn(t *testing.T) {
	s, m := openPoolSynth(t, ksynth.X64Win7_7601)
	want := map[string]string{}
	for _, o := range m.Pool.Owners {
		want[o.Tag] = o.Module
	}
	r, text := runPoolCmd(t, s, "!poolused -o 4")
	res := r.(*poolUsedResult)
	if !res.WithOwners || len(res.Rows) == 0 {
		t.Fatalf("no owner column:\n%s", text)
	}
	for _, row := range res.Rows {
		if mod, owned := want[row.Tag]; owned && !slices.Contains(row.Owners, mod) {
			t.Errorf("%s: owners %v lack %s", row.Tag, row.Owners, mod)
		}
		pt, _ := runPoolCmd(t, s, "!pooltag "+row.Tag)
		var names []string
		for _, o := range pt.(*poolTagResult).Owners {
			names = append(names, o.Module)
		}
		if !slices.Equal(names, row.Owners) {
			t.Errorf("%s: -o says %v, !pooltag %v", row.Tag, row.Owners, names)
		}
	}
	if !strings.Contains(text, "Leak") || !strings.Contains(text, "[owner: synthdrv]") || !strings.Contains(text, "[owner: no image in the dump holds it]") {
		t.Errorf("text:\n%s", text)
	}
}
