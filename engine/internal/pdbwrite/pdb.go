package pdbwrite

import (
	"fmt"
	"os"
	"sort"
)

// Section is one image section, as the PDB's section-header stream keeps it (an
// IMAGE_SECTION_HEADER, FORMATS.md §7.3).
type Section struct {
	Name            string // at most 8 bytes
	VirtualAddress  uint32 // RVA
	VirtualSize     uint32
	Characteristics uint32
}

// Public is one public symbol (S_PUB32, FORMATS.md §7.4).
type Public struct {
	Name     string // as the linker spells it (decorated on x86: _Name)
	RVA      uint32 // must fall inside a section
	Function bool   // code: PubSymFlags bit1 (function) and bit0 (code)
}

// PDB is the content of a public PDB.
type PDB struct {
	GUID      [16]byte // matches the image's RSDS record
	Age       uint32   // written to both the info stream and the DBI stream
	Signature uint32   // time_t of the "link"
	Machine   uint16   // 0x8664 or 0x14C
	Sections  []Section
	Publics   []Public
	Types     []Struct // TPI type records (types.go); none makes a public-only PDB
	FPO       []FPO    // x86 FPO_DATA records (fpo.go), the stream of DBI debug header entry 0
	// BlockSize is the MSF block size; 0 means 4096.
	BlockSize int
}

// Fixed stream indices (FORMATS.md §7.1).
const (
	streamOldDir = 0
	streamInfo   = 1
	streamTPI    = 2
	streamDBI    = 3
	streamIPI    = 4
)

// Record kinds and version constants (FORMATS.md §7.2–§7.5).
const (
	sPub32         = 0x110E
	infoVersionVC7 = 20000404
	featureVC140   = 20140508
	dbiVersionV70  = 19990903
	tpiVersionV80  = 20040203
	tpiHeaderSize  = 56
	sectionContrib = 0xEFFE0000 + 19970605 // DBI section contribution substream version
	noStream       = 0xFFFF
)

// WriteFile writes the PDB to path.
func (p *PDB) WriteFile(path string) error {
	b, err := p.Bytes()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Bytes builds the file.
func (p *PDB) Bytes() ([]byte, error) {
	bs := p.BlockSize
	if bs == 0 {
		bs = 4096
	}
	if len(p.Sections) == 0 {
		return nil, fmt.Errorf("pdbwrite: no sections")
	}
	w := &msf{blockSize: bs}
	for range streamIPI + 1 {
		w.add(nil)
	}
	w.streams[streamTPI] = emptyTypeStream()
	if len(p.Types) > 0 {
		tpi, err := typeStream(p.Types)
		if err != nil {
			return nil, err
		}
		w.streams[streamTPI] = tpi
	}
	w.streams[streamIPI] = emptyTypeStream()

	names := w.add(namesStream())
	w.streams[streamInfo] = p.infoStream(names)

	// Symbol records: one S_PUB32 per public, in the given order.
	type placedPub struct {
		off     uint32
		name    string
		section uint16
		offset  uint32
	}
	var syms buf
	pubs := make([]placedPub, 0, len(p.Publics))
	for _, pub := range p.Publics {
		sec, off, ok := p.sectionOffset(pub.RVA)
		if !ok {
			return nil, fmt.Errorf("pdbwrite: public %s at RVA %#x is in no section", pub.Name, pub.RVA)
		}
		var rec buf
		flags := uint32(0)
		if pub.Function {
			flags = 1 | 2 // code, function
		}
		rec.u32(flags)
		rec.u32(off)
		rec.u16(sec)
		rec.str(pub.Name)
		pubs = append(pubs, placedPub{record(&syms, sPub32, rec.Bytes()), pub.Name, sec, off})
	}
	symIdx := w.add(syms.Bytes())

	// Publics stream: PSGSIHDR, GSI hash, address map sorted by section:offset.
	offs := make([]uint32, len(pubs))
	nameList := make([]string, len(pubs))
	for i, pp := range pubs {
		offs[i], nameList[i] = pp.off, pp.name
	}
	hash := gsiTable(offs, nameList)
	byAddr := append([]placedPub(nil), pubs...)
	sort.SliceStable(byAddr, func(i, j int) bool {
		if byAddr[i].section != byAddr[j].section {
			return byAddr[i].section < byAddr[j].section
		}
		return byAddr[i].offset < byAddr[j].offset
	})
	var ps buf
	ps.u32(uint32(len(hash)))     // SymHash
	ps.u32(uint32(4 * len(pubs))) // AddrMap
	ps.u32(0)                     // NumThunks
	ps.u32(0)                     // SizeOfThunk
	ps.u16(0)                     // ISectThunkTable
	ps.u16(0)
	ps.u32(0) // OffThunkTable
	ps.u32(0) // NumSects: no section map follows
	ps.Write(hash)
	for _, pp := range byAddr {
		ps.u32(pp.off)
	}
	pubIdx := w.add(ps.Bytes())
	globIdx := w.add(gsiTable(nil, nil))

	// Section headers (IMAGE_SECTION_HEADER, 40 bytes each).
	var sh buf
	for _, s := range p.Sections {
		n := make([]byte, 8)
		copy(n, s.Name)
		sh.Write(n)
		sh.u32(s.VirtualSize)
		sh.u32(s.VirtualAddress)
		sh.u32(alignUp(s.VirtualSize, 0x200)) // SizeOfRawData
		sh.u32(0)                             // PointerToRawData
		sh.u32(0)
		sh.u32(0)
		sh.u16(0)
		sh.u16(0)
		sh.u32(s.Characteristics)
	}
	shIdx := w.add(sh.Bytes())
	fpo, err := fpoStream(p.FPO)
	if err != nil {
		return nil, err
	}
	fpoIdx := uint16(noStream)
	if fpo != nil {
		fpoIdx = uint16(w.add(fpo))
	}
	w.streams[streamDBI] = p.dbiStream(uint16(globIdx), uint16(pubIdx), uint16(symIdx), uint16(shIdx), fpoIdx)
	return w.bytes()
}

func alignUp(v, a uint32) uint32 { return (v + a - 1) &^ (a - 1) }

// sectionOffset turns an RVA into the 1-based section number and the offset in it.
func (p *PDB) sectionOffset(rva uint32) (uint16, uint32, bool) {
	for i, s := range p.Sections {
		size := max(s.VirtualSize, 1)
		if rva >= s.VirtualAddress && rva-s.VirtualAddress < size {
			return uint16(i + 1), rva - s.VirtualAddress, true
		}
	}
	return 0, 0, false
}

// infoStream is the PDB info stream (FORMATS.md §7.2) with a named-stream map holding "/names".
func (p *PDB) infoStream(names int) []byte {
	var b buf
	b.u32(infoVersionVC7)
	b.u32(p.Signature)
	b.u32(p.Age)
	b.Write(p.GUID[:])
	b.u32(uint32(len("/names") + 1))
	b.str("/names")
	b.u32(1) // Size
	b.u32(1) // Capacity
	b.u32(1) // Present bit vector: one word
	b.u32(1) // bucket 0 present
	b.u32(0) // Deleted bit vector: no words
	b.u32(0) // key: offset of "/names" in the buffer
	b.u32(uint32(names))
	b.u32(0) // niMac
	b.u32(featureVC140)
	return b.Bytes()
}

// namesStream is an empty "/names" string table (FORMATS.md §7.2).
func namesStream() []byte {
	var b buf
	b.u32(0xEFFEEFFE)
	b.u32(1) // HashVersion
	b.u32(1) // ByteSize: the empty string at offset 0
	b.u8(0)
	b.u32(1) // one bucket
	b.u32(0)
	b.u32(0) // name count
	return b.Bytes()
}

// emptyTypeStream is a TPI/IPI header with no records (FORMATS.md §7.5).
func emptyTypeStream() []byte {
	var b buf
	b.u32(tpiVersionV80)
	b.u32(tpiHeaderSize)
	b.u32(0x1000) // TypeIndexBegin
	b.u32(0x1000) // TypeIndexEnd
	b.u32(0)      // TypeRecordBytes
	b.u16(noStream)
	b.u16(noStream)
	b.u32(4) // HashKeySize
	b.u32(0x3FFFF)
	for range 6 {
		b.u32(0)
	}
	return b.Bytes()
}

// dbiStream is the DBI stream (FORMATS.md §7.3): header, one "* Linker *" module without a
// symbol stream, an empty section contribution substream, the section map, and the optional
// debug header whose entry 0 names the FPO stream (if any) and entry 5 the section-header stream.
func (p *PDB) dbiStream(glob, pub, sym, sections, fpo uint16) []byte {
	var mi buf
	mi.u32(0)
	mi.u16(noStream) // SectionContrib.Section: none
	mi.u16(0)
	for range 6 {
		mi.u32(0)
	}
	mi.u16(0)        // Flags
	mi.u16(noStream) // ModuleSymStream
	mi.u32(0)        // SymByteSize
	mi.u32(0)        // C11ByteSize
	mi.u32(0)        // C13ByteSize
	mi.u16(0)        // SourceFileCount
	mi.u16(0)
	mi.u32(0)
	mi.u32(0)
	mi.u32(0)
	mi.str("* Linker *")
	mi.str("")
	mi.pad(4)

	var sc buf
	sc.u32(sectionContrib)

	var smap buf
	smap.u16(uint16(len(p.Sections))) // Count
	smap.u16(uint16(len(p.Sections))) // LogCount
	for i, s := range p.Sections {
		flags := uint16(0x109) // read, selector, 32-bit address
		if s.Characteristics&0x20000000 != 0 {
			flags |= 4 // execute
		}
		if s.Characteristics&0x80000000 != 0 {
			flags |= 2 // write
		}
		smap.u16(flags)
		smap.u16(0)
		smap.u16(0)
		smap.u16(uint16(i + 1))
		smap.u16(0xFFFF)
		smap.u16(0xFFFF)
		smap.u32(0)
		smap.u32(s.VirtualSize)
	}

	var dbg buf
	for i := range 11 {
		switch i {
		case 0:
			dbg.u16(fpo) // FPO_DATA array (fpo.go), noStream when there is none
		case 5:
			dbg.u16(sections)
		default:
			dbg.u16(noStream)
		}
	}

	var d buf
	d.u32(0xFFFFFFFF) // VersionSignature -1
	d.u32(dbiVersionV70)
	d.u32(p.Age)
	d.u16(glob)
	d.u16(0x8E00) // BuildNumber: new format, toolset 14.0
	d.u16(pub)
	d.u16(0)
	d.u16(sym)
	d.u16(0)
	d.u32(uint32(mi.Len()))
	d.u32(uint32(sc.Len()))
	d.u32(uint32(smap.Len()))
	d.u32(0) // SourceInfo
	d.u32(0) // TypeServerMap
	d.u32(0) // MFCTypeServerIndex
	d.u32(uint32(dbg.Len()))
	d.u32(0) // EC
	d.u16(0) // Flags
	d.u16(p.Machine)
	d.u32(0)
	d.Write(mi.Bytes())
	d.Write(sc.Bytes())
	d.Write(smap.Bytes())
	d.Write(dbg.Bytes())
	return d.Bytes()
}

// record appends a symbol record {RecLen, RecKind, payload} padded to 4 bytes and returns its
// offset in the stream.
func record(b *buf, kind uint16, payload []byte) uint32 {
	off := uint32(b.Len())
	n := 4 + len(payload)
	padded := (n + 3) &^ 3
	b.u16(uint16(padded - 2))
	b.u16(kind)
	b.Write(payload)
	for i := n; i < padded; i++ {
		b.WriteByte(0)
	}
	return off
}
