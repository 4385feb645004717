package symstore

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A compressed store file (name.pd_, name.dl_) is a Microsoft cabinet holding the one file, or a
// ZIP archive when the store was built with `symstore /compress ZIP` (FORMATS.md §7.6). Cabinet
// layout from [MS-CAB] §2: CFHEADER, optional reserve and cabinet-set names, CFFOLDER records,
// CFFILE records at coffFiles, then each folder's CFDATA blocks from its coffCabStart. MSZIP
// blocks ([MS-MCI] §2) are 'CK' followed by a deflate stream whose window is the previous block's
// output, which compress/flate reads with a preset dictionary.

// ErrUnsupportedCompression is wrapped by the error for a cabinet folder compressed with LZX or
// Quantum, which this package does not decode.
var ErrUnsupportedCompression = errors.New("unsupported cabinet compression")

// [MS-CAB] field offsets and values.
const (
	cabHeaderSize   = 36 // CFHEADER through iCabinet
	cabFolderSize   = 8  // CFFOLDER without abReserve
	cabFileSize     = 16 // CFFILE without szName
	cabDataSize     = 8  // CFDATA without abReserve and ab
	cabFlagPrev     = 0x0001
	cabFlagNext     = 0x0002
	cabFlagReserve  = 0x0004
	cabCompressMask = 0x000f
	cabCompressNone = 0
	cabCompressZIP  = 1 // MSZIP
	cabCompressQTM  = 2 // Quantum
	cabCompressLZX  = 3
	cabMaxName      = 256   // szName is at most CB_MAX_FILENAME (256) bytes with its NUL
	mszipBlockMax   = 32768 // an MSZIP block's uncompressed bytes
	cabFolderSpill  = 0xfffd
)

func cabErr(off int64, format string, args ...any) error {
	return fmt.Errorf("symstore: cabinet at 0x%x: %s", off, fmt.Sprintf(format, args...))
}

// Decompress writes the file held in a compressed store file of size bytes to w and returns the
// number of bytes written. want is the expected file name ("ntkrnlmp.pdb"); an archive with one
// file yields it whatever its name. A file larger than limit bytes is refused before any byte is
// written.
func Decompress(r io.ReaderAt, size int64, want string, w io.Writer, limit int64) (int64, error) {
	var sig [4]byte
	if _, err := r.ReadAt(sig[:], 0); err != nil {
		return 0, cabErr(0, "signature: %v (file is %d bytes)", errEOF(err), size)
	}
	switch string(sig[:]) {
	case "MSCF":
		return extractCAB(r, size, want, w, limit)
	case "PK\x03\x04":
		return extractZIP(r, size, want, w, limit)
	}
	return 0, cabErr(0, "signature is % x, want \"MSCF\" (cabinet) or \"PK\\x03\\x04\" (ZIP)", sig)
}

func errEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readAt reads exactly n bytes at off. The error names what is read: what, formatted with idx
// when idx >= 0 (only on error: these reads run once per record).
func readAt(r io.ReaderAt, size, off int64, n int, what string, idx int) ([]byte, error) {
	name := func() string {
		if idx >= 0 {
			return fmt.Sprintf(what, idx)
		}
		return what
	}
	if off < 0 || off > size || int64(n) > size-off {
		return nil, cabErr(off, "%s: truncated (need %d bytes, have %d)", name(), n, max(0, size-off))
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil {
		return nil, cabErr(off, "%s: %v", name(), errEOF(err))
	}
	return b, nil
}

type cabFolder struct {
	off      int64 // of the CFFOLDER record, for errors
	dataOff  int64 // coffCabStart
	blocks   int   // cCFData
	compress uint16
}

type cabFile struct {
	off         int64
	size        uint32 // cbFile
	folderStart uint32 // uoffFolderStart
	folder      uint16 // iFolder
	name        string
}

func extractCAB(r io.ReaderAt, size int64, want string, w io.Writer, limit int64) (int64, error) {
	h, err := readAt(r, size, 0, cabHeaderSize, "CFHEADER", -1)
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	cbCabinet := int64(le.Uint32(h[8:]))
	coffFiles := int64(le.Uint32(h[16:]))
	nFolders := int(le.Uint16(h[26:]))
	nFiles := int(le.Uint16(h[28:]))
	flags := le.Uint16(h[30:])
	if cbCabinet > size {
		return 0, cabErr(8, "cbCabinet is %d bytes but the file has %d", cbCabinet, size)
	}
	size = cbCabinet // nothing past the cabinet belongs to it
	if flags&(cabFlagPrev|cabFlagNext) != 0 {
		return 0, cabErr(30, "cabinet is part of a multi-cabinet set (flags %#x); only single cabinets are supported", flags)
	}
	off := int64(cabHeaderSize)
	var folderReserve, dataReserve int64
	if flags&cabFlagReserve != 0 {
		b, err := readAt(r, size, off, 4, "CFHEADER reserve sizes", -1)
		if err != nil {
			return 0, err
		}
		off += 4 + int64(le.Uint16(b[0:]))
		folderReserve, dataReserve = int64(b[2]), int64(b[3])
	}
	if nFolders == 0 || nFiles == 0 {
		return 0, cabErr(26, "cabinet has %d folders and %d files", nFolders, nFiles)
	}
	folders := make([]cabFolder, nFolders)
	for i := range folders {
		b, err := readAt(r, size, off, cabFolderSize, "CFFOLDER %d", i)
		if err != nil {
			return 0, err
		}
		folders[i] = cabFolder{off: off, dataOff: int64(le.Uint32(b[0:])), blocks: int(le.Uint16(b[4:])), compress: le.Uint16(b[6:])}
		off += cabFolderSize + folderReserve
	}
	f, err := pickCABFile(r, size, coffFiles, nFiles, want)
	if err != nil {
		return 0, err
	}
	if f.folder >= cabFolderSpill {
		return 0, cabErr(f.off+8, "file %q continues in another cabinet (iFolder %#x)", f.name, f.folder)
	}
	if int(f.folder) >= nFolders {
		return 0, cabErr(f.off+8, "file %q is in folder %d of %d", f.name, f.folder, nFolders)
	}
	if int64(f.size) > limit {
		return 0, cabErr(f.off, "file %q is %d bytes, more than the %d-byte limit", f.name, f.size, limit)
	}
	return extractFolder(r, size, folders[f.folder], dataReserve, f, w)
}

// pickCABFile reads the CFFILE records and chooses the one named want, or the only one.
func pickCABFile(r io.ReaderAt, size, off int64, n int, want string) (cabFile, error) {
	le := binary.LittleEndian
	var files []cabFile
	for i := 0; i < n; i++ {
		b, err := readAt(r, size, off, cabFileSize, "CFFILE %d", i)
		if err != nil {
			return cabFile{}, err
		}
		nameLen := int(min(int64(cabMaxName), size-off-cabFileSize))
		nb, err := readAt(r, size, off+cabFileSize, nameLen, "CFFILE %d name", i)
		if err != nil {
			return cabFile{}, err
		}
		end := bytes.IndexByte(nb, 0)
		if end < 0 {
			return cabFile{}, cabErr(off+cabFileSize, "CFFILE %d name: no NUL in %d bytes", i, nameLen)
		}
		files = append(files, cabFile{off: off, size: le.Uint32(b[0:]), folderStart: le.Uint32(b[4:]),
			folder: le.Uint16(b[8:]), name: string(nb[:end])})
		off += cabFileSize + int64(end) + 1
	}
	var names []string
	for _, f := range files {
		if strings.EqualFold(baseName(f.name), want) {
			return f, nil
		}
		names = append(names, f.name)
	}
	if len(files) == 1 {
		return files[0], nil
	}
	return cabFile{}, cabErr(off, "no file %q among %q", want, names)
}

// extractFolder decodes a folder's CFDATA blocks in order and writes the bytes of file f.
func extractFolder(r io.ReaderAt, size int64, fo cabFolder, dataReserve int64, f cabFile, w io.Writer) (int64, error) {
	method := fo.compress & cabCompressMask
	switch method {
	case cabCompressNone, cabCompressZIP:
	case cabCompressLZX:
		return 0, fmt.Errorf("%w: %w", cabErr(fo.off+6, "folder is LZX-compressed (typeCompress %#x); only MSZIP and stored folders are supported", fo.compress), ErrUnsupportedCompression)
	case cabCompressQTM:
		return 0, fmt.Errorf("%w: %w", cabErr(fo.off+6, "folder is Quantum-compressed (typeCompress %#x); only MSZIP and stored folders are supported", fo.compress), ErrUnsupportedCompression)
	default:
		return 0, cabErr(fo.off+6, "unknown typeCompress %#x", fo.compress)
	}
	le := binary.LittleEndian
	start, end := int64(f.folderStart), int64(f.folderStart)+int64(f.size)
	var (
		pos     int64 // folder-stream offset of the current block's output
		written int64
		history []byte
		inflate io.ReadCloser
		out     = make([]byte, 0, mszipBlockMax+1)
	)
	off := fo.dataOff
	for i := 0; i < fo.blocks && pos < end; i++ {
		h, err := readAt(r, size, off, cabDataSize, "CFDATA %d", i)
		if err != nil {
			return written, err
		}
		csum, cbData, cbUncomp := le.Uint32(h[0:]), int(le.Uint16(h[4:])), int(le.Uint16(h[6:]))
		reserve, err := readAt(r, size, off+4, 4+int(dataReserve), "CFDATA %d reserve", i)
		if err != nil {
			return written, err
		}
		dataOff := off + cabDataSize + dataReserve
		data, err := readAt(r, size, dataOff, cbData, "CFDATA %d data", i)
		if err != nil {
			return written, err
		}
		if csum != 0 {
			if got := cabChecksum(reserve, cabChecksum(data, 0)); got != csum {
				return written, cabErr(off, "CFDATA %d: checksum %#08x, computed %#08x", i, csum, got)
			}
		}
		switch method {
		case cabCompressNone:
			if cbData != cbUncomp {
				return written, cabErr(off, "CFDATA %d: stored block has cbData %d but cbUncomp %d", i, cbData, cbUncomp)
			}
			out = append(out[:0], data...)
		case cabCompressZIP:
			if cbData < 2 || data[0] != 'C' || data[1] != 'K' {
				return written, cabErr(dataOff, "CFDATA %d: MSZIP block does not start with 'CK'", i)
			}
			if cbUncomp > mszipBlockMax {
				return written, cabErr(off+6, "CFDATA %d: MSZIP block of %d bytes (at most %d)", i, cbUncomp, mszipBlockMax)
			}
			src := bytes.NewReader(data[2:])
			if inflate == nil {
				inflate = flate.NewReaderDict(src, history)
			} else if err := inflate.(flate.Resetter).Reset(src, history); err != nil {
				return written, cabErr(dataOff, "CFDATA %d: %v", i, err)
			}
			// Read one byte more than announced to catch a block that inflates too far.
			n, err := io.ReadFull(inflate, out[:cbUncomp+1])
			if err != io.ErrUnexpectedEOF && err != io.EOF && err != nil {
				return written, cabErr(dataOff, "CFDATA %d: MSZIP: %v", i, err)
			}
			if n != cbUncomp {
				return written, cabErr(dataOff, "CFDATA %d: inflates to %d bytes, cbUncomp says %d", i, n, cbUncomp)
			}
			out = out[:n]
			history = append(history[:0], out...)
		}
		// Copy the part of this block that belongs to the file.
		lo, hi := max(start, pos), min(end, pos+int64(len(out)))
		if lo < hi {
			n, err := w.Write(out[lo-pos : hi-pos])
			written += int64(n)
			if err != nil {
				return written, err
			}
		}
		pos += int64(len(out))
		off = dataOff + int64(cbData)
	}
	if written != int64(f.size) {
		return written, cabErr(fo.off, "folder ends after %d of file %q's %d bytes", written, f.name, f.size)
	}
	return written, nil
}

// cabChecksum is the CFDATA checksum of [MS-CAB] §2.5: the XOR of the little-endian 32-bit words
// of b, its last 1-3 bytes folded in with the first of them highest, seeded with seed. A block's
// checksum covers its data, then cbData, cbUncomp and abReserve with the data checksum as seed.
func cabChecksum(b []byte, seed uint32) uint32 {
	sum := seed
	for len(b) >= 4 {
		sum ^= binary.LittleEndian.Uint32(b)
		b = b[4:]
	}
	var tail uint32
	for _, c := range b {
		tail = tail<<8 | uint32(c)
	}
	return sum ^ tail
}

func extractZIP(r io.ReaderAt, size int64, want string, w io.Writer, limit int64) (int64, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return 0, fmt.Errorf("symstore: ZIP archive: %w", err)
	}
	var pick *zip.File
	for _, f := range zr.File {
		if strings.EqualFold(baseName(f.Name), want) {
			pick = f
			break
		}
	}
	if pick == nil && len(zr.File) == 1 {
		pick = zr.File[0]
	}
	if pick == nil {
		return 0, fmt.Errorf("symstore: ZIP archive has no file %q (%d entries)", want, len(zr.File))
	}
	if pick.UncompressedSize64 > uint64(limit) {
		return 0, fmt.Errorf("symstore: ZIP entry %q is %d bytes, more than the %d-byte limit", pick.Name, pick.UncompressedSize64, limit)
	}
	rc, err := pick.Open()
	if err != nil {
		return 0, fmt.Errorf("symstore: ZIP entry %q: %w", pick.Name, err)
	}
	defer rc.Close()
	n, err := io.Copy(w, io.LimitReader(rc, limit+1))
	if err == nil && n > limit {
		err = fmt.Errorf("symstore: ZIP entry %q inflates past the %d-byte limit", pick.Name, limit)
	}
	if err != nil {
		return n, fmt.Errorf("symstore: ZIP entry %q: %w", pick.Name, err)
	}
	return n, nil
}
