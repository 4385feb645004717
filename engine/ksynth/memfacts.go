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
	if b.p.arm64 {
		return b.armPTEFacts() // no software PTEs on ARM64 (arm64_pagetables.go)
	}
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
	return b.buildProtoPTE()
}

// protoPattern is what the writer puts in the page the prototype PTE names.
const protoPattern = "ksynth prototype page: shared section view"

// buildProtoPTE places a page of prototype PTEs in system space (FORMATS.md §3.2: prototype
// PTEs live in paged pool) two pages after the transition page, and in its first entry a valid
// PTE naming a fresh data page. The user page that refers to it is added by
// buildProtoUserPage once the process address spaces exist; this half must run before they
// are cloned, so that the new kernel page is in every process's kernel half.
func (b *builder) buildProtoPTE() error {
	protoVA := b.p.transitionVA + 2*pageSize
	if _, ok := b.vpages[protoVA]; ok {
		return fmt.Errorf("ksynth: internal: prototype PTE page %#x is already mapped", protoVA)
	}
	if err := b.mapKernel(protoVA, pageSize, leafData); err != nil {
		return err
	}
	data, err := b.mem.alloc()
	if err != nil {
		return err
	}
	b.mem.write(data*pageSize, []byte(protoPattern))
	// A valid prototype PTE has the hardware layout (§3.1): frame 51:12 (31:12 non-PAE).
	entry := data*pageSize | ptePresent | pteWrite | pteUser | pteAccessed | pteDirty
	entryPA, err := b.pa(protoVA)
	if err != nil {
		return err
	}
	if b.kernel.twoLevel() {
		b.mem.write(entryPA, le32(uint32(entry)))
	} else {
		b.mem.putU64(entryPA, entry)
	}
	b.m.PTE.Prototype = &PrototypePage{ProtoVA: protoVA, ProtoEntryAddr: entryPA, ProtoEntry: entry,
		PA: data * pageSize, Pattern: []byte(protoPattern)[:16]}
	return nil
}

// buildProtoUserPage maps the first page of the first user process's image (image pages are
// the classic prototype-mapped pages) through a prototype-format PTE naming the prototype PTE
// of buildProtoPTE: ProtoAddress in bits 63:16 (x64, the 48-bit VA) or 63:32 (PAE), Prototype
// bit 10, protection read/write (§3.2). Non-PAE x86 encodes the address as an offset in two
// fields from a base the facts do not give, so there the PTE carries only the Prototype bit
// and protection and is recorded as not followed.
func (b *builder) buildProtoUserPage() error {
	pp := b.m.PTE.Prototype
	var pr *process
	for _, p := range b.processes {
		if p.peb != 0 {
			pr = p
			break
		}
	}
	if pp == nil || pr == nil {
		return fmt.Errorf("ksynth: internal: no prototype PTE page or no user process")
	}
	s := &space{mem: b.mem, levels: b.kernel.levels, root: pr.dtb, user: true, userEnd: b.kernel.userEnd}
	va := pr.imageBase
	pte := uint64(ptePrototype | protReadWrt)
	switch len(s.levels) {
	case 4:
		pte |= pp.ProtoVA & 0x0000FFFFFFFFFFFF << 16
		pp.Followed = true
	case 3:
		pte |= pp.ProtoVA << 32
		pp.Followed = true
	}
	if err := s.setLeaf(va, len(s.levels)-1, pte); err != nil {
		return err
	}
	pp.Process, pp.DirectoryTableBase, pp.VA, pp.PTE = pr.addr, pr.dtb, va, pte
	steps, _, _, ok := s.walk(va)
	if ok {
		return fmt.Errorf("ksynth: internal: the prototype-mapped page %#x translates by hardware rules", va)
	}
	pp.Walk = Walk{VA: va, FailLevel: steps[len(steps)-1].Level}
	for _, st := range steps {
		pp.Walk.Levels = append(pp.Walk.Levels, PTELevel{Name: st.Level, EntryAddr: st.EntryAddr, Entry: st.Entry})
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
	if !b.p.arm64 {
		if err := b.buildProtoUserPage(); err != nil {
			return err
		}
	}
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
	valid := []Walk{}
	if !b.p.arm64 {
		pte.Transition = b.walkFacts(b.p.transitionVA)
		pte.PageFile = b.walkFacts(b.p.pageFileVA)
		pte.PageFileHigh = pageFileHigh
		valid = append(valid, pte.Transition)
	}
	pte.Unmapped = b.walkFacts(b.p.unmappedVA)
	pte.LargePage = b.walkFacts(b.nt.base + 0x1234)
	if b.p.gigPageVA != 0 {
		w := b.walkFacts(b.p.gigPageVA + b.p.largePFN()*pageSize) // nt's headers, in the 1 GiB page
		pte.GigPage = &w
	}
	for _, w := range append(append(valid, pte.LargePage), pte.Walks...) {
		if !w.Valid {
			return fmt.Errorf("ksynth: internal: %#x does not translate", w.VA)
		}
	}
	if pte.PageFile.Valid || pte.Unmapped.Valid {
		return fmt.Errorf("ksynth: internal: the not-present addresses translate")
	}
	return nil
}
