package pe

import (
	"errors"
	"fmt"
	"io"
	"sort"
)

// ReaderAtAddr reads memory by virtual address. It may return fewer bytes than asked, with an
// error naming the first address it could not read; engine.Memory satisfies it.
type ReaderAtAddr interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// source is where an image's bytes come from, seen by RVA: a file translated through the
// section table, or a mapped image read at base+RVA.
type source interface {
	// readAt copies the image bytes at rva into p. It returns n < len(p) and an error when the
	// bytes run out (end of file, an RVA no section covers, a page missing from a dump).
	readAt(p []byte, rva uint32) (int, error)
	// fileOffset is the file offset of rva, -1 when there is none.
	fileOffset(rva uint32) int64
	// address is the virtual address of rva for a mapped image, 0 otherwise.
	address(rva uint32) uint64
}

// errPastImage reports a read past the end of the 32-bit RVA space or of SizeOfImage.
var errPastImage = errors.New("past the end of the image")

// segment is a run of the image's RVA space backed by the file: [rva, rva+virt) of which the
// first raw bytes come from the file at off and the rest read as zeros.
type segment struct {
	rva, virt uint32
	off       int64
	raw       uint32
}

// fileSource reads an image from a file. Until layout is called (while the headers are being
// read) RVAs are file offsets.
type fileSource struct {
	r    io.ReaderAt
	size int64
	segs []segment // sorted by rva; nil before layout
}

// layout builds the RVA→file-offset map from the section table (PE Format, "Section Table"):
// the headers sit at RVA 0 as in the file; each section occupies VirtualSize bytes (SizeOfRawData
// when VirtualSize is 0) rounded up to SectionAlignment, of which the first SizeOfRawData bytes
// come from PointerToRawData and the rest read as zeros. Overlapping sections are clipped so
// that each RVA has one meaning.
func (s *fileSource) layout(sizeOfHeaders, sectionAlignment uint32, sections []Section) {
	segs := make([]segment, 0, len(sections)+1)
	for _, sh := range sections {
		virt := sh.VirtualSize
		if virt == 0 {
			virt = sh.SizeOfRawData
		}
		virt = alignUp(virt, sectionAlignment)
		if virt == 0 {
			continue
		}
		if uint64(sh.VirtualAddress)+uint64(virt) > 1<<32 {
			virt = uint32(1<<32 - uint64(sh.VirtualAddress))
		}
		segs = append(segs, segment{rva: sh.VirtualAddress, virt: virt, off: int64(sh.PointerToRawData), raw: min(sh.SizeOfRawData, virt)})
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].rva < segs[j].rva })
	// The headers run up to the first section.
	hdr := alignUp(sizeOfHeaders, sectionAlignment)
	if len(segs) > 0 && segs[0].rva < hdr {
		hdr = segs[0].rva
	}
	if hdr > 0 {
		segs = append([]segment{{rva: 0, virt: hdr, off: 0, raw: min(sizeOfHeaders, hdr)}}, segs...)
	}
	// Clip overlaps: a later segment starts where the one before it ends.
	out := segs[:0]
	var end uint64
	for _, sg := range segs {
		if uint64(sg.rva) < end {
			cut := end - uint64(sg.rva)
			if cut >= uint64(sg.virt) {
				continue
			}
			sg.rva += uint32(cut)
			sg.virt -= uint32(cut)
			sg.off += int64(cut)
			sg.raw -= uint32(min(cut, uint64(sg.raw)))
		}
		out = append(out, sg)
		end = uint64(sg.rva) + uint64(sg.virt)
	}
	s.segs = out
}

func alignUp(v, a uint32) uint32 {
	if a <= 1 || a&(a-1) != 0 {
		return v
	}
	r := (uint64(v) + uint64(a) - 1) &^ (uint64(a) - 1)
	if r > 0xFFFFFFFF {
		return 0xFFFFFFFF
	}
	return uint32(r)
}

// find is the segment holding rva.
func (s *fileSource) find(rva uint32) (segment, bool) {
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].rva > rva }) - 1
	if i < 0 || rva-s.segs[i].rva >= s.segs[i].virt {
		return segment{}, false
	}
	return s.segs[i], true
}

func (s *fileSource) readAt(p []byte, rva uint32) (int, error) {
	if s.segs == nil {
		n, err := s.r.ReadAt(p, int64(rva))
		if n < len(p) && err == nil {
			err = io.ErrUnexpectedEOF
		}
		return n, fileErr(err)
	}
	n := 0
	for n < len(p) {
		cur := uint64(rva) + uint64(n)
		if cur > 0xFFFFFFFF {
			return n, errPastImage
		}
		sg, ok := s.find(uint32(cur))
		if !ok {
			return n, fmt.Errorf("RVA %#x is in no section", cur)
		}
		in := uint32(cur) - sg.rva
		want := min(uint64(len(p)-n), uint64(sg.virt-in))
		if in < sg.raw {
			backed := min(want, uint64(sg.raw-in))
			m, err := s.r.ReadAt(p[n:n+int(backed)], sg.off+int64(in))
			if m < int(backed) {
				if err == nil {
					err = io.ErrUnexpectedEOF
				}
				return n + m, fileErr(err)
			}
			clear(p[n+int(backed) : n+int(want)])
		} else {
			clear(p[n : n+int(want)])
		}
		n += int(want)
	}
	return n, nil
}

// fileErr names the end of a file in words.
func fileErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("the file ends")
	}
	return err
}

func (s *fileSource) fileOffset(rva uint32) int64 {
	if s.segs == nil {
		return int64(rva)
	}
	sg, ok := s.find(rva)
	if !ok {
		return -1
	}
	return sg.off + int64(rva-sg.rva)
}

func (s *fileSource) address(uint32) uint64 { return 0 }

// mappedSource reads an image laid out at its RVAs from base in a dump's memory.
type mappedSource struct {
	mem  ReaderAtAddr
	base uint64
	// limit is SizeOfImage once the headers are known (0 before): reads stop there.
	limit uint32
}

func (s *mappedSource) readAt(p []byte, rva uint32) (int, error) {
	want := uint64(len(p))
	var err error
	if end := uint64(rva) + want; s.limit != 0 && end > uint64(s.limit) || end > 1<<32 {
		lim := uint64(1 << 32)
		if s.limit != 0 {
			lim = uint64(s.limit)
		}
		want = lim - min(lim, uint64(rva))
		err = fmt.Errorf("past SizeOfImage (%#x)", lim)
	}
	if want == 0 {
		return 0, err
	}
	n, rerr := s.mem.ReadAt(p[:want], s.base+uint64(rva))
	if n < int(want) {
		if rerr == nil {
			rerr = fmt.Errorf("memory at %#x is not readable", s.base+uint64(rva)+uint64(n))
		}
		return n, rerr
	}
	return n, err
}

func (s *mappedSource) fileOffset(uint32) int64 { return -1 }

func (s *mappedSource) address(rva uint32) uint64 { return s.base + uint64(rva) }
