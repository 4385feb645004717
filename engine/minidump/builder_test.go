package minidump

import (
	"encoding/binary"
	"unicode/utf16"
)

// dumpBuilder lays out small handmade minidumps for the bad-input tests and the fuzz seeds:
// a header, a directory, then blobs appended at 4-byte aligned offsets. It knows nothing of
// the stream layouts; each test spells out its stream bytes with le.
type dumpBuilder struct {
	buf []byte
	dir []Directory
}

func newDumpBuilder(streams int) *dumpBuilder {
	return &dumpBuilder{buf: make([]byte, headerSize+streams*directorySize)}
}

// add appends data and returns its RVA.
func (b *dumpBuilder) add(data []byte) uint32 {
	for len(b.buf)%4 != 0 {
		b.buf = append(b.buf, 0)
	}
	rva := uint32(len(b.buf))
	b.buf = append(b.buf, data...)
	return rva
}

// addString appends a MINIDUMP_STRING and returns its RVA.
func (b *dumpBuilder) addString(s string) uint32 {
	u := utf16.Encode([]rune(s))
	var d le
	d.u32(uint32(2 * len(u)))
	for _, c := range u {
		d.u16(c)
	}
	d.u16(0)
	return b.add(d)
}

// stream appends a stream and its directory entry.
func (b *dumpBuilder) stream(t StreamType, data []byte) uint32 {
	rva := b.add(data)
	b.dir = append(b.dir, Directory{StreamType: t, Location: LocationDescriptor{DataSize: uint32(len(data)), Rva: rva}})
	return rva
}

// bytes writes the header and directory and returns the file.
func (b *dumpBuilder) bytes() []byte {
	out := append([]byte(nil), b.buf...)
	var h le
	h.u32(Signature)
	h.u32(HeaderVersion)
	h.u32(uint32(len(b.dir)))
	h.u32(headerSize)
	h.u32(0)          // CheckSum
	h.u32(0x5ebc68e0) // TimeDateStamp
	h.u64(0)          // Flags
	for _, d := range b.dir {
		h.u32(uint32(d.StreamType))
		h.u32(d.Location.DataSize)
		h.u32(d.Location.Rva)
	}
	copy(out, h)
	return out
}

// le is a little-endian byte appender.
type le []byte

func (b *le) u16(v uint16) { *b = binary.LittleEndian.AppendUint16(*b, v) }
func (b *le) u32(v uint32) { *b = binary.LittleEndian.AppendUint32(*b, v) }
func (b *le) u64(v uint64) { *b = binary.LittleEndian.AppendUint64(*b, v) }
func (b *le) raw(p []byte) { *b = append(*b, p...) }
