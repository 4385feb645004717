package minidump

// seekArray positions c at the first entry of a count-prefixed array whose u32 count has just
// been read, after checking that count entries of entrySize bytes fit in the stream.
//
// Some writers pad the 4-byte count to 8 bytes; like Breakpad and rust-minidump, a stream of
// exactly 8 + count*entrySize bytes is taken to start its entries at offset 8 (FORMATS.md §4.3).
// Checking the size before the caller allocates keeps a huge count from allocating memory the
// file could never fill.
func seekArray(c *cursor, count uint64, entrySize int) {
	if c.err != nil {
		return
	}
	const countSize = 4
	need := countSize + count*uint64(entrySize)
	have := uint64(len(c.b))
	switch {
	case have == need+4:
		c.seek(countSize + 4)
	case have >= need:
		c.seek(countSize)
	default:
		c.err = formatErr(c.base, c.what, "truncated (need %d bytes for %d entries of %d bytes, have %d)",
			need, count, entrySize, have)
	}
}

// seekTable checks a header-described table (MINIDUMP_*_LIST headers that carry SizeOfHeader
// and SizeOfEntry, FORMATS.md §4.3): count entries of entrySize bytes starting at headerSize,
// each at least minEntry bytes.
func seekTable(c *cursor, headerSize, entrySize uint32, count uint64, minHeader, minEntry uint32) {
	if c.err != nil {
		return
	}
	if headerSize < minHeader {
		c.err = formatErr(c.base, c.what, "header size %d is smaller than %d", headerSize, minHeader)
		return
	}
	if entrySize < minEntry && count > 0 {
		c.err = formatErr(c.base, c.what, "entry size %d is smaller than %d", entrySize, minEntry)
		return
	}
	have := uint64(len(c.b))
	// count is at most 2^64-1 and entrySize at most 2^32-1: divide instead of multiplying.
	if uint64(headerSize) > have || (entrySize > 0 && count > (have-uint64(headerSize))/uint64(entrySize)) {
		c.err = formatErr(c.base, c.what, "truncated (%d entries of %d bytes after a %d-byte header do not fit in %d bytes)",
			count, entrySize, headerSize, have)
		return
	}
	c.seek(uint64(headerSize))
}

// entry returns a cursor over the i-th entry of a table, or an erroring cursor.
func (c *cursor) entry(start uint64, i, entrySize int) *cursor {
	off := start + uint64(i)*uint64(entrySize)
	if c.err != nil || off+uint64(entrySize) > uint64(len(c.b)) {
		e := &cursor{base: c.base, what: c.what, err: c.err}
		if e.err == nil {
			e.err = truncated(c.base+int64(off), c.what, uint64(entrySize), uint64(len(c.b))-min(off, uint64(len(c.b))))
		}
		return e
	}
	return newCursor(c.b[off:off+uint64(entrySize)], c.base+int64(off), c.what)
}
