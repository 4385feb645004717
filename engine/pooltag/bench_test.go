package pooltag

import (
	"bytes"
	"context"
	"testing"

	"wdbg/engine"
)

// flatMem is a fully present engine.Memory; it copies like a memory-mapped dump would.
type flatMem struct {
	base uint64
	data []byte
}

func (m *flatMem) ReadAt(p []byte, addr uint64) (int, error) {
	if addr < m.base || addr-m.base >= uint64(len(m.data)) {
		return 0, &engine.ReadError{Addr: addr}
	}
	n := copy(p, m.data[addr-m.base:])
	if n < len(p) {
		return n, &engine.ReadError{Addr: addr + uint64(n)}
	}
	return n, nil
}

func BenchmarkOwners(b *testing.B) {
	const size = 64 << 20
	data := buildImage(size, []testSection{{".text", 0x1000, size - 0x1000, 0x60000020}})
	// Fill with code-like bytes (never "Leak") so that pages are real and 'L' is common.
	for i := 0x1000; i < size; i++ {
		data[i] = "L\x8b\xc4H\x89X\x08e"[i%8]
	}
	for i := 0x1000; i+4 < size; i += 1 << 20 {
		copy(data[i:], "Leak")
	}
	images := []Image{{Name: "big.sys", Base: testBase, Mem: &flatMem{base: testBase, data: data}}}
	b.Run("Owners", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			o, err := Owners(context.Background(), "Leak", images)
			if err != nil || o[0].Hits != 64 {
				b.Fatal(err, o[0].Hits)
			}
		}
	})
	// The practical limit: bytes.Index over the same bytes in place, no copy.
	b.Run("PlainIndex", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			n := 0
			for off := 0; ; {
				i := bytes.Index(data[off:], []byte("Leak"))
				if i < 0 {
					break
				}
				n++
				off += i + 1
			}
			if n != 64 {
				b.Fatal(n)
			}
		}
	})
}
