package ksynth

import (
	"bytes"
	"encoding/binary"
)

// The dump header: DUMP_HEADER64 (0x2000 bytes, FORMATS.md §1.2) or DUMP_HEADER32 (0x1000
// bytes, §1.3), pre-filled with 'PAGE' as Windows writes it (§1.1).

const (
	header64Size = 0x2000
	header32Size = 0x1000
	comment      = "wdbg ksynth synthetic kernel dump"
	productType  = 1 // NtProductWinNt
	suiteMask    = 0x110
	// Secondary header signatures (§1.4).
	sigFDMP = "FDMP"
	sigSDMP = "SDMP"
)

// headerBytes builds the dump header; fileSize is RequiredDumpSpace.
func (b *builder) headerBytes(dumpType uint32, ramRuns []pfnRun, fileSize uint64) []byte {
	p := b.p
	size := header32Size
	if p.is64 {
		size = header64Size
	}
	h := le(bytes.Repeat([]byte("PAGE"), size/4))
	bc := b.bugCheck()
	var ramPages uint64
	for _, r := range ramRuns {
		ramPages += r.count
	}
	ctx := b.context(b.m.Context)
	var commentBytes [128]byte
	copy(commentBytes[:], comment)
	if p.is64 {
		copy(h, "PAGEDU64")
		h.u32(0x08, 0xF) // free build
		h.u32(0x0C, p.build)
		h.u64(0x10, b.kernel.root)
		h.u64(0x18, p.pfnDatabase)
		h.u64(0x20, b.m.PsLoadedModuleList)
		h.u64(0x28, b.m.PsActiveProcessHead)
		h.u32(0x30, p.machine)
		h.u32(0x34, uint32(b.spec.Processors))
		h.u32(0x38, bc.Code)
		h.u32(0x3C, 0)
		for i, v := range bc.Parameters {
			h.u64(0x40+8*uint32(i), v)
		}
		copy(h[0x60:0x80], make([]byte, 32)) // VersionUser
		h.u64(0x80, b.m.KdDebuggerDataBlock)
		// PHYSICAL_MEMORY_DESCRIPTOR64 @0x88: NumberOfRuns, pad, NumberOfPages u64, runs.
		h.u32(0x88, uint32(len(ramRuns)))
		h.u32(0x8C, 0)
		h.u64(0x90, ramPages)
		for i, r := range ramRuns {
			h.u64(0x98+16*uint32(i), r.base)
			h.u64(0xA0+16*uint32(i), r.count)
		}
		copy(h[0x348:0x348+3000], make([]byte, 3000))
		copy(h[0x348:], ctx)
		h.u32(0xF98, dumpType)
		h.u32(0xF9C, 0)
		h.u64(0xFA0, fileSize)
		h.u64(0xFA8, systemTime)
		copy(h[0xFB0:0x1030], commentBytes[:])
		h.u64(0x1030, systemUpTime)
		h.u32(0x103C, 0) // SecondaryDataState
		h.u32(0x1040, productType)
		h.u32(0x1044, suiteMask)
		h.u32(0x1048, 0) // WriterStatus
		h.u32(0x104C, 0) // Unused1, KdSecondaryVersion, Unused
		h.u32(0x1050, 0) // Attributes
		h.u32(0x1054, 0) // BootId
		return h
	}
	copy(h, "PAGEDUMP")
	h.u32(0x08, 0xF)
	h.u32(0x0C, p.build)
	h.u32(0x10, uint32(b.kernel.root))
	h.u32(0x14, uint32(p.pfnDatabase))
	h.u32(0x18, uint32(b.m.PsLoadedModuleList))
	h.u32(0x1C, uint32(b.m.PsActiveProcessHead))
	h.u32(0x20, p.machine)
	h.u32(0x24, uint32(b.spec.Processors))
	h.u32(0x28, bc.Code)
	for i, v := range bc.Parameters {
		h.u32(0x2C+4*uint32(i), uint32(v))
	}
	copy(h[0x3C:0x5C], make([]byte, 32)) // VersionUser
	pae := uint32(0)
	if p.pae {
		pae = 1
	}
	h.u32(0x5C, pae) // PaeEnabled (§1.3: the only thing that tells the paging mode), KdSecondaryVersion, Spare
	h.u32(0x60, uint32(b.m.KdDebuggerDataBlock))
	// PHYSICAL_MEMORY_DESCRIPTOR32 @0x64: NumberOfRuns, NumberOfPages, runs of two u32s.
	h.u32(0x64, uint32(len(ramRuns)))
	h.u32(0x68, uint32(ramPages))
	for i, r := range ramRuns {
		h.u32(0x6C+8*uint32(i), uint32(r.base))
		h.u32(0x70+8*uint32(i), uint32(r.count))
	}
	copy(h[0x320:0x320+1200], make([]byte, 1200))
	copy(h[0x320:], ctx)
	// EXCEPTION_RECORD32 @0x7D0: the access violation behind the 0x8E bug check.
	ex := le(make([]byte, 0x50))
	ex.u32(0, statusAccessViolation)
	ex.u32(0xC, uint32(b.m.FaultingIP))
	ex.u32(0x10, 2)
	ex.u32(0x14, 0) // a read
	ex.u32(0x18, uint32(b.referencedAddress()))
	copy(h[0x7D0:], ex)
	b.m.Exception = &ExceptionFacts{Code: statusAccessViolation, Address: b.m.FaultingIP,
		Parameters: []uint64{0, b.referencedAddress()}}
	copy(h[0x820:0x8A0], commentBytes[:])
	h.u32(0x8A0, 0) // Attributes
	h.u32(0x8A4, 0) // BootId
	h.u32(0xF88, dumpType)
	h.u32(0xF90, 0) // SecondaryDataState
	h.u32(0xF94, productType)
	h.u32(0xF98, suiteMask)
	h.u32(0xF9C, 0) // WriterStatus
	h.u64(0xFA0, fileSize)
	h.u64(0xFB8, systemUpTime)
	h.u64(0xFC0, systemTime)
	return h
}

// bitmapHeader is the modern 'FDMP'/'SDMP' header (§1.4) and its bitmap: Signature, 'DUMP',
// DumpOptions, FirstPage @0x20, present pages @0x28, bits @0x30, bitmap @0x38 (LSB first).
// FORMATS.md says FirstPage is page aligned; engine/kdump accepts any offset past the bitmap,
// which is what alignFirst=false writes.
func bitmapHeader(sig string, hsize int64, bits uint64, present []pfnRun, alignFirst bool) (hdr []byte, first int64) {
	nbytes := (bits + 7) / 8
	hdr = make([]byte, 0x38+nbytes)
	copy(hdr, sig)
	copy(hdr[4:], "DUMP")
	first = hsize + int64(len(hdr))
	if alignFirst {
		first = (first + pageSize - 1) &^ (pageSize - 1)
	}
	var count uint64
	bm := hdr[0x38:]
	for _, r := range present {
		for pfn := r.base; pfn < r.base+r.count; pfn++ {
			bm[pfn/8] |= 1 << (pfn % 8)
		}
		count += r.count
	}
	binary.LittleEndian.PutUint64(hdr[0x20:], uint64(first))
	binary.LittleEndian.PutUint64(hdr[0x28:], count)
	binary.LittleEndian.PutUint64(hdr[0x30:], bits)
	return hdr, first
}
