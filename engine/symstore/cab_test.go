package symstore

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"wdbg/internal/corpus"
)

// CATALOG.md: mozilla-dump_syms/basic32.pdb is basic32.pd_ extracted, 6590464 bytes, sha256 4895f5b0….
const (
	basic32PDBSize   = 6590464
	basic32PDBSHA256 = "4895f5b09ed06dcc8f3e146a0c5b3af120930633b0b9b54f8049fee48e0a5a03"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestDecompressBasic32(t *testing.T) {
	b, err := os.ReadFile(corpus.Path(t, "mozilla-dump_syms/basic32.pd_"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n, err := Decompress(bytes.NewReader(b), int64(len(b)), "basic32.pdb", &out, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if n != basic32PDBSize || out.Len() != basic32PDBSize {
		t.Errorf("wrote %d (%d) bytes, want %d (CATALOG.md)", n, out.Len(), basic32PDBSize)
	}
	if got := sha256Hex(out.Bytes()); got != basic32PDBSHA256 {
		t.Errorf("sha256 %s, want %s (CATALOG.md basic32.pdb)", got, basic32PDBSHA256)
	}
	// The extracted file beside it is the same bytes.
	want, err := os.ReadFile(corpus.Path(t, "mozilla-dump_syms/basic32.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Error("extracted bytes differ from mozilla-dump_syms/basic32.pdb")
	}

	// Every CFDATA block of this cabinet has a checksum: a flipped byte in the first block's data
	// is caught there (block header at 0x48, data at 0x50 per the file's CFFOLDER).
	bad := bytes.Clone(b)
	bad[0x60] ^= 0x40
	_, err = Decompress(bytes.NewReader(bad), int64(len(bad)), "basic32.pdb", io.Discard, 1<<30)
	if err == nil || !strings.Contains(err.Error(), "cabinet at 0x48: CFDATA 0: checksum") {
		t.Errorf("corrupted block: %v", err)
	}
	// The size limit is checked before anything is written.
	var w bytes.Buffer
	_, err = Decompress(bytes.NewReader(b), int64(len(b)), "basic32.pdb", &w, 1<<20)
	if err == nil || !strings.Contains(err.Error(), "more than the 1048576-byte limit") || w.Len() != 0 {
		t.Errorf("limit: %v (%d bytes written)", err, w.Len())
	}
	// Truncated downloads fail with the offset of what is missing.
	_, err = Decompress(bytes.NewReader(b[:len(b)/2]), int64(len(b)/2), "basic32.pdb", io.Discard, 1<<30)
	if err == nil || !strings.Contains(err.Error(), "cbCabinet is 1185826 bytes but the file has 592913") {
		t.Errorf("truncated: %v", err)
	}
}

type cabEntry struct {
	name string
	data []byte
}

// buildCAB writes a one-folder cabinet per [MS-CAB] §2 holding files, cut into blocks of
// blockSize uncompressed bytes, stored (method 0) or MSZIP (1), without checksums.
func buildCAB(t testing.TB, method uint16, blockSize int, files ...cabEntry) []byte {
	t.Helper()
	var stream []byte
	var fileRecs bytes.Buffer
	le := binary.LittleEndian
	for _, f := range files {
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(len(f.data)))
		le.PutUint32(rec[4:], uint32(len(stream)))
		fileRecs.Write(rec)
		fileRecs.WriteString(f.name + "\x00")
		stream = append(stream, f.data...)
	}
	var blocks bytes.Buffer
	var prev []byte
	nBlocks := 0
	for off := 0; off < len(stream); off += blockSize {
		chunk := stream[off:min(off+blockSize, len(stream))]
		data := chunk
		if method == 1 {
			var z bytes.Buffer
			z.WriteString("CK")
			fw, err := flate.NewWriterDict(&z, flate.BestCompression, prev)
			if err != nil {
				t.Fatal(err)
			}
			fw.Write(chunk)
			fw.Close()
			data = z.Bytes()
			prev = chunk
		}
		h := make([]byte, 8)
		le.PutUint16(h[4:], uint16(len(data)))
		le.PutUint16(h[6:], uint16(len(chunk)))
		blocks.Write(h)
		blocks.Write(data)
		nBlocks++
	}
	const headerAndFolder = 36 + 8
	dataStart := headerAndFolder + fileRecs.Len()
	h := make([]byte, headerAndFolder)
	copy(h, "MSCF")
	le.PutUint32(h[8:], uint32(dataStart+blocks.Len()))
	le.PutUint32(h[16:], headerAndFolder)
	h[24], h[25] = 3, 1
	le.PutUint16(h[26:], 1)
	le.PutUint16(h[28:], uint16(len(files)))
	le.PutUint32(h[36:], uint32(dataStart))
	le.PutUint16(h[40:], uint16(nBlocks))
	le.PutUint16(h[42:], method)
	return append(append(h, fileRecs.Bytes()...), blocks.Bytes()...)
}

func decompressBytes(b []byte, want string, limit int64) ([]byte, error) {
	var out bytes.Buffer
	_, err := Decompress(bytes.NewReader(b), int64(len(b)), want, &out, limit)
	return out.Bytes(), err
}

func TestDecompressSynthetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog ", 3000)) // compressible, > 4 blocks
	noise := make([]byte, 70000)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	for _, method := range []uint16{0, 1} {
		cab := buildCAB(t, method, 32768, cabEntry{"first.txt", text}, cabEntry{"second.bin", noise}, cabEntry{"empty", nil})
		for _, c := range []struct {
			want string
			data []byte
		}{{"first.txt", text}, {"SECOND.BIN", noise}, {"empty", nil}} {
			got, err := decompressBytes(cab, c.want, 1<<20)
			if err != nil || !bytes.Equal(got, c.data) {
				t.Errorf("method %d, %s: %d bytes, %v; want %d bytes", method, c.want, len(got), err, len(c.data))
			}
		}
		if _, err := decompressBytes(cab, "third", 1<<20); err == nil || !strings.Contains(err.Error(), `no file "third"`) {
			t.Errorf("method %d, missing file: %v", method, err)
		}
		// Every truncation fails cleanly.
		for n := 0; n < len(cab); n += 97 {
			if _, err := decompressBytes(cab[:n], "second.bin", 1<<20); err == nil {
				t.Fatalf("method %d: %d-byte prefix decompressed", method, n)
			}
		}
	}
	// A single-file cabinet yields its file whatever it is called.
	cab := buildCAB(t, 1, 32768, cabEntry{"stored-name.pdb", text})
	if got, err := decompressBytes(cab, "wanted.pdb", 1<<20); err != nil || !bytes.Equal(got, text) {
		t.Errorf("single file: %d bytes, %v", len(got), err)
	}
	// A block inflating beyond cbUncomp, and one not starting with CK.
	bad := bytes.Clone(cab)
	binary.LittleEndian.PutUint16(bad[36+8+16+len("stored-name.pdb")+1+6:], 100)
	if _, err := decompressBytes(bad, "", 1<<20); err == nil || !strings.Contains(err.Error(), "inflates to 101 bytes, cbUncomp says 100") {
		t.Errorf("overlong block: %v", err)
	}
	bad = bytes.Clone(cab)
	bad[36+8+16+len("stored-name.pdb")+1+8] = 'X'
	if _, err := decompressBytes(bad, "", 1<<20); err == nil || !strings.Contains(err.Error(), "does not start with 'CK'") {
		t.Errorf("no CK: %v", err)
	}
}

func TestDecompressUnsupported(t *testing.T) {
	for _, c := range []struct {
		method uint16
		want   string
	}{{3, "LZX"}, {0x1503, "LZX"}, {2, "Quantum"}} {
		cab := buildCAB(t, 0, 32768, cabEntry{"x.pdb", []byte("data")})
		binary.LittleEndian.PutUint16(cab[42:], c.method)
		_, err := decompressBytes(cab, "x.pdb", 1<<20)
		if !errors.Is(err, ErrUnsupportedCompression) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("typeCompress %#x: %v", c.method, err)
		}
	}
	cab := buildCAB(t, 0, 32768, cabEntry{"x.pdb", []byte("data")})
	binary.LittleEndian.PutUint16(cab[30:], cabFlagNext)
	if _, err := decompressBytes(cab, "x.pdb", 1<<20); err == nil || !strings.Contains(err.Error(), "multi-cabinet set") {
		t.Errorf("cabinet set: %v", err)
	}
	for _, b := range [][]byte{nil, []byte("MZ\x90\x00"), []byte("MSC")} {
		if _, err := decompressBytes(b, "x", 1<<20); err == nil {
			t.Errorf("%q: no error", b)
		}
	}
}

func TestDecompressZIP(t *testing.T) {
	// symstore /compress ZIP stores a ZIP archive under the compressed name (FORMATS.md §7.6).
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("x.pdb")
	payload := bytes.Repeat([]byte("Microsoft C/C++ MSF 7.00\r\n\x1aDS\x00"), 1000)
	w.Write(payload)
	zw.Close()
	got, err := decompressBytes(buf.Bytes(), "x.pdb", 1<<20)
	if err != nil || !bytes.Equal(got, payload) {
		t.Errorf("zip: %d bytes, %v", len(got), err)
	}
	if _, err := decompressBytes(buf.Bytes(), "x.pdb", 100); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("zip limit: %v", err)
	}
}
