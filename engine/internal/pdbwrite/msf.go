// Package pdbwrite writes small Program Database files: an MSF 7.00 container (FORMATS.md
// §7.1) holding the PDB info stream (§7.2), a DBI stream whose optional debug header names a
// section-header stream (§7.3), the symbol-record stream with S_PUB32 records and the publics
// stream with its GSI name hash and address map (§7.4), and empty TPI/IPI streams (§7.5).
//
// That is what a stripped (public) PDB offers and what a debugger needs to find a global by name
// and to name an address: the synthetic kernel dumps of engine/ksynth come with such a PDB for
// their nt image. The layouts are typed from FORMATS.md, not from the reader (engine/pdb), so
// that a transcription error on either side shows up when one reads what the other wrote.
package pdbwrite

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// buf is a little-endian byte buffer.
type buf struct{ bytes.Buffer }

func (b *buf) u8(v uint8)   { b.WriteByte(v) }
func (b *buf) u16(v uint16) { b.Write(binary.LittleEndian.AppendUint16(nil, v)) }
func (b *buf) u32(v uint32) { b.Write(binary.LittleEndian.AppendUint32(nil, v)) }
func (b *buf) str(s string) { b.WriteString(s); b.WriteByte(0) }
func (b *buf) pad(n int) {
	for b.Len()%n != 0 {
		b.WriteByte(0)
	}
}

// msfMagic is the SuperBlock's FileMagic (FORMATS.md §7.1).
const msfMagic = "Microsoft C/C++ MSF 7.00\r\n\x1aDS\x00\x00\x00"

// msf assembles streams into an MSF 7.00 file with the given block size.
type msf struct {
	blockSize int
	streams   [][]byte
}

func (w *msf) add(data []byte) int {
	w.streams = append(w.streams, data)
	return len(w.streams) - 1
}

// bytes lays the file out: block 0 the SuperBlock, the free-block-map blocks at 1 and 2 of every
// BlockSize-block interval (FORMATS.md §7.1) left out of the allocation, then each stream's
// blocks in order, the stream directory, and the block holding the directory's block list.
func (w *msf) bytes() ([]byte, error) {
	bs := w.blockSize
	blocksOf := func(n int) int { return (n + bs - 1) / bs }
	next := 0
	alloc := func() int {
		next++
		for next%bs == 1 || next%bs == 2 {
			next++
		}
		return next
	}
	var dir buf
	dir.u32(uint32(len(w.streams)))
	for _, s := range w.streams {
		dir.u32(uint32(len(s)))
	}
	type placed struct {
		block int
		data  []byte
	}
	var blocks []placed
	for _, s := range w.streams {
		for k := 0; k < blocksOf(len(s)); k++ {
			b := alloc()
			blocks = append(blocks, placed{b, s[k*bs : min(len(s), (k+1)*bs)]})
			dir.u32(uint32(b))
		}
	}
	var blockMap buf
	for k := 0; k < blocksOf(dir.Len()); k++ {
		b := alloc()
		blocks = append(blocks, placed{b, dir.Bytes()[k*bs : min(dir.Len(), (k+1)*bs)]})
		blockMap.u32(uint32(b))
	}
	if blockMap.Len() > bs {
		return nil, fmt.Errorf("pdbwrite: stream directory of %d bytes needs more than one block of block numbers", dir.Len())
	}
	mapBlock := alloc()
	blocks = append(blocks, placed{mapBlock, blockMap.Bytes()})
	total := mapBlock + 1
	file := make([]byte, total*bs)
	for _, p := range blocks {
		copy(file[p.block*bs:], p.data)
	}
	// The free block map (block 1): bit set = block free. Every block up to total is in use;
	// the bits past it within the map's coverage say free.
	fpm := file[bs : 2*bs]
	for b := total; b < 8*bs; b++ {
		fpm[b/8] |= 1 << (b % 8)
	}
	var sb buf
	sb.WriteString(msfMagic)
	sb.u32(uint32(bs))
	sb.u32(1) // FreeBlockMapBlock
	sb.u32(uint32(total))
	sb.u32(uint32(dir.Len()))
	sb.u32(0)
	sb.u32(uint32(mapBlock))
	copy(file, sb.Bytes())
	return file, nil
}
