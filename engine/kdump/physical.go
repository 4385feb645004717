package kdump

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
)

// PhysicalError reports a physical address whose bytes the dump does not hold.
type PhysicalError struct {
	Addr uint64 // the first physical address that could not be read
	// Offset is where the page's bytes should be in the file when the dump lists the page but
	// the file is too short to hold it; -1 when the dump does not list the page at all.
	Offset int64
	Reason string // why, when it is not simply "not in the dump"
}

func (e *PhysicalError) Error() string {
	switch {
	case e.Reason != "":
		return fmt.Sprintf("kdump: physical address %#x is not in the dump: %s", e.Addr, e.Reason)
	case e.Offset >= 0:
		return fmt.Sprintf("kdump: physical address %#x: its page would be at file offset %#x, past the end of the file (the dump is truncated)", e.Addr, e.Offset)
	}
	return fmt.Sprintf("kdump: physical address %#x is not in the dump", e.Addr)
}

// PageRun is a run of consecutive page frames stored consecutively in the file.
type PageRun struct {
	BasePage   uint64 // first page frame number
	PageCount  uint64
	FileOffset int64 // file offset of the first page's bytes
}

// physIndex maps page frame numbers to file offsets.
type physIndex interface {
	// lookup returns the file offset of the page's bytes, or false when the dump lacks it.
	lookup(pfn uint64) (int64, bool)
	// runs yields maximal runs in ascending page frame order.
	runs(yield func(PageRun) bool)
	// count is the number of page frames the index lists.
	count() uint64
}

// physical builds the page index once.
func (f *File) physical() (physIndex, error) {
	return f.phys.Get(func() (physIndex, error) {
		switch f.Storage {
		case StorageRunList:
			return f.buildRunList()
		case StorageBitmap:
			return f.buildBitmap()
		case StorageRanges:
			return f.buildRanges()
		}
		return nil, nil
	})
}

// noPhysicalMemory says why a dump without physical memory cannot serve an address.
func (f *File) noPhysicalMemory() string {
	if f.Header.DumpType == DumpTypeTriage {
		return "a small (triage) dump holds no physical memory"
	}
	return fmt.Sprintf("this dump (%s) holds no physical memory", f.Header.DumpType)
}

// ReadPhysical reads len(p) bytes of physical memory at pa. It returns the number of bytes read
// before the first byte the dump does not hold, and then a *PhysicalError naming that address
// (or a *FormatError when the page index itself could not be built).
func (f *File) ReadPhysical(p []byte, pa uint64) (int, error) {
	idx, err := f.physical()
	if err != nil {
		return 0, err
	}
	if idx == nil {
		return 0, &PhysicalError{Addr: pa, Offset: -1, Reason: f.noPhysicalMemory()}
	}
	n := 0
	for n < len(p) {
		a := pa + uint64(n)
		if a < pa {
			return n, &PhysicalError{Addr: a, Offset: -1, Reason: "the read wraps past the top of the physical address space"}
		}
		off, ok := idx.lookup(a / PageSize)
		if !ok {
			return n, &PhysicalError{Addr: a, Offset: -1}
		}
		in := a % PageSize
		chunk := min(len(p)-n, int(PageSize-in))
		fo := off + int64(in)
		if fo > f.size-int64(chunk) {
			// Serve what the file still has, then say where the rest should have been.
			if fo < f.size {
				got, _ := f.readFile(p[n:n+int(f.size-fo)], fo)
				n += got
			}
			return n, &PhysicalError{Addr: pa + uint64(n), Offset: fo + int64(max(0, int(f.size-fo)))}
		}
		got, err := f.readFile(p[n:n+chunk], fo)
		n += got
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// readFile copies file bytes at off into p.
func (f *File) readFile(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, errors.New("kdump: file is closed")
	}
	if f.data != nil {
		return copy(p, f.data[off:]), nil
	}
	n, err := f.r.ReadAt(p, off)
	if err != nil && !(errors.Is(err, io.EOF) && n == len(p)) {
		return n, formatErr(off, "page data", "read error: %v", err)
	}
	return n, nil
}

// PhysicalPageOffset is the file offset of a page frame's bytes, or false when the dump does
// not list it.
func (f *File) PhysicalPageOffset(pfn uint64) (int64, bool, error) {
	idx, err := f.physical()
	if err != nil || idx == nil {
		return 0, false, err
	}
	off, ok := idx.lookup(pfn)
	return off, ok, nil
}

// PhysicalPageCount is the number of physical pages the dump lists (0 for dumps without physical
// memory).
func (f *File) PhysicalPageCount() (uint64, error) {
	idx, err := f.physical()
	if err != nil || idx == nil {
		return 0, err
	}
	return idx.count(), nil
}

// PhysicalRuns iterates over the stored physical memory as maximal runs of consecutive page
// frames, in ascending order. Runs may extend past the end of a truncated file (see Issues).
func (f *File) PhysicalRuns() (iter.Seq[PageRun], error) {
	idx, err := f.physical()
	if err != nil {
		return nil, err
	}
	if idx == nil {
		return func(func(PageRun) bool) {}, nil
	}
	return idx.runs, nil
}

// PhysicalPages iterates over every stored page: its page frame number and the file offset of
// its bytes, in ascending page frame order.
func (f *File) PhysicalPages() (iter.Seq2[uint64, int64], error) {
	runs, err := f.PhysicalRuns()
	if err != nil {
		return nil, err
	}
	return func(yield func(uint64, int64) bool) {
		for r := range runs {
			for i := range r.PageCount {
				if !yield(r.BasePage+i, r.FileOffset+int64(i)*PageSize) {
					return
				}
			}
		}
	}, nil
}

// Issues lists what is inconsistent or missing in the physical memory storage (pages past the
// end of a truncated file, overlapping runs, a bitmap whose set bits disagree with its count),
// building the page index first. The dump stays readable; these say which answers are partial.
func (f *File) Issues() []error {
	_, err := f.physical()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.issues)
	if err != nil {
		out = append(out, err)
	}
	return out
}

func (f *File) issue(off int64, what, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.issues = append(f.issues, formatErr(off, what, format, args...))
}

// runIndex serves run lists and range tables: runs sorted by page frame, binary searched.
type runIndex struct {
	sorted []PageRun
	pages  uint64
}

func (x *runIndex) lookup(pfn uint64) (int64, bool) {
	i, _ := slices.BinarySearchFunc(x.sorted, pfn, func(r PageRun, p uint64) int {
		switch {
		case r.BasePage+r.PageCount <= p:
			return -1
		case r.BasePage > p:
			return 1
		}
		return 0
	})
	if i >= len(x.sorted) {
		return 0, false
	}
	r := x.sorted[i]
	if pfn < r.BasePage || pfn-r.BasePage >= r.PageCount {
		return 0, false
	}
	return r.FileOffset + int64(pfn-r.BasePage)*PageSize, true
}

func (x *runIndex) runs(yield func(PageRun) bool) {
	for _, r := range x.sorted {
		if !yield(r) {
			return
		}
	}
}

func (x *runIndex) count() uint64 { return x.pages }

// newRunIndex sorts runs given in file order, dropping the parts of runs that overlap an
// earlier-sorted one (with an issue naming where the run was described). descOff gives the
// file offset of run i's description, for issues.
func (f *File) newRunIndex(runs []PageRun, descOff func(int) int64, what string) *runIndex {
	type numbered struct {
		PageRun
		i int
	}
	s := make([]numbered, 0, len(runs))
	for i, r := range runs {
		if r.PageCount > 0 {
			s = append(s, numbered{r, i})
		}
	}
	slices.SortStableFunc(s, func(a, b numbered) int { return cmp.Compare(a.BasePage, b.BasePage) })
	x := &runIndex{sorted: make([]PageRun, 0, len(s))}
	var end uint64 // first page frame past the last kept run
	for _, r := range s {
		if len(x.sorted) > 0 && r.BasePage < end {
			skip := end - r.BasePage
			if skip >= r.PageCount {
				f.issue(descOff(r.i), what, "run %d (page frames %#x+%#x) lies inside an earlier run; ignored", r.i, r.BasePage, r.PageCount)
				continue
			}
			f.issue(descOff(r.i), what, "run %d (page frames %#x+%#x) overlaps an earlier run; its first %d pages are ignored", r.i, r.BasePage, r.PageCount, skip)
			r.BasePage += skip
			r.PageCount -= skip
			r.FileOffset += int64(skip) * PageSize
		}
		x.sorted = append(x.sorted, r.PageRun)
		x.pages += r.PageCount
		end = r.BasePage + r.PageCount
	}
	return x
}

// maxFilePages bounds page counts so that file offsets never overflow an int64.
const maxFilePages = 1 << 50

// buildRunList lays a full dump's runs out after the header (FORMATS.md §1.4 FULL).
func (f *File) buildRunList() (physIndex, error) {
	d := f.Header.PhysicalMemoryBlock
	base := phyBlockOffset(&f.Header)
	runSize, runStart := int64(16), base+16
	if !f.Header.Is64 {
		runSize, runStart = 8, base+8
	}
	descOff := func(i int) int64 { return runStart + int64(i)*runSize }
	runs := make([]PageRun, 0, len(d.Runs))
	off := f.Header.Size()
	var total uint64
	for i, r := range d.Runs {
		if r.PageCount > maxFilePages || r.BasePage > maxFilePages || total+r.PageCount > maxFilePages {
			return nil, formatErr(descOff(i), "PhysicalMemoryBlock", "run %d (base page %#x, %#x pages) is not plausible", i, r.BasePage, r.PageCount)
		}
		runs = append(runs, PageRun{BasePage: r.BasePage, PageCount: r.PageCount, FileOffset: off})
		off += int64(r.PageCount) * PageSize
		total += r.PageCount
	}
	if total != d.NumberOfPages {
		f.issue(base+8, "PhysicalMemoryBlock", "NumberOfPages is %d but the runs add up to %d pages", d.NumberOfPages, total)
	}
	if off > f.size {
		f.issue(base, "PhysicalMemoryBlock", "the runs need %d pages ending at file offset %#x, past the end of the file (%#x): %d pages are missing",
			total, off, f.size, (off-max(f.size, f.Header.Size())+PageSize-1)/PageSize)
	}
	return f.newRunIndex(runs, descOff, "PhysicalMemoryBlock"), nil
}

// buildRanges reads the 'RDMP' page-frame range table (FORMATS.md §1.4 RDMP).
func (f *File) buildRanges() (physIndex, error) {
	const what = "RDMP range table"
	r := f.Ranges
	hs := f.Header.Size()
	if r.MetadataSize < 0x20 || r.MetadataSize-0x20 != r.FirstPageOffset-0x2040 {
		f.issue(hs+0x10, "RDMP header", "MetadataSize %#x does not match FirstPageOffset %#x", r.MetadataSize, r.FirstPageOffset)
	}
	tableBytes := uint64(r.FirstPageOffset) - uint64(r.TableOffset)
	b, err := f.block(uint64(r.TableOffset), tableBytes, what)
	if err != nil {
		return nil, err
	}
	c := newCursor(b, r.TableOffset, what)
	complete := f.Header.DumpType == DumpTypeCompleteMemory
	var runs []PageRun
	off := int64(r.FirstPageOffset)
	var total uint64
	for i := 0; c.remaining() >= 16; i++ {
		if complete && (uint32(i) >= r.NumberOfRanges || total >= r.TotalNumberOfPages) {
			break
		}
		base, n := c.u64(), c.u64()
		if !complete && base == 0 {
			break
		}
		if n > maxFilePages || base > maxFilePages || total+n > maxFilePages {
			return nil, formatErr(r.TableOffset+int64(i)*16, what, "range %d (base page %#x, %#x pages) is not plausible", i, base, n)
		}
		runs = append(runs, PageRun{BasePage: base, PageCount: n, FileOffset: off})
		off += int64(n) * PageSize
		total += n
	}
	if complete && total != r.TotalNumberOfPages {
		f.issue(hs+0x28, "RDMP header", "TotalNumberOfPages is %d but the table lists %d pages", r.TotalNumberOfPages, total)
	}
	if off > f.size {
		f.issue(r.TableOffset, what, "the ranges need pages up to file offset %#x, past the end of the file (%#x)", off, f.size)
	}
	return f.newRunIndex(runs, func(i int) int64 { return r.TableOffset + int64(i)*16 }, what), nil
}
