package ksynth

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// builder lays the machine out: it maps kernel virtual pages to frames, writes structures at
// virtual addresses, and records every fact in the manifest as it goes.
type builder struct {
	spec   Spec
	p      *profile
	mem    *physMem
	kernel *space
	vpages map[uint64]mapping // kernel page VA -> how it is mapped
	m      *Manifest

	arenaNext  uint64 // bump pointer in the object arena
	stackNext  uint64 // next kernel stack region
	nt         *image
	globals    map[string]uint64 // nt data variables by name
	modules    []*image
	pdptPage   uint64 // PAE: the page holding the kernel's and the processes' 32-byte PDPTs
	pdptNext   uint64
	idleProc   *process
	processes  []*process
	threads    []*thread
	processors []*processor
	crash      *thread
	trapFrame  uint64
	patched    map[uint64]bool // return addresses whose call instruction is written
}

// mapping is one mapped kernel page: its frame (or, for a large page, the frame of this 4 KiB
// part of it).
type mapping struct {
	pfn   uint64
	large uint64 // size of the large page it belongs to, 0 for 4 KiB pages
}

func newBuilder(spec Spec) *builder {
	p := profileOf(spec.Machine)
	return &builder{
		spec: spec, p: p, mem: newPhysMem(spec.PhysicalBytes, p.firstFreePFN()), vpages: map[uint64]mapping{},
		globals: map[string]uint64{}, arenaNext: p.arena, stackNext: p.stacks,
		m: &Manifest{Globals: map[string]uint64{}},
	}
}

// build lays out everything, in dependency order.
func (b *builder) build() error {
	steps := []func() error{
		b.newKernelSpace,
		b.buildModules,    // nt (large page), hal, drivers: PE images with exports, unwind data
		b.buildSharedData, // KUSER_SHARED_DATA
		b.buildProcesses,  // EPROCESS list, handle tables, tokens
		b.buildThreads,    // ETHREAD/KTHREAD, stacks, IRP
		b.buildProcessors, // KPCR/KPRCB, KiProcessorBlock, contexts
		b.buildModuleList, // PsLoadedModuleList
		b.buildKdbg,       // KDDEBUGGER_DATA64, DBGKD_GET_VERSION64
		b.buildPool,       // Spec.Pool: trackers, big pages, pool pages, !vm counters (pool*.go)
		b.buildPTEFacts,   // transition, pagefile, 1 GiB page, unmapped address
		b.buildExtra,      // caller regions
		b.buildUserSpaces, // per-process page tables (kernel half shared) and PEBs
		b.buildSessions,   // Spec.Pool's session table, mapped in session 1's processes (pool_session.go)
		b.recordMappings,  // every mapped page and the walks of a few, for the manifest
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// newKernelSpace creates the kernel page tables: the PML4 with its self-map entry (x64,
// KDBG.PteBase, FORMATS.md §2), the PAE PDPT with its four page directories, mapped at
// 0xC0600000 as Windows does (the PTE self-map of PAE kernels), or the two-level page directory
// whose entry 0x300 points at itself, so that the PTEs appear at 0xC0000000 and the directory
// at 0xC0300000 (non-PAE, §3.1).
func (b *builder) newKernelSpace() error {
	if !b.p.is64 && !b.p.pae {
		pfn, err := b.mem.alloc()
		if err != nil {
			return err
		}
		root := pfn * pageSize
		b.kernel = &space{mem: b.mem, levels: levelsX86, root: root, userEnd: 0x80000000}
		b.kernel.putEntry(root+4*selfIndexX86, root|tableKernel)
		return nil
	}
	if b.p.is64 {
		pfn, err := b.mem.alloc()
		if err != nil {
			return err
		}
		root := pfn * pageSize
		b.kernel = &space{mem: b.mem, levels: levelsX64, root: root, userEnd: 1 << 47, arm: b.p.arm64}
		b.mem.putU64(root+8*uint64(b.p.selfIndex), b.kernel.selfEntry(root))
		return nil
	}
	pfn, err := b.mem.alloc()
	if err != nil {
		return err
	}
	b.pdptPage = pfn * pageSize
	b.pdptNext = b.pdptPage + 0x20
	b.kernel = &space{mem: b.mem, levels: levelsPAE, root: b.pdptPage, userEnd: 0x80000000}
	var pds [4]uint64
	for i := range pds {
		pd, err := b.mem.alloc()
		if err != nil {
			return err
		}
		pds[i] = pd * pageSize
		b.mem.page(pd)
		b.mem.putU64(b.pdptPage+8*uint64(i), pds[i]|pdptePAE)
	}
	// PD 3 covers 0xC0000000..; its entries 0..3 point at the four PDs (PTE self-map).
	for i, pd := range pds {
		b.mem.putU64(pds[3]+8*uint64(i), pd|pteNX|tableKernel)
	}
	return nil
}

// mapKernel maps [va, va+size) with fresh frames (4 KiB pages) unless already mapped.
func (b *builder) mapKernel(va, size, flags uint64) error {
	for p := va &^ (pageSize - 1); p < va+size; p += pageSize {
		if _, ok := b.vpages[p]; ok {
			continue
		}
		pfn, err := b.mem.alloc()
		if err != nil {
			return err
		}
		if err := b.kernel.map4K(p, pfn, flags); err != nil {
			return err
		}
		b.mem.page(pfn) // mapped pages are stored even while they hold only zeros
		b.vpages[p] = mapping{pfn: pfn}
	}
	return nil
}

// mapKernelLarge maps a large page (2 MiB, or 4 MiB with two-level x86 paging) at va to the
// frames from pfn.
func (b *builder) mapKernelLarge(va, pfn uint64) error {
	size := b.p.largePage()
	if err := b.kernel.mapLarge(va, pfn*pageSize, size); err != nil {
		return err
	}
	for i := uint64(0); i < size/pageSize; i++ {
		b.vpages[va+i*pageSize] = mapping{pfn: pfn + i, large: size}
	}
	return nil
}

// pa translates a mapped kernel VA with the writer's own table.
func (b *builder) pa(va uint64) (uint64, error) {
	m, ok := b.vpages[va&^(pageSize-1)]
	if !ok {
		return 0, fmt.Errorf("ksynth: internal: %#x is not mapped", va)
	}
	return m.pfn*pageSize + va%pageSize, nil
}

// write stores data at a mapped kernel VA. Writing to an unmapped address is a bug of the
// writer; it panics so that Build's callers never see a half-built dump.
func (b *builder) write(va uint64, data []byte) {
	for len(data) > 0 {
		pa, err := b.pa(va)
		if err != nil {
			panic(err)
		}
		n := min(len(data), int(pageSize-va%pageSize))
		b.mem.write(pa, data[:n])
		data, va = data[n:], va+uint64(n)
	}
}

func (b *builder) u8(va uint64, v uint8) { b.write(va, []byte{v}) }
func (b *builder) u16(va uint64, v uint16) {
	var x [2]byte
	binary.LittleEndian.PutUint16(x[:], v)
	b.write(va, x[:])
}
func (b *builder) u32(va uint64, v uint32) {
	var x [4]byte
	binary.LittleEndian.PutUint32(x[:], v)
	b.write(va, x[:])
}
func (b *builder) u64(va uint64, v uint64) {
	var x [8]byte
	binary.LittleEndian.PutUint64(x[:], v)
	b.write(va, x[:])
}

// ptr writes a pointer of the target's size.
func (b *builder) ptr(va, v uint64) {
	if b.p.is64 {
		b.u64(va, v)
	} else {
		b.u32(va, uint32(v))
	}
}

// listEntry writes a LIST_ENTRY {Flink, Blink}.
func (b *builder) listEntry(va, flink, blink uint64) {
	b.ptr(va, flink)
	b.ptr(va+uint64(b.p.ptr), blink)
}

// linkList makes a circular doubly linked list of head and the given entries, in order.
func (b *builder) linkList(head uint64, entries []uint64) {
	all := append([]uint64{head}, entries...)
	for i, e := range all {
		next := all[(i+1)%len(all)]
		prev := all[(i+len(all)-1)%len(all)]
		b.listEntry(e, next, prev)
	}
}

// unicodeString writes a UNICODE_STRING at va whose buffer is a fresh arena allocation.
func (b *builder) unicodeString(va uint64, s string) (buffer uint64, err error) {
	u := utf16le(s)
	buffer, err = b.alloc(uint64(len(u)+2), 8)
	if err != nil {
		return 0, err
	}
	b.write(buffer, u)
	b.u16(va, uint16(len(u)))
	b.u16(va+2, uint16(len(u)+2))
	b.ptr(va+uint64(b.p.ptr), buffer) // Buffer follows Length, MaximumLength and padding
	return buffer, nil
}

// alloc reserves size bytes in the object arena (mapped read-write) with the given alignment.
func (b *builder) alloc(size, align uint64) (uint64, error) {
	va := (b.arenaNext + align - 1) &^ (align - 1)
	if err := b.mapKernel(va, size, leafData); err != nil {
		return 0, err
	}
	b.arenaNext = va + size
	return va, nil
}

// allocObject reserves an object with objectRoom free bytes before it, where the pool and
// object headers of issue 5 can go without moving anything.
func (b *builder) allocObject(size uint64) (uint64, error) {
	align := uint64(16)
	if !b.p.is64 {
		align = 8
	}
	start, err := b.alloc(b.p.objectRoom+size, align)
	if err != nil {
		return 0, err
	}
	return start + b.p.objectRoom, nil
}

// global reserves a variable in nt's .data section.
func (b *builder) global(name string, size uint64) uint64 {
	va := b.nt.allocData(size)
	b.globals[name] = va
	b.m.Globals[name] = va
	return va
}

func utf16le(s string) []byte {
	out := make([]byte, 0, 2*len(s))
	for _, r := range s {
		out = append(out, byte(r), byte(r>>8))
	}
	return out
}

// sortedPages is the kernel's mapped page VAs in ascending order.
func (b *builder) sortedPages() []uint64 {
	out := make([]uint64, 0, len(b.vpages))
	for va := range b.vpages {
		out = append(out, va)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
