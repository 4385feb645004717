package ntuser

import (
	"testing"

	"wdbg/engine"
)

// flatMemory is one contiguous range of bytes at base: the fuzzer's memory image.
type flatMemory struct {
	base uint64
	data []byte
}

func (m flatMemory) ReadAt(p []byte, addr uint64) (int, error) {
	if addr < m.base || addr-m.base >= uint64(len(m.data)) {
		return 0, &engine.ReadError{Addr: addr}
	}
	n := copy(p, m.data[addr-m.base:])
	if n < len(p) {
		return n, &engine.ReadError{Addr: addr + uint64(n)}
	}
	return n, nil
}

const fuzzBase = 0x10000

// compact puts every structure within 0x6000 bytes of fuzzBase, so that a seed is one flat image.
var compact = addressPlan{teb: fuzzBase + 0x4000, peb: fuzzBase, ldr: fuzzBase + 0x800, entries: fuzzBase + 0x1000,
	params: fuzzBase + 0x2000, strs: fuzzBase + 0x2800, env: fuzzBase + 0x3000}

// flatten copies [base, base+n) of a page image; missing bytes are zero.
func flatten(img *pageImage, base uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		var one [1]byte
		if _, err := img.ReadAt(one[:], base+uint64(i)); err == nil {
			b[i] = one[0]
		}
	}
	return b
}

// FuzzReadStructures feeds random memory images to every reader: they must return (values or
// errors) without panicking, hanging or allocating without bound. mode bit 0 selects the pointer
// size, the other bits a build.
func FuzzReadStructures(f *testing.F) {
	for _, ptr := range []int{4, 8} {
		p := buildProcessAt(ptr, compact)
		mode := byte(0)
		if ptr == 8 {
			mode = 1
		}
		f.Add(flatten(p.img, fuzzBase, 0x6000), mode)
	}
	f.Add([]byte{}, byte(0))
	f.Fuzz(func(t *testing.T, data []byte, mode byte) {
		mem := flatMemory{base: fuzzBase, data: data}
		ptr := 4
		if mode&1 != 0 {
			ptr = 8
		}
		build := []uint32{0, 2600, 7601, 17134, 17763, 19041, 22000}[int(mode>>1)%7]
		for _, at := range []uint64{fuzzBase, fuzzBase + 0x800, fuzzBase + 0x2000, fuzzBase + 0x4000} {
			ReadTEB(mem, at, ptr)
			if peb, err := ReadPEB(mem, at, ptr, build); err == nil && peb.Loader != nil && len(peb.Loader.Modules) > MaxLoaderEntries {
				t.Fatalf("walk exceeded the limit: %d entries", len(peb.Loader.Modules))
			}
			ReadLoaderData(mem, at, ptr)
			ReadProcessParameters(mem, at, ptr, build)
			ReadEnvironment(mem, at, MaxEnvironmentBytes)
			SavedX86Context(mem, at)
			ImageMachine(mem, at)
		}
	})
}

// TestCompactSeedIsSound checks that the fuzz seed really is a readable process image, so that the
// fuzzer starts from structures that lead somewhere.
func TestCompactSeedIsSound(t *testing.T) {
	for _, ptr := range []int{4, 8} {
		p := buildProcessAt(ptr, compact)
		mem := flatMemory{base: fuzzBase, data: flatten(p.img, fuzzBase, 0x6000)}
		peb, err := ReadPEB(mem, fuzzBase, ptr, 0)
		if err != nil || peb.Loader == nil || len(peb.Loader.Modules) != len(testModules) || peb.Parameters == nil ||
			len(peb.Parameters.Variables) != len(testEnv) {
			t.Fatalf("ptr %d: compact image does not read back: %+v %v", ptr, peb, err)
		}
	}
}
