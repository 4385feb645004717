package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"wdbg/engine/pool"
)

// poolPageResult is !pool as data.
type poolPageResult struct {
	Address     string          `json:"address"`
	Page        string          `json:"page"`
	Region      string          `json:"region"`
	Large       *poolLarge      `json:"large,omitempty"`
	Blocks      []poolPageBlock `json:"blocks"`
	SegmentHeap bool            `json:"segment_heap"`
	Description string          `json:"description,omitempty"` // of the block holding the address
	Notes       []string        `json:"notes,omitempty"`

	addr, page uint64
	ptr        int
	describe   bool
	tag        string
}

type poolLarge struct {
	Address string `json:"address"`
	Tag     string `json:"tag"`
	Size    uint64 `json:"size"`
	Pool    string `json:"pool"`
	addr    uint64
}

type poolPageBlock struct {
	Address      string `json:"address"`
	Size         uint64 `json:"size"`
	PreviousSize uint64 `json:"previous_size"`
	Free         bool   `json:"free"`
	Tag          string `json:"tag"`
	Protected    bool   `json:"protected,omitempty"`
	Containing   bool   `json:"containing"`
	// Contents is flag 1's dump of the block's first bytes after its header.
	Contents *MemoryDump `json:"contents,omitempty"`
	addr     uint64
}

// poolDumpBytes is how much of each block flag 1 shows: the start of the body, where the
// object's type and first fields identify what was allocated.
const poolDumpBytes = 0x40

func runPool(ctx context.Context, s *Session, args string) (Result, error) {
	f := strings.Fields(args)
	if len(f) == 0 {
		return nil, fmt.Errorf("usage: !pool Address [Flags]")
	}
	addr, err := s.Eval(f[0])
	if err != nil {
		return nil, err
	}
	flags := uint64(0)
	if len(f) >= 2 {
		if flags, err = s.Eval(f[1]); err != nil {
			return nil, err
		}
	}
	if len(f) > 2 {
		return nil, &ExtraCharsError{Input: "!pool " + args, Col: 6 + strings.Index(args, f[2])}
	}
	k, err := s.poolKernel(ctx)
	if err != nil {
		return nil, err
	}
	bigs, _ := pool.ReadBigPages(k)
	p, err := pool.Describe(k, addr, bigs)
	if p == nil {
		return nil, err
	}
	ptr := s.PointerSize()
	res := &poolPageResult{Address: hexString(p.Addr), Page: hexString(p.PageVA), Region: p.Region, SegmentHeap: p.SegmentHeap,
		Notes: p.Notes, addr: p.Addr, page: p.PageVA, ptr: ptr, describe: flags&0x80000000 == 0, Blocks: []poolPageBlock{}}
	if err != nil {
		res.Notes = append(res.Notes, err.Error())
	}
	if p.Big != nil {
		res.Large = &poolLarge{Address: hexString(p.Big.Addr), Tag: p.Big.Tag.String(), Size: p.Big.Bytes, Pool: p.Region, addr: p.Big.Addr}
		res.tag = res.Large.Tag
	}
	for i, b := range p.Blocks {
		if flags&2 != 0 && i != p.Containing {
			continue
		}
		res.Blocks = append(res.Blocks, poolPageBlock{Address: hexString(b.Addr), Size: b.Header.BlockSize, PreviousSize: b.Header.PreviousSize,
			Free: b.Header.Free(), Tag: b.Header.Tag.String(), Protected: b.Header.Tag.Protected(), Containing: i == p.Containing, addr: b.Addr})
		if flags&1 != 0 {
			// The POOL_HEADER is two pointers (FORMATS.md §6.1: 16 bytes on x64, 8 on x86).
			hdr := uint64(2 * ptr)
			if body := b.Header.BlockSize; body > hdr {
				n := min(body-hdr, poolDumpBytes) / 4
				res.Blocks[len(res.Blocks)-1].Contents = &MemoryDump{Kind: "dc", Start: b.Addr + hdr, Count: n, Unit: 4,
					Columns: 4, PtrSize: ptr, ASCII: true, mem: s.Memory(), ctx: ctx}
			}
		}
		if i == p.Containing {
			res.tag = b.Header.Tag.String()
			res.Description = s.PoolTags.PoolText(poolTagKey(b.Header.Tag))
		}
	}
	return res, nil
}

// WriteText follows WINDBG-SPEC §3.8: `Pool page ADDR region is ...`, one line per block with
// `*` before the address and the tag of the block holding ADDR, then, two TABs in, the tag's
// description (`Pooltag Proc : Process objects, Binary : nt!ps`, note `Binary :` with a space)
// or `Owning component : Unknown (update pooltag.txt)`.
func (r *poolPageResult) WriteText(w io.Writer) error {
	var b strings.Builder
	region := r.Region
	if region == "" {
		region = "Unknown"
	}
	if r.Large != nil {
		fmt.Fprintf(&b, "*%s : large page allocation, tag is %s, size is %#x bytes\n", FormatPtr(r.Large.addr, r.ptr), r.Large.Tag, r.Large.Size)
	} else {
		fmt.Fprintf(&b, "Pool page %s region is %s\n", FormatPtr(r.addr, r.ptr), region)
		for _, bl := range r.Blocks {
			mark := " "
			if bl.Containing {
				mark = "*"
			}
			state := "(Allocated)"
			if bl.Free {
				state = "(Free)"
			}
			suffix := ""
			if bl.Protected {
				suffix = " (Protected)"
			}
			fmt.Fprintf(&b, "%s%s size: %4x previous size: %4x  %-11s %s%s%s\n", mark, FormatPtr(bl.addr, r.ptr), bl.Size, bl.PreviousSize, state, mark, bl.Tag, suffix)
			if bl.Contents != nil {
				if err := bl.Contents.WriteText(&b); err != nil {
					return err
				}
			}
		}
	}
	if r.describe && r.Description != "" {
		b.WriteString("\t\t" + r.Description + "\n")
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "(%s)\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
