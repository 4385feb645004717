package symstore

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// PathCheck is one row of the "Path validation summary" WinDbg prints after `.sympath` and in
// its banner (WINDBG-SPEC §1.2 item 6, §2.4): Response, Time (ms), Location.
type PathCheck struct {
	Response string        // "OK", "Deferred" or "Error"
	Location string        // the element as written
	Elapsed  time.Duration // time spent checking a directory (0 for Deferred rows)
	Err      error         // why Response is "Error"
}

// Check validates each element without any network access: symbol servers and caches are
// "Deferred" (asked or created only when a file is needed, as WinDbg shows `Deferred srv*`), a
// plain directory is "OK" when it exists and "Error" otherwise. The two halves of a bare srv* give
// one row.
func (p Path) Check() []PathCheck {
	var out []PathCheck
	for _, e := range p.Elements {
		if e.Implied && e.Kind == CacheElement {
			continue // its srv* row follows
		}
		c := PathCheck{Response: "Deferred", Location: e.Text}
		switch {
		case e.Kind == DirElement && e.Note != "":
			c.Response, c.Err = "Error", errors.New(e.Note)
		case e.Kind == DirElement:
			start := time.Now()
			dir, _ := localPath(e.Dir)
			fi, err := os.Stat(dir)
			c.Elapsed = time.Since(start)
			switch {
			case err != nil:
				c.Response, c.Err = "Error", err
			case !fi.IsDir():
				c.Response, c.Err = "Error", fmt.Errorf("%s is not a directory", e.Dir)
			default:
				c.Response = "OK"
			}
		case e.Note != "" && e.Kind == CacheElement:
			c.Response, c.Err = "Error", errors.New(e.Note)
		}
		out = append(out, c)
	}
	return out
}

// String is a one-line progress report for a terminal: "amdppm.pdb: 256 KB of 659 KB".
func (p Progress) String() string {
	if p.Total < 0 {
		return fmt.Sprintf("%s: %s", p.Key.FileName(), byteSize(p.Bytes))
	}
	return fmt.Sprintf("%s: %s of %s", p.Key.FileName(), byteSize(p.Bytes), byteSize(p.Total))
}

func byteSize(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
