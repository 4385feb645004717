package commands

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"wdbg/engine/pool"
	"wdbg/engine/pooltag"
)

// poolUsedResult is !poolused as data: one row per tag with both pools' counters, so that Lua
// and `wdbg diff` can compare dumps tag by tag.
type poolUsedResult struct {
	Sort    string        `json:"sort"` // "tag", "nonpaged", "paged"
	Verbose bool          `json:"verbose"`
	Filter  string        `json:"filter,omitempty"`
	Rows    []poolUsedRow `json:"rows"`
	Notes   []string      `json:"notes,omitempty"`
	// WithOwners is set by -o: each row lists the modules whose images hold its tag.
	WithOwners bool `json:"with_owners,omitempty"`
	// PerProcessorTables counts the per-processor tracker tables (nt!ExPoolTagTables) whose
	// counters were added to the global table's.
	PerProcessorTables int `json:"per_processor_tables,omitempty"`
	// Session is set by flag 8: whose session pool the rows are.
	Session *poolUsedSession `json:"session,omitempty"`
}

type poolUsedRow struct {
	Tag         string        `json:"tag"`
	NonPaged    poolUsedUsage `json:"nonpaged"`
	Paged       poolUsedUsage `json:"paged"`
	Description string        `json:"description"`
	Known       bool          `json:"known"` // the description came from the tag database
	// Owners are the loaded modules whose images in the dump hold the tag (-o only).
	Owners []string `json:"owners,omitempty"`
}

type poolUsedUsage struct {
	Allocs uint64 `json:"allocs"`
	Frees  uint64 `json:"frees"`
	Bytes  uint64 `json:"bytes"`
}

// diff is the outstanding allocation count (Allocs − Frees, FORMATS.md §6.3).
func (u poolUsedUsage) diff() uint64 {
	return pool.Usage{Allocs: u.Allocs, Frees: u.Frees}.Outstanding()
}

func runPoolUsed(ctx context.Context, s *Session, args string) (Result, error) {
	var f []string
	owners := false
	for _, w := range strings.Fields(args) {
		if w == "-o" || w == "/o" {
			owners = true // wdbg's own switch: the owner column
			continue
		}
		f = append(f, w)
	}
	flags := uint64(0)
	if len(f) >= 1 {
		v, err := s.Eval(f[0])
		if err != nil {
			return nil, err
		}
		flags = v
	}
	filter := ""
	if len(f) >= 2 {
		filter = f[1]
	}
	if len(f) > 2 {
		return nil, &ExtraCharsError{Input: "!poolused " + args, Col: 10 + strings.Index(args, f[2])}
	}
	k, err := s.poolUsedKernel(ctx)
	if err != nil {
		return nil, err
	}
	var tr *pool.Tracker
	var session *poolUsedSession
	if flags&8 != 0 {
		st, id, err := s.readSessionTracker(ctx, k)
		if err != nil {
			return nil, err
		}
		tr, session = &st.Tracker, newPoolUsedSession(st, id, s.PointerSize())
	} else if tr, err = pool.ReadTracker(k); err != nil {
		return nil, err
	}
	res := &poolUsedResult{Sort: "tag", Verbose: flags&1 != 0, Filter: filter, Notes: tr.Notes,
		PerProcessorTables: len(tr.PerProcessor), Session: session}
	switch {
	case flags&2 != 0:
		res.Sort = "nonpaged"
	case flags&4 != 0:
		res.Sort = "paged"
	}
	pat := pool.ParsePattern(filter)
	for _, e := range tr.Entries {
		if filter != "" && !pat.Match(e.Tag) {
			continue
		}
		np := poolUsedUsage{e.NonPaged.Allocs, e.NonPaged.Frees, e.NonPaged.Bytes}
		pg := poolUsedUsage{e.Paged.Allocs, e.Paged.Frees, e.Paged.Bytes}
		if !res.Verbose && np.diff() == 0 && np.Bytes == 0 && pg.diff() == 0 && pg.Bytes == 0 {
			continue // nothing outstanding: WinDbg's short list leaves such tags out
		}
		tag := e.Tag.String()
		row := poolUsedRow{Tag: tag, NonPaged: np, Paged: pg}
		if entry, ok := s.PoolTags.Describe(poolTagKey(e.Tag)); ok {
			row.Description, row.Known = entry.PoolusedText(), true
		} else {
			row.Description = pooltag.UnknownPoolusedText(poolTagKey(e.Tag))
		}
		res.Rows = append(res.Rows, row)
	}
	if owners {
		if err := s.poolUsedOwners(ctx, res); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(res.Rows, func(i, j int) bool {
		a, b := res.Rows[i], res.Rows[j]
		switch res.Sort {
		case "nonpaged":
			if a.NonPaged.Bytes != b.NonPaged.Bytes {
				return a.NonPaged.Bytes > b.NonPaged.Bytes
			}
		case "paged":
			if a.Paged.Bytes != b.Paged.Bytes {
				return a.Paged.Bytes > b.Paged.Bytes
			}
		}
		return a.Tag < b.Tag
	})
	return res, nil
}

// WriteText follows WINDBG-SPEC §3.8's modern layout: title, the two-line header, then per tag
// ` ` + tag + allocs(10) + used(13) + allocs(11) + used(13), a TAB and the description. The
// Allocs column is the outstanding count (Allocs − Frees): the captured rows' Used/Allocs
// ratios are block sizes, which cumulative counts would not give. The verbose layout
// (Allocs, Frees, Diff, Used per pool) is not pinned down by a capture (§3.8: unverified).
func (r *poolUsedResult) WriteText(w io.Writer) error {
	var b strings.Builder
	if r.Session != nil {
		b.WriteString(r.Session.titleLine())
	}
	title := map[string]string{"tag": "Tag", "nonpaged": "NonPaged Pool Consumed", "paged": "Paged Pool Consumed"}[r.Sort]
	fmt.Fprintf(&b, " Sorting by %s\n\n", title)
	if r.Verbose {
		b.WriteString("               NonPaged                                          Paged\n")
		b.WriteString(" Tag     Allocs      Frees       Diff         Used     Allocs      Frees       Diff         Used\n\n")
	} else {
		b.WriteString("               NonPaged                  Paged\n")
		b.WriteString(" Tag     Allocs         Used     Allocs         Used\n\n")
	}
	for _, row := range r.Rows {
		if r.Verbose {
			fmt.Fprintf(&b, " %-4s%10d%11d%11d%13d%11d%11d%11d%13d\t%s%s\n", row.Tag,
				row.NonPaged.Allocs, row.NonPaged.Frees, row.NonPaged.diff(), row.NonPaged.Bytes,
				row.Paged.Allocs, row.Paged.Frees, row.Paged.diff(), row.Paged.Bytes, row.Description, r.ownerText(row))
			continue
		}
		fmt.Fprintf(&b, " %-4s%10d%13d%11d%13d\t%s%s\n", row.Tag,
			row.NonPaged.diff(), row.NonPaged.Bytes, row.Paged.diff(), row.Paged.Bytes, row.Description, r.ownerText(row))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "(%s)\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ownerText is -o's column after the description.
func (r *poolUsedResult) ownerText(row poolUsedRow) string {
	if !r.WithOwners {
		return ""
	}
	if len(row.Owners) == 0 {
		return "  [owner: no image in the dump holds it]"
	}
	return "  [owner: " + strings.Join(row.Owners, ", ") + "]"
}

// poolUsedOwners fills -o's column: one pass over the loaded modules' images in the dump finds
// every listed tag (pooltag.ImagesHolding).
func (s *Session) poolUsedOwners(ctx context.Context, res *poolUsedResult) error {
	res.WithOwners = true
	var tags []string
	for _, row := range res.Rows {
		if len(row.Tag) == pooltag.TagLen && !pooltag.IsPattern(row.Tag) {
			tags = append(tags, row.Tag)
		}
	}
	images := make([]pooltag.Image, 0, len(s.Target.Modules))
	for _, m := range s.Target.Modules {
		images = append(images, pooltag.Image{Name: m.Name, Base: m.Base, Size: uint64(m.Size), Mem: s.Target.Memory})
	}
	holders, err := pooltag.ImagesHolding(ctx, tags, images)
	if err != nil {
		return err
	}
	for i := range res.Rows {
		res.Rows[i].Owners = holders[res.Rows[i].Tag]
	}
	return nil
}
