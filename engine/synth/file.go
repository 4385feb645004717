package synth

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// WriteFile writes the dump to path without ever holding the Memory64List data in memory.
// Ranges without Data or Fill are zeros: with sparse they are skipped with Seek and become holes,
// so a 1 GB dump of mostly zero memory takes little disk space (on file systems with holes).
func (b *Minidump) WriteFile(path string, sparse bool) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	l := b.layout()
	if !sparse {
		w := bufio.NewWriterSize(f, chunkSize)
		if _, err := l.writeTo(w); err != nil {
			return err
		}
		return w.Flush()
	}
	return l.writeSparse(f)
}

// writeSparse writes the metadata and the ranges that have contents, seeking over zero ranges,
// then sets the file size.
func (l *layout) writeSparse(f *os.File) error {
	end := l.size()
	if _, err := f.Write(l.buf[:min(int64(len(l.buf)), end)]); err != nil {
		return err
	}
	pos := l.tailBase
	for _, r := range l.mem64 {
		n := int64(r.size())
		if pos >= end {
			break
		}
		if r.Data == nil && r.Fill == nil {
			pos += n
			continue
		}
		if _, err := f.Seek(pos, io.SeekStart); err != nil {
			return err
		}
		one := &layout{buf: nil, mem64: []Range{r}, limit: end - pos, total: n}
		if _, err := one.writeTo(f); err != nil {
			return fmt.Errorf("synth: range at %#x: %w", r.Addr, err)
		}
		pos += n
	}
	return f.Truncate(end)
}
