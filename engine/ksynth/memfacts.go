package ksynth

import "fmt"

// buildSharedData maps KUSER_SHARED_DATA (FORMATS.md §5.1) at its fixed kernel address.
func (b *builder) buildSharedData() error {
	va := b.p.kuserSharedData
	if err := b.mapKernel(va, pageSize, leafData); err != nil {
		return err
	}
	ksystem := func(off, v uint64) { // KSYSTEM_TIME: LowPart, High1Time, High2Time
		b.u32(va+off, uint32(v))
		b.u32(va+off+4, uint32(v>>32))
		b.u32(va+off+8, uint32(v>>32))
	}
	ksystem(0x8, systemUpTime) // InterruptTime
	ksystem(0x14, systemTime)  // SystemTime
	sd := SharedData{Address: va, TickCount: tickCount(), InterruptTime: systemUpTime, SystemTime: systemTime,
		NtProductType: 1, NtMajorVersion: b.p.osMajor, NtMinorVersion: b.p.osMinor, KeTimeIncrement: timeIncrement}
	if b.p.build >= 10240 {
		b.u32(va+0x260, b.p.build) // NtBuildNumber, Windows 10 and later
		sd.NtBuildNumber = b.p.build
	}
	b.u32(va+0x264, 1) // NtProductType: WinNt
	b.u32(va+0x26C, b.p.osMajor)
	b.u32(va+0x270, b.p.osMinor)
	b.u64(va+0x320, tickCount()) // TickCountQuad
	b.m.SharedData = sd
	return nil
}

// buildPTEFacts adds the translation cases !pte must explain (FORMATS.md §3.2): a transition
// PTE (valid clear, transition set, prototype clear: the page is still in RAM and in the dump),
// a pagefile PTE, an address no table maps and, on x64, a 1 GiB page over physical 0.
func (b *builder) buildPTEFacts() error {
	last := len(b.kernel.levels) - 1
	pfn, err := b.mem.alloc()
	if err != nil {
		return err
	}
	pattern := []byte("ksynth transition page: still in RAM")
	b.mem.write(pfn*pageSize, pattern)
	if err := b.kernel.setLeaf(b.p.transitionVA, last, pfn*pageSize|pteTransition|protReadWrt); err != nil {
		return err
	}
	// A pagefile entry: PageFileHigh = 0x1234 (bits 63:32; 31:12 in a 4-byte non-PAE PTE),
	// protection read/write.
	pageFile := uint64(pageFileHigh<<32 | protReadWrt)
	if b.kernel.entrySize() == 4 {
		pageFile = pageFileHigh<<12 | protReadWrt
	}
	if err := b.kernel.setLeaf(b.p.pageFileVA, last, pageFile); err != nil {
		return err
	}
	if b.p.gigPageVA != 0 {
		if err := b.kernel.mapLarge(b.p.gigPageVA, 0, 1<<30); err != nil {
			return err
		}
	}
	return nil
}

// buildExtra maps the caller's regions.
func (b *builder) buildExtra() error {
	for _, r := range b.spec.Extra {
		if err := b.mapKernel(r.VA, uint64(len(r.Data)), leafData); err != nil {
			return fmt.Errorf("ksynth: extra region %q: %w", r.Name, err)
		}
		b.write(r.VA, r.Data)
		pa, _ := b.pa(r.VA)
		b.m.Extra = append(b.m.Extra, Mapping{VA: r.VA, PA: pa, PageSize: uint64(len(r.Data)), Name: r.Name})
	}
	return nil
}

// walkFacts walks va in the kernel space and records it.
func (b *builder) walkFacts(va uint64) Walk {
	steps, pa, size, ok := b.kernel.walk(va)
	w := Walk{VA: va, PA: pa, PageSize: size, Valid: ok}
	for _, s := range steps {
		w.Levels = append(w.Levels, PTELevel{Name: s.Level, EntryAddr: s.EntryAddr, Entry: s.Entry})
	}
	if !ok && len(steps) > 0 {
		w.FailLevel = steps[len(steps)-1].Level
	}
	if ok {
		w.Pattern = b.mem.read(pa, 16)
	}
	return w
}

// recordMappings lists every mapped kernel page and the walks of the notable addresses.
func (b *builder) recordMappings() error {
	for _, va := range b.sortedPages() {
		m := b.vpages[va]
		if m.large != 0 {
			if va%m.large != 0 {
				continue
			}
			b.m.Mappings = append(b.m.Mappings, Mapping{VA: va, PA: m.pfn * pageSize, PageSize: m.large, Name: "large page"})
			continue
		}
		b.m.Mappings = append(b.m.Mappings, Mapping{VA: va, PA: m.pfn * pageSize, PageSize: pageSize})
	}
	pte := &b.m.PTE
	pte.PteBase = b.p.pteBase
	if !b.p.is64 {
		// §3.1 self-maps: the PTEs at 0xC0000000; the page directories after them, at
		// 0xC0300000 (1024 4-byte PTEs per 4 MiB) or 0xC0600000 (512 8-byte PTEs per 2 MiB).
		pte.PteBase, pte.PdeBase = 0xC0000000, 0xC0600000
		if !b.p.pae {
			pte.PdeBase = 0xC0300000
		}
	}
	for _, va := range []uint64{b.modules[1].base, b.modules[2].base + 0x1000, b.p.kuserSharedData,
		b.processes[len(b.processes)-1].addr, b.m.Processors[0].Pcr, b.crash.stackBase - 0x20} {
		pte.Walks = append(pte.Walks, b.walkFacts(va))
	}
	pte.Transition = b.walkFacts(b.p.transitionVA)
	pte.PageFile = b.walkFacts(b.p.pageFileVA)
	pte.PageFileHigh = pageFileHigh
	pte.Unmapped = b.walkFacts(b.p.unmappedVA)
	pte.LargePage = b.walkFacts(b.nt.base + 0x1234)
	if b.p.gigPageVA != 0 {
		w := b.walkFacts(b.p.gigPageVA + b.p.largePFN()*pageSize) // nt's headers, in the 1 GiB page
		pte.GigPage = &w
	}
	for _, w := range append([]Walk{pte.Transition, pte.LargePage}, pte.Walks...) {
		if !w.Valid {
			return fmt.Errorf("ksynth: internal: %#x does not translate", w.VA)
		}
	}
	if pte.PageFile.Valid || pte.Unmapped.Valid {
		return fmt.Errorf("ksynth: internal: the not-present addresses translate")
	}
	return nil
}
