package pe

import (
	"bytes"
	"fmt"
	"io"

	"wdbg/engine/mmap"
)

// File is an open PE image. The embedded headers are decoded when it is opened; the other
// tables are decoded on the first call of their accessor and cached.
type File struct {
	FileHeader
	OptionalHeader
	Sections []Section
	// NTHeaderOffset is e_lfanew: where "PE\0\0" is (a file offset, also an RVA).
	NTHeaderOffset uint32

	src    source
	mapped bool
	base   uint64
	closer io.Closer

	exports   lazy[*ExportDirectory]
	debugDir  lazy[[]DebugEntry]
	codeView  lazy[*CodeView]
	functions lazy[*ExceptionTable]
	version   lazy[*VersionInfo]
	imports   lazy[[]ImportedDLL]
}

// Limits on what one image may make the reader allocate or decode.
const (
	// maxRead bounds one ReadRVA: more than any table or section a debugger reads at once.
	maxRead = 64 << 20
	// readChunk is the piece size of big reads, so that bytes a dump lacks are found missing
	// before a buffer for all of them is allocated.
	readChunk = 1 << 20
	// maxName bounds a NUL-terminated name (an export, a forwarder, a PDB path).
	maxName = 4096
)

// Open opens the image file at path, memory-mapped where the platform allows.
func Open(path string) (*File, error) {
	mf, err := mmap.Open(path)
	if err != nil {
		return nil, err
	}
	f, err := NewFile(mf, mf.Size())
	if err != nil {
		mf.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.closer = mf
	return f, nil
}

// NewFile reads an image file of size bytes laid out by file offsets. The File reads r until
// it is no longer used; Close does not close r.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	src := &fileSource{r: r, size: size}
	f := &File{src: src}
	if err := f.readHeaders(); err != nil {
		return nil, err
	}
	src.layout(f.SizeOfHeaders, f.SectionAlignment, f.Sections)
	f.base = f.ImageBase
	return f, nil
}

// NewMapped reads an image mapped in memory at base, its sections at their RVAs (a module of a
// full-memory or kernel dump). The headers must be readable; any other page may be missing.
func NewMapped(mem ReaderAtAddr, base uint64) (*File, error) {
	src := &mappedSource{mem: mem, base: base}
	f := &File{src: src, mapped: true, base: base}
	if err := f.readHeaders(); err != nil {
		return nil, err
	}
	src.limit = f.SizeOfImage
	return f, nil
}

// Close releases the file opened by Open; for NewFile and NewMapped it does nothing.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	c := f.closer
	f.closer = nil
	return c.Close()
}

// Mapped reports whether the image is read from memory (NewMapped) rather than from a file.
func (f *File) Mapped() bool { return f.mapped }

// Base is the address the image is mapped at, or its preferred ImageBase for a file.
func (f *File) Base() uint64 { return f.base }

// Is64 reports a PE32+ image (64-bit pointers).
func (f *File) Is64() bool { return f.Magic == MagicPE32Plus }

// Directory is data directory i, zero when the image has none.
func (f *File) Directory(i int) DataDirectory {
	if i < 0 || i >= NumDirectoryEntries {
		return DataDirectory{}
	}
	return f.DataDirectory[i]
}

// Section finds a section by name, nil when there is none.
func (f *File) Section(name string) *Section {
	for i := range f.Sections {
		if f.Sections[i].Name == name {
			return &f.Sections[i]
		}
	}
	return nil
}

// SectionAt is the section holding rva, nil when none does.
func (f *File) SectionAt(rva uint32) *Section {
	for i := range f.Sections {
		if f.Sections[i].Contains(rva) {
			return &f.Sections[i]
		}
	}
	return nil
}

// FileOffset is where rva's byte is in the file; false for mapped images and for RVAs that no
// section's raw data covers.
func (f *File) FileOffset(rva uint32) (int64, bool) {
	fs, ok := f.src.(*fileSource)
	if !ok {
		return 0, false
	}
	sg, ok := fs.find(rva)
	if !ok || rva-sg.rva >= sg.raw {
		return 0, false
	}
	return sg.off + int64(rva-sg.rva), true
}

// ReadAtRVA copies the image bytes at rva into p, like io.ReaderAt: n < len(p) comes with a
// *FormatError (a page missing from a dump, the end of the file, an RVA no section covers).
func (f *File) ReadAtRVA(p []byte, rva uint32) (int, error) {
	n, err := f.src.readAt(p, rva)
	if n < len(p) {
		return n, f.readErr(rva+uint32(n), "image data", len(p)-n, 0, err)
	}
	return n, nil
}

// ReadRVA returns n bytes of the image at rva (at most 64 MiB).
func (f *File) ReadRVA(rva uint32, n int) ([]byte, error) {
	return f.read(rva, n, "image data")
}

// read returns n bytes at rva or a *FormatError saying what was being read.
func (f *File) read(rva uint32, n int, what string) ([]byte, error) {
	if n < 0 || n > maxRead {
		return nil, f.formatErr(rva, what, "size %#x is too large (at most %#x)", n, maxRead)
	}
	if n <= readChunk {
		p := make([]byte, n)
		got, err := f.src.readAt(p, rva)
		if got < n {
			return nil, f.readErr(rva, what, n, got, err)
		}
		return p, nil
	}
	p := make([]byte, 0, readChunk)
	for len(p) < n {
		k := min(n-len(p), readChunk)
		p = append(p, make([]byte, k)...)
		got, err := f.src.readAt(p[len(p)-k:], rva+uint32(len(p)-k))
		if got < k {
			return nil, f.readErr(rva, what, n, len(p)-k+got, err)
		}
	}
	return p, nil
}

// readCString reads a NUL-terminated byte string of at most limit bytes at rva.
func (f *File) readCString(rva uint32, limit int, what string) (string, error) {
	var out []byte
	var buf [64]byte
	for len(out) < limit {
		cur := uint64(rva) + uint64(len(out))
		if cur > 0xFFFFFFFF {
			break
		}
		want := min(len(buf), limit-len(out))
		n, err := f.src.readAt(buf[:want], uint32(cur))
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			return string(append(out, buf[:i]...)), nil
		}
		out = append(out, buf[:n]...)
		if n < want {
			e := f.formatErr(rva, what, "string not terminated before the data ends (%d bytes read)", len(out))
			e.Err = err
			return "", e
		}
	}
	return "", f.formatErr(rva, what, "string longer than %d bytes", limit)
}

// readHeaders decodes the DOS header, the NT headers and the section table (PE Format, "MS-DOS
// Stub", "Signature", "COFF File Header", "Optional Header", "Section Table").
func (f *File) readHeaders() error {
	// IMAGE_DOS_HEADER: e_magic "MZ" @0, e_lfanew u32 @0x3C.
	dos, err := f.read(0, 0x40, "DOS header")
	if err != nil {
		return err
	}
	if dos[0] != 'M' || dos[1] != 'Z' {
		e := f.formatErr(0, "DOS header", "bad magic %q (want \"MZ\")", dos[:2])
		e.Err = ErrNotPE
		return e
	}
	c := f.newCursor(dos, 0, "DOS header")
	c.seek(0x3c)
	f.NTHeaderOffset = c.u32()
	nt := f.NTHeaderOffset
	if uint64(nt)+4+sizeofFileHeader > 0xFFFFFFFF {
		return f.formatErr(0x3c, "DOS header", "e_lfanew %#x is past the 32-bit RVA space", nt)
	}
	hdr, err := f.read(nt, 4+sizeofFileHeader, "NT headers")
	if err != nil {
		return err
	}
	if !bytes.Equal(hdr[:4], []byte("PE\x00\x00")) {
		e := f.formatErr(nt, "NT headers", "bad signature %q (want \"PE\\0\\0\")", hdr[:4])
		e.Err = ErrNotPE
		return e
	}
	c = f.newCursor(hdr, nt, "file header")
	c.seek(4)
	f.FileHeader = FileHeader{
		Machine: c.u16(), NumberOfSections: c.u16(), TimeDateStamp: c.u32(),
		PointerToSymbolTable: c.u32(), NumberOfSymbols: c.u32(),
		SizeOfOptionalHeader: c.u16(), Characteristics: c.u16(),
	}
	optRVA := nt + 4 + sizeofFileHeader
	opt, err := f.read(optRVA, int(f.SizeOfOptionalHeader), "optional header")
	if err != nil {
		return err
	}
	if err := f.decodeOptionalHeader(opt, optRVA); err != nil {
		return err
	}
	return f.readSections(optRVA + uint32(f.SizeOfOptionalHeader))
}

// decodeOptionalHeader decodes IMAGE_OPTIONAL_HEADER32/64 (PE Format, "Optional Header
// Standard Fields", "Windows-Specific Fields", "Data Directories").
func (f *File) decodeOptionalHeader(b []byte, rva uint32) error {
	const what = "optional header"
	c := f.newCursor(b, rva, what)
	o := &f.OptionalHeader
	o.Magic = c.u16()
	if c.err != nil {
		return c.err
	}
	dirs := optionalDataDirsPE32
	switch o.Magic {
	case MagicPE32:
	case MagicPE32Plus:
		dirs = optionalDataDirsPE32Pl
	default:
		return f.formatErr(rva, what, "bad magic %#x (want %#x PE32 or %#x PE32+)", o.Magic, MagicPE32, MagicPE32Plus)
	}
	if len(b) < dirs {
		return f.formatErr(rva, what, "SizeOfOptionalHeader %d is too small for %s (need at least %d)", len(b), magicName(o.Magic), dirs)
	}
	wide := func() uint64 {
		if o.Magic == MagicPE32Plus {
			return c.u64()
		}
		return uint64(c.u32())
	}
	o.MajorLinkerVersion, o.MinorLinkerVersion = c.u8(), c.u8()
	o.SizeOfCode, o.SizeOfInitializedData, o.SizeOfUninitializedData = c.u32(), c.u32(), c.u32()
	o.AddressOfEntryPoint, o.BaseOfCode = c.u32(), c.u32()
	if o.Magic == MagicPE32 {
		o.BaseOfData = c.u32()
	}
	o.ImageBase = wide()
	o.SectionAlignment, o.FileAlignment = c.u32(), c.u32()
	o.MajorOperatingSystemVersion, o.MinorOperatingSystemVersion = c.u16(), c.u16()
	o.MajorImageVersion, o.MinorImageVersion = c.u16(), c.u16()
	o.MajorSubsystemVersion, o.MinorSubsystemVersion = c.u16(), c.u16()
	o.Win32VersionValue, o.SizeOfImage, o.SizeOfHeaders, o.CheckSum = c.u32(), c.u32(), c.u32(), c.u32()
	o.Subsystem, o.DllCharacteristics = c.u16(), c.u16()
	o.SizeOfStackReserve, o.SizeOfStackCommit = wide(), wide()
	o.SizeOfHeapReserve, o.SizeOfHeapCommit = wide(), wide()
	o.LoaderFlags, o.NumberOfRvaAndSizes = c.u32(), c.u32()
	n := min(int(min(o.NumberOfRvaAndSizes, NumDirectoryEntries)), (len(b)-dirs)/sizeofDataDirectory)
	for i := range n {
		o.DataDirectory[i] = DataDirectory{VirtualAddress: c.u32(), Size: c.u32()}
	}
	return c.err
}

func magicName(m uint16) string {
	if m == MagicPE32Plus {
		return "PE32+"
	}
	return "PE32"
}

// readSections decodes the section table: NumberOfSections IMAGE_SECTION_HEADERs of 40 bytes.
func (f *File) readSections(rva uint32) error {
	const what = "section table"
	n := int(f.NumberOfSections)
	if fs, ok := f.src.(*fileSource); ok && int64(rva)+int64(n)*sizeofSectionHeader > fs.size {
		return f.formatErr(rva, what, "%d sections need %d bytes, the file has %d after the table's start",
			n, n*sizeofSectionHeader, max(0, fs.size-int64(rva)))
	}
	b, err := f.read(rva, n*sizeofSectionHeader, what)
	if err != nil {
		return err
	}
	c := f.newCursor(b, rva, what)
	f.Sections = make([]Section, n)
	for i := range f.Sections {
		name := c.take(8)
		if k := bytes.IndexByte(name, 0); k >= 0 {
			name = name[:k]
		}
		f.Sections[i] = Section{
			Name: string(name), VirtualSize: c.u32(), VirtualAddress: c.u32(),
			SizeOfRawData: c.u32(), PointerToRawData: c.u32(),
			PointerToRelocations: c.u32(), PointerToLineNumbers: c.u32(),
			NumberOfRelocations: c.u16(), NumberOfLineNumbers: c.u16(),
			Characteristics: c.u32(),
		}
	}
	return c.err
}
