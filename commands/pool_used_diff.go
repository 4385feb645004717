package commands

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// poolUsedDiff is `wdbg diff OLDER NEWER -c "!poolused ..."`: the perfmon-trend question (which
// tag grows) answered from two dumps of one machine. Rows are the tags whose usage changed,
// sorted by growth in the pool the command sorted by (both pools for the tag sort).
type poolUsedDiff struct {
	Sort string            `json:"sort"` // "tag" (total growth), "nonpaged", "paged"
	Rows []poolUsedDiffRow `json:"rows"`
}

type poolUsedDiffRow struct {
	Tag         string        `json:"tag"`
	NonPaged    poolUsedDelta `json:"nonpaged"`
	Paged       poolUsedDelta `json:"paged"`
	Description string        `json:"description"`
}

// poolUsedDelta is one pool's bytes and outstanding allocations in both dumps.
type poolUsedDelta struct {
	OlderBytes  uint64 `json:"older_bytes"`
	NewerBytes  uint64 `json:"newer_bytes"`
	Growth      int64  `json:"growth"` // bytes, newer − older
	OlderAllocs uint64 `json:"older_allocs"`
	NewerAllocs uint64 `json:"newer_allocs"`
}

func delta(older, newer poolUsedUsage) poolUsedDelta {
	return poolUsedDelta{OlderBytes: older.Bytes, NewerBytes: newer.Bytes, Growth: int64(newer.Bytes - older.Bytes),
		OlderAllocs: older.diff(), NewerAllocs: newer.diff()}
}

// DiffWith compares this !poolused (the older dump's) with the newer dump's.
func (r *poolUsedResult) DiffWith(newer Result) (Result, error) {
	n, ok := newer.(*poolUsedResult)
	if !ok {
		return nil, fmt.Errorf("cannot compare !poolused with %T", newer)
	}
	type pair struct{ older, newer *poolUsedRow }
	byTag := map[string]*pair{}
	for i := range r.Rows {
		byTag[r.Rows[i].Tag] = &pair{older: &r.Rows[i]}
	}
	for i := range n.Rows {
		p := byTag[n.Rows[i].Tag]
		if p == nil {
			p = &pair{}
			byTag[n.Rows[i].Tag] = p
		}
		p.newer = &n.Rows[i]
	}
	out := &poolUsedDiff{Sort: r.Sort}
	for tag, p := range byTag {
		var o, nw poolUsedRow
		if p.older != nil {
			o = *p.older
		}
		if p.newer != nil {
			nw = *p.newer
		}
		row := poolUsedDiffRow{Tag: tag, NonPaged: delta(o.NonPaged, nw.NonPaged), Paged: delta(o.Paged, nw.Paged),
			Description: nw.Description}
		if row.Description == "" {
			row.Description = o.Description
		}
		if row.NonPaged.Growth == 0 && row.Paged.Growth == 0 &&
			row.NonPaged.OlderAllocs == row.NonPaged.NewerAllocs && row.Paged.OlderAllocs == row.Paged.NewerAllocs {
			continue
		}
		out.Rows = append(out.Rows, row)
	}
	sort.Slice(out.Rows, func(i, j int) bool {
		a, b := out.Rows[i].growth(out.Sort), out.Rows[j].growth(out.Sort)
		if a != b {
			return a > b
		}
		return out.Rows[i].Tag < out.Rows[j].Tag
	})
	return out, nil
}

func (r poolUsedDiffRow) growth(sortBy string) int64 {
	switch sortBy {
	case "nonpaged":
		return r.NonPaged.Growth
	case "paged":
		return r.Paged.Growth
	}
	return r.NonPaged.Growth + r.Paged.Growth
}

// WriteText: one row per changed tag, the bytes used in each dump and the change, per pool,
// then the tag's description after a TAB as !poolused ends its rows.
func (d *poolUsedDiff) WriteText(w io.Writer) error {
	var b strings.Builder
	title := map[string]string{"tag": "total growth", "nonpaged": "NonPaged Pool growth", "paged": "Paged Pool growth"}[d.Sort]
	fmt.Fprintf(&b, " Pool usage from the older dump to the newer, sorted by %s\n\n", title)
	b.WriteString("                     NonPaged Used                              Paged Used\n")
	b.WriteString(" Tag          Older        Newer       Change          Older        Newer       Change\n\n")
	for _, r := range d.Rows {
		fmt.Fprintf(&b, " %-4s %12d %12d %+12d   %12d %12d %+12d\t%s\n", r.Tag,
			r.NonPaged.OlderBytes, r.NonPaged.NewerBytes, r.NonPaged.Growth,
			r.Paged.OlderBytes, r.Paged.NewerBytes, r.Paged.Growth, r.Description)
	}
	if len(d.Rows) == 0 {
		b.WriteString(" (no tag changed)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
