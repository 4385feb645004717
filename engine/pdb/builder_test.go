package pdb

import (
	"bytes"
	"encoding/binary"
)

// A writer of small PDBs for the tests, built from the format descriptions (FORMATS.md §7 and
// §8.2) without the reader's structs or code, so that a layout mistake cannot hide on both
// sides. Blocks can be laid out in reverse order so that every multi-block stream is scattered
// and fields straddle block boundaries.

// le is a little-endian byte buffer.
type le struct{ bytes.Buffer }

func (b *le) u8(v uint8)   { b.WriteByte(v) }
func (b *le) u16(v uint16) { b.Write(binary.LittleEndian.AppendUint16(nil, v)) }
func (b *le) u32(v uint32) { b.Write(binary.LittleEndian.AppendUint32(nil, v)) }
func (b *le) str(s string) { b.WriteString(s); b.WriteByte(0) }
func (b *le) pad(n int) {
	for b.Len()%n != 0 {
		b.WriteByte(0)
	}
}

// msfWriter assembles streams into an MSF 7.00 file.
type msfWriter struct {
	blockSize int
	streams   [][]byte
	nilStream map[int]bool
	reverse   bool // lay the data blocks out from the end of the file backwards
}

func (w *msfWriter) add(data []byte) int {
	w.streams = append(w.streams, data)
	return len(w.streams) - 1
}

func (w *msfWriter) bytes() []byte {
	bs := w.blockSize
	blocksOf := func(n int) int { return (n + bs - 1) / bs }
	// Blocks 0 (superblock), 1 and 2 (free block maps) are fixed; data follow.
	var dataBlocks int
	for _, s := range w.streams {
		dataBlocks += blocksOf(len(s))
	}
	dirSize := 4 + 4*len(w.streams) + 4*dataBlocks
	dirBlocks := blocksOf(dirSize)
	total := 3 + dataBlocks + dirBlocks + 1
	file := make([]byte, total*bs)
	next := 3
	alloc := func() int {
		b := next
		next++
		if w.reverse && b < 3+dataBlocks {
			return 3 + dataBlocks - 1 - (b - 3)
		}
		return b
	}
	var dir le
	dir.u32(uint32(len(w.streams)))
	for i, s := range w.streams {
		if w.nilStream[i] {
			dir.u32(0xFFFFFFFF)
		} else {
			dir.u32(uint32(len(s)))
		}
	}
	for i, s := range w.streams {
		if w.nilStream[i] {
			continue
		}
		for k := 0; k < blocksOf(len(s)); k++ {
			b := alloc()
			copy(file[b*bs:(b+1)*bs], s[k*bs:min(len(s), (k+1)*bs)])
			dir.u32(uint32(b))
		}
	}
	var blockMap le
	for k := 0; k < dirBlocks; k++ {
		b := alloc()
		copy(file[b*bs:(b+1)*bs], dir.Bytes()[k*bs:min(dir.Len(), (k+1)*bs)])
		blockMap.u32(uint32(b))
	}
	mapBlock := alloc()
	copy(file[mapBlock*bs:], blockMap.Bytes())
	var sb le
	sb.WriteString("Microsoft C/C++ MSF 7.00\r\n\x1aDS\x00\x00\x00")
	sb.u32(uint32(bs))
	sb.u32(1)
	sb.u32(uint32(total))
	sb.u32(uint32(dir.Len()))
	sb.u32(0)
	sb.u32(uint32(mapBlock))
	copy(file, sb.Bytes())
	return file
}

// gsiHashV1 is the GSI name hash (LLVM Hash.cpp hashStringV1), written out again for the writer.
func gsiHashV1(s string) uint32 {
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
	h |= 0x20202020
	h ^= h >> 11
	h ^= h >> 16
	return h
}

// gsiTable writes a GSI name hash (FORMATS.md §7.4) over records at the given symbol record
// offsets with the given names.
func gsiTable(offs []uint32, names []string) []byte {
	const buckets = 4096
	byBucket := make([][]uint32, buckets+1)
	for i, n := range names {
		b := gsiHashV1(n) % buckets
		byBucket[b] = append(byBucket[b], offs[i])
	}
	var hr, bk le
	var bitmap [(buckets + 1 + 31) / 32]uint32
	var starts []uint32
	n := 0
	for b, recs := range byBucket {
		if len(recs) == 0 {
			continue
		}
		bitmap[b/32] |= 1 << (b % 32)
		starts = append(starts, uint32(n*12))
		for _, off := range recs {
			hr.u32(off + 1)
			hr.u32(1)
			n++
		}
	}
	for _, w := range bitmap {
		bk.u32(w)
	}
	for _, s := range starts {
		bk.u32(s)
	}
	var out le
	out.u32(0xFFFFFFFF)
	out.u32(0xEFFE0000 + 19990810)
	out.u32(uint32(hr.Len()))
	out.u32(uint32(bk.Len()))
	out.Write(hr.Bytes())
	out.Write(bk.Bytes())
	return out.Bytes()
}

// record appends a CodeView symbol record {RecLen, RecKind, payload} padded to 4 bytes and
// returns its offset.
func record(b *le, kind uint16, payload []byte) uint32 {
	off := uint32(b.Len())
	n := 2 + len(payload)
	padded := (n + 2 + 3) / 4 * 4
	b.u16(uint16(padded - 2))
	b.u16(kind)
	b.Write(payload)
	for i := n + 2; i < padded; i++ {
		b.WriteByte(0)
	}
	return off
}

// synthPDB describes the synthetic PDB; the tests assert these values back.
var synthGUID = [16]byte{0x9d, 0xd9, 0x49, 0x32, 0x40, 0x0c, 0x31, 0x49, 0x86, 0x10, 0xf4, 0xe4, 0xfb, 0x0b, 0x69, 0x36}

const (
	synthInfoAge = 3
	synthDBIAge  = 2
	synthSig     = 0x5ab38077
	synthProgram = "$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + ="
)

// buildSynthPDB writes an x86 PDB with two sections (.text at 0x1000, .data at 0x2000), the
// publics _main (1:0x10), _helper (1:0x80) and _gvar (2:4), the global gvar, a module "a.obj"
// with procedures main (0x1010, 0x30 bytes, with S_FRAMEPROC) and helper (0x1080, 0x20 bytes),
// lines of a.c for main (0x1010 line 10, 0x1018 line 11, 0x1030 line 12), an FPO_DATA record
// for helper and a FRAMEDATA record for main.
func buildSynthPDB(blockSize int, reverse bool) []byte {
	return buildSynthPDBSharing(blockSize, reverse, 0)
}

// buildSynthPDBSharing is buildSynthPDB with extra modules that all name a.obj's symbol stream,
// as only a crafted file would.
func buildSynthPDBSharing(blockSize int, reverse bool, sharing int) []byte {
	w := &msfWriter{blockSize: blockSize, reverse: reverse, nilStream: map[int]bool{}}
	w.add(nil)                                              // 0: old directory
	infoIdx := w.add(nil)                                   // 1: info, filled below
	w.add(nil)                                              // 2: TPI
	dbiIdx := w.add(nil)                                    // 3: DBI, filled below
	w.add(nil)                                              // 4: IPI
	long := string(bytes.Repeat([]byte("x"), blockSize-40)) // pushes later records over a block edge

	// "/names": Signature, HashVersion, ByteSize, strings.
	var strs le
	strs.u8(0)
	fileOff := uint32(strs.Len())
	strs.str(`c:\src\a.c`)
	progOff := uint32(strs.Len())
	strs.str(synthProgram)
	var names le
	names.u32(0xEFFEEFFE)
	names.u32(1)
	names.u32(uint32(strs.Len()))
	names.Write(strs.Bytes())
	names.u32(0) // bucket count
	names.u32(0) // name count
	namesIdx := w.add(names.Bytes())

	// Info stream (FORMATS.md §7.2).
	var info le
	info.u32(20000404)
	info.u32(synthSig)
	info.u32(synthInfoAge)
	info.Write(synthGUID[:])
	info.u32(uint32(len("/names") + 1))
	info.str("/names")
	info.u32(1) // size
	info.u32(1) // capacity
	info.u32(1) // present words
	info.u32(1) // bucket 0 present
	info.u32(0) // deleted words
	info.u32(0) // key: name offset
	info.u32(uint32(namesIdx))
	info.u32(0)        // niMac
	info.u32(20140508) // VC140
	w.streams[infoIdx] = info.Bytes()

	// Symbol records: a long S_OBJNAME-like filler, then the publics and globals.
	var syms le
	record(&syms, 0x1101, append([]byte{0, 0, 0, 0}, append([]byte(long), 0)...))
	pub := func(flags uint32, off uint32, seg uint16, name string) uint32 {
		var p le
		p.u32(flags)
		p.u32(off)
		p.u16(seg)
		p.str(name)
		return record(&syms, 0x110E, p.Bytes())
	}
	pubMain := pub(2, 0x10, 1, "_main")
	pubHelper := pub(2, 0x80, 1, "_helper")
	pubVar := pub(0, 4, 2, "_gvar")
	var gd le
	gd.u32(0x74)
	gd.u32(4)
	gd.u16(2)
	gd.str("gvar")
	gdata := record(&syms, 0x110D, gd.Bytes())

	// Module stream: signature 4, symbols, then C13 lines.
	var mod le
	mod.u32(4)
	record(&mod, 0x1101, append([]byte{0, 0, 0, 0}, append([]byte(long), 0)...))
	proc := func(kind uint16, off, size uint32, name string, frame bool) uint32 {
		var p le
		p.u32(0) // parent
		endAt := p.Len()
		p.u32(0) // end, patched below
		p.u32(0) // next
		p.u32(size)
		p.u32(3)        // debug start
		p.u32(size - 1) // debug end
		p.u32(0x1001)   // type
		p.u32(off)
		p.u16(1)
		p.u8(0)
		p.str(name)
		start := record(&mod, kind, p.Bytes())
		if frame {
			var fp le
			fp.u32(12) // frame bytes
			fp.u32(0)
			fp.u32(0)
			fp.u32(8) // saved registers
			fp.u32(0)
			fp.u16(0)
			fp.u32(0x4000)
			record(&mod, 0x1012, fp.Bytes())
		}
		end := record(&mod, 0x0006, nil)
		binary.LittleEndian.PutUint32(mod.Bytes()[start+4+uint32(endAt):], end)
		return start
	}
	procMain := proc(0x1110, 0x10, 0x30, "main", true)
	proc(0x110F, 0x80, 0x20, "helper", false)
	symBytes := mod.Len()
	var chk le
	chk.u32(fileOff)
	chk.u8(0) // no checksum
	chk.u8(0)
	chk.pad(4)
	var lines le
	lines.u32(0x10)
	lines.u16(1)
	lines.u16(0)
	lines.u32(0x30)
	lines.u32(0) // file checksum entry at 0
	lines.u32(3)
	lines.u32(12 + 3*8)
	for _, l := range [][2]uint32{{0, 10}, {8, 11}, {0x20, 12}} {
		lines.u32(l[0])
		lines.u32(l[1] | 0x80000000) // IsStatement
	}
	var c13 le
	c13.u32(0xF4)
	c13.u32(uint32(chk.Len()))
	c13.Write(chk.Bytes())
	c13.u32(0xF2)
	c13.u32(uint32(lines.Len()))
	c13.Write(lines.Bytes())
	mod.Write(c13.Bytes())
	modIdx := w.add(mod.Bytes())

	// S_PROCREF main → module 1, after the module is laid out.
	var pr le
	pr.u32(0)
	pr.u32(procMain)
	pr.u16(1)
	pr.str("main")
	procRef := record(&syms, 0x1125, pr.Bytes())
	symIdx := w.add(syms.Bytes())

	// Publics: PSGSIHDR, hash, address map sorted by section:offset.
	hash := gsiTable([]uint32{pubMain, pubHelper, pubVar}, []string{"_main", "_helper", "_gvar"})
	var pubs le
	pubs.u32(uint32(len(hash)))
	pubs.u32(12)
	pubs.u32(0)
	pubs.u32(0)
	pubs.u16(0)
	pubs.u16(0)
	pubs.u32(0)
	pubs.u32(2)
	pubs.Write(hash)
	pubs.u32(pubMain)
	pubs.u32(pubHelper)
	pubs.u32(pubVar)
	pubIdx := w.add(pubs.Bytes())
	globIdx := w.add(gsiTable([]uint32{gdata, procRef}, []string{"gvar", "main"}))

	// Section headers.
	var sh le
	for _, s := range []struct {
		name     string
		va, size uint32
		flags    uint32
	}{{".text", 0x1000, 0x1000, 0x60000020}, {".data", 0x2000, 0x100, 0xC0000040}} {
		n := make([]byte, 8)
		copy(n, s.name)
		sh.Write(n)
		sh.u32(s.size)
		sh.u32(s.va)
		sh.u32(s.size)
		sh.u32(0x400)
		sh.u32(0)
		sh.u32(0)
		sh.u16(0)
		sh.u16(0)
		sh.u32(s.flags)
	}
	shIdx := w.add(sh.Bytes())

	// FPO_DATA for helper: 1 dword of locals, 2 of params, prologue 3, 2 registers, fUseBP.
	var fpo le
	fpo.u32(0x1080)
	fpo.u32(0x20)
	fpo.u32(1)
	fpo.u16(2)
	fpo.u16(3 | 2<<8 | 1<<12)
	fpoIdx := w.add(fpo.Bytes())
	// FRAMEDATA for main.
	var fd le
	fd.u32(0x1010)
	fd.u32(0x30)
	fd.u32(12)
	fd.u32(8)
	fd.u32(0)
	fd.u32(progOff)
	fd.u16(5)
	fd.u16(4)
	fd.u32(4) // function start
	fdIdx := w.add(fd.Bytes())

	// DBI stream (FORMATS.md §7.3).
	var mi le
	modInfo := func(name string, stream uint16, symSize, c13Size uint32) {
		mi.u32(0)
		mi.u16(1) // section contribution: 1:0x10, 0x30 bytes
		mi.u16(0)
		mi.u32(0x10)
		mi.u32(0x30)
		mi.u32(0x60000020)
		mi.u16(0)
		mi.u16(0)
		mi.u32(0)
		mi.u32(0)
		mi.u16(0)      // flags
		mi.u16(stream) // symbol stream
		mi.u32(symSize)
		mi.u32(0)
		mi.u32(c13Size)
		mi.u16(1)
		mi.u16(0)
		mi.u32(0)
		mi.u32(0)
		mi.u32(0)
		mi.str(name)
		mi.str(name)
		mi.pad(4)
	}
	modInfo(`c:\src\a.obj`, uint16(modIdx), uint32(symBytes), uint32(c13.Len()))
	modInfo("* Linker *", 0xFFFF, 0, 0)
	for range sharing {
		modInfo("b", uint16(modIdx), uint32(symBytes), uint32(c13.Len()))
	}
	var sc le
	sc.u32(0xeffe0000 + 19970605)
	for _, c := range []struct {
		sec       uint16
		off, size uint32
		mod       uint16
	}{{1, 0x10, 0x90, 0}, {2, 0, 0x100, 1}} {
		sc.u16(c.sec)
		sc.u16(0)
		sc.u32(c.off)
		sc.u32(c.size)
		sc.u32(0x60000020)
		sc.u16(c.mod)
		sc.u16(0)
		sc.u32(0)
		sc.u32(0)
	}
	var smap le
	smap.u16(2)
	smap.u16(2)
	for i := 0; i < 2; i++ {
		smap.u16(0x109)
		smap.u16(0)
		smap.u16(0)
		smap.u16(uint16(i + 1))
		smap.u16(0xFFFF)
		smap.u16(0xFFFF)
		smap.u32(0)
		smap.u32(0x1000)
	}
	var dbg le
	for i, idx := range []int{fpoIdx, -1, -1, -1, -1, shIdx, -1, -1, -1, fdIdx, -1} {
		_ = i
		if idx < 0 {
			dbg.u16(0xFFFF)
		} else {
			dbg.u16(uint16(idx))
		}
	}
	var dbi le
	dbi.u32(0xFFFFFFFF)
	dbi.u32(19990903)
	dbi.u32(synthDBIAge)
	dbi.u16(uint16(globIdx))
	dbi.u16(0x8E00)
	dbi.u16(uint16(pubIdx))
	dbi.u16(0)
	dbi.u16(uint16(symIdx))
	dbi.u16(0)
	dbi.u32(uint32(mi.Len()))
	dbi.u32(uint32(sc.Len()))
	dbi.u32(uint32(smap.Len()))
	dbi.u32(0) // source info
	dbi.u32(0) // type server map
	dbi.u32(0)
	dbi.u32(uint32(dbg.Len()))
	dbi.u32(0) // EC
	dbi.u16(0)
	dbi.u16(0x14C)
	dbi.u32(0)
	dbi.Write(mi.Bytes())
	dbi.Write(sc.Bytes())
	dbi.Write(smap.Bytes())
	dbi.Write(dbg.Bytes())
	w.streams[dbiIdx] = dbi.Bytes()
	return w.bytes()
}
