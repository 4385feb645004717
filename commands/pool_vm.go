package commands

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"wdbg/engine"
	"wdbg/engine/pool"
)

// vmResult is !vm as data: rows in WinDbg's order with their value in pages, the warning
// banners, and the per-process commit table.
type vmResult struct {
	Rows      []vmRow     `json:"rows"`
	Banners   []string    `json:"banners,omitempty"`
	Processes []vmProcess `json:"processes,omitempty"`
	// ProcessNote says why the per-process table is missing or incomplete.
	ProcessNote string   `json:"process_note,omitempty"`
	Notes       []string `json:"notes,omitempty"`
	showProcs   bool
	bannerAfter map[string]string // row label → banner printed after it
}

type vmRow struct {
	Label  string `json:"label"`
	Pages  uint64 `json:"pages"`
	KB     uint64 `json:"kb"`
	Source string `json:"source"`
}

type vmProcess struct {
	PID       uint64 `json:"pid"`
	Image     string `json:"image"`
	Address   string `json:"address"`
	CommitKB  uint64 `json:"commit_kb"`
	HasCommit bool   `json:"has_commit"`
}

// excessive is the share of the maximum above which WinDbg warns about pool usage. The 95%
// threshold is WINDBG-SPEC §3.7's "per brief" value and is unverified against dbgeng.
const excessive = 0.95

func runVM(ctx context.Context, s *Session, args string) (Result, error) {
	flags := uint64(0)
	if f := strings.Fields(args); len(f) >= 1 {
		v, err := s.Eval(f[0])
		if err != nil {
			return nil, err
		}
		flags = v
		if len(f) > 1 {
			return nil, &ExtraCharsError{Input: "!vm " + args, Col: 4 + strings.Index(args, f[1])}
		}
	}
	// poolUsedKernel adds the PDB's structure offsets (POOL_DESCRIPTOR, for the paged pools).
	k, err := s.poolUsedKernel(ctx)
	if err != nil {
		return nil, err
	}
	v := pool.ReadVM(k)
	res := &vmResult{Notes: v.Notes, showProcs: flags&1 == 0, bannerAfter: map[string]string{}}
	add := func(label string, c pool.Counter) {
		if c.Known {
			res.Rows = append(res.Rows, vmRow{Label: label, Pages: c.Value, KB: c.Value * 4, Source: c.Source})
		}
	}
	// WINDBG-SPEC §3.7 modern row order; rows without a source in the facts are left out.
	add("Physical Memory:", v.PhysicalPages)
	add("Available Pages:", v.AvailablePages)
	add("ResAvail Pages:", v.ResidentAvailablePages)
	add("Modified Pages:", v.ModifiedPages)
	add("Modified No Write Pages:", v.ModifiedNoWritePages)
	add("NonPagedPool Usage:", v.NonPagedPoolUsage)
	add("NonPagedPool Max:", v.NonPagedPoolMax)
	if over(v.NonPagedPoolUsage, v.NonPagedPoolMax) {
		b := "********** Excessive NonPaged Pool Usage *****"
		res.Banners = append(res.Banners, b)
		res.bannerAfter["NonPagedPool Max:"] = b
	}
	// One row per paged pool, where the build has several (WINDBG-SPEC §3.7's `[PagedPool N:
	// per pool]`, labelled `PagedPool N Usage:` as Microsoft's !vm sample shows them).
	if len(v.PagedPools) >= 2 {
		for _, pp := range v.PagedPools {
			add(fmt.Sprintf("PagedPool %d Usage:", pp.Index), pp.Usage)
		}
	}
	add("PagedPool Usage:", v.PagedPoolUsage)
	add("PagedPool Maximum:", v.PagedPoolMax)
	if over(v.PagedPoolUsage, v.PagedPoolMax) {
		b := "********** Excessive Paged Pool Usage *****"
		res.Banners = append(res.Banners, b)
		res.bannerAfter["PagedPool Maximum:"] = b
	}
	add("Shared Commit:", v.SharedCommit)
	add("PagedPool Commit:", v.PagedPoolCommit)
	add("Driver Commit:", v.DriverCommit)
	add("Committed pages:", v.CommittedPages)
	add("Commit limit:", v.CommitLimit)
	if len(res.Rows) == 0 {
		return nil, fmt.Errorf("not available in this dump: no memory-manager counter could be read (no KDBG, no nt!MiSystemPartition)")
	}
	// WinDbg's page-file block, Locked IO Pages, Free System PTEs and the failed-allocation
	// banners come from kernel variables that no public fact wdbg uses locates; say so rather
	// than leave the reader to wonder why the rows are missing.
	res.Notes = append(res.Notes, vmNotShown)
	if res.showProcs {
		s.vmProcesses(ctx, res)
	}
	return res, nil
}

// vmNotShown names the !vm parts wdbg cannot read.
const vmNotShown = "not shown: page files, Locked IO Pages, Free System PTEs and the failed-allocation counts; " +
	"no public source locates the kernel variables behind them"

func over(usage, max pool.Counter) bool {
	return usage.Known && max.Known && max.Value > 0 && float64(usage.Value) > excessive*float64(max.Value)
}

// vmProcesses fills the per-process commit table from EPROCESS.CommitCharge (pages) when the
// layout knows the field (the kernel PDB's types); FORMATS.md §5's built-in tables lack it.
func (s *Session) vmProcesses(ctx context.Context, res *vmResult) {
	r, err := s.kernelReader(ctx)
	if err != nil {
		res.ProcessNote = err.Error()
		return
	}
	head := s.Target.Kernel.PsActiveProcessHead
	if head == 0 {
		res.ProcessNote = "not available in this dump: PsActiveProcessHead is not known"
		return
	}
	procs, err := r.Processes(head)
	if err != nil {
		res.ProcessNote = "process list: " + err.Error()
	}
	off, _, hasCommit := r.Layout.Offset("_EPROCESS", "CommitCharge")
	if !hasCommit {
		res.ProcessNote = "not available in this dump: the EPROCESS layout has no CommitCharge offset (it comes with the kernel's symbols)"
		return
	}
	ptr := s.PointerSize()
	for _, p := range procs {
		e := vmProcess{PID: p.PID, Image: p.ImageName, Address: hexString(p.Addr)}
		if v, err := engine.ReadPointer(s.Target.Memory, p.Addr+off, ptr); err == nil {
			e.CommitKB, e.HasCommit = v*4, true
		}
		res.Processes = append(res.Processes, e)
	}
	sort.SliceStable(res.Processes, func(i, j int) bool { return res.Processes[i].CommitKB > res.Processes[j].CommitKB })
}

// WriteText prints rows as WINDBG-SPEC §3.7: the label and page count right-aligned to end at
// column 33, then " (" + Kb in 11 columns + " Kb)"; banners between blank lines; then the
// per-process table (Pid, ImageName, Commit; SharedCommit and Debt are not in the facts and
// show "?").
func (r *vmResult) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, row := range r.Rows {
		pages := fmt.Sprint(row.Pages)
		pad := max(33-len(row.Label)-len(pages), 1)
		fmt.Fprintf(&b, "%s%s%s (%11d Kb)\n", row.Label, strings.Repeat(" ", pad), pages, row.KB)
		if banner, ok := r.bannerAfter[row.Label]; ok {
			fmt.Fprintf(&b, "\n%s\n\n", banner)
		}
	}
	if r.showProcs {
		b.WriteString("\n")
		if len(r.Processes) > 0 {
			b.WriteString("  Pid ImageName                        Commit   SharedCommit        Debt\n\n")
			for _, p := range r.Processes {
				commit := "?"
				if p.HasCommit {
					commit = fmt.Sprint(p.CommitKB)
				}
				fmt.Fprintf(&b, "%5x %-24s %11s Kb %12s Kb %9s Kb\n", p.PID, p.Image, commit, "?", "?")
			}
		}
		if r.ProcessNote != "" {
			fmt.Fprintf(&b, "(per-process commit: %s)\n", r.ProcessNote)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "(%s)\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
