package pdb

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Fixed stream indices (FORMATS.md §7.1).
const (
	streamInfo = 1
	streamTPI  = 2
	streamDBI  = 3
	streamIPI  = 4
)

// PDB info stream versions (FORMATS.md §7.2); VC70 is the one seen in practice.
const (
	InfoVersionVC70 = 20000404
)

// Feature codes that may follow the named stream map (FORMATS.md §7.2).
const (
	FeatureVC110            = 20091201
	FeatureVC140            = 20140508
	FeatureNoTypeMerge      = 0x4D544F4E // 'NOTM'
	FeatureMinimalDebugInfo = 0x494E494D // 'MINI'
)

// Info is the PDB info stream (stream 1, FORMATS.md §7.2).
type Info struct {
	Version   uint32   // @0: 20000404 (VC70) in practice
	Signature uint32   // @4: time_t of the PDB's creation
	Age       uint32   // @8: times the PDB was written; the age an image is matched against is the DBI stream's (see Matches)
	GUID      [16]byte // @0xC: as stored, the same byte order as an RSDS record's GUID
	// NamedStreams maps the named-stream table's names ("/names", "/LinkInfo", "/src/headerblock",
	// ...) to stream indices. It must not be modified.
	NamedStreams map[string]int
	Features     []uint32 // FeatureVC140, FeatureNoTypeMerge, ...
}

// maxNamedStreams bounds the named-stream hash table's capacity: real PDBs have a handful.
const maxNamedStreams = 1 << 16

// Info reads the PDB info stream.
func (f *File) Info() (Info, error) {
	p, err := f.info.Get(f.readInfo)
	if err != nil {
		return Info{}, err
	}
	return *p, nil
}

func (f *File) readInfo() (*Info, error) {
	s, err := f.stream(streamInfo, "")
	if err != nil {
		return nil, err
	}
	c, err := s.cursor(0, s.Size(), "PDB info header")
	if err != nil {
		return nil, err
	}
	in := &Info{Version: c.u32(), Signature: c.u32(), Age: c.u32()}
	copy(in.GUID[:], c.take(16))
	if c.err != nil {
		return nil, c.err
	}
	c.what = "named stream map"
	in.NamedStreams = map[string]int{}
	bufSize := c.u32()
	bufOff := c.off()
	buf := c.take(int(min(bufSize, uint32(c.remaining()+1))))
	size, capacity := c.u32(), c.u32()
	present := readBitVector(c, maxNamedStreams)
	readBitVector(c, maxNamedStreams) // deleted buckets: nothing to read from them
	if c.err != nil {
		return nil, c.err
	}
	if capacity > maxNamedStreams || size > capacity {
		return nil, s.w.errorf(c.off(), "named stream map", "hash table of %d entries in %d buckets", size, capacity)
	}
	// One (name offset, stream index) pair per present bucket, in bucket order.
	for _, word := range present {
		for n := bits.OnesCount32(word); n > 0; n-- {
			keyOff := c.off()
			key, value := c.u32(), c.u32()
			if c.err != nil {
				return nil, c.err
			}
			if key >= uint32(len(buf)) {
				return nil, s.w.errorf(keyOff, "named stream map", "name at %d is outside the %d-byte name buffer at %#x", key, len(buf), bufOff)
			}
			in.NamedStreams[cString(buf[key:])] = int(value)
		}
	}
	// Then niMac and the feature codes; values that are not feature codes are skipped.
	c.what = "feature codes"
	for c.remaining() >= 4 {
		switch v := c.u32(); v {
		case FeatureVC110, FeatureVC140, FeatureNoTypeMerge, FeatureMinimalDebugInfo:
			in.Features = append(in.Features, v)
		}
	}
	return in, nil
}

// readBitVector reads a serialized bit vector: a word count and that many u32 words.
func readBitVector(c *cursor, maxBits uint32) []uint32 {
	n := c.u32()
	if c.err != nil {
		return nil
	}
	if n > maxBits/32+1 || int(n) > c.remaining()/4 {
		c.fail("bit vector of %d words (%d bytes left)", n, c.remaining())
		return nil
	}
	words := make([]uint32, n)
	for i := range words {
		words[i] = c.u32()
	}
	return words
}

// Age is the age an image's CodeView record is matched against: the DBI stream's (the info
// stream's can be higher after incremental writes; FORMATS.md §7.2), or the info stream's when
// the PDB has no DBI stream.
func (f *File) Age() (uint32, error) {
	if d, err := f.DBI(); err == nil {
		return d.Header.Age, nil
	} else if !isMissingStream(err) {
		return 0, err
	}
	in, err := f.Info()
	return in.Age, err
}

// Matches checks the PDB against an image's CodeView (RSDS) GUID and age: nil when it is the
// PDB the image was linked with, a *MismatchError when it is another, or the error that kept
// the PDB from being read.
func (f *File) Matches(guid [16]byte, age uint32) error {
	in, err := f.Info()
	if err != nil {
		return err
	}
	have, err := f.Age()
	if err != nil {
		return err
	}
	if in.GUID != guid || have != age {
		return &MismatchError{WantGUID: guid, WantAge: age, GUID: in.GUID, Age: have}
	}
	return nil
}

// FormatGUID formats a GUID stored in file order (Data1 u32, Data2 u16, Data3 u16 little-endian,
// then Data4's 8 bytes) as 32 upper-case hex digits without dashes, the form symbol stores use
// in `name.pdb/<GUID><age>/name.pdb` (FORMATS.md §7.6).
func FormatGUID(g [16]byte) string {
	le := binary.LittleEndian
	return fmt.Sprintf("%08X%04X%04X%X", le.Uint32(g[0:]), le.Uint16(g[4:]), le.Uint16(g[6:]), g[8:])
}

// SymbolStoreID is the directory name under `name.pdb/` in a symbol store: the GUID then the
// age in hex without leading zeros (FORMATS.md §7.6).
func SymbolStoreID(guid [16]byte, age uint32) string {
	return fmt.Sprintf("%s%X", FormatGUID(guid), age)
}
