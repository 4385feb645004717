package commands

import "testing"

// FORMATS.md §3.2: the pagefile number of a software PTE is PageFileLow, bits 15:12 on x64
// 19041 and bits 4:1 on Win7 x64 and on x86.
func TestPageFileNumber(t *testing.T) {
	const entry = 0x0000_1234_0000_3_0_84 // PageFileHigh 0x1234, bits 15:12 = 3, bits 4:1 = 2, protection 4
	for _, c := range []struct {
		mode  string
		build uint32
		want  uint64
	}{
		{"x64", 19041, 3},
		{"x64 LA57", 22621, 3},
		{"x64", 7601, 2},
		{"x64", 17134, 2},
		{"x86 PAE", 19041, 2},
	} {
		if got := pageFileNumber(entry, c.mode, c.build); got != c.want {
			t.Errorf("%s %d: pagefile %d, want %d", c.mode, c.build, got, c.want)
		}
	}
	if got := pageFileOffset(entry, "x64"); got != 0x1234 {
		t.Errorf("offset %#x, want 0x1234", got)
	}
}
