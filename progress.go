package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"wdbg/engine/symstore"
)

// progressLine draws symbol-download progress on one terminal line, at most ten times a second,
// and clears it when a download ends.
type progressLine struct {
	mu   sync.Mutex
	w    io.Writer
	last time.Time
}

func newProgressLine(w io.Writer) *progressLine { return &progressLine{w: w} }

func (p *progressLine) show(pr symstore.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pr.Done {
		fmt.Fprint(p.w, "\r\033[K")
		return
	}
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r\033[K%s", pr.String())
}
