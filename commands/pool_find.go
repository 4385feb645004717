package commands

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"wdbg/engine/pool"
)

// poolFindResult is !poolfind as data.
type poolFindResult struct {
	Tag       string           `json:"tag"`
	Pools     string           `json:"pools"` // "nonpaged", "paged", "both"
	BigTable  *poolFindRegion  `json:"big_table,omitempty"`
	Regions   []poolFindRegion `json:"regions"`
	Hits      []poolFindHit    `json:"hits"`
	Scanned   uint64           `json:"scanned_bytes"`
	Missing   uint64           `json:"missing_bytes"` // mapped but not in the dump
	Stopped   bool             `json:"stopped"`
	StoppedAt string           `json:"stopped_at,omitempty"`
	Notes     []string         `json:"notes,omitempty"`

	tagValue uint32
	exact    bool
	classic  bool
	ptr      int
	stopAt   uint64
}

type poolFindRegion struct {
	Name  string `json:"name"`
	Start string `json:"start"`
	End   string `json:"end"`
	start uint64
	end   uint64
}

type poolFindHit struct {
	Address      string `json:"address"`
	Tag          string `json:"tag"`
	Size         uint64 `json:"size"`
	PreviousSize uint64 `json:"previous_size"`
	Pool         string `json:"pool"` // "Nonpaged pool", "Paged pool", "" for a free block
	Free         bool   `json:"free"`
	Big          bool   `json:"big"` // from the large pool allocation table
	addr         uint64
	region       int // index in Regions, -1 for big
}

// parsePoolFindArgs reads `TagString|0xTagValue [PoolType]` or `-tag "X" [-nonpaged|-paged|-session]`.
func parsePoolFindArgs(args string) (pat pool.Pattern, text string, pools pool.Pools, err error) {
	f := strings.Fields(args)
	bad := func(i int) error {
		return &SyntaxError{Input: "!poolfind " + args, Col: 10 + strings.Index(args, f[i])}
	}
	var tagArg string
	var typeArg = ""
	for i := 0; i < len(f); i++ {
		switch a := strings.ToLower(f[i]); {
		case a == "-tag":
			if i+1 >= len(f) {
				return pat, "", 0, bad(i)
			}
			i++
			tagArg = f[i]
		case a == "-nonpaged":
			typeArg = "0"
		case a == "-paged":
			typeArg = "1"
		case a == "-session":
			typeArg = "4"
		case strings.HasPrefix(a, "-"):
			return pat, "", 0, bad(i)
		case tagArg == "":
			tagArg = f[i]
		case typeArg == "":
			typeArg = f[i]
		default:
			return pat, "", 0, &ExtraCharsError{Input: "!poolfind " + args, Col: 10 + strings.Index(args, f[i])}
		}
	}
	tagArg = strings.Trim(tagArg, "\"")
	if tagArg == "" {
		return pat, "", 0, fmt.Errorf("usage: !poolfind TagString|0xTagValue [PoolType]")
	}
	text = tagArg
	if strings.HasPrefix(strings.ToLower(tagArg), "0x") {
		// WINDBG-SPEC §3.8: a numeric tag is the little-endian dword.
		v, perr := strconv.ParseUint(tagArg[2:], 16, 32)
		if perr != nil {
			return pat, "", 0, &SyntaxError{Input: "!poolfind " + args, Col: 10 + strings.Index(args, tagArg)}
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(v))
		text = string(b[:])
	}
	pat = pool.ParsePattern(text)
	pools = pool.AllPools
	switch typeArg {
	case "":
	case "0":
		pools = pool.NonPaged
	case "1":
		pools = pool.Paged
	case "2":
		return pat, "", 0, fmt.Errorf("not available in this dump: special pool is not searched (no facts on its layout)")
	case "4":
		return pat, "", 0, fmt.Errorf("not available in this dump: session pool is not searched (FORMATS.md §6.3 gap)")
	default:
		return pat, "", 0, fmt.Errorf("unknown pool type %s (0 nonpaged, 1 paged)", typeArg)
	}
	return pat, text, pools, nil
}

func runPoolFind(ctx context.Context, s *Session, args string) (Result, error) {
	pat, text, pools, err := parsePoolFindArgs(args)
	if err != nil {
		return nil, err
	}
	k, err := s.poolKernel(ctx)
	if err != nil {
		return nil, err
	}
	ptr := s.PointerSize()
	progress := &progressLine{w: s.ScanProgress}
	scan, err := pool.Scan(ctx, k, pool.ScanOptions{Pattern: pat, Pools: pools, Progress: progress.show})
	progress.done()
	if scan == nil {
		return nil, err
	}
	res := &poolFindResult{Tag: text, Pools: map[pool.Pools]string{pool.NonPaged: "nonpaged", pool.Paged: "paged", pool.AllPools: "both"}[pools],
		Scanned: scan.Scanned, Missing: scan.Missing, Stopped: scan.Stopped, Notes: scan.Notes,
		classic: !k.SegmentHeap(), ptr: ptr, stopAt: scan.StoppedAt}
	if t, ok := pat.Exact(); ok {
		res.tagValue, res.exact = uint32(t), true
	}
	if err != nil {
		res.Notes = append(res.Notes, err.Error())
	}
	if res.Stopped {
		res.StoppedAt = hexString(scan.StoppedAt)
	}
	if b := scan.Big; b != nil {
		end := b.End(ptr)
		res.BigTable = &poolFindRegion{Name: "large pool allocation table", Start: hexString(b.Table), End: hexString(end), start: b.Table, end: end}
	}
	for _, r := range scan.Regions {
		res.Regions = append(res.Regions, poolFindRegion{Name: r.Name, Start: hexString(r.Range.Start), End: hexString(r.Range.End),
			start: r.Range.Start, end: r.Range.End})
	}
	res.Hits = []poolFindHit{}
	for _, h := range scan.Hits {
		e := poolFindHit{Address: hexString(h.Addr), Tag: h.Tag.String(), Size: h.Size, PreviousSize: h.PreviousSize,
			Free: h.Free, Big: h.Big, addr: h.Addr, region: -1}
		if !h.Free {
			e.Pool = pool.TypeName(h.PoolType)
		}
		if !h.Big {
			for i, r := range scan.Regions {
				if r.Range.Contains(h.Addr) || r.Range.End == 0 && h.Addr >= r.Range.Start {
					e.region = i
					break
				}
			}
		}
		res.Hits = append(res.Hits, e)
	}
	return res, nil
}

// WriteText prints the big-table hits under WinDbg's modern "Scanning large pool allocation
// table" line (`ADDR : tag Proc, size     0xe70, Nonpaged pool`), then per searched region
// its "Searching" line and hits: the legacy `ADDR size:   c0 previous size:   40  (Allocated)
// SeSd` form on classic builds, the modern form on segment-heap builds (§3.8). A cancelled
// scan ends with `...terminating - searched pool to ADDR`.
func (r *poolFindResult) WriteText(w io.Writer) error {
	var b strings.Builder
	tagText := r.Tag
	if r.exact {
		tagText = fmt.Sprintf("0x%08x (%s)", r.tagValue, pool.Tag(r.tagValue).String())
	}
	if r.BigTable != nil {
		fmt.Fprintf(&b, "Scanning large pool allocation table for tag %s (%s : %s)\n\n", tagText,
			FormatPtr(r.BigTable.start, r.ptr), FormatPtr(r.BigTable.end, r.ptr))
		for _, h := range r.Hits {
			if h.Big {
				r.modernLine(&b, h)
			}
		}
		b.WriteString("\n")
	}
	for i, reg := range r.Regions {
		name := reg.Name
		if r.classic {
			fmt.Fprintf(&b, "Searching %s (%s : %s) for Tag: %s\n\n", name, FormatPtr(reg.start, r.ptr), FormatPtr(reg.end, r.ptr), r.Tag)
		} else {
			fmt.Fprintf(&b, "Searching %s outside loaded images (%s : %s) for Tag: %s\n\n", name, FormatPtr(reg.start, r.ptr), FormatPtr(reg.end-1, r.ptr), r.Tag)
		}
		for _, h := range r.Hits {
			if h.Big || h.region != i {
				continue
			}
			if r.classic {
				state := "(Allocated)"
				if h.Free {
					state = "(Free)"
				}
				fmt.Fprintf(&b, "%s size: %4x previous size: %4x  %-11s %s\n", FormatPtr(h.addr, r.ptr), h.Size, h.PreviousSize, state, h.Tag)
			} else {
				r.modernLine(&b, h)
			}
		}
		b.WriteString("\n")
	}
	if r.Stopped {
		fmt.Fprintf(&b, "...terminating - searched pool to %s\n", FormatPtr(r.stopAt, r.ptr))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "(%s)\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *poolFindResult) modernLine(b *strings.Builder, h poolFindHit) {
	where := h.Pool
	if h.Free {
		where = "Free"
	}
	fmt.Fprintf(b, "%s : tag %s, size %9s, %s\n", FormatPtr(h.addr, r.ptr), h.Tag, fmt.Sprintf("%#x", h.Size), where)
}
