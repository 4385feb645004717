package pdb

import (
	"encoding/binary"
	"math/bits"
)

// The GSI name hash shared by the publics and globals streams (FORMATS.md §7.4): GSIHashHdr
// {VerSignature 0xFFFFFFFF, VerHdr 0xEFFE0000+19990810, HrSize, NumBuckets}, then HrSize bytes
// of HRFile {Off i32 = symbol record offset + 1, CRef i32}, then a bitmap of the non-empty
// buckets and one u32 per non-empty bucket: the index of its first hash record times 12 (the
// size of the in-memory record on 32-bit machines, which the on-disk values were computed with).
const (
	gsiVerSignature  = 0xFFFFFFFF
	gsiVerHdr        = 0xEFFE0000 + 19990810
	gsiHashHdrSize   = 16
	gsiHashBuckets   = 4096 // IPHR_HASH
	hrFileSize       = 8
	hrOffsetCalcSize = 12
)

// gsiHash is a decoded GSI name hash: the symbol record offsets of every record it indexes, and
// per bucket the range of them whose names hash there.
type gsiHash struct {
	records []uint32 // symbol record stream offsets
	start   []uint32 // per bucket (gsiHashBuckets+1), first index into records
	end     []uint32 // per bucket, one past the last
}

// readGSIHash decodes the hash at off (size bytes) of stream s.
func readGSIHash(s *Stream, off, size int64) (*gsiHash, error) {
	c, err := s.cursor(off, size, "GSI hash")
	if err != nil {
		return nil, err
	}
	sig, ver, hrSize, bucketSize := c.u32(), c.u32(), c.u32(), c.u32()
	if c.err != nil {
		return nil, c.err
	}
	if sig != gsiVerSignature || ver != gsiVerHdr {
		return nil, s.w.errorf(off, "GSI hash", "header %#x %#x is not the V70 hash (%#x %#x)", sig, ver, uint32(gsiVerSignature), uint32(gsiVerHdr))
	}
	if int64(hrSize) > int64(c.remaining()) || hrSize%hrFileSize != 0 {
		return nil, s.w.errorf(off+8, "GSI hash", "%d bytes of hash records (%d bytes left)", hrSize, c.remaining())
	}
	h := &gsiHash{records: make([]uint32, hrSize/hrFileSize)}
	for i := range h.records {
		v := c.u32()
		c.u32() // CRef
		if v == 0 {
			return nil, s.w.errorf(c.off()-8, "GSI hash", "hash record %d points nowhere", i)
		}
		h.records[i] = v - 1
	}
	buckets := c.take(int(min(bucketSize, uint32(c.remaining()+1))))
	if c.err != nil {
		return nil, c.err
	}
	h.start = make([]uint32, gsiHashBuckets+1)
	h.end = make([]uint32, gsiHashBuckets+1)
	if len(buckets) == 0 {
		return h, nil // an empty table
	}
	const bitmapWords = (gsiHashBuckets + 1 + 31) / 32
	if len(buckets) < bitmapWords*4 {
		return nil, s.w.errorf(c.off()-int64(len(buckets)), "GSI hash", "bucket bitmap truncated (need %d bytes, have %d)", bitmapWords*4, len(buckets))
	}
	le := binary.LittleEndian
	values := buckets[bitmapWords*4:]
	set := 0
	for w := 0; w < bitmapWords; w++ {
		set += bits.OnesCount32(le.Uint32(buckets[4*w:]))
	}
	if len(values) < 4*set {
		return nil, s.w.errorf(c.off()-int64(len(values)), "GSI hash", "%d non-empty buckets but %d bytes of bucket offsets", set, len(values))
	}
	n := uint32(len(h.records))
	prev := -1 // the last non-empty bucket
	k := 0
	for b := 0; b <= gsiHashBuckets; b++ {
		if le.Uint32(buckets[4*(b/32):])&(1<<(b%32)) == 0 {
			continue
		}
		first := le.Uint32(values[4*k:]) / hrOffsetCalcSize
		k++
		if first > n || prev >= 0 && first < h.start[prev] {
			return nil, s.w.errorf(off, "GSI hash", "bucket %d starts at hash record %d (of %d, previous bucket at %d)", b, first, n, h.start[max(prev, 0)])
		}
		if prev >= 0 {
			h.end[prev] = first
		}
		h.start[b] = first
		prev = b
	}
	if prev >= 0 {
		h.end[prev] = n
	}
	return h, nil
}

// candidates returns the symbol record offsets whose names hash like name.
func (h *gsiHash) candidates(name string) []uint32 {
	b := hashStringV1(name) % gsiHashBuckets
	return h.records[h.start[b]:h.end[b]]
}
