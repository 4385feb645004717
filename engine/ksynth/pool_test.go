package ksynth

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/engine/kdump"
	"wdbg/engine/vmem"
)

// The pool writer is checked by reading its dumps back through the kernel-dump readers
// (engine/kdump, engine/vmem) and decoding what is there with the FORMATS.md §6 facts typed
// again below; the expected numbers are LeakScenario's inputs (the Leak tag: 56242
// paged allocations, 115633552 bytes), not the manifest.

// trackerLayoutForTest is FORMATS.md §6.3's POOL_TRACKER_TABLE table, transcribed for the test:
// entry size and the offset/width of NonPagedAllocs, NonPagedFrees, NonPagedBytes, PagedAllocs,
// PagedFrees, PagedBytes.
func trackerLayoutForTest(is64 bool, build uint32) (uint64, [6][2]uint64) {
	switch {
	case is64 && build <= 15063:
		return 0x28, [6][2]uint64{{4, 4}, {8, 4}, {0x10, 8}, {0x18, 4}, {0x1C, 4}, {0x20, 8}}
	case is64:
		return 0x38, [6][2]uint64{{0x10, 8}, {0x18, 8}, {8, 8}, {0x28, 8}, {0x30, 8}, {0x20, 8}}
	}
	return 0x1C, [6][2]uint64{{4, 4}, {8, 4}, {0xC, 4}, {0x10, 4}, {0x14, 4}, {0x18, 4}}
}

type vaReader struct {
	t    *testing.T
	tr   *vmem.Translator
	is64 bool
}

func (r vaReader) bytes(va uint64, n int) []byte {
	r.t.Helper()
	b := make([]byte, n)
	if _, err := r.tr.ReadAt(b, va); err != nil {
		r.t.Fatalf("read %#x: %v", va, err)
	}
	return b
}

func (r vaReader) u(va uint64, size uint64) uint64 {
	b := r.bytes(va, int(size))
	if size == 4 {
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

func (r vaReader) ptr(va uint64) uint64 {
	if r.is64 {
		return r.u(va, 8)
	}
	return r.u(va, 4)
}

func TestPoolLeakScenario(t *testing.T) {
	for _, mc := range Machines {
		for _, st := range []Storage{RunList, Bitmap} {
			t.Run(mc.String()+"/"+st.String(), func(t *testing.T) {
				spec := LeakScenario(mc)
				d, f, tr := open(t, Spec{Machine: mc, Storage: st, Pool: spec})
				m := d.Manifest()
				pf := m.Pool
				if pf == nil {
					t.Fatal("no pool facts")
				}
				r := vaReader{t, tr, m.PointerSize == 8}
				checkTrackers(t, r, m, f, spec)
				checkBigPages(t, r, m, spec)
				checkBlocks(t, r, m, spec)
				checkMissing(t, tr, pf)
				checkVM(t, r, m, spec)
			})
		}
	}
}

func checkTrackers(t *testing.T, r vaReader, m *Manifest, f *kdump.File, spec *PoolSpec) {
	pf := m.Pool
	// KDBG.PoolTrackTable (§2, 0x1B8) = address of the nt!PoolTrackTable variable.
	kdbg := r.bytes(m.KDBG.Address, 0x340)
	trackVar := binary.LittleEndian.Uint64(kdbg[0x1B8:])
	if !r.is64 {
		trackVar &= 0xFFFFFFFF
	}
	table := r.ptr(trackVar)
	size := r.ptr(pf.Symbols["PoolTrackTableSize"])
	if size == 0 || size&(size-1) != 0 {
		t.Fatalf("PoolTrackTableSize %d is not a power of two", size)
	}
	esize, fields := trackerLayoutForTest(r.is64, m.Build)
	decode := func(e []byte) [6]uint64 {
		var v [6]uint64
		for k, fl := range fields {
			if fl[1] == 4 {
				v[k] = uint64(binary.LittleEndian.Uint32(e[fl[0]:]))
			} else {
				v[k] = binary.LittleEndian.Uint64(e[fl[0]:])
			}
		}
		return v
	}
	rows := map[string][6]uint64{}
	// hashed reads one table of size entries, adds its rows to rows and checks the §6.3 hash
	// with linear probing: every slot from a row's bucket to the row is taken.
	hashed := func(name string, table uint64) map[string][6]uint64 {
		own := map[string][6]uint64{}
		used := map[uint64]bool{}
		where := map[string]uint64{}
		for i := uint64(0); i < size; i++ {
			e := r.bytes(table+i*esize, int(esize))
			if binary.LittleEndian.Uint32(e) == 0 {
				continue
			}
			used[i] = true
			tag := string(e[:4])
			own[tag], where[tag] = decode(e), i
		}
		for tag, at := range where {
			v := binary.LittleEndian.Uint32([]byte(tag))
			prod := 40543 * uint64(v)
			for i := (uint64(uint32(prod)) ^ prod>>32) & (size - 1); i != at; i = (i + 1) % size {
				if !used[i] {
					t.Errorf("%s: tracker %q at %d, but slot %d between its bucket and it is free", name, tag, at, i)
					break
				}
			}
		}
		for tag, v := range own {
			sum := rows[tag]
			for k := range v {
				sum[k] += v[k]
			}
			rows[tag] = sum
		}
		return own
	}
	global := hashed("PoolTrackTable", table)
	// Windows 10 x64: nt!ExPoolTagTables[processor] points at per-processor tables of the same
	// size and layout; a tag's counts are the sum over all tables (pool_pertable.go).
	perCPU := 0
	if arr, ok := pf.Symbols["ExPoolTagTables"]; ok {
		for i := uint64(0); i < tagTableSlots; i++ {
			if p := r.ptr(arr + i*8); p != 0 {
				hashed(fmt.Sprintf("ExPoolTagTables[%d]", i), p)
				perCPU++
			}
		}
	}
	if want := m.Machine == X64Win10_19041.String(); want != (perCPU >= 2) {
		t.Errorf("%d per-processor tables on %s", perCPU, m.Machine)
	}
	if perCPU > 0 {
		// The totals are reached only by summing.
		if g := global["Leak"]; g[3] == 56242 {
			t.Errorf("the global table alone holds Leak's total %v", g)
		}
		if _, ok := global[soleProcessorTag]; ok {
			t.Errorf("%s is in the global table", soleProcessorTag)
		}
	}
	exp := r.ptr(pf.Symbols["PoolTrackTableExpansion"])
	expSize := r.ptr(pf.Symbols["PoolTrackTableExpansionSize"])
	for i := uint64(0); i < expSize; i++ {
		e := r.bytes(exp+i*esize, int(esize))
		rows[string(e[:4])] = decode(e)
	}
	if len(rows) != len(spec.Trackers) {
		t.Errorf("%d tracker rows, want %d", len(rows), len(spec.Trackers))
	}
	for _, want := range spec.Trackers {
		got, ok := rows[want.Tag]
		w := [6]uint64{want.NonPagedAllocs, want.NonPagedFrees, want.NonPagedBytes, want.PagedAllocs, want.PagedFrees, want.PagedBytes}
		if !ok || got != w {
			t.Errorf("tracker %q = %v, want %v", want.Tag, got, w)
		}
	}
	// The numbers.
	if got := rows["Leak"]; got[3] != 56242 || got[5] != 115633552 {
		t.Errorf("Leak row %v, want 56242 paged allocations of 115633552 bytes", got)
	}
}

func checkBigPages(t *testing.T, r vaReader, m *Manifest, spec *PoolSpec) {
	pf := m.Pool
	table := r.ptr(pf.Symbols["PoolBigPageTable"])
	size := r.ptr(pf.Symbols["PoolBigPageTableSize"])
	// §6.2: x64 Va u64 @0, Key @8, type @0xC, NumberOfBytes u64 @0x10 (0x18); x86 u32s (0x10).
	esize, vaSize, keyOff, bytesOff := uint64(0x18), uint64(8), uint64(8), uint64(0x10)
	if !r.is64 {
		esize, vaSize, keyOff, bytesOff = 0x10, 4, 4, 0xC
	}
	type got struct {
		bytes uint64
		free  bool
	}
	found := map[string][]got{}
	for i := uint64(0); i < size; i++ {
		e := table + i*esize
		key := r.u(e+keyOff, 4)
		if key == 0 {
			continue
		}
		va := r.u(e, vaSize)
		g := got{r.u(e+bytesOff, vaSize), va&1 != 0}
		tag := string(r.bytes(e+keyOff, 4))
		found[tag] = append(found[tag], g)
		if !g.free {
			// The allocation's pages are mapped and hold no POOL_HEADER chain (filled bytes).
			b := r.bytes(va&^1, 16)
			if b[0] != b[15] || b[0] < 0xB0 {
				t.Errorf("big page %s at %#x holds % x", tag, va, b)
			}
		}
	}
	for _, bp := range spec.BigPages {
		gs := found[bp.Tag]
		ok := false
		for _, g := range gs {
			ok = ok || g.bytes == bp.Bytes && g.free == bp.Free
		}
		if !ok {
			t.Errorf("big page %s %#x free=%v not in the table (%v)", bp.Tag, bp.Bytes, bp.Free, gs)
		}
	}
}

// checkBlocks decodes the pool pages: on classic pool (§6.1) the PreviousSize/BlockSize chain of
// each page from offset 0 to the page end; on segment-heap builds (§6.4) a scan at 16-byte
// alignment for the tags of the spec.
func checkBlocks(t *testing.T, r vaReader, m *Manifest, spec *PoolSpec) {
	pf := m.Pool
	g := uint64(8)
	if r.is64 {
		g = 16
	}
	want := map[string]int{}
	for _, b := range spec.Blocks {
		key := fmt.Sprintf("%s/%v/%v", b.Tag, b.Paged, b.Free)
		want[key]++
	}
	got := map[string]int{}
	for _, p := range pf.Pages {
		page := r.bytes(p.VA, pageSize)
		if !pf.Layout.SegmentHeap {
			var prev uint64
			off := uint64(0)
			for off < pageSize {
				var ps, bs, typ uint64
				if r.is64 {
					ps, bs, typ = uint64(page[off]), uint64(page[off+2]), uint64(page[off+3])
				} else {
					w0, w1 := binary.LittleEndian.Uint16(page[off:]), binary.LittleEndian.Uint16(page[off+2:])
					ps, bs, typ = uint64(w0&0x1FF), uint64(w1&0x1FF), uint64(w1>>9)
				}
				if ps*g != prev || bs == 0 {
					t.Fatalf("page %#x block at %#x: PreviousSize %#x (want %#x), BlockSize %#x", p.VA, off, ps*g, prev, bs*g)
				}
				tag := string(page[off+4 : off+8])
				if tag != "Frag" {
					// PoolType stored = POOL_TYPE + 1, 0 when free; paged ⇔ (type-1)&1.
					got[fmt.Sprintf("%s/%v/%v", tag, typ != 0 && (typ-1)&1 == 1 || typ == 0 && p.Paged, typ == 0)]++
				}
				prev = bs * g
				off += bs * g
			}
			if off != pageSize {
				t.Errorf("page %#x chain ends at %#x", p.VA, off)
			}
			continue
		}
		for off := uint64(0); off+16 <= pageSize; off += 16 {
			tag := string(page[off+4 : off+8])
			if tag == "" || page[off+2] == 0 || !printable(tag) {
				continue
			}
			if page[off] != 0 {
				t.Errorf("segment-heap header at %#x has PreviousSize %d", p.VA+off, page[off])
			}
			typ := uint64(page[off+3])
			got[fmt.Sprintf("%s/%v/%v", tag, typ == 2 || typ == 0 && p.Paged, typ == 0)]++
		}
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("blocks %s: found %d, want %d", k, got[k], n)
		}
	}
	for k, n := range got {
		if want[k] == 0 {
			t.Errorf("blocks %s: found %d the spec does not have", k, n)
		}
	}
	// Quota-charged blocks name the billed process (x64: @8 of the header, decoded with the
	// cookie where the build encodes it; x86: the block's last 4 bytes).
	for _, b := range pf.Blocks {
		if b.Process == 0 {
			continue
		}
		var v uint64
		if r.is64 {
			v = r.u(b.Header+8, 8)
			if pf.QuotaCookie != 0 {
				v ^= r.u(pf.Symbols["ExpPoolQuotaCookie"], 8) ^ b.Header
			}
		} else {
			v = r.u(b.Header+b.Size-4, 4)
		}
		if v != m.Processes[len(m.Processes)-1].Address {
			t.Errorf("block %s at %#x billed to %#x, want the last process %#x", b.Tag, b.Header, v, m.Processes[len(m.Processes)-1].Address)
		}
	}
	// 7601: the pages lie inside the ranges KDBG's MmNonPagedPool*/MmPagedPool* variables hold.
	if m.Build < 10240 {
		kdbg := r.bytes(m.KDBG.Address, 0x130)
		rng := func(off uint64) uint64 {
			v := binary.LittleEndian.Uint64(kdbg[off:])
			if !r.is64 {
				v &= 0xFFFFFFFF
			}
			return r.ptr(v)
		}
		np := [2]uint64{rng(0x110), rng(0x118)}
		pp := [2]uint64{rng(0x120), rng(0x128)}
		for _, p := range pf.Pages {
			rg := np
			if p.Paged {
				rg = pp
			}
			if p.VA < rg[0] || p.VA >= rg[1] {
				t.Errorf("pool page %#x (paged %v) outside [%#x, %#x)", p.VA, p.Paged, rg[0], rg[1])
			}
		}
	}
}

func printable(s string) bool {
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}

func checkMissing(t *testing.T, tr *vmem.Translator, pf *PoolFacts) {
	if len(pf.Missing) != 3 {
		t.Errorf("%d missing pages, want 3", len(pf.Missing))
	}
	for _, mp := range pf.Missing {
		b := make([]byte, 8)
		if _, err := tr.ReadAt(b, mp.VA); err == nil {
			t.Errorf("missing pool page %#x (%s) reads", mp.VA, mp.Reason)
		}
	}
}

func checkVM(t *testing.T, r vaReader, m *Manifest, spec *PoolSpec) {
	v := spec.VM
	kdbg := r.bytes(m.KDBG.Address, 0x340)
	for _, c := range []struct {
		off  uint64
		want uint64
		size uint64
	}{{0x1A8, v.AvailablePages, 0}, {0x1B0, v.ResidentAvailablePages, 0}, {0x150, v.TotalCommittedPages, 0},
		{0x148, v.TotalCommitLimit, 0}, {0x258, v.PeakCommitment, 0}, {0x158, v.SharedCommit, 0},
		{0x160, v.DriverCommit, 0}, {0x168, v.ProcessCommit, 0}, {0x170, v.PagedPoolCommit, 0},
		{0x140, v.SizeOfPagedPoolInBytes, 0}, {0x100, v.MaximumNonPagedPoolInBytes, 0},
		{0x250, v.AllocatedNonPagedPool, 0}, {0x180, v.ZeroedPages, 0}, {0x198, v.ModifiedPages, 0},
		{0xE0, v.NumberOfPagingFiles, 4}} {
		va := binary.LittleEndian.Uint64(kdbg[c.off:])
		if !r.is64 {
			va &= 0xFFFFFFFF
		}
		var got uint64
		if c.size == 4 {
			got = r.u(va, 4)
		} else {
			got = r.ptr(va)
		}
		if got != c.want {
			t.Errorf("KDBG %#x -> %#x holds %d, want %d", c.off, va, got, c.want)
		}
	}
	// Paged pool at its maximum (the warning case of issue 5).
	if v.PagedPoolCommit != v.SizeOfPagedPoolInBytes/pageSize {
		t.Errorf("scenario paged pool %d pages of %d", v.PagedPoolCommit, v.SizeOfPagedPoolInBytes/pageSize)
	}
	// 19041: nt!MiSystemPartition (§6.5: Vp @0x1B00; AvailablePages @0xC0, TotalCommitLimit
	// @0x2A8; Commit @0x1840, PeakCommitment @0; PageLists @0x880, Free list @0x80).
	if m.Build == 19041 {
		p := m.Pool.Symbols["MiSystemPartition"]
		for _, c := range []struct{ off, want uint64 }{{0x1B00 + 0xC0, v.AvailablePages}, {0x1B00 + 0x2A8, v.TotalCommitLimit},
			{0x1B00 + 0x2C8, v.SharedCommit}, {0x1840, v.PeakCommitment}, {0x880 + 0x80, v.FreePages},
			{0x1B00 + 0x10, m.Pool.VM.PhysicalPages}} {
			if got := r.u(p+c.off, 8); got != c.want {
				t.Errorf("MiSystemPartition+%#x = %d, want %d", c.off, got, c.want)
			}
		}
	}
}

// TestPoolFill checks the generated pages: every template block is where the facts say, the
// per-tag totals add up, and the dump file written to disk reads the same through kdump.
func TestPoolFill(t *testing.T) {
	for _, mc := range []Machine{X64Win10_19041, X64Win7_7601, X86PAEWin7_7601} {
		t.Run(mc.String(), func(t *testing.T) {
			const fill = 4 << 20
			spec := Spec{Machine: mc, Storage: Bitmap, PhysicalBytes: 64 << 20,
				Pool: &PoolSpec{Fill: PoolFill{Bytes: fill, Paged: true}}}
			d, _, tr := open(t, spec)
			ff := d.Manifest().Pool.Fill
			if ff == nil || ff.Pages != fill/pageSize {
				t.Fatalf("fill facts %+v", ff)
			}
			path := filepath.Join(t.TempDir(), "fill.dmp")
			if err := d.WriteFile(path); err != nil {
				t.Fatal(err)
			}
			df, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer df.Close()
			kf, err := kdump.NewFile(df, d.Size())
			if err != nil {
				t.Fatal(err)
			}
			var tr2 *vmem.Translator
			if kf.Header.Is64 {
				tr2 = vmem.NewX64(kf, kf.Header.DirectoryTableBase, false)
			} else {
				tr2 = vmem.NewX86(kf, kf.Header.DirectoryTableBase, kf.Header.PaeEnabled)
			}
			counts := map[string]uint64{}
			page, page2 := make([]byte, pageSize), make([]byte, pageSize)
			for i := uint64(0); i < ff.Pages; i++ {
				va := ff.Start + i*pageSize
				if _, err := tr.ReadAt(page, va); err != nil {
					t.Fatalf("fill page %#x: %v", va, err)
				}
				if _, err := tr2.ReadAt(page2, va); err != nil || !bytes.Equal(page, page2) {
					t.Fatalf("fill page %#x differs in the written file (%v)", va, err)
				}
				for _, b := range ff.Templates[i%uint64(len(ff.Templates))] {
					if tag := string(page[b.Offset+4 : b.Offset+8]); tag != b.Tag {
						t.Fatalf("page %#x +%#x: tag %q, want %q", va, b.Offset, tag, b.Tag)
					}
				}
				// Count tags the way a scanner would: at header positions only.
				for _, tag := range []string{"FilA", "FilB", "FilC", "Leak"} {
					counts[tag] += uint64(bytes.Count(page, []byte(tag)))
				}
			}
			for tag, n := range counts {
				if ff.PerTag[tag].Blocks != n {
					t.Errorf("tag %s: %d in the pages, facts say %d", tag, n, ff.PerTag[tag].Blocks)
				}
			}
			if !strings.Contains(fmt.Sprint(ff.PerTag), "Leak") {
				t.Error("no Leak blocks generated")
			}
		})
	}
}
