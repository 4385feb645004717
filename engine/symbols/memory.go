package symbols

import (
	"context"

	"wdbg/engine"
)

// Memory is the target's memory with the holes inside modules filled from their image files, as
// WinDbg maps images for a minidump that holds only stacks: code for `u` and the current
// instruction, read-only data. The dump's own bytes always win; an image is used only when its
// timestamp and size match the module (see image), and only for addresses the dump lacks.
func (r *Resolver) Memory() engine.Memory { return imageMemory{r} }

type imageMemory struct{ r *Resolver }

func (m imageMemory) ReadAt(p []byte, addr uint64) (int, error) {
	done := 0
	for done < len(p) {
		n, err := m.r.raw.ReadAt(p[done:], addr+uint64(done))
		done += n
		if done == len(p) {
			return done, nil
		}
		// The dump lacks addr+done: take what the module's image has there.
		at := addr + uint64(done)
		i, ok := m.r.moduleIndex(at)
		if !ok {
			return done, errOr(err, at)
		}
		img := m.r.Image(context.Background(), i)
		if img == nil || img.Mapped() {
			return done, errOr(err, at)
		}
		mod := &m.r.target.Modules[i]
		want := len(p) - done
		if end := mod.End() - at; uint64(want) > end {
			want = int(end)
		}
		got, _ := img.ReadAtRVA(p[done:done+want], uint32(at-mod.Base))
		if got == 0 {
			return done, errOr(err, at)
		}
		done += got
	}
	return done, nil
}

func errOr(err error, addr uint64) error {
	if err != nil {
		return err
	}
	return &engine.ReadError{Addr: addr}
}
