package pdbwrite

// The GSI name hash of the publics and globals streams (FORMATS.md §7.4): GSIHashHdr, HRFile
// records grouped by bucket, the bitmap of non-empty buckets and, per non-empty bucket, the
// index of its first record times 12.

const (
	gsiBuckets  = 4096 // IPHR_HASH
	gsiVerSig   = 0xFFFFFFFF
	gsiVerHdr   = 0xEFFE0000 + 19990810
	hrCalcBytes = 12 // size of the in-memory record the bucket offsets are counted in
)

// nameHash is the V1 string hash the GSI buckets use (LLVM's PDB documentation calls it
// hashStringV1): the name's little-endian u32 words XORed, the tail folded in, then mixed.
func nameHash(s string) uint32 {
	var h uint32
	b := []byte(s)
	i := 0
	for ; i+4 <= len(b); i += 4 {
		h ^= uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24
	}
	if len(b)-i >= 2 {
		h ^= uint32(b[i]) | uint32(b[i+1])<<8
		i += 2
	}
	if len(b)-i == 1 {
		h ^= uint32(b[i])
	}
	h |= 0x20202020 // case-insensitive
	h ^= h >> 11
	h ^= h >> 16
	return h
}

// gsiTable builds the hash over the records at offs (symbol-record stream offsets) named names.
func gsiTable(offs []uint32, names []string) []byte {
	byBucket := make([][]uint32, gsiBuckets+1)
	for i, n := range names {
		b := nameHash(n) % gsiBuckets
		byBucket[b] = append(byBucket[b], offs[i])
	}
	var hr, bk buf
	var bitmap [(gsiBuckets + 1 + 31) / 32]uint32
	var starts []uint32
	n := 0
	for b, recs := range byBucket {
		if len(recs) == 0 {
			continue
		}
		bitmap[b/32] |= 1 << (b % 32)
		starts = append(starts, uint32(n*hrCalcBytes))
		for _, off := range recs {
			hr.u32(off + 1) // Off: record offset + 1
			hr.u32(1)       // CRef
			n++
		}
	}
	for _, w := range bitmap {
		bk.u32(w)
	}
	for _, s := range starts {
		bk.u32(s)
	}
	var out buf
	out.u32(gsiVerSig)
	out.u32(gsiVerHdr)
	out.u32(uint32(hr.Len()))
	out.u32(uint32(bk.Len()))
	out.Write(hr.Bytes())
	out.Write(bk.Bytes())
	return out.Bytes()
}
