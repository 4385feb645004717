package pdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
)

// msfMagic is the SuperBlock's FileMagic (FORMATS.md §7.1).
var msfMagic = []byte("Microsoft C/C++ MSF 7.00\r\n\x1aDS\x00\x00\x00")

// superBlockSize is the part of the SuperBlock that is read: FileMagic (32 bytes) then six u32s.
const superBlockSize = 0x38

// nilStreamSize marks a stream that does not exist in the directory (FORMATS.md §7.1).
const nilStreamSize = 0xFFFFFFFF

// SuperBlock is the MSF header at offset 0 (FORMATS.md §7.1).
type SuperBlock struct {
	BlockSize         uint32 // @0x20: 512 … 4096 (larger for files over 4 GB)
	FreeBlockMapBlock uint32 // @0x24
	NumBlocks         uint32 // @0x28: file size / BlockSize
	NumDirectoryBytes uint32 // @0x2C
	Unknown           uint32 // @0x30
	BlockMapAddr      uint32 // @0x34: block holding the list of the directory's blocks
}

var container = where{stream: containerStream, name: "MSF"}

// readSuperBlock reads and checks the SuperBlock, the block map and the stream directory: all
// that Open reads.
func (f *File) readSuperBlock() error {
	var hdr [superBlockSize]byte
	n, _ := f.r.ReadAt(hdr[:], 0)
	if n < len(msfMagic) || !bytes.Equal(hdr[:len(msfMagic)], msfMagic) {
		if n > 0 && n < len(msfMagic) && bytes.HasPrefix(msfMagic, hdr[:n]) {
			return container.errorf(0, "superblock", "truncated (need %d bytes, have %d)", len(hdr), n)
		}
		return ErrNotPDB
	}
	if n < len(hdr) {
		return container.errorf(0, "superblock", "truncated (need %d bytes, have %d)", len(hdr), n)
	}
	le := binary.LittleEndian
	sb := SuperBlock{
		BlockSize:         le.Uint32(hdr[0x20:]),
		FreeBlockMapBlock: le.Uint32(hdr[0x24:]),
		NumBlocks:         le.Uint32(hdr[0x28:]),
		NumDirectoryBytes: le.Uint32(hdr[0x2C:]),
		Unknown:           le.Uint32(hdr[0x30:]),
		BlockMapAddr:      le.Uint32(hdr[0x34:]),
	}
	f.super = sb
	bs := sb.BlockSize
	if bs < 512 || bs > 1<<16 || bs&(bs-1) != 0 {
		return container.errorf(0x20, "superblock", "block size %d is not a power of two from 512 to 65536", bs)
	}
	// NumBlocks only bounds block numbers: a truncated file opens, and reading a block past its
	// end is an error then.
	if sb.NumBlocks == 0 {
		return container.errorf(0x28, "superblock", "no blocks")
	}
	if sb.NumDirectoryBytes < 4 || int64(sb.NumDirectoryBytes) > f.size {
		return container.errorf(0x2C, "superblock", "directory of %d bytes in a file of %d bytes", sb.NumDirectoryBytes, f.size)
	}
	dirBlocks := (sb.NumDirectoryBytes + bs - 1) / bs
	// The block map (the list of the directory's blocks) must fit the one block BlockMapAddr names.
	if dirBlocks*4 > bs {
		return container.errorf(0x2C, "superblock", "directory of %d bytes needs %d blocks, more than one block map block holds", sb.NumDirectoryBytes, dirBlocks)
	}
	if sb.BlockMapAddr >= sb.NumBlocks {
		return container.errorf(0x34, "superblock", "block map at block %d, past the last block %d", sb.BlockMapAddr, sb.NumBlocks-1)
	}
	blockMap := make([]byte, dirBlocks*4)
	if err := f.readBlock(sb.BlockMapAddr, 0, blockMap); err != nil {
		return err
	}
	dir := make([]byte, sb.NumDirectoryBytes)
	for i := uint32(0); i < dirBlocks; i++ {
		blk := le.Uint32(blockMap[4*i:])
		if blk >= sb.NumBlocks {
			return container.errorf(int64(sb.BlockMapAddr)*int64(bs)+4*int64(i), "block map", "directory block %d is %d, past the last block %d", i, blk, sb.NumBlocks-1)
		}
		start := i * bs
		end := min(start+bs, sb.NumDirectoryBytes)
		if err := f.readBlock(blk, 0, dir[start:end]); err != nil {
			return err
		}
	}
	return f.parseDirectory(dir, int64(blockOffset(le.Uint32(blockMap), bs)))
}

// parseDirectory splits the stream directory (FORMATS.md §7.1): NumStreams, StreamSizes[], then
// each stream's block numbers. dirOff is the file offset of the directory's first block, for
// errors.
func (f *File) parseDirectory(dir []byte, dirOff int64) error {
	le := binary.LittleEndian
	bs := f.super.BlockSize
	numStreams := le.Uint32(dir)
	if uint64(numStreams) > uint64(len(dir)-4)/4 {
		return container.errorf(dirOff, "stream directory", "%d streams do not fit a directory of %d bytes", numStreams, len(dir))
	}
	f.dir = dir
	f.streamStart = make([]uint32, numStreams)
	word := 1 + numStreams // index of the next block number in dir, in u32 words
	words := uint32(len(dir) / 4)
	for i := uint32(0); i < numStreams; i++ {
		size := le.Uint32(dir[4+4*i:])
		f.streamStart[i] = word
		if size == nilStreamSize {
			continue
		}
		n := (size + bs - 1) / bs
		if size > nilStreamSize-bs || n > words-word {
			return container.errorf(dirOff+4+4*int64(i), "stream directory", "stream %d of %d bytes needs %d block numbers, the directory holds %d more", i, size, (uint64(size)+uint64(bs)-1)/uint64(bs), words-word)
		}
		word += n
	}
	return nil
}

// blockOffset is the file offset of a block.
func blockOffset(block, blockSize uint32) int64 { return int64(block) * int64(blockSize) }

// readBlock fills p from the block, starting off bytes into it.
func (f *File) readBlock(block uint32, off uint32, p []byte) error {
	if f.closed.Load() {
		return ErrClosed
	}
	bs := f.super.BlockSize
	if block >= f.super.NumBlocks || uint64(off)+uint64(len(p)) > uint64(bs) {
		return container.errorf(blockOffset(block, bs), "block", "read of %d bytes at %d in block %d is outside the %d blocks of %d bytes", len(p), off, block, f.super.NumBlocks, bs)
	}
	at := blockOffset(block, bs) + int64(off)
	if f.data != nil {
		if at+int64(len(p)) > int64(len(f.data)) {
			return container.errorf(at, "block", "block %d is past the end of the file (%d bytes)", block, len(f.data))
		}
		copy(p, f.data[at:])
		return nil
	}
	n, err := f.r.ReadAt(p, at)
	if n < len(p) {
		if err == nil || errors.Is(err, io.EOF) {
			return container.errorf(at, "block", "block %d is past the end of the file (%d bytes)", block, f.size)
		}
		return err
	}
	return nil
}

// NumStreams is the number of streams in the directory (including nil streams).
func (f *File) NumStreams() int { return len(f.streamStart) }

// Stream is one stream of the MSF container: the concatenation of its blocks, cut to its size.
// It implements io.ReaderAt.
type Stream struct {
	f      *File
	w      where
	size   uint32
	blocks []byte // the stream's block numbers, u32 each, a slice of the directory
}

// Stream returns stream i. A nil stream (size 0xFFFFFFFF in the directory) is returned as an
// empty stream; a stream whose blocks are not in the file is an error.
func (f *File) Stream(i int) (*Stream, error) {
	return f.stream(i, "")
}

// stream is Stream with a name for errors ("DBI", "module 3 symbols", ...).
func (f *File) stream(i int, name string) (*Stream, error) {
	if name == "" {
		name = defaultStreamName(i)
	}
	w := where{stream: i, name: name}
	if i < 0 || i >= len(f.streamStart) {
		return nil, w.errorf(0, "stream directory", "stream %d does not exist (the directory has %d)", i, len(f.streamStart))
	}
	le := binary.LittleEndian
	size := le.Uint32(f.dir[4+4*i:])
	if size == nilStreamSize {
		return &Stream{f: f, w: w}, nil
	}
	if int64(size) > f.size {
		// Only possible when blocks repeat: refuse it so that no stream can make a reader
		// allocate more than the file's size.
		return nil, w.errorf(0, "stream directory", "stream of %d bytes in a file of %d bytes", size, f.size)
	}
	bs := f.super.BlockSize
	n := (size + bs - 1) / bs
	start := f.streamStart[i]
	blocks := f.dir[4*start : 4*(start+n)]
	for k := uint32(0); k < n; k++ {
		if b := le.Uint32(blocks[4*k:]); b >= f.super.NumBlocks {
			return nil, w.errorf(int64(k)*int64(bs), "stream directory", "block %d of the stream is %d, past the last block %d", k, b, f.super.NumBlocks-1)
		}
	}
	return &Stream{f: f, w: w, size: size, blocks: blocks}, nil
}

func defaultStreamName(i int) string {
	switch i {
	case 0:
		return "old directory"
	case 1:
		return "PDB info"
	case 2:
		return "TPI"
	case 3:
		return "DBI"
	case 4:
		return "IPI"
	}
	return "stream"
}

// Size is the stream's length in bytes.
func (s *Stream) Size() int64 { return int64(s.size) }

func (s *Stream) block(k uint32) uint32 { return binary.LittleEndian.Uint32(s.blocks[4*k:]) }

// ReadAt implements io.ReaderAt over the stream's bytes.
func (s *Stream) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, s.w.errorf(off, "read", "negative offset")
	}
	if off >= int64(s.size) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := len(p)
	if rest := int64(s.size) - off; int64(n) > rest {
		n = int(rest)
	}
	if err := s.read(p[:n], off); err != nil {
		return 0, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// read fills p from the stream at off, which the caller has checked to be inside the stream.
func (s *Stream) read(p []byte, off int64) error {
	bs := int64(s.f.super.BlockSize)
	for len(p) > 0 {
		k, in := off/bs, off%bs
		n := min(int64(len(p)), bs-in)
		if err := s.f.readBlock(s.block(uint32(k)), uint32(in), p[:n]); err != nil {
			return err
		}
		p, off = p[n:], off+n
	}
	return nil
}

// view returns n bytes of the stream at off: a slice of the mapping when they lie in blocks that
// are consecutive in the file (the usual case), otherwise a copy.
func (s *Stream) view(off, n int64, what string) ([]byte, error) {
	if off < 0 || n < 0 || off+n > int64(s.size) {
		return nil, s.w.truncated(off, what, uint64(max(n, 0)), uint64(max(int64(s.size)-off, 0)))
	}
	if n == 0 {
		return nil, nil
	}
	f := s.f
	if f.closed.Load() {
		return nil, ErrClosed
	}
	if f.data != nil {
		bs := int64(f.super.BlockSize)
		first, last := off/bs, (off+n-1)/bs
		contiguous := true
		for k := first + 1; k <= last; k++ {
			if s.block(uint32(k)) != s.block(uint32(k-1))+1 {
				contiguous = false
				break
			}
		}
		if contiguous {
			at := blockOffset(s.block(uint32(first)), f.super.BlockSize) + off%bs
			if at+n <= int64(len(f.data)) {
				return f.data[at : at+n : at+n], nil
			}
		}
	}
	p := make([]byte, n)
	if err := s.read(p, off); err != nil {
		return nil, err
	}
	return p, nil
}

// all returns the whole stream (see view).
func (s *Stream) all(what string) ([]byte, error) { return s.view(0, int64(s.size), what) }

// cursor returns a cursor over the n bytes of the stream at off.
func (s *Stream) cursor(off, n int64, what string) (*cursor, error) {
	b, err := s.view(off, n, what)
	if err != nil {
		return nil, err
	}
	return newCursor(s.w, what, b, off), nil
}
