package pe

// Resource types used here (winuser.h RT_* values).
const (
	ResourceTypeVersion = 16 // RT_VERSION
)

// resourceData is an IMAGE_RESOURCE_DATA_ENTRY: where a resource's bytes are.
type resourceData struct {
	RVA, Size, CodePage uint32
}

const (
	sizeofResourceDirectory = 16
	sizeofResourceEntry     = 8
	resourceSubdirectory    = 0x80000000
)

// findResource walks the resource tree (PE Format, "The .rsrc Section") from the root along
// type → name → language and returns the first resource of the given type ID. The tree has
// exactly three levels here, so a crafted directory pointing back at itself cannot loop: a
// subdirectory where a data entry belongs is an error.
func (f *File) findResource(typeID uint32) (*resourceData, error) {
	dir := f.Directory(DirectoryResource)
	if dir.VirtualAddress == 0 || dir.Size == 0 {
		return nil, nil
	}
	off := uint32(0)
	for level := range 3 {
		entry, found, err := f.resourceEntry(dir, off, level, typeID)
		if err != nil || !found {
			return nil, err
		}
		if level < 2 {
			if entry&resourceSubdirectory == 0 {
				return nil, f.formatErr(dir.VirtualAddress+off, "resource directory", "level %d entry points at data %#x, want a subdirectory", level, entry)
			}
			off = entry &^ resourceSubdirectory
			continue
		}
		if entry&resourceSubdirectory != 0 {
			return nil, f.formatErr(dir.VirtualAddress+off, "resource directory", "language entry points at subdirectory %#x, want data", entry)
		}
		off = entry
	}
	// IMAGE_RESOURCE_DATA_ENTRY: OffsetToData (an RVA) @0, Size @4, CodePage @8, Reserved @12.
	if err := f.checkResourceOffset(dir, off, 16); err != nil {
		return nil, err
	}
	b, err := f.read(dir.VirtualAddress+off, 16, "resource data entry")
	if err != nil {
		return nil, err
	}
	c := f.newCursor(b, dir.VirtualAddress+off, "resource data entry")
	return &resourceData{RVA: c.u32(), Size: c.u32(), CodePage: c.u32()}, c.err
}

func (f *File) checkResourceOffset(dir DataDirectory, off, n uint32) error {
	if uint64(off)+uint64(n) > uint64(dir.Size) {
		return f.formatErr(dir.VirtualAddress, "resource directory", "offset %#x (+%d bytes) is outside the directory (size %#x)", off, n, dir.Size)
	}
	return nil
}

// resourceEntry reads the IMAGE_RESOURCE_DIRECTORY at off and picks an entry: at level 0 the
// ID entry equal to typeID, below it the first entry (ID 1 first at level 1, as version
// resources are numbered). It returns the entry's OffsetToData word.
func (f *File) resourceEntry(dir DataDirectory, off uint32, level int, typeID uint32) (uint32, bool, error) {
	const what = "resource directory"
	if err := f.checkResourceOffset(dir, off, sizeofResourceDirectory); err != nil {
		return 0, false, err
	}
	rva := dir.VirtualAddress + off
	hdr, err := f.read(rva, sizeofResourceDirectory, what)
	if err != nil {
		return 0, false, err
	}
	// NumberOfNamedEntries @12, NumberOfIdEntries @14; the named entries come first.
	c := f.newCursor(hdr, rva, what)
	c.seek(12)
	named, ids := int(c.u16()), int(c.u16())
	n := named + ids
	if err := f.checkResourceOffset(dir, off+sizeofResourceDirectory, uint32(n*sizeofResourceEntry)); err != nil {
		return 0, false, err
	}
	b, err := f.read(rva+sizeofResourceDirectory, n*sizeofResourceEntry, what)
	if err != nil {
		return 0, false, err
	}
	c = f.newCursor(b, rva+sizeofResourceDirectory, what)
	first, haveFirst := uint32(0), false
	for i := range n {
		name, data := c.u32(), c.u32()
		isID := i >= named && name&resourceSubdirectory == 0
		switch {
		case level == 0:
			if isID && name == typeID {
				return data, true, nil
			}
		case level == 1 && isID && name == 1:
			return data, true, nil
		case !haveFirst:
			first, haveFirst = data, true
		}
	}
	return first, haveFirst, c.err
}
