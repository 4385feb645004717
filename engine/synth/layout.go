package synth

import (
	"encoding/binary"
	"io"
)

// layout is a dump being laid out: buf holds the header, the directory, every stream body and
// the data they point to; the Memory64List data (which may be huge and generated) follows buf
// in the file and is only described here, never held.
type layout struct {
	buf []byte

	mem64    []Range // Memory64List ranges, in file order
	tailBase int64   // file offset of mem64's data: BaseRva
	total    int64   // file size before any truncation
	limit    int64   // truncate the file here; -1 for no truncation

	blobs  map[*blob]int
	fixups []func()

	active []*stream // the streams written, in directory order

	// dirEntry and streamAt remember where each stream's directory entry and body went, for
	// the damage knobs.
	dirEntry map[*stream]int
	streamAt map[*stream]int
}

// blob is data that more than one structure may point to (a thread's stack is both the
// thread's Stack descriptor and a MemoryList entry); it is placed once.
type blob struct{ data []byte }

func (l *layout) align4() {
	for len(l.buf)%4 != 0 {
		l.buf = append(l.buf, 0)
	}
}

// reserve appends n zero bytes at a 4-byte boundary and returns their offset.
func (l *layout) reserve(n int) int {
	l.align4()
	off := len(l.buf)
	l.buf = append(l.buf, make([]byte, n)...)
	return off
}

// put appends data at a 4-byte boundary and returns its offset (its RVA).
func (l *layout) put(data []byte) int {
	l.align4()
	off := len(l.buf)
	l.buf = append(l.buf, data...)
	return off
}

// place puts a shared blob the first time and returns its RVA every time.
func (l *layout) place(bl *blob) int {
	if off, ok := l.blobs[bl]; ok {
		return off
	}
	off := l.put(bl.data)
	l.blobs[bl] = off
	return off
}

// putString writes a MINIDUMP_STRING (FORMATS.md §4.1): Length u32 in bytes without the NUL,
// then the UTF-16LE text and a NUL character.
func (l *layout) putString(s string) int {
	text := utf16LE(s)
	data := make([]byte, 4, 4+len(text)+2)
	binary.LittleEndian.PutUint32(data, uint32(len(text)))
	data = append(data, text...)
	data = append(data, 0, 0)
	return l.put(data)
}

// putOptionalString writes s as a MINIDUMP_STRING, or returns RVA 0 for "".
func (l *layout) putOptionalString(s string) int {
	if s == "" {
		return 0
	}
	return l.putString(s)
}

func (l *layout) u8(off int, v uint8)   { l.buf[off] = v }
func (l *layout) u16(off int, v uint16) { binary.LittleEndian.PutUint16(l.buf[off:], v) }
func (l *layout) u32(off int, v uint32) { binary.LittleEndian.PutUint32(l.buf[off:], v) }
func (l *layout) u64(off int, v uint64) { binary.LittleEndian.PutUint64(l.buf[off:], v) }

// location writes a MINIDUMP_LOCATION_DESCRIPTOR {DataSize u32, Rva u32} at off.
func (l *layout) location(off, size, rva int) {
	l.u32(off, uint32(size))
	l.u32(off+4, uint32(rva))
}

// layout lays the whole dump out.
func (b *Minidump) layout() *layout {
	l := &layout{
		limit:    -1,
		blobs:    map[*blob]int{},
		dirEntry: map[*stream]int{},
		streamAt: map[*stream]int{},
	}
	l.active = b.activeStreams()
	l.buf = make([]byte, headerSize+directoryEntrySize*len(l.active))
	l.mem64 = b.memory64Ranges()
	for i, s := range l.active {
		off, size := s.write(l)
		dir := headerSize + directoryEntrySize*i
		l.u32(dir, s.typ)
		l.location(dir+4, size, off)
		l.dirEntry[s] = dir
		l.streamAt[s] = off
	}
	// The Memory64List data goes last, 16-byte aligned like real writers' page data.
	for len(l.buf)%16 != 0 {
		l.buf = append(l.buf, 0)
	}
	l.tailBase = int64(len(l.buf))
	l.total = l.tailBase
	for _, r := range l.mem64 {
		l.total += int64(r.size())
	}
	for _, f := range l.fixups {
		f()
	}
	b.writeHeader(l, len(l.active))
	b.applyDamage(l)
	return l
}

// activeStreams is the directory: every stream registered, except a MemoryList that would only
// have held thread stacks which went to the Memory64List instead.
func (b *Minidump) activeStreams() []*stream {
	var out []*stream
	for _, s := range b.order {
		if s.typ == MemoryListStream && s.raw == nil && len(b.memoryListEntries()) == 0 {
			continue
		}
		out = append(out, s)
	}
	return out
}

// mem64Offset is the file offset of address addr inside Memory64 range i.
func (l *layout) mem64Offset(i int, addr uint64) int64 {
	off := l.tailBase
	for _, r := range l.mem64[:i] {
		off += int64(r.size())
	}
	return off + int64(addr-l.mem64[i].Addr)
}

// size is the file size after truncation.
func (l *layout) size() int64 {
	if l.limit >= 0 && l.limit < l.total {
		return l.limit
	}
	return l.total
}

// chunkSize is how much generated range data is produced per step.
const chunkSize = 1 << 20

// writeTo writes the laid-out dump, producing generated ranges a chunk at a time.
func (l *layout) writeTo(w io.Writer) (int64, error) {
	end := l.size()
	var written int64
	emit := func(p []byte) error {
		if room := end - written; int64(len(p)) > room {
			p = p[:room]
		}
		if len(p) == 0 {
			return nil
		}
		n, err := w.Write(p)
		written += int64(n)
		return err
	}
	if err := emit(l.buf); err != nil {
		return written, err
	}
	chunk := []byte(nil)
	for _, r := range l.mem64 {
		if r.Data != nil {
			if err := emit(r.Data); err != nil {
				return written, err
			}
			continue
		}
		if chunk == nil {
			chunk = make([]byte, chunkSize)
		}
		for off := uint64(0); off < r.Size && written < end; off += chunkSize {
			p := chunk[:min(chunkSize, r.Size-off)]
			clear(p)
			if r.Fill != nil {
				r.Fill(off, p)
			}
			if err := emit(p); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}
