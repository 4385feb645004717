package pdb

import (
	"encoding/binary"
	"sort"
)

// C13 debug subsections of a module stream (FORMATS.md §7.3; cvinfo.h DEBUG_S_SUBSECTION_TYPE):
// each is {Kind u32, Length u32, data}, 4-byte aligned; a kind with the 0x80000000 bit set is to
// be ignored.
const (
	debugSLines      = 0xF2
	debugSFileChksms = 0xF4
	debugSIgnore     = 0x80000000
	// CV_LINES_HAVE_COLUMNS in a DEBUG_S_LINES header's Flags.
	linesHaveColumns = 1
)

// lineEntry is one row of a line table: the code from start up to end (internal RVAs) comes
// from line of the file whose name is at nameOff in "/names".
type lineEntry struct {
	start, end uint32
	line       uint32
	nameOff    uint32
}

// Line is a source line's code range.
type Line struct {
	RVA  uint32 // image RVA of the first byte
	Size uint32 // bytes up to the next line entry or the end of the function's line table
	Line int
	File string
}

// readC13Lines reads a module's C13 line information: DEBUG_S_FILECHKSMS (file name offsets)
// and the DEBUG_S_LINES tables that point into it. A DEBUG_S_LINES subsection is {RelocOffset
// u32, RelocSegment u16, Flags u16, CodeSize u32} then blocks of {checksum offset u32, NumLines
// u32, BlockSize u32, NumLines × {Offset u32, LineStart:24 DeltaLineEnd:7 IsStatement:1},
// [NumLines × {u16, u16} columns]} (llvm.org/docs/PDB/ModiStream, LLVM DebugLinesSubsection).
func readC13Lines(w where, b []byte, base int64, addr *addressMap) ([]lineEntry, error) {
	type sub struct {
		off  int64
		data []byte
	}
	var linesSubs []sub
	var checksums []byte
	var checksumsOff int64
	c := newCursor(w, "C13 lines", b, base)
	for c.remaining() >= 8 {
		kind, n := c.u32(), c.u32()
		off := c.off()
		data := c.take(int(min(n, uint32(c.remaining()+1))))
		if c.err != nil {
			return nil, c.err
		}
		c.align(4)
		switch kind {
		case debugSLines:
			linesSubs = append(linesSubs, sub{off, data})
		case debugSFileChksms:
			checksums, checksumsOff = data, off
		}
	}
	// File checksum entries: {FileNameOffset u32, ChecksumSize u8, ChecksumKind u8, checksum},
	// 4-byte aligned; line blocks name a file by the offset of its entry.
	fileName := func(at int64, entry uint32) (uint32, error) {
		if uint64(entry)+4 > uint64(len(checksums)) {
			return 0, w.errorf(at, "C13 lines", "file checksum entry at %d is outside the %d-byte DEBUG_S_FILECHKSMS at %#x", entry, len(checksums), checksumsOff)
		}
		return binary.LittleEndian.Uint32(checksums[entry:]), nil
	}
	var out []lineEntry
	for _, s := range linesSubs {
		lc := newCursor(w, "DEBUG_S_LINES", s.data, s.off)
		relocOff, relocSeg, flags, codeSize := lc.u32(), lc.u16(), lc.u16(), lc.u32()
		if lc.err != nil {
			return nil, lc.err
		}
		start, ok := addr.internalRVA(relocSeg, relocOff)
		first := len(out)
		for lc.remaining() > 0 {
			blockOff := lc.off()
			entry, numLines, blockSize := lc.u32(), lc.u32(), lc.u32()
			if lc.err != nil {
				return nil, lc.err
			}
			per := uint64(8)
			if flags&linesHaveColumns != 0 {
				per += 4
			}
			if blockSize < 12 || uint64(numLines)*per > uint64(blockSize-12) || int64(blockSize-12) > int64(lc.remaining()) {
				return nil, w.errorf(blockOff, "DEBUG_S_LINES", "block of %d bytes with %d lines (%d bytes left)", blockSize, numLines, lc.remaining()+12)
			}
			block := lc.take(int(blockSize - 12))
			nameOff, err := fileName(blockOff, entry)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			for k := uint32(0); k < numLines; k++ {
				o := binary.LittleEndian.Uint32(block[8*k:])
				v := binary.LittleEndian.Uint32(block[8*k+4:])
				out = append(out, lineEntry{start: start + o, line: v & 0xFFFFFF, nameOff: nameOff})
			}
		}
		// A line runs to the next line entry of the table, whatever its file; the last to the
		// end of the code the table covers.
		tab := out[first:]
		sort.SliceStable(tab, func(i, j int) bool { return tab[i].start < tab[j].start })
		for k := range tab {
			if k+1 < len(tab) {
				tab[k].end = tab[k+1].start
			} else {
				tab[k].end = max(start+codeSize, tab[k].start)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out, nil
}

// findLine returns the index of the line entry of lines (sorted by start) holding internal RVA
// x, or -1. Of entries starting at one address, the last one has the extent (the others are
// empty).
func findLine(lines []lineEntry, x uint32) int {
	i := sort.Search(len(lines), func(i int) bool { return lines[i].start > x }) - 1
	if i < 0 || x >= lines[i].end {
		return -1
	}
	return i
}
