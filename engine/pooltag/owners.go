package pooltag

import (
	"bytes"
	"context"
	"fmt"

	"wdbg/engine"
	"wdbg/engine/pe"
)

// Image is a loaded module whose mapped bytes the dump may hold.
type Image struct {
	Name string
	Base uint64
	Size uint64 // bytes mapped from Base; 0 means "take SizeOfImage from the PE headers"
	Mem  engine.Memory
}

// SectionHits counts the hits inside one section of an image.
type SectionHits struct {
	Name string `json:"name"`
	// Code is set for sections holding code (IMAGE_SCN_CNT_CODE or IMAGE_SCN_MEM_EXECUTE,
	// PE Format "Section Flags"): a hit there is most likely the tag as an immediate operand
	// of an allocation call; a hit in data is a string or a table.
	Code bool `json:"code"`
	Hits int  `json:"hits"`
}

// Owner is what a scan of one image found.
type Owner struct {
	Image string `json:"image"`
	Base  uint64 `json:"base"`
	Hits  int    `json:"hits"`
	// RVAs are the first MaxOwnerRVAs hits, as offsets from Base, in address order.
	RVAs []uint32 `json:"rvas"`
	// Sections counts hits per section in section-table order (sections without hits are
	// left out); hits outside every section are counted under "(headers)" or "(no section)".
	// Nil when the PE headers could not be read (HeaderError says why).
	Sections    []SectionHits `json:"sections,omitempty"`
	CodeHits    int           `json:"codeHits"`
	HeaderError string        `json:"headerError,omitempty"`
	// ScannedBytes were read and searched; UnreadablePages are pages of the image the dump
	// does not hold (a tag there cannot be seen).
	ScannedBytes    uint64 `json:"scannedBytes"`
	UnreadablePages int    `json:"unreadablePages"`
}

const (
	// MaxOwnerRVAs bounds Owner.RVAs.
	MaxOwnerRVAs = 8
	// scanChunk is the size of one read; hits across chunk ends are found through a
	// 3-byte carry.
	scanChunk = 256 << 10
	pageSize  = 0x1000
	// maxImageSpan bounds the scanned size: RVAs are 32-bit.
	maxImageSpan = 1 << 32
	// PE Format "Section Flags".
	scnCntCode    = 0x00000020
	scnMemExecute = 0x20000000
)

// Owners searches each image's mapped bytes for the 4 tag bytes, the way admins run
// `findstr /m /l TAG *.sys` over the drivers folder (Microsoft KB 298102), but on the images
// the dump holds. A tag appears in a driver in memory order both as a string and as the
// immediate operand of the code passing it to the allocator (`mov r8d, 'kaeL'` encodes the
// bytes L e a k). The result has one Owner per image, in the order given, including images
// with no hit (their UnreadablePages says how much could not be searched); keep those with
// Hits > 0 to list owners. Wildcard tags are refused. When ctx is cancelled the images done
// so far are returned with ctx's error.
func Owners(ctx context.Context, tag string, images []Image) ([]Owner, error) {
	if IsPattern(tag) {
		return nil, fmt.Errorf("pool tag %q: wildcards are not supported when searching for owners", tag)
	}
	if len(tag) != TagLen {
		return nil, fmt.Errorf("pool tag %q: need exactly %d bytes", tag, TagLen)
	}
	needle := []byte(tag)
	buf := make([]byte, scanChunk+TagLen-1)
	out := make([]Owner, 0, len(images))
	for _, img := range images {
		o, err := scanImage(ctx, needle, img, buf)
		out = append(out, o)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func scanImage(ctx context.Context, needle []byte, img Image, buf []byte) (Owner, error) {
	o := Owner{Image: img.Name, Base: img.Base}
	if img.Mem == nil {
		o.HeaderError = "no memory for this image"
		return o, nil
	}
	var sections []pe.Section
	var firstSection uint32
	f, err := pe.NewMapped(img.Mem, img.Base)
	if err != nil {
		o.HeaderError = err.Error()
	} else {
		sections = f.Sections
		firstSection = ^uint32(0)
		for _, s := range sections {
			firstSection = min(firstSection, s.VirtualAddress)
		}
	}
	size := img.Size
	if size == 0 && f != nil {
		size = uint64(f.SizeOfImage)
	}
	size = min(size, maxImageSpan, ^uint64(0)-img.Base)

	counts := make([]int, len(sections))
	var headerHits, looseHits int
	hit := func(rva uint32) {
		o.Hits++
		if len(o.RVAs) < MaxOwnerRVAs {
			o.RVAs = append(o.RVAs, rva)
		}
		if f == nil {
			return
		}
		for i := range sections {
			if sections[i].Contains(rva) {
				counts[i]++
				if isCode(&sections[i]) {
					o.CodeHits++
				}
				return
			}
		}
		if rva < firstSection {
			headerHits++
		} else {
			looseHits++
		}
	}

	end := img.Base + size
	addr := img.Base
	carry := 0 // bytes of the previous contiguous read kept at buf[:carry]
	for addr < end {
		if err := ctx.Err(); err != nil {
			return o, err
		}
		want := int(min(uint64(scanChunk), end-addr))
		n, _ := img.Mem.ReadAt(buf[carry:carry+want], addr)
		n = max(0, min(n, want))
		data := buf[:carry+n]
		origin := addr - uint64(carry) // address of data[0]
		for off := 0; ; {
			i := bytes.Index(data[off:], needle)
			if i < 0 {
				break
			}
			hit(uint32(origin + uint64(off+i) - img.Base))
			off += i + 1
		}
		o.ScannedBytes += uint64(n)
		if n == want {
			addr += uint64(n)
			carry = min(len(data), TagLen-1)
			copy(buf, data[len(data)-carry:])
			continue
		}
		// A hole: the dump lacks the page holding addr+n. Skip to the next page.
		// (ReadAt's *engine.ReadError names addr+n; any other error is treated alike.)
		hole := addr + uint64(n)
		next := min(hole&^(pageSize-1)+pageSize, end)
		o.UnreadablePages++
		addr, carry = next, 0
	}

	if f != nil {
		for i, c := range counts {
			if c > 0 {
				o.Sections = append(o.Sections, SectionHits{Name: sections[i].Name, Code: isCode(&sections[i]), Hits: c})
			}
		}
		if headerHits > 0 {
			o.Sections = append(o.Sections, SectionHits{Name: "(headers)", Hits: headerHits})
		}
		if looseHits > 0 {
			o.Sections = append(o.Sections, SectionHits{Name: "(no section)", Hits: looseHits})
		}
	}
	return o, nil
}

func isCode(s *pe.Section) bool { return s.Characteristics&(scnCntCode|scnMemExecute) != 0 }
