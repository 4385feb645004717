package kernel

import (
	"encoding/binary"
	"testing"

	"wdbg/engine/cpu"
)

// sliceMem maps data at base.
type sliceMem struct {
	base uint64
	data []byte
}

func (m sliceMem) ReadAt(p []byte, addr uint64) (int, error) {
	if addr < m.base || addr-m.base >= uint64(len(m.data)) {
		return 0, &ReadError{What: "fuzz memory", Addr: addr}
	}
	n := copy(p, m.data[addr-m.base:])
	if n < len(p) {
		return n, &ReadError{What: "fuzz memory", Addr: addr + uint64(n)}
	}
	return n, nil
}

// FuzzReader feeds arbitrary memory to every walker: none may panic, hang or allocate without
// bound. The first bytes choose the architecture, the build and where the list heads are.
func FuzzReader(f *testing.F) {
	// Seed: an x64 19041 image whose process list has one EPROCESS (links at 0x448) and whose
	// module list head links to itself.
	seed := make([]byte, 0x1000)
	seed[0], seed[1] = 0, 5 // x64, builds[5] = 19041
	const base = 0xffff800000000000
	put := func(off int, v uint64) { binary.LittleEndian.PutUint64(seed[off:], v) }
	put(0x10, base+0x100+0x448) // process head Flink
	put(0x18, base+0x100+0x448) // Blink
	put(0x100+0x448, base+0x10)
	put(0x100+0x450, base+0x10)
	put(0x20, base+0x20)
	put(0x28, base+0x20)
	f.Add(seed)
	f.Add(seed[:0x200])
	x86 := append([]byte{1, 0}, make([]byte, 0x3fe)...)
	f.Add(x86)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 8 {
			return
		}
		arch, build := cpu.ArchAMD64, uint32(19041)
		if data[0]&1 != 0 {
			arch, build = cpu.ArchX86, 7601
		}
		builds := []uint32{7601, 9600, 10240, 14393, 17763, 19041, 22621, 26100}
		build = builds[int(data[1])%len(builds)]
		l, err := BuiltinLayout(arch, build)
		if err != nil {
			return
		}
		mem := sliceMem{base: 0xffff800000000000, data: data}
		if arch == cpu.ArchX86 {
			mem.base = 0x80000000
		}
		r := &Reader{Mem: mem, Layout: l}
		ps, _ := r.Processes(mem.base + 0x10)
		for i, p := range ps {
			if i >= 4 {
				break
			}
			ts, _ := r.Threads(p)
			for j, th := range ts {
				if j >= 4 {
					break
				}
				r.SwitchContext(th)
			}
			p.TokenAddr()
		}
		r.LoadedModules(mem.base + 0x20)
		r.Thread(mem.base + uint64(data[2])*8)
		r.Processors(mem.base+uint64(data[3])*8, int(data[4]%4)-1)
		r.ReadUnicodeString(mem.base + uint64(data[5])*4)
	})
}
