package engine

import (
	"path/filepath"
	"testing"

	"wdbg/engine/ksynth"
)

// Translation rate on a real file: every page the synthetic 4 GiB bitmap dump maps, read through
// the kernel's page tables (BenchmarkKernelTranslatedPages) against the same physical pages read
// straight from the dump (BenchmarkKernelPhysicalPages, the limit translation can approach).
//
//	go test ./engine -run '^$' -bench 'Kernel.*Pages'
func BenchmarkKernelTranslatedPages(b *testing.B) {
	t, m := openSynth4GiB(b)
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(m.Mappings)) * 4096)
	for b.Loop() {
		for _, mp := range m.Mappings {
			if _, err := t.Memory.ReadAt(buf, mp.VA&^0xFFF); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(m.Mappings))*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}

func BenchmarkKernelPhysicalPages(b *testing.B) {
	t, m := openSynth4GiB(b)
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(m.Mappings)) * 4096)
	for b.Loop() {
		for _, mp := range m.Mappings {
			if _, err := t.ReadPhysical(buf, mp.PA&^0xFFF); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(m.Mappings))*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}

func openSynth4GiB(b *testing.B) (*Target, *ksynth.Manifest) {
	d, err := ksynth.Build(ksynth.Spec{Machine: ksynth.X64Win10_19041, Storage: ksynth.Bitmap,
		PhysicalBytes: 4 << 30, AllPages: true})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "MEMORY.DMP")
	if err := d.WriteFile(path); err != nil {
		b.Fatal(err)
	}
	t, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { t.Close() })
	return t, d.Manifest()
}
