package ksynth

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// finish chooses the stored pages (FORMATS.md §1.4), writes the headers and completes the
// manifest.
func (b *builder) finish() (*Dump, error) {
	spec := b.spec
	d := &Dump{spec: spec, mem: b.mem, manifest: b.m}
	ram := b.mem.ramRuns()
	hsize := int64(header32Size)
	if b.p.is64 {
		hsize = header64Size
	}
	dumpType := spec.DumpType
	switch spec.Storage {
	case RunList:
		d.runs = ram
		d.first = hsize
		if dumpType == 0 {
			dumpType = 1 // DUMP_TYPE_FULL
		}
	case Bitmap:
		sig := sigSDMP
		d.runs = runsOf(b.mem.touched())
		if spec.AllPages {
			sig, d.runs = sigFDMP, ram
		}
		if dumpType == 0 {
			dumpType = 5 // DUMP_TYPE_BITMAP_FULL
		}
		d.second, d.first = bitmapHeader(sig, hsize, b.mem.maxPFN, d.runs, spec.PageAlignBitmapData)
		b.m.BitmapSignature = sig
	}
	for _, r := range d.runs {
		d.stored += r.count
	}
	for _, pfn := range b.mem.touched() {
		if !inRuns(d.runs, pfn) {
			return nil, fmt.Errorf("ksynth: internal: frame %#x holds data but is not stored", pfn)
		}
	}
	d.size = d.first + int64(d.stored)*pageSize
	d.header = b.headerBytes(dumpType, ram, uint64(d.size))

	m := b.m
	m.Machine, m.Build, m.PointerSize, m.PAE = spec.Machine.String(), b.p.build, b.p.ptr, b.p.pae
	m.Storage, m.DumpType = spec.Storage.String(), dumpType
	m.MajorVersion, m.MinorVersion = 0xF, b.p.build
	m.DirectoryTableBase, m.PfnDataBase = b.kernel.root, b.p.pfnDatabase
	m.MachineImageType, m.NumberProcessors = b.p.machine, spec.Processors
	m.BugCheck = b.bugCheck()
	m.SystemTime, m.SystemUpTime, m.ProductType, m.SuiteMask, m.Comment = systemTime, systemUpTime, productType, suiteMask, comment
	m.RequiredDumpSpace, m.FileSize = uint64(d.size), d.size
	m.FaultingSymbol = m.Symbol(m.FaultingIP)
	m.FaultingModule = "synthdrv"
	m.PhysicalPages, m.StoredPages = b.mem.maxPFN, d.stored
	for _, pfn := range b.mem.touched() {
		if !b.mem.zero(pfn) {
			m.FilledPages++
		}
	}
	for _, r := range ram {
		m.Runs = append(m.Runs, [2]uint64{r.base, r.count})
	}
	return d, nil
}

func inRuns(runs []pfnRun, pfn uint64) bool {
	_, ok := runIndex(runs, pfn)
	return ok
}

// runIndex is the position of pfn among the stored pages.
func runIndex(runs []pfnRun, pfn uint64) (uint64, bool) {
	var idx uint64
	for _, r := range runs {
		if pfn >= r.base && pfn < r.base+r.count {
			return idx + pfn - r.base, true
		}
		idx += r.count
	}
	return 0, false
}

// pfnAt is the frame stored at position idx.
func (d *Dump) pfnAt(idx uint64) uint64 {
	for _, r := range d.runs {
		if idx < r.count {
			return r.base + idx
		}
		idx -= r.count
	}
	return ^uint64(0)
}

// ReadAt serves the dump file's bytes without writing it (an io.ReaderAt for kdump.NewFile).
func (d *Dump) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("ksynth: negative offset")
	}
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= d.size {
			return n, io.EOF
		}
		var chunk []byte
		switch {
		case at < int64(len(d.header)):
			chunk = d.header[at:]
		case d.second != nil && at < int64(len(d.header)+len(d.second)):
			chunk = d.second[at-int64(len(d.header)):]
		case at < d.first:
			chunk = make([]byte, d.first-at) // padding before a page-aligned first page
		default:
			idx := uint64(at-d.first) / pageSize
			in := (at - d.first) % pageSize
			if pg := d.mem.pageBytes(d.pfnAt(idx)); pg != nil {
				chunk = pg[in:]
			} else {
				chunk = make([]byte, pageSize-in)
			}
		}
		n += copy(p[n:], chunk)
	}
	return n, nil
}

// WriteFile writes the dump to path. Pages that hold only zeros are not written: the file is
// extended over them (a hole on file systems that support sparse files), so a 4 GiB dump costs
// the disk only the pages the writer filled.
func (d *Dump) WriteFile(path string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if err := f.Truncate(d.size); err != nil {
		return err
	}
	if _, err := f.WriteAt(d.header, 0); err != nil {
		return err
	}
	if d.second != nil {
		if _, err := f.WriteAt(d.second, int64(len(d.header))); err != nil {
			return err
		}
	}
	pfns := make([]uint64, 0, len(d.mem.pages))
	for pfn := range d.mem.pages {
		pfns = append(pfns, pfn)
	}
	sort.Slice(pfns, func(i, j int) bool { return pfns[i] < pfns[j] })
	for _, pfn := range pfns {
		if d.mem.zero(pfn) {
			continue
		}
		idx, ok := runIndex(d.runs, pfn)
		if !ok {
			continue
		}
		if _, err := f.WriteAt(d.mem.pages[pfn][:], d.first+int64(idx)*pageSize); err != nil {
			return err
		}
	}
	return d.writeGenerated(f)
}

// ReadPhysical reads the machine's physical memory as the writer laid it out (zeros where it
// wrote nothing), for tests that compare a reader's answer with the writer's.
func (d *Dump) ReadPhysical(pa uint64, n int) []byte { return d.mem.read(pa, n) }
