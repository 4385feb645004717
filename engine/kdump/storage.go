package kdump

import (
	"encoding/binary"
	"fmt"
)

// Storage is how a dump stores physical memory (FORMATS.md §1.4).
type Storage uint8

const (
	// StorageNone: no physical memory (triage and header-only dumps).
	StorageNone Storage = iota
	// StorageRunList: full dump; pages follow the header in PhysicalMemoryBlock run order.
	StorageRunList
	// StorageBitmap: 'SDMP'/'FDMP' summary or bitmap dump; the n-th set bit's page is the n-th
	// page from BitmapHeader.FirstPage.
	StorageBitmap
	// StorageRanges: 'RDMP' dump (DumpType 8, 9, 0xA); a table of page-frame ranges stored
	// back to back from RangeHeader.FirstPageOffset.
	StorageRanges
)

func (s Storage) String() string {
	switch s {
	case StorageNone:
		return "none"
	case StorageRunList:
		return "run list"
	case StorageBitmap:
		return "bitmap"
	case StorageRanges:
		return "range table"
	}
	return fmt.Sprintf("Storage(%d)", uint8(s))
}

// Secondary header signatures (FORMATS.md §1.4), as little-endian u32s.
const (
	SignatureSDMP = 0x504D4453 // 'SDMP': kernel / summary bitmap dump
	SignatureFDMP = 0x504D4446 // 'FDMP': full bitmap dump
	SignatureRDMP = 0x504D4452 // 'RDMP': newer kernel / complete range dumps
	SignatureDUMP = 0x504D5544 // 'DUMP'
	// SignatureTriageValid is the ULONG at TriageHeader.ValidOffset of a complete triage dump
	// ('TRGD' in the file).
	SignatureTriageValid = 0x44475254
)

// maxBitmapBits bounds a bitmap's bit count: 2^40 page frames is 4 PiB of RAM. It only keeps
// arithmetic far from overflow; the real bound is that the bitmap must fit in the file.
const maxBitmapBits = 1 << 40

// BitmapHeader is the secondary header of summary and bitmap dumps at file offset 0x1000 or
// 0x2000 (FORMATS.md §1.4).
type BitmapHeader struct {
	Signature   uint32 // SignatureSDMP or SignatureFDMP
	ValidDump   uint32 // SignatureDUMP
	DumpOptions uint64
	// FirstPage (a.k.a. HeaderSize) is the file offset of the first stored page. It need not be
	// page aligned: it is usually the end of the bitmap.
	FirstPage uint64
	// TotalPresentPages is the number of set bits, i.e. of stored pages.
	TotalPresentPages uint64
	// Pages is the number of bits: the highest page frame number + 1.
	Pages uint64
	// BitmapOffset is the file offset of the bitmap; bit n of byte k is page frame 8k+n.
	BitmapOffset int64
	// Legacy is set when the header used the XP-era 32-bit field layout (SUMMARY_DUMP32/64).
	Legacy bool
}

// RangeHeader is the 'RDMP' secondary header of DumpType 8, 9 and 0xA dumps at 0x2000
// (FORMATS.md §1.4, single source).
type RangeHeader struct {
	Marker          uint32 // 0x40
	Signature       uint32 // SignatureRDMP
	ValidDump       uint32 // SignatureDUMP
	MetadataSize    uint64
	FirstPageOffset uint64
	// NumberOfRanges and TotalNumberOfPages are only in the complete-memory layout (0xA).
	NumberOfRanges     uint32
	TotalNumberOfPages uint64
	// TableOffset is the file offset of the {BasePfn, PageCount} table.
	TableOffset int64
}

// readSecondaryHeader decodes what follows DUMP_HEADER: the triage header, or whatever says
// where the physical pages are (FORMATS.md §1.4, §1.6).
func (f *File) readSecondaryHeader() error {
	h := &f.Header
	hs := uint64(h.Size())
	if h.runsErr != nil && h.DumpType != DumpTypeFull {
		f.issues = append(f.issues, h.runsErr)
	}
	switch h.DumpType {
	case DumpTypeTriage:
		t, err := f.readTriageHeader()
		if err != nil {
			return err
		}
		f.Triage = t
		return nil
	case DumpTypeHeader:
		return nil
	}
	var sig []byte
	if uint64(f.size) >= hs+12 {
		sig, _ = f.block(hs, 12, "secondary header")
	}
	if sig != nil {
		first := binary.LittleEndian.Uint32(sig)
		second := binary.LittleEndian.Uint32(sig[4:])
		third := binary.LittleEndian.Uint32(sig[8:])
		switch {
		case (first == SignatureSDMP || first == SignatureFDMP) && second == SignatureDUMP:
			b, err := f.readBitmapHeader()
			if err != nil {
				return err
			}
			f.Storage, f.Bitmap = StorageBitmap, b
			return nil
		case second == SignatureRDMP && third == SignatureDUMP && h.Is64:
			r, err := f.readRangeHeader()
			if err != nil {
				return err
			}
			f.Storage, f.Ranges = StorageRanges, r
			return nil
		}
	}
	switch h.DumpType {
	case DumpTypeFull:
		if h.runsErr != nil {
			return h.runsErr
		}
		if h.PhysicalMemoryBlock == nil {
			return formatErr(phyBlockOffset(h), "PhysicalMemoryBlock", "a full dump (DumpType 1) needs a run list, but NumberOfRuns holds the 'PAGE' fill pattern")
		}
		f.Storage = StorageRunList
		return nil
	case DumpTypeSummary, DumpTypeBitmapFull, DumpTypeBitmapKernel, DumpTypeAutomatic:
		return formatErr(int64(hs), "bitmap header", "DumpType %d needs an 'SDMP' or 'FDMP' header here, found % x", h.DumpType, sig)
	case DumpTypeKernelMemory, DumpTypeKernelAndUserMemory, DumpTypeCompleteMemory:
		return formatErr(int64(hs), "range header", "DumpType %d needs an 'RDMP' header here, found % x", h.DumpType, sig)
	}
	// Unknown dump types: keep the header readable, with no physical memory.
	return nil
}

func phyBlockOffset(h *Header) int64 {
	if h.Is64 {
		return 0x88
	}
	return 0x64
}

// readBitmapHeader decodes the 'SDMP'/'FDMP' header: the modern 64-bit-field layout first, then
// the legacy 32-bit-field one (FORMATS.md §1.4 gives both and the rule to choose).
func (f *File) readBitmapHeader() (*BitmapHeader, error) {
	hs := uint64(f.Header.Size())
	b, err := f.block(hs, 0x38, "bitmap header")
	if err != nil {
		return nil, err
	}
	c := newCursor(b, int64(hs), "bitmap header")
	m := &BitmapHeader{Signature: c.u32(), ValidDump: c.u32(), DumpOptions: uint64(c.u32())}
	c.seek(0x20)
	m.FirstPage = c.u64()
	m.TotalPresentPages = c.u64()
	m.Pages = c.u64()
	m.BitmapOffset = int64(hs) + 0x38
	modernErr := f.checkBitmapHeader(m, int64(hs)+0x20)
	if modernErr == nil {
		return m, nil
	}
	// Legacy SUMMARY_DUMP32/64: HeaderSize @0x0C, BitmapSize @0x10, Pages @0x14, RTL_BITMAP
	// {SizeOfBitMap @0x18, Buffer pointer}, bits at 0x20 (32-bit) / 0x28 (64-bit).
	c = newCursor(b, int64(hs), "bitmap header")
	l := &BitmapHeader{Signature: c.u32(), ValidDump: c.u32(), DumpOptions: uint64(c.u32()), Legacy: true}
	l.FirstPage = uint64(c.u32())
	c.skip(4) // BitmapSize
	l.TotalPresentPages = uint64(c.u32())
	l.Pages = uint64(c.u32())
	l.BitmapOffset = int64(hs) + 0x20
	if f.Header.Is64 {
		l.BitmapOffset = int64(hs) + 0x28
	}
	if f.checkBitmapHeader(l, int64(hs)+0x0C) == nil {
		return l, nil
	}
	return nil, modernErr
}

// checkBitmapHeader checks that the bitmap fits in the file before the first page and that the
// counts are consistent. off is where the counts are, for the error.
func (f *File) checkBitmapHeader(m *BitmapHeader, off int64) error {
	const what = "bitmap header"
	size := uint64(f.size)
	if m.Pages == 0 || m.Pages > maxBitmapBits {
		return formatErr(off, what, "bitmap of %d bits is not plausible", m.Pages)
	}
	end := uint64(m.BitmapOffset) + (m.Pages+7)/8
	if end > size {
		return formatErr(m.BitmapOffset, what, "bitmap of %d bits (%d bytes) runs past the end of the file (%d bytes)", m.Pages, (m.Pages+7)/8, f.size)
	}
	if m.FirstPage < end || m.FirstPage > size {
		return formatErr(off, what, "first page offset %#x is not between the end of the bitmap (%#x) and the end of the file (%#x)", m.FirstPage, end, size)
	}
	if m.TotalPresentPages > m.Pages {
		return formatErr(off, what, "%d present pages but only %d bits in the bitmap", m.TotalPresentPages, m.Pages)
	}
	return nil
}

// readRangeHeader decodes the 'RDMP' header (FORMATS.md §1.4).
func (f *File) readRangeHeader() (*RangeHeader, error) {
	const what = "RDMP header"
	hs := uint64(f.Header.Size())
	b, err := f.block(hs, 0x30, what)
	if err != nil {
		return nil, err
	}
	c := newCursor(b, int64(hs), what)
	r := &RangeHeader{Marker: c.u32(), Signature: c.u32(), ValidDump: c.u32()}
	c.skip(4)
	r.MetadataSize = c.u64()
	r.FirstPageOffset = c.u64()
	if f.Header.DumpType == DumpTypeCompleteMemory {
		r.NumberOfRanges = c.u32()
		c.skip(4)
		r.TotalNumberOfPages = c.u64()
	}
	r.TableOffset = int64(hs) + 0x30
	if r.FirstPageOffset < uint64(r.TableOffset) || r.FirstPageOffset > uint64(f.size) {
		return nil, formatErr(int64(hs)+0x18, what, "FirstPageOffset %#x is not between the range table (%#x) and the end of the file (%#x)", r.FirstPageOffset, r.TableOffset, f.size)
	}
	return r, c.err
}
