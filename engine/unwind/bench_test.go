package unwind

import (
	"context"
	"testing"

	"wdbg/engine/cpu"
)

// BenchmarkWalkX64 walks the three-frame synthetic x64 stack of TestWalkX64.
func BenchmarkWalkX64(b *testing.B) {
	m, mods, ctx := x64Chain(b)
	b.ReportAllocs()
	for b.Loop() {
		if frames := Walk(context.Background(), cpu.ArchAMD64, ctx, m, mods, 0); len(frames) != 3 {
			b.Fatal(len(frames))
		}
	}
}
