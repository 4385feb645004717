package pdb

import (
	"encoding/binary"
	"fmt"
)

// TypeIndex names a type: below FirstTypeIndex a primitive (simple) type encoded in the index
// itself, from there on a record of the TPI stream (or, for ids, of the IPI stream).
type TypeIndex uint32

// FirstTypeIndex is the index of the first record of a TPI or IPI stream (FORMATS.md §7.5).
const FirstTypeIndex = 0x1000

// TPIHeader is the 56-byte header of the TPI (2) and IPI (4) streams (FORMATS.md §7.5). The hash
// fields are read but not used: records are located by one sequential pass instead.
type TPIHeader struct {
	Version                 uint32 // @0: 20040203 (V80)
	HeaderSize              uint32 // @4: where the records start
	TypeIndexBegin          uint32 // @8: 0x1000
	TypeIndexEnd            uint32 // @0xC: one past the last record's index
	TypeRecordBytes         uint32 // @0x10
	HashStreamIndex         uint16 // @0x14
	HashAuxStreamIndex      uint16 // @0x16
	HashKeySize             uint32 // @0x18
	NumHashBuckets          uint32 // @0x1C
	HashValueBufferOffset   uint32 // @0x20
	HashValueBufferLength   uint32 // @0x24
	IndexOffsetBufferOffset uint32 // @0x28
	IndexOffsetBufferLength uint32 // @0x2C
	HashAdjBufferOffset     uint32 // @0x30
	HashAdjBufferLength     uint32 // @0x34
}

const tpiHeaderSize = 56

// typeStream is the TPI or the IPI stream: its header and, built on first use, the offset of
// every record.
type typeStream struct {
	f    *File
	s    *Stream
	hdr  TPIHeader
	offs lazy[[]uint32] // stream offset of record k (type index TypeIndexBegin+k)
	udts lazy[*udtIndex]
}

// tpi returns the TPI stream, reading its header on first use.
func (f *File) tpi() (*typeStream, error) {
	return f.types.Get(func() (*typeStream, error) { return f.readTypeStream(streamTPI, "TPI") })
}

// ipi returns the IPI stream (function ids, string ids, build info), reading its header on
// first use.
func (f *File) ipi() (*typeStream, error) {
	return f.ids.Get(func() (*typeStream, error) { return f.readTypeStream(streamIPI, "IPI") })
}

// TPIHeader returns the header of the TPI stream.
func (f *File) TPIHeader() (TPIHeader, error) {
	ts, err := f.tpi()
	if err != nil {
		return TPIHeader{}, err
	}
	return ts.hdr, nil
}

// IPIHeader returns the header of the IPI stream.
func (f *File) IPIHeader() (TPIHeader, error) {
	ts, err := f.ipi()
	if err != nil {
		return TPIHeader{}, err
	}
	return ts.hdr, nil
}

func (f *File) readTypeStream(idx int, name string) (*typeStream, error) {
	if idx >= f.NumStreams() {
		return nil, fmt.Errorf("pdb: %s stream: %w", name, ErrNoStream)
	}
	s, err := f.stream(idx, name)
	if err != nil {
		return nil, err
	}
	if s.Size() == 0 {
		return nil, fmt.Errorf("pdb: %s stream: %w", name, ErrNoStream)
	}
	c, err := s.cursor(0, min(s.Size(), tpiHeaderSize), name+" header")
	if err != nil {
		return nil, err
	}
	h := TPIHeader{Version: c.u32(), HeaderSize: c.u32(), TypeIndexBegin: c.u32(), TypeIndexEnd: c.u32(),
		TypeRecordBytes: c.u32(), HashStreamIndex: c.u16(), HashAuxStreamIndex: c.u16(), HashKeySize: c.u32(),
		NumHashBuckets: c.u32(), HashValueBufferOffset: c.u32(), HashValueBufferLength: c.u32(),
		IndexOffsetBufferOffset: c.u32(), IndexOffsetBufferLength: c.u32(), HashAdjBufferOffset: c.u32(),
		HashAdjBufferLength: c.u32()}
	if c.err != nil {
		return nil, c.err
	}
	switch {
	case h.HeaderSize < tpiHeaderSize || int64(h.HeaderSize) > s.Size():
		return nil, s.w.errorf(4, name+" header", "header of %d bytes in a stream of %d", h.HeaderSize, s.Size())
	case int64(h.HeaderSize)+int64(h.TypeRecordBytes) > s.Size():
		return nil, s.w.errorf(0x10, name+" header", "%d bytes of records after a %d-byte header in a stream of %d", h.TypeRecordBytes, h.HeaderSize, s.Size())
	case h.TypeIndexBegin < FirstTypeIndex || h.TypeIndexEnd < h.TypeIndexBegin:
		return nil, s.w.errorf(8, name+" header", "type indices %#x to %#x", h.TypeIndexBegin, h.TypeIndexEnd)
	case uint64(h.TypeIndexEnd-h.TypeIndexBegin)*recordHeaderSize > uint64(h.TypeRecordBytes):
		// Every record takes at least its 4-byte header: the count cannot be larger.
		return nil, s.w.errorf(0xC, name+" header", "%d records do not fit %d bytes", h.TypeIndexEnd-h.TypeIndexBegin, h.TypeRecordBytes)
	}
	return &typeStream{f: f, s: s, hdr: h}, nil
}

// indexChunk is how much of the record area the index pass reads at a time.
const indexChunk = 64 << 10

// offsets returns the stream offset of every record, found by one pass over the record lengths
// on first use: one []uint32 for the whole stream and a fixed read buffer, nothing per record.
// A damaged record ends the table; the records before it stay usable and the error says where.
func (ts *typeStream) offsets() ([]uint32, error) {
	return ts.offs.Get(func() ([]uint32, error) {
		h := ts.hdr
		n := int(h.TypeIndexEnd - h.TypeIndexBegin)
		offs := make([]uint32, 0, n)
		end := int64(h.HeaderSize) + int64(h.TypeRecordBytes)
		buf := make([]byte, min(int64(indexChunk), max(int64(h.TypeRecordBytes), 4)))
		var chunk []byte // buf filled from chunkOff
		chunkOff := int64(-1)
		for pos := int64(h.HeaderSize); pos < end && len(offs) < n; {
			if pos < chunkOff || pos+2 > chunkOff+int64(len(chunk)) {
				k := min(int64(len(buf)), end-pos)
				if err := ts.s.read(buf[:k], pos); err != nil {
					return offs, err
				}
				chunk, chunkOff = buf[:k], pos
			}
			if pos+2 > chunkOff+int64(len(chunk)) {
				return offs, ts.s.w.truncated(pos, "type record", 2, uint64(end-pos))
			}
			reclen := int64(binary.LittleEndian.Uint16(chunk[pos-chunkOff:]))
			if reclen < 2 {
				return offs, ts.s.w.errorf(pos, "type record", "record of length %d", reclen)
			}
			if pos+2+reclen > end {
				return offs, ts.s.w.truncated(pos, "type record", uint64(reclen+2), uint64(end-pos))
			}
			offs = append(offs, uint32(pos))
			pos += 2 + reclen
		}
		if len(offs) < n {
			return offs, ts.s.w.errorf(end, "type records", "%d records, the header announces %d", len(offs), n)
		}
		return offs, nil
	})
}

// record returns the leaf kind and the payload (the bytes after the leaf) of the record of type
// index ti, and the stream offset of the payload.
func (ts *typeStream) record(ti TypeIndex) (leaf uint16, payload []byte, off int64, err error) {
	offs, oerr := ts.offsets()
	k := int64(ti) - int64(ts.hdr.TypeIndexBegin)
	if k < 0 || k >= int64(len(offs)) {
		if oerr != nil {
			return 0, nil, 0, oerr
		}
		return 0, nil, 0, ts.s.w.errorf(0, "type record", "type index %#x is outside %#x..%#x", uint32(ti), ts.hdr.TypeIndexBegin, ts.hdr.TypeIndexEnd)
	}
	at := int64(offs[k])
	hdr, err := ts.s.view(at, recordHeaderSize, "type record")
	if err != nil {
		return 0, nil, 0, err
	}
	reclen := int64(binary.LittleEndian.Uint16(hdr))
	if reclen < 2 {
		return 0, nil, 0, ts.s.w.errorf(at, "type record", "record of length %d", reclen)
	}
	rec, err := ts.s.view(at+recordHeaderSize, reclen-2, "type record")
	if err != nil {
		return 0, nil, 0, err
	}
	return binary.LittleEndian.Uint16(hdr[2:]), rec, at + recordHeaderSize, nil
}

// count is the number of records the index pass found (the header's count when it is intact).
func (ts *typeStream) count() int {
	offs, _ := ts.offsets()
	return len(offs)
}
