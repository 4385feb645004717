package kdump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// wantFormatError checks that err is a *FormatError at off whose message mentions want.
func wantFormatError(t *testing.T, err error, off int64, want string) {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want a *FormatError", err, err)
	}
	if fe.Off != off || !strings.Contains(fe.Error(), want) {
		t.Errorf("error %q at %#x, want offset %#x and %q", fe.Error(), fe.Off, off, want)
	}
}

func open(b []byte) (*File, error) { return NewFile(bytes.NewReader(b), int64(len(b))) }

func TestBadSignature(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("PAGE"), []byte("MDMP\x93\xa7\x00\x00"), []byte("PAGEDU65xxxxxxxx")} {
		if _, err := open(b); !errors.Is(err, ErrNotKernelDump) {
			t.Errorf("%q: %v", b, err)
		}
	}
}

func TestTruncatedHeader(t *testing.T) {
	full := buildFullDump(true, samplePFNs)
	_, err := open(full[:0x1500])
	wantFormatError(t, err, 0, "truncated (need 8192 bytes, have 5376)")
	full32 := buildFullDump(false, samplePFNs)
	_, err = open(full32[:0x800])
	wantFormatError(t, err, 0, "DUMP_HEADER32")
}

// TestRunListPastEnd: a full dump cut short opens, serves the pages it has, and names the
// physical address and file offset of the first missing one.
func TestRunListPastEnd(t *testing.T) {
	b := buildFullDump(true, samplePFNs)
	// Runs are stored in reverse order: the last run is pfns 0-2, so the last page is pfn 2;
	// cut it in half.
	cut := b[:len(b)-PageSize/2]
	f, err := open(cut)
	if err != nil {
		t.Fatal(err)
	}
	issues := f.Issues()
	if len(issues) != 1 || !strings.Contains(issues[0].Error(), "past the end of the file") {
		t.Errorf("issues %v", issues)
	}
	buf := make([]byte, PageSize)
	n, err := f.ReadPhysical(buf, 2*PageSize)
	var pe *PhysicalError
	if n != PageSize/2 || !errors.As(err, &pe) || pe.Addr != 0x2800 || pe.Offset != int64(len(cut)) {
		t.Fatalf("ReadPhysical: %d, %v", n, err)
	}
	if !bytes.Equal(buf[:n], pageData(2)[:n]) {
		t.Error("the part the file has: wrong bytes")
	}
	if !strings.Contains(err.Error(), "0x2800") || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("message %q", err)
	}
	if n, err := f.ReadPhysical(buf, 602*PageSize); n != PageSize || err != nil {
		t.Errorf("a stored page: %d, %v", n, err)
	}
}

// TestBitmapMorePagesThanFile: the bitmap sets more bits than the file holds pages for.
func TestBitmapMorePagesThanFile(t *testing.T) {
	b := buildBitmapDump(true, samplePFNs, 700)
	b = b[:len(b)-3*PageSize] // the last three pages (pfns 600-602) are gone
	for _, mapped := range []bool{true, false} {
		var f *File
		var err error
		if mapped {
			f, err = NewFile(mappedReader{bytes.NewReader(b), b}, int64(len(b)))
		} else {
			f, err = open(b)
		}
		if err != nil {
			t.Fatal(err)
		}
		issues := f.Issues()
		if len(issues) != 1 || !strings.Contains(issues[0].Error(), "holds only 12 of them") {
			t.Errorf("issues %v", issues)
		}
		var buf [16]byte
		_, err = f.ReadPhysical(buf[:], 601*PageSize+8)
		var pe *PhysicalError
		if !errors.As(err, &pe) || pe.Addr != 601*PageSize+8 || pe.Offset < int64(len(b)) {
			t.Errorf("ReadPhysical past the file: %v", err)
		}
		if _, err := f.ReadPhysical(buf[:], 512*PageSize); err != nil {
			t.Errorf("a stored page: %v", err)
		}
	}
}

// TestBitmapCountMismatch: the header's present count disagrees with the bitmap's set bits.
func TestBitmapCountMismatch(t *testing.T) {
	b := buildBitmapDump(true, samplePFNs, 700)
	binary.LittleEndian.PutUint64(b[0x2028:], 3)
	f, err := open(b)
	if err != nil {
		t.Fatal(err)
	}
	issues := f.Issues()
	if len(issues) != 1 {
		t.Fatalf("issues %v", issues)
	}
	wantFormatError(t, issues[0], 0x2028, "15 bits set but the header counts 3")
}

// TestBitmapHeaderTooBig: a bitmap whose bit count runs past the end of the file, or huge.
func TestBitmapHeaderTooBig(t *testing.T) {
	for _, bits := range []uint64{1 << 30, 1 << 62, 0} {
		b := buildBitmapDump(true, samplePFNs, 700)
		binary.LittleEndian.PutUint64(b[0x2030:], bits)
		_, err := open(b)
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Off < 0x2020 || fe.Off > 0x2038 {
			t.Errorf("bits %#x: %v", bits, err)
		}
	}
	// First page offset past the end of the file.
	b := buildBitmapDump(false, samplePFNs, 700)
	binary.LittleEndian.PutUint64(b[0x1020:], 1<<40)
	_, err := open(b)
	wantFormatError(t, err, 0x1020, "first page offset 0x10000000000")
}

// TestPagePatternRunList: a full dump whose NumberOfRuns is the 'PAGE' pattern has no run
// list; huge run counts are refused before anything is allocated.
func TestPagePatternRunList(t *testing.T) {
	b := buildFullDump(true, samplePFNs)
	copy(b[0x88:], "PAGE")
	_, err := open(b)
	wantFormatError(t, err, 0x88, "'PAGE' fill pattern")

	b = buildFullDump(true, samplePFNs)
	binary.LittleEndian.PutUint32(b[0x88:], 0xFFFFFFF0)
	_, err = open(b)
	wantFormatError(t, err, 0x88, "NumberOfRuns 4294967280")

	b = buildFullDump(false, samplePFNs)
	binary.LittleEndian.PutUint32(b[0x64:], 87)
	_, err = open(b)
	wantFormatError(t, err, 0x64, "more than the 86 runs")

	// A run of 2^60 pages: refused with the run's own offset.
	b = buildFullDump(true, samplePFNs)
	binary.LittleEndian.PutUint64(b[0x88+0x18:], 1<<60)
	f, err := open(b)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.ReadPhysical(make([]byte, 8), 0)
	wantFormatError(t, err, 0x98, "not plausible")
}

// TestHugeTriageCounts: triage counts far beyond the file are refused with their offsets.
func TestHugeTriageCounts(t *testing.T) {
	h := headerBytes(true, DumpTypeTriage)
	tri := make([]byte, 0x80)
	le := binary.LittleEndian
	le.PutUint32(tri[0x18:], 0x2080)     // UnloadedDriversOffset
	le.PutUint32(tri[0x30:], 0x2080)     // DriverListOffset
	le.PutUint32(tri[0x34:], 0xFFFFFFFF) // DriverCount
	le.PutUint32(tri[0x78:], 0x2080)     // DataBlocksOffset
	le.PutUint32(tri[0x7C:], 0x10000000) // DataBlocksCount
	b := append(h, tri...)
	b = append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f) // unloaded count
	f, err := open(b)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.TriageDrivers()
	wantFormatError(t, err, 0x2080, "driver list")
	_, err = f.TriageDataBlocks()
	wantFormatError(t, err, 0x2080, "data blocks")
	_, err = f.TriageUnloadedDrivers()
	wantFormatError(t, err, 0x2080, "unloaded driver list")
	if _, err := f.VirtualBlocks(); err == nil {
		t.Error("VirtualBlocks succeeded")
	}
	if _, err := f.TriageContext(); err == nil {
		t.Error("TriageContext with ContextOffset 0 succeeded")
	}
}

// TestMissingSecondaryHeader: a bitmap dump type without its 'SDMP'/'FDMP' header.
func TestMissingSecondaryHeader(t *testing.T) {
	b := headerBytes(true, DumpTypeBitmapKernel)
	b = append(b, make([]byte, 0x100)...)
	_, err := open(b)
	wantFormatError(t, err, 0x2000, "needs an 'SDMP' or 'FDMP' header")
	// Header-only dumps open with no physical memory.
	f, err := open(headerBytes(false, DumpTypeHeader))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadPhysical(make([]byte, 1), 0x1234); err == nil || !strings.Contains(err.Error(), "0x1234") {
		t.Errorf("ReadPhysical: %v", err)
	}
}

// TestBitmapDumpWithBadRunList: a bitmap dump does not need the header's run list, so a corrupt
// one is an issue, not a failure to open.
func TestBitmapDumpWithBadRunList(t *testing.T) {
	b := buildBitmapDump(true, samplePFNs, 700)
	binary.LittleEndian.PutUint32(b[0x88:], 1000)
	f, err := open(b)
	if err != nil {
		t.Fatal(err)
	}
	issues := f.Issues()
	if len(issues) != 1 {
		t.Fatalf("issues %v", issues)
	}
	wantFormatError(t, issues[0], 0x88, "NumberOfRuns 1000")
	if f.Header.PhysicalMemoryBlock != nil {
		t.Error("PhysicalMemoryBlock decoded")
	}
	if _, err := f.ReadPhysical(make([]byte, 8), 600*PageSize); err != nil {
		t.Error(err)
	}
}
