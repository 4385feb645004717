package commands

import (
	"bytes"
	"strings"
	"testing"

	"wdbg/engine/ksynth"
)

// Two dumps of one machine, the older with less Leak and more Toke: the comparison lists Leak
// first with the growth the writer's numbers give, Toke last with its shrinkage, and leaves
// the unchanged tags out.
func TestPoolUsedDiff(t *testing.T) {
	const machine = ksynth.X64Win7_7601
	newerSpec := ksynth.LeakScenario(machine)
	olderSpec := ksynth.LeakScenario(machine)
	var leakNewer, tokeNewer ksynth.PoolTracker
	for i, tr := range olderSpec.Trackers {
		switch tr.Tag {
		case "Leak":
			leakNewer = tr
			olderSpec.Trackers[i].PagedAllocs, olderSpec.Trackers[i].PagedBytes = 10000, 20000000
		case "Toke":
			tokeNewer = tr
			olderSpec.Trackers[i].PagedBytes = tr.PagedBytes + 4096
		}
	}
	older, _ := openPoolDump(t, ksynth.Spec{Machine: machine, Storage: ksynth.Bitmap, Pool: olderSpec})
	newer, _ := openPoolDump(t, ksynth.Spec{Machine: machine, Storage: ksynth.Bitmap, Pool: newerSpec})
	a, _ := runPoolCmd(t, older, "!poolused 4")
	b, _ := runPoolCmd(t, newer, "!poolused 4")
	res, err := DiffResults("!poolused 4", a, b)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := res.(*poolUsedDiff)
	if !ok {
		t.Fatalf("result %T, want the pool comparison", res)
	}
	if len(d.Rows) != 2 {
		t.Fatalf("rows %+v, want Leak and Toke only", d.Rows)
	}
	leak, toke := d.Rows[0], d.Rows[1]
	if leak.Tag != "Leak" || leak.Paged.OlderBytes != 20000000 || leak.Paged.NewerBytes != leakNewer.PagedBytes ||
		leak.Paged.Growth != int64(leakNewer.PagedBytes)-20000000 || leak.Paged.OlderAllocs != 10000 || leak.Paged.NewerAllocs != 56242 {
		t.Errorf("Leak row %+v", leak)
	}
	if toke.Tag != "Toke" || toke.Paged.Growth != -4096 || toke.Paged.NewerBytes != tokeNewer.PagedBytes {
		t.Errorf("Toke row %+v", toke)
	}
	var text bytes.Buffer
	res.WriteText(&text)
	if !strings.Contains(text.String(), " Leak     ") || !strings.Contains(text.String(), "+95633552") ||
		!strings.Contains(text.String(), "-4096") || !strings.Contains(text.String(), "sorted by Paged Pool growth") {
		t.Errorf("text:\n%s", text.String())
	}
}
