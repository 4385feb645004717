package commands

import (
	"fmt"
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
