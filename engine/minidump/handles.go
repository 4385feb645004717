package minidump

import "fmt"

// HandleDescriptor is MINIDUMP_HANDLE_DESCRIPTOR or MINIDUMP_HANDLE_DESCRIPTOR_2 (HandleDataStream,
// FORMATS.md §4.3) with its names and object-information chain decoded.
type HandleDescriptor struct {
	Handle        uint64
	TypeNameRva   uint32
	ObjectNameRva uint32
	Attributes    uint32
	GrantedAccess uint32
	HandleCount   uint32
	PointerCount  uint32
	ObjectInfoRva uint32 // _2 only
	Reserved0     uint32 // _2 only

	TypeName   string // "Event", "File", ...
	ObjectName string
	ObjectInfo []HandleObjectInformation // the chain at ObjectInfoRva
	Err        error                     // the first name or chain entry that could not be read
}

// HandleObjectInformation is one MINIDUMP_HANDLE_OBJECT_INFORMATION of a handle's chain, with
// its payload (a slice of the file).
type HandleObjectInformation struct {
	NextInfoRva uint32
	InfoType    uint32
	SizeOfInfo  uint32
	Data        []byte
}

const (
	handleDescriptorSize  = 32
	handleDescriptor2Size = 40
	handleObjectInfoSize  = 12
	// maxObjectInfoChain bounds a handle's object-information chain, so that a chain that
	// loops back on itself cannot hang the parser. Real writers emit one or two entries.
	maxObjectInfoChain = 16
)

// Handles decodes the HandleDataStream; nil when the dump has none.
func (f *File) Handles() ([]HandleDescriptor, error) {
	return f.handles.Get(func() ([]HandleDescriptor, error) {
		c, err := f.streamCursor(HandleDataStream, "handle data")
		if c == nil {
			return nil, err
		}
		// MINIDUMP_HANDLE_DATA_STREAM: SizeOfHeader, SizeOfDescriptor, NumberOfDescriptors, Reserved.
		hdr, ent, n := c.u32(), c.u32(), uint64(c.u32())
		seekTable(c, hdr, ent, n, 16, handleDescriptorSize)
		if c.err != nil {
			return nil, c.err
		}
		hs := make([]HandleDescriptor, n)
		for i := range hs {
			e := c.entry(uint64(hdr), i, int(ent))
			h := &hs[i]
			h.Handle = e.u64()
			h.TypeNameRva, h.ObjectNameRva, h.Attributes, h.GrantedAccess = e.u32(), e.u32(), e.u32(), e.u32()
			h.HandleCount, h.PointerCount = e.u32(), e.u32()
			if ent >= handleDescriptor2Size {
				h.ObjectInfoRva, h.Reserved0 = e.u32(), e.u32()
			}
			if e.err != nil {
				return nil, e.err
			}
			what := fmt.Sprintf("handle %#x", h.Handle)
			var errs [3]error
			h.TypeName, errs[0] = f.readString(uint64(h.TypeNameRva), what+" type name")
			h.ObjectName, errs[1] = f.readString(uint64(h.ObjectNameRva), what+" object name")
			h.ObjectInfo, errs[2] = f.objectInfoChain(h.ObjectInfoRva, what+" object information")
			for _, err := range errs {
				if err != nil {
					h.Err = err
					break
				}
			}
		}
		return hs, nil
	})
}

// objectInfoChain follows NextInfoRva links from rva, at most maxObjectInfoChain entries and
// never visiting an entry twice.
func (f *File) objectInfoChain(rva uint32, what string) ([]HandleObjectInformation, error) {
	var chain []HandleObjectInformation
	seen := map[uint32]bool{}
	for rva != 0 {
		if seen[rva] {
			return chain, formatErr(int64(rva), what, "chain loops back to an earlier entry")
		}
		if len(chain) == maxObjectInfoChain {
			return chain, formatErr(int64(rva), what, "chain longer than %d entries", maxObjectInfoChain)
		}
		seen[rva] = true
		b, err := f.block(uint64(rva), handleObjectInfoSize, what)
		if err != nil {
			return chain, err
		}
		c := newCursor(b, int64(rva), what)
		oi := HandleObjectInformation{NextInfoRva: c.u32(), InfoType: c.u32(), SizeOfInfo: c.u32()}
		if oi.Data, err = f.block(uint64(rva)+handleObjectInfoSize, uint64(oi.SizeOfInfo), what+" data"); err != nil {
			return chain, err
		}
		chain = append(chain, oi)
		rva = oi.NextInfoRva
	}
	return chain, nil
}
