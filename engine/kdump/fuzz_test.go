package kdump

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// buildTriageDump writes a small synthetic triage dump (FORMATS.md §1.6): context, exception,
// one driver with its name in the string pool, one unloaded driver, a call stack and two data
// blocks.
func buildTriageDump(is64 bool) []byte {
	h := headerBytes(is64, DumpTypeTriage)
	le := binary.LittleEndian
	hs := uint32(len(h))
	ths := uint32(triageHeader32Size)
	es := uint32(driverEntry32Size)
	ps := uint32(4)
	if is64 {
		ths, es, ps = triageHeader64Size, driverEntry64Size, 8
	}
	tri := make([]byte, ths)
	body := []byte{}
	at := func() uint32 { return hs + ths + uint32(len(body)) }
	put := func(b []byte) uint32 { o := at(); body = append(body, b...); return o }
	putPtr := func(b []byte, off int, v uint64) {
		if is64 {
			le.PutUint64(b[off:], v)
		} else {
			le.PutUint32(b[off:], uint32(v))
		}
	}
	name := []byte{}
	for _, r := range `\SystemRoot\system32\drivers\test.sys` {
		name = le.AppendUint16(name, uint16(r))
	}
	str := le.AppendUint32(nil, uint32(len(name)/2))
	str = append(append(str, name...), 0, 0)
	strOff := put(str)
	drv := make([]byte, es)
	le.PutUint32(drv, strOff)
	if is64 {
		le.PutUint64(drv[0x38:], 0xfffff80012340000) // LdrEntry+0x30 DllBase
		le.PutUint32(drv[0x48:], 0x5000)             // SizeOfImage
		le.PutUint32(drv[0x80:], 0xabcd)             // CheckSum
		le.PutUint32(drv[0x88:], 0x5f000000)         // TimeDateStamp
	} else {
		le.PutUint32(drv[0x1C:], 0x8a000000) // LdrEntry+0x18 DllBase
		le.PutUint32(drv[0x24:], 0x5000)
		le.PutUint32(drv[0x44:], 0xabcd)
		le.PutUint32(drv[0x48:], 0x5f000000)
	}
	drvOff := put(drv)
	un := make([]byte, ps+2*ps+24+2*ps)
	putPtr(un, 0, 1)
	le.PutUint16(un[ps:], 14)
	for i, r := range "old.sys" {
		le.PutUint16(un[ps+2*ps+uint32(2*i):], uint16(r))
	}
	putPtr(un, int(ps+2*ps+24), 0xfffff80011110000)
	putPtr(un, int(ps+3*ps+24), 0xfffff80011120000)
	unOff := put(un)
	stack := bytes.Repeat([]byte{0x5a}, 0x100)
	stackOff := put(stack)
	blk := bytes.Repeat([]byte{0xa5}, 0x40)
	blkOff := put(blk)
	dbs := []byte{}
	for i, va := range []uint64{0xfffff80000100000, 0xfffff80000200000} {
		e := make([]byte, 8+ps)
		putPtr(e, 0, va)
		le.PutUint32(e[ps:], blkOff+uint32(i)*0x20)
		le.PutUint32(e[ps+4:], 0x20)
		dbs = append(dbs, e...)
	}
	dbOff := put(dbs)
	validOff := put(le.AppendUint32(nil, SignatureTriageValid))

	ctxOff := uint32(0x320)
	excOff := uint32(0x7D0)
	if is64 {
		ctxOff, excOff = 0x348, 0xF00
	}
	for off, v := range map[int]uint32{0x04: validOff + 4, 0x08: validOff, 0x0C: ctxOff, 0x10: excOff,
		0x18: unOff, 0x28: stackOff, 0x2C: uint32(len(stack)), 0x30: drvOff, 0x34: 1, 0x38: strOff,
		0x3C: uint32(len(str))} {
		le.PutUint32(tri[off:], v)
	}
	putPtr(tri, 0x48, 0xfffff80000300000) // TopOfStack
	if is64 {
		le.PutUint32(tri[0x78:], dbOff)
		le.PutUint32(tri[0x7C:], 2)
	} else {
		le.PutUint32(tri[0x60:], dbOff)
		le.PutUint32(tri[0x64:], 2)
	}
	return append(append(h, tri...), body...)
}

func TestSyntheticTriage(t *testing.T) {
	for _, is64 := range []bool{true, false} {
		f, _, err := openBytes(buildTriageDump(is64))
		if err != nil {
			t.Fatal(err)
		}
		if f.Triage == nil || !f.TriageValid() {
			t.Fatalf("is64 %v: triage %+v", is64, f.Triage)
		}
		drivers, err := f.TriageDrivers()
		if err != nil || len(drivers) != 1 {
			t.Fatalf("drivers %v %v", drivers, err)
		}
		base := uint64(0xfffff80012340000)
		if !is64 {
			base = 0x8a000000
		}
		d := drivers[0]
		if d.Name != `\SystemRoot\system32\drivers\test.sys` || d.DllBase != base || d.SizeOfImage != 0x5000 || d.CheckSum != 0xabcd || d.TimeDateStamp != 0x5f000000 {
			t.Errorf("is64 %v: driver %+v", is64, d)
		}
		un, err := f.TriageUnloadedDrivers()
		wantStart := uint64(0xfffff80011110000)
		if !is64 {
			wantStart &= 0xffffffff
		}
		if err != nil || len(un) != 1 || un[0].Name != "old.sys" || un[0].StartAddress != wantStart {
			t.Errorf("is64 %v: unloaded %+v %v", is64, un, err)
		}
		blocks, err := f.VirtualBlocks()
		if err != nil || len(blocks) != 3 {
			t.Fatalf("is64 %v: blocks %+v %v", is64, blocks, err)
		}
		var b [2]byte
		va := uint64(0xfffff80000200010)
		if !is64 {
			va &= 0xffffffff
		}
		if _, err := f.ReadTriageVirtual(b[:], va); err != nil || b != [2]byte{0xa5, 0xa5} {
			t.Errorf("is64 %v: data block read %x %v", is64, b, err)
		}
		if ctx, err := f.TriageContext(); err != nil || ctx.Arch() != f.Arch() {
			t.Errorf("is64 %v: context %v", is64, err)
		}
	}
}

// fuzzBases are the synthetic dumps FuzzKdump edits: one of each storage form and of the triage
// layout, in both widths.
var fuzzBases = [][]byte{
	buildFullDump(true, []uint64{0, 1, 5}),
	buildFullDump(false, []uint64{2, 3}),
	buildBitmapDump(true, []uint64{0, 7, 64}, 80),
	buildBitmapDump(false, []uint64{1, 600}, 700),
	buildRangeDump([]uint64{1, 2, 9}),
	buildTriageDump(true),
	buildTriageDump(false),
}

// applyEdits turns a fuzz input into a dump: base picks one of fuzzBases, edits is a list of
// 6-byte records {file offset u16, value u32} written over it, and cut bytes are removed from
// the end. Kernel dumps are mostly fixed-offset fields in an 8 KiB header, so field overwrites
// reach the decoders' checks far faster than byte mutations of whole files, and the inputs stay
// a few dozen bytes (cheap to minimize).
func applyEdits(base uint8, edits []byte, cut uint16) []byte {
	b := bytes.Clone(fuzzBases[int(base)%len(fuzzBases)])
	for ; len(edits) >= 6; edits = edits[6:] {
		off := int(binary.LittleEndian.Uint16(edits))
		if off+4 <= len(b) {
			copy(b[off:], edits[2:6])
		}
	}
	return b[:len(b)-min(int(cut), len(b))]
}

// edit encodes one {offset, value} record for a seed.
func edit(off uint16, v uint32) []byte {
	return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint16(nil, off), v)
}

// FuzzKdump opens edited synthetic kernel dumps and exercises every accessor: no panic, hang or
// allocation beyond the input's size may result.
func FuzzKdump(f *testing.F) {
	for i := range fuzzBases {
		f.Add(uint8(i), []byte{}, uint16(0))
	}
	f.Add(uint8(0), edit(0x88, 0x45474150), uint16(0))                             // 'PAGE' run count
	f.Add(uint8(0), edit(0x98, 0xffffffff), uint16(0x800))                         // huge run, truncated file
	f.Add(uint8(2), edit(0x2030, 0x7fffffff), uint16(0))                           // bitmap bits past the file
	f.Add(uint8(2), edit(0x2028, 3), uint16(0x1000))                               // present count mismatch
	f.Add(uint8(3), edit(0x1020, 0x1040), uint16(0))                               // first page inside the bitmap
	f.Add(uint8(4), edit(0x2020, 0x10000), uint16(0))                              // range count
	f.Add(uint8(5), append(edit(0x2034, 0x100000), edit(0x207c, 9)...), uint16(0)) // triage counts
	f.Add(uint8(6), edit(0x1018, 0x1010), uint16(0))                               // unloaded list over the header
	f.Fuzz(func(t *testing.T, base uint8, edits []byte, cut uint16) {
		if len(edits) > 600 {
			return
		}
		b := applyEdits(base, edits, cut)
		for _, mapped := range []bool{true, false} {
			var kf *File
			var err error
			if mapped {
				kf, err = NewFile(mappedReader{bytes.NewReader(b), b}, int64(len(b)))
			} else {
				kf, err = NewFile(bytes.NewReader(b), int64(len(b)))
			}
			if err != nil {
				continue
			}
			kf.Context()
			var buf [0x1800]byte
			for _, pa := range []uint64{0, 0x1000, 0x5800, 600 * PageSize, 1<<64 - 0x800} {
				kf.ReadPhysical(buf[:], pa)
			}
			if runs, err := kf.PhysicalRuns(); err == nil {
				n := 0
				for r := range runs {
					kf.ReadPhysical(buf[:16], r.BasePage*PageSize)
					if n++; n > 64 {
						break
					}
				}
			}
			kf.Issues()
			kf.TriageDrivers()
			kf.TriageUnloadedDrivers()
			kf.TriageException()
			kf.TriageContext()
			kf.TriageProcessorContext()
			if blocks, err := kf.VirtualBlocks(); err == nil && len(blocks) > 0 {
				kf.ReadTriageVirtual(buf[:64], blocks[0].Addr)
			}
		}
	})
}

// FuzzKdumpBytes feeds raw bytes (the header of each synthetic dump) for inputs the edit
// encoding cannot express, such as short or foreign files.
func FuzzKdumpBytes(f *testing.F) {
	f.Add([]byte("PAGEDU64"))
	f.Add([]byte("PAGEDUMP\x0f\x00\x00\x00"))
	f.Add(fuzzBases[1][:0x1000])
	f.Fuzz(func(t *testing.T, b []byte) {
		if kf, err := NewFile(bytes.NewReader(b), int64(len(b))); err == nil {
			kf.ReadPhysical(make([]byte, 16), 0)
			kf.VirtualBlocks()
		}
	})
}
