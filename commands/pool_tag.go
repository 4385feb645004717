package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"wdbg/engine/pooltag"
)

// poolTagCommand answers the admin's last step of a pool leak (issue 5): which driver uses this
// tag. WinDbg leaves it to `findstr /m /l TAG *.sys` over the drivers folder; wdbg searches the
// driver images the dump itself holds.
var poolTagCommand = &Command{
	Name: "!pooltag", Group: "Kernel",
	Usage:   "!pooltag TagString|0xTagValue",
	Summary: "describe a pool tag and find the drivers that use it",
	Help: "Prints the tag's description from the pool tag lists (pooltag.txt files, then wdbg's own list), " +
		"then searches the images of the loaded modules that the dump holds for the tag's four bytes — as " +
		"a driver holds them in the code that allocates with the tag or as a constant — and lists the modules " +
		"where they occur, with the hits per section. Pages of an image that the dump lacks cannot be " +
		"searched; the totals say how many. A numeric tag is the little-endian dword (0x6b61654c is Leak).",
	Run: runPoolTag,
}

// poolTagResult is !pooltag as data.
type poolTagResult struct {
	Tag         string          `json:"tag"`
	Description string          `json:"description"`
	Known       bool            `json:"known"`
	Binary      string          `json:"binary,omitempty"` // the owner the tag list names, if any
	Owners      []poolTagOwner  `json:"owners"`
	Searched    int             `json:"searched_images"`
	Scanned     uint64          `json:"scanned_bytes"`
	Unreadable  int             `json:"unreadable_pages"`
	Incomplete  []string        `json:"incomplete_images,omitempty"` // images with pages missing from the dump
	Stopped     bool            `json:"stopped,omitempty"`
	owners      []pooltag.Owner // all images, for the text
	ptr         int
}

type poolTagOwner struct {
	Module   string                `json:"module"`
	Base     string                `json:"base"`
	Hits     int                   `json:"hits"`
	CodeHits int                   `json:"code_hits"`
	Sections []pooltag.SectionHits `json:"sections,omitempty"`
	RVAs     []string              `json:"rvas"`
	base     uint64
}

func runPoolTag(ctx context.Context, s *Session, args string) (Result, error) {
	args = strings.Trim(strings.TrimSpace(args), `"`)
	if args == "" {
		return nil, &SyntaxError{Input: "!pooltag", Col: 8}
	}
	tag, err := pooltag.ParseTag(args)
	if err != nil {
		return nil, err
	}
	res := &poolTagResult{Tag: pooltag.Printable(tag), ptr: s.PointerSize()}
	if e, ok := s.PoolTags.Describe(tag); ok {
		res.Description, res.Known, res.Binary = e.Description, true, e.Binary
	}
	t := s.Target
	images := make([]pooltag.Image, 0, len(t.Modules))
	for _, m := range t.Modules {
		// The dump's own bytes only: fetching every driver's file from a symbol server to search
		// it would be slow and would not be what ran.
		images = append(images, pooltag.Image{Name: m.Name, Base: m.Base, Size: uint64(m.Size), Mem: t.Memory})
	}
	owners, err := pooltag.Owners(ctx, tag, images)
	if err != nil && ctx.Err() == nil {
		return nil, err
	}
	res.Stopped = ctx.Err() != nil
	res.owners = owners
	res.Searched = len(owners)
	for _, o := range owners {
		res.Scanned += o.ScannedBytes
		res.Unreadable += o.UnreadablePages
		if o.UnreadablePages > 0 {
			res.Incomplete = append(res.Incomplete, o.Image)
		}
		if o.Hits == 0 {
			continue
		}
		po := poolTagOwner{Module: o.Image, Base: hexString(o.Base), Hits: o.Hits, CodeHits: o.CodeHits,
			Sections: o.Sections, base: o.Base}
		for _, rva := range o.RVAs {
			po.RVAs = append(po.RVAs, hexString(uint64(rva)))
		}
		res.Owners = append(res.Owners, po)
	}
	return res, nil
}

// WriteText: the tag line as !pool words it, the modules holding the tag, then what could not
// be searched.
func (r *poolTagResult) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Known {
		e := pooltag.Entry{Description: r.Description, Binary: r.Binary}
		b.WriteString(e.PoolText(r.Tag) + "\n")
	} else {
		fmt.Fprintf(&b, "Pooltag %s : not in the pool tag lists\n", r.Tag)
	}
	if len(r.Owners) == 0 {
		fmt.Fprintf(&b, "No loaded module image in the dump holds the tag %s.\n", r.Tag)
	} else {
		fmt.Fprintf(&b, "Loaded modules whose image holds the tag %s:\n", r.Tag)
		for _, o := range r.Owners {
			var parts []string
			for _, sec := range o.Sections {
				parts = append(parts, fmt.Sprintf("%s %d", sec.Name, sec.Hits))
			}
			hits := "hits"
			if o.Hits == 1 {
				hits = "hit"
			}
			fmt.Fprintf(&b, "  %-16s %s  %d %s (%s)\n", o.Module, FormatAddr(o.base, r.ptr), o.Hits, hits, strings.Join(parts, ", "))
		}
	}
	fmt.Fprintf(&b, "Searched %d module images, %d KB", r.Searched, r.Scanned>>10)
	if r.Unreadable > 0 {
		fmt.Fprintf(&b, "; %d pages of %d images are not in the dump and were not searched", r.Unreadable, len(r.Incomplete))
	}
	b.WriteString(".\n")
	if r.Stopped {
		b.WriteString("(search interrupted: the list is incomplete)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
