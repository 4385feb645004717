package kdump

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// The synthetic writer: small kernel dumps laid out from the FORMATS.md §1 offsets alone, so the
// tests check the reader against the specification rather than against itself.

// pageByte is the content of byte i of page frame pfn in every synthetic dump.
func pageByte(pfn uint64, i int) byte { return byte(pfn*31 + uint64(i)*7 + uint64(i>>8)) }

func pageData(pfn uint64) []byte {
	b := make([]byte, PageSize)
	for i := range b {
		b[i] = pageByte(pfn, i)
	}
	return b
}

// samplePFNs crosses word (64-bit) and rank-block (512-bit) boundaries of the bitmap and has
// runs of several lengths.
var samplePFNs = []uint64{0, 1, 2, 5, 9, 10, 63, 64, 65, 130, 511, 512, 600, 601, 602}

// headerBytes returns a DUMP_HEADER32/64 filled with 'PAGE' and the common fields set.
func headerBytes(is64 bool, dumpType DumpType) []byte {
	size := Header32Size
	if is64 {
		size = Header64Size
	}
	h := bytes.Repeat([]byte("PAGE"), size/4)
	le := binary.LittleEndian
	if is64 {
		copy(h, "PAGEDU64")
		le.PutUint32(h[0x08:], 0xF)
		le.PutUint32(h[0x0C:], 19041)
		le.PutUint64(h[0x10:], 0x1ad000)
		le.PutUint64(h[0x18:], 0xfffff8047c6fc500)
		le.PutUint64(h[0x20:], 0xfffff8047c62a390)
		le.PutUint64(h[0x28:], 0xfffff8047c61e200)
		le.PutUint32(h[0x30:], MachineAMD64)
		le.PutUint32(h[0x34:], 4)
		le.PutUint32(h[0x38:], 0xD1)
		for i := range 4 {
			le.PutUint64(h[0x40+8*i:], 0x1000+uint64(i))
		}
		le.PutUint64(h[0x80:], 0xfffff8047c600b20)
		ctx := make([]byte, 3000)
		le.PutUint32(ctx[0x30:], 0x10000B)           // ContextFlags: AMD64 control|integer
		le.PutUint64(ctx[0x98:], 0xfffff80000001000) // Rsp
		le.PutUint64(ctx[0xF8:], 0xfffff80000002000) // Rip
		copy(h[0x348:], ctx)
		le.PutUint32(h[0xF00:], 0xC0000005)
		le.PutUint64(h[0xF10:], 0xfffff80000002000)
		le.PutUint32(h[0xF18:], 2)
		le.PutUint64(h[0xF20:], 1)
		le.PutUint64(h[0xF28:], 0x42)
		le.PutUint32(h[0xF98:], uint32(dumpType))
		le.PutUint64(h[0xFA0:], 0x123000)
		le.PutUint64(h[0xFA8:], 132223104000000000) // 2020-01-01T00:00:00Z
		copy(h[0xFB0:0x1030], append([]byte("synthetic dump"), make([]byte, 114)...))
		le.PutUint64(h[0x1030:], 36000000000) // one hour
		le.PutUint32(h[0x1040:], 1)
		le.PutUint32(h[0x1044:], 0x110)
		le.PutUint32(h[0x1050:], AttrDumpIsGeneratedOffline)
		return h
	}
	copy(h, "PAGEDUMP")
	le.PutUint32(h[0x08:], 0xF)
	le.PutUint32(h[0x0C:], 7601)
	le.PutUint32(h[0x10:], 0x185000)
	le.PutUint32(h[0x14:], 0x84000000)
	le.PutUint32(h[0x18:], 0x8298ae30)
	le.PutUint32(h[0x1C:], 0x8297fe98)
	le.PutUint32(h[0x20:], MachineI386)
	le.PutUint32(h[0x24:], 2)
	le.PutUint32(h[0x28:], 0x50)
	for i := range 4 {
		le.PutUint32(h[0x2C+4*i:], 0x2000+uint32(i))
	}
	h[0x5C] = 1 // PaeEnabled
	h[0x5D] = 0x41
	le.PutUint32(h[0x60:], 0x82974c28)
	ctx := make([]byte, 1200)
	le.PutUint32(ctx[0x00:], 0x10007)    // x86 control|integer|segments
	le.PutUint32(ctx[0xB8:], 0x8288ba40) // Eip
	le.PutUint32(ctx[0xC4:], 0x8078bc00) // Esp
	copy(h[0x320:], ctx)
	le.PutUint32(h[0x7D0:], 0xC0000005)
	le.PutUint32(h[0x7DC:], 0x8288ba40)
	le.PutUint32(h[0x7E0:], 1)
	le.PutUint32(h[0x7E4:], 7)
	copy(h[0x820:0x8A0], append([]byte("x86 pae"), make([]byte, 121)...))
	le.PutUint32(h[0xF88:], uint32(dumpType))
	le.PutUint64(h[0xFA0:], 0x99000)
	le.PutUint64(h[0xFB8:], 36000000000)
	le.PutUint64(h[0xFC0:], 132223104000000000)
	return h
}

// pfnRuns groups sorted page frame numbers into runs.
func pfnRuns(pfns []uint64) []PhysicalMemoryRun {
	var runs []PhysicalMemoryRun
	for _, p := range pfns {
		if n := len(runs); n > 0 && runs[n-1].BasePage+runs[n-1].PageCount == p {
			runs[n-1].PageCount++
			continue
		}
		runs = append(runs, PhysicalMemoryRun{BasePage: p, PageCount: 1})
	}
	return runs
}

// putRuns writes a PHYSICAL_MEMORY_DESCRIPTOR into the header (FORMATS.md §1.2 @0x88, §1.3
// @0x64): the count as given, but at most the 42 / 86 runs there is room for, as a header with
// a corrupt count would have it.
func putRuns(h []byte, is64 bool, runs []PhysicalMemoryRun) {
	le := binary.LittleEndian
	var total uint64
	for _, r := range runs {
		total += r.PageCount
	}
	if is64 {
		d := h[0x88:]
		le.PutUint32(d, uint32(len(runs)))
		le.PutUint32(d[4:], 0)
		le.PutUint64(d[8:], total)
		for i, r := range runs[:min(len(runs), maxRuns64)] {
			le.PutUint64(d[0x10+16*i:], r.BasePage)
			le.PutUint64(d[0x18+16*i:], r.PageCount)
		}
		return
	}
	d := h[0x64:]
	le.PutUint32(d, uint32(len(runs)))
	le.PutUint32(d[4:], uint32(total))
	for i, r := range runs[:min(len(runs), maxRuns32)] {
		le.PutUint32(d[8+8*i:], uint32(r.BasePage))
		le.PutUint32(d[12+8*i:], uint32(r.PageCount))
	}
}

// buildFullDump writes a DumpType 1 dump. The runs are stored in reverse order of page frame,
// so that file order and address order differ.
func buildFullDump(is64 bool, pfns []uint64) []byte {
	h := headerBytes(is64, DumpTypeFull)
	runs := pfnRuns(pfns)
	slices.Reverse(runs)
	putRuns(h, is64, runs)
	out := h
	for _, r := range runs {
		for p := r.BasePage; p < r.BasePage+r.PageCount; p++ {
			out = append(out, pageData(p)...)
		}
	}
	return out
}

// buildBitmapDump writes a DumpType 5 'FDMP' dump with the modern bitmap header (FORMATS.md
// §1.4) over nbits page frames. Like the real bmp.dmp rizin tests (HeaderSize 0xa038), the
// first page starts right after the bitmap, not page aligned. The header's run list is filled in
// too, as writers do.
func buildBitmapDump(is64 bool, pfns []uint64, nbits uint64) []byte {
	h := headerBytes(is64, DumpTypeBitmapFull)
	putRuns(h, is64, pfnRuns(pfns))
	le := binary.LittleEndian
	bm := make([]byte, (nbits+7)/8)
	for _, p := range pfns {
		bm[p/8] |= 1 << (p % 8)
	}
	sec := make([]byte, 0x38)
	le.PutUint32(sec[0:], SignatureFDMP)
	le.PutUint32(sec[4:], SignatureDUMP)
	first := uint64(len(h)) + 0x38 + uint64(len(bm))
	le.PutUint64(sec[0x20:], first)
	le.PutUint64(sec[0x28:], uint64(len(pfns)))
	le.PutUint64(sec[0x30:], nbits)
	out := append(h, sec...)
	out = append(out, bm...)
	for _, p := range pfns {
		out = append(out, pageData(p)...)
	}
	return out
}

// buildRangeDump writes a DumpType 0xA 'RDMP' complete-memory dump (FORMATS.md §1.4).
func buildRangeDump(pfns []uint64) []byte {
	h := headerBytes(true, DumpTypeCompleteMemory)
	le := binary.LittleEndian
	runs := pfnRuns(pfns)
	sec := make([]byte, 0x30+16*len(runs))
	le.PutUint32(sec[0:], 0x40)
	le.PutUint32(sec[4:], SignatureRDMP)
	le.PutUint32(sec[8:], SignatureDUMP)
	first := uint64(Header64Size + len(sec))
	le.PutUint64(sec[0x10:], first-0x2040+0x20)
	le.PutUint64(sec[0x18:], first)
	le.PutUint32(sec[0x20:], uint32(len(runs)))
	le.PutUint64(sec[0x28:], uint64(len(pfns)))
	for i, r := range runs {
		le.PutUint64(sec[0x30+16*i:], r.BasePage)
		le.PutUint64(sec[0x38+16*i:], r.PageCount)
	}
	out := append(h, sec...)
	for _, p := range pfns {
		out = append(out, pageData(p)...)
	}
	return out
}

// mappedReader is a bytes.Reader that also offers its bytes, as *mmap.File does, so that tests
// exercise the zero-copy path as well as the io.ReaderAt one.
type mappedReader struct {
	*bytes.Reader
	b []byte
}

func (m mappedReader) Bytes() []byte { return m.b }

// openBytes opens b through both paths.
func openBytes(b []byte) (mapped, plain *File, err error) {
	mapped, err = NewFile(mappedReader{bytes.NewReader(b), b}, int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	plain, err = NewFile(bytes.NewReader(b), int64(len(b)))
	return mapped, plain, err
}
