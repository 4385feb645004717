package commands

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"wdbg/engine/pool"
	"wdbg/engine/pooltag"
)

// poolCommands: the pool-leak toolkit (WINDBG-SPEC §3.7, §3.8; FORMATS.md §6).
var poolCommands = []*Command{
	{
		Name: "!vm", Group: "Kernel",
		Usage:   "!vm [Flags]",
		Summary: "show virtual memory usage",
		Help: "Shows the memory manager's counters (physical memory, available and resident available pages, " +
			"modified pages, nonpaged and paged pool usage and maximum, commit) read through the KDBG and, on " +
			"Windows 10 x64 with the kernel's symbols, nt!MiSystemPartition; rows the dump cannot give are left " +
			"out. With flag bit 0 clear (the default 0) the per-process commit table follows.",
		Run: runVM,
	},
	{
		Name: "!poolused", Group: "Kernel",
		Usage:   "!poolused [-o] [Flags [TagString]]",
		Summary: "show pool usage by tag",
		Help: "Lists the kernel's pool tracker tables (the global one, plus on Windows 10 the per-processor " +
			"ones when the kernel's symbols name them): per tag, the outstanding allocations and bytes used in " +
			"nonpaged and paged pool, and the tag's description. Flags: 1 verbose (allocs, frees, diff and " +
			"used per pool), 2 sort by nonpaged bytes, 4 sort by paged bytes (default: by tag), 8 session " +
			"pool of the current process's session (choose the session with .process). TagString filters tags, case-sensitive, with * and ? wildcards. -o (wdbg's own) adds the " +
			"loaded modules whose images in the dump hold each tag, as !pooltag finds them.",
		Run: runPoolUsed,
	},
	{
		Name: "!poolfind", Group: "Kernel",
		Usage:   "!poolfind TagString|0xTagValue [PoolType]  |  !poolfind -tag \"Tag\" [-nonpaged|-paged|-session]",
		Summary: "find pool blocks by tag",
		Help: "Searches the large pool allocation table and pool memory for blocks with the tag (* and ? " +
			"wildcards allowed). PoolType 0 or -nonpaged searches nonpaged pool, 1 or -paged paged pool; " +
			"without one both are searched. Builds before Windows 10 1903 are searched in the KDBG's pool " +
			"bounds, later ones in every present kernel page outside loaded images. Ctrl-C stops the scan " +
			"and keeps what was found.",
		Run: runPoolFind,
	},
	{
		Name: "!pool", Group: "Kernel",
		Usage:   "!pool Address [Flags]",
		Summary: "show the pool page around an address",
		Help: "Lists the pool blocks of the page holding Address, marking the block that contains it with *, " +
			"or the large page allocation holding it. Flags: 1 also the first 0x40 bytes of each block after " +
			"its header, as dc shows them; 2 only the block containing Address; 0x80000000 no tag description.",
		Run: runPool,
	},
	poolTagCommand,
}

// poolTagKey is a header's tag as the tag database looks it up: the four bytes, without the
// protected bit old kernels set (FORMATS.md §6.1).
func poolTagKey(t pool.Tag) string { return pooltag.FromUint32(pooltag.Unprotect(uint32(t))) }

// poolKernel gathers what engine/pool needs: the dump's kernel memory (raw, not filled from
// image files: pool lives outside images), the page tables, the KDBG and the kernel symbols.
func (s *Session) poolKernel(ctx context.Context) (*pool.Kernel, error) {
	t := s.Target
	if t.Kernel == nil {
		return nil, errNotKernel
	}
	k := &pool.Kernel{Mem: t.Memory, PointerSize: t.PointerSize(), Build: t.System.BuildNumber, Debugger: t.Kernel.Debugger}
	if tr, err := t.PageTables(); err == nil {
		k.Paging = tr
	}
	if s.Symbols != nil {
		k.Symbol = func(name string) (uint64, bool) { return s.Symbols.Address(ctx, "nt!"+name) }
	}
	for _, m := range t.Modules {
		k.Images = append(k.Images, pool.Range{Start: m.Base, End: m.Base + uint64(m.Size)})
	}
	return k, nil
}

// progressLine draws a scan's progress at most ten times a second and clears it at the end.
type progressLine struct {
	mu   sync.Mutex
	w    io.Writer
	last time.Time
	used bool
}

func (p *progressLine) show(pr pool.Progress) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last, p.used = time.Now(), true
	pct := 0.0
	if pr.Total > 0 {
		pct = float64(pr.Done) * 100 / float64(pr.Total)
	}
	fmt.Fprintf(p.w, "\r\033[Ksearching pool: %5.1f%% of %d MB, at %x", pct, pr.Total>>20, pr.At)
}

func (p *progressLine) done() {
	if p != nil && p.w != nil && p.used {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
