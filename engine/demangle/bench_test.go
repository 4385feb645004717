package demangle

import "testing"

// BenchmarkName and BenchmarkFull undecorate every name of testdata/undname.txt once per
// iteration.
func BenchmarkName(b *testing.B) { benchNames(b, Name) }

func BenchmarkFull(b *testing.B) { benchNames(b, Full) }

func benchNames(b *testing.B, fn func(string) (string, bool)) {
	pairs := readPairs(b, "testdata/undname.txt")
	if len(pairs) == 0 {
		b.Fatal("no names")
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range pairs {
			fn(p.decorated)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pairs)), "ns/name")
}
