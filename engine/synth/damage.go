package synth

import (
	"encoding/binary"
	"fmt"
)

// damage collects the deliberate faults a test asked for; they are applied to the laid-out
// bytes as the last step, so every other byte stays as a sound dump would have it.
type damage struct {
	truncate     int64
	truncateSet  bool
	pastEnd      []uint32
	oversize     []uint32
	hugeCount    []uint32
	streamCount  *uint32
	directoryRva *uint32
	badSignature bool
	patches      []patch
}

type patch struct {
	off  int
	data []byte
}

// TruncateAt cuts the written file after n bytes.
func (b *Minidump) TruncateAt(n int64) { b.damage.truncate, b.damage.truncateSet = n, true }

// PointPastEnd makes the directory entry of the first stream of type typ point 4 KB past the
// end of the file (its size is kept).
func (b *Minidump) PointPastEnd(typ uint32) { b.damage.pastEnd = append(b.damage.pastEnd, typ) }

// OversizeStream makes the directory entry of the first stream of type typ claim 0xFFFFFF00
// bytes, far more than the file holds.
func (b *Minidump) OversizeStream(typ uint32) { b.damage.oversize = append(b.damage.oversize, typ) }

// HugeCount sets the element count of the first stream of type typ to the largest value its
// field holds (0xFFFFFFFF, or 2^64-1 for the 64-bit counts of Memory64List and MemoryInfoList),
// leaving the elements themselves as they are. For the exception stream it is NumberParameters.
// Types without a count are left alone.
func (b *Minidump) HugeCount(typ uint32) { b.damage.hugeCount = append(b.damage.hugeCount, typ) }

// StreamCount overrides the header's NumberOfStreams.
func (b *Minidump) StreamCount(n uint32) { b.damage.streamCount = &n }

// DirectoryRva overrides the header's StreamDirectoryRva.
func (b *Minidump) DirectoryRva(rva uint32) { b.damage.directoryRva = &rva }

// BadSignature writes 'MDMX' instead of 'MDMP'.
func (b *Minidump) BadSignature() { b.damage.badSignature = true }

// Patch overwrites bytes at file offset off once everything else is laid out. The patch must
// fall inside the metadata part of the file (header, directory, streams and their data; not the
// Memory64List data at the end).
func (b *Minidump) Patch(off int, data []byte) {
	b.damage.patches = append(b.damage.patches, patch{off, append([]byte(nil), data...)})
}

// countField is where a stream's element count sits and how wide it is (FORMATS.md §4.3).
func countField(typ uint32) (off, width int, ok bool) {
	switch typ {
	case ThreadListStream, ModuleListStream, MemoryListStream, ThreadNamesStream, ThreadExListStream:
		return 0, 4, true
	case Memory64ListStream:
		return 0, 8, true
	case ThreadInfoListStream, UnloadedModuleListStream, HandleDataStream:
		return 8, 4, true
	case MemoryInfoListStream:
		return 8, 8, true
	case ExceptionStream:
		return 0x20, 4, true
	}
	return 0, 0, false
}

// firstOfType is the first stream of type typ in directory order.
func (l *layout) firstOfType(typ uint32) (*stream, bool) {
	for _, s := range l.active {
		if s.typ == typ {
			return s, true
		}
	}
	return nil, false
}

func (b *Minidump) applyDamage(l *layout) {
	d := &b.damage
	if d.truncateSet {
		l.limit = d.truncate
	}
	for _, typ := range d.pastEnd {
		if s, ok := l.firstOfType(typ); ok {
			l.u32(l.dirEntry[s]+8, uint32(min(l.total+0x1000, 0xFFFFFFFF)))
		}
	}
	for _, typ := range d.oversize {
		if s, ok := l.firstOfType(typ); ok {
			l.u32(l.dirEntry[s]+4, 0xFFFFFF00)
		}
	}
	for _, typ := range d.hugeCount {
		s, ok := l.firstOfType(typ)
		off, width, known := countField(typ)
		if !ok || !known {
			continue
		}
		if width == 8 {
			l.u64(l.streamAt[s]+off, ^uint64(0))
		} else {
			l.u32(l.streamAt[s]+off, ^uint32(0))
		}
	}
	if d.streamCount != nil {
		l.u32(0x08, *d.streamCount)
	}
	if d.directoryRva != nil {
		l.u32(0x0C, *d.directoryRva)
	}
	if d.badSignature {
		copy(l.buf, "MDMX")
	}
	for _, p := range d.patches {
		if p.off < 0 || p.off+len(p.data) > len(l.buf) {
			panic(fmt.Sprintf("synth: Patch at %#x (+%d) is outside the %#x-byte metadata", p.off, len(p.data), len(l.buf)))
		}
		copy(l.buf[p.off:], p.data)
	}
}

// Locate lays the dump out and reports where the first stream of type typ went: its file offset
// and size as the directory states them before damage. Tests use it to aim a Patch.
func (b *Minidump) Locate(typ uint32) (off, size int, ok bool) {
	saved := b.damage
	b.damage = damage{}
	defer func() { b.damage = saved }()
	l := b.layout()
	s, ok := l.firstOfType(typ)
	if !ok {
		return 0, 0, false
	}
	dir := l.dirEntry[s]
	return int(binary.LittleEndian.Uint32(l.buf[dir+8:])), int(binary.LittleEndian.Uint32(l.buf[dir+4:])), true
}
