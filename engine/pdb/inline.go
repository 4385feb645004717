package pdb

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
)

// Inline frames: an optimising compiler that inlines a call leaves, inside the caller's procedure
// record, an S_INLINESITE (or S_INLINESITE2) record naming the inlined function by its IPI id
// (LF_FUNC_ID, LF_MFUNC_ID) and describing, with binary annotations (annotations.go), which code
// of the procedure it occupies and from which of its lines. Sites nest (a function inlined into
// an inlined function) between S_INLINESITE and S_INLINESITE_END; procedures, blocks and thunks
// close with S_END. The inlinee's first line and file come from the DEBUG_S_INLINEELINES
// subsection of the module's C13 data. (LLVM "CodeView Symbol Records", llvm-pdbutil dump
// -symbols and -il; cvinfo.h INLINESITESYM, INLINESITESYM2 and CodeViewInlineeSourceLine.)

// C13 subsection of inline sites (S_INLINESITE2 is with the variable records, params.go).
const (
	debugSInlineeLines = 0xF6 // DEBUG_S_INLINEELINES
	// DEBUG_S_INLINEELINES signatures: plain entries, and entries followed by extra file ids.
	inlineeSourceLineSignature   = 0
	inlineeSourceLineSignatureEx = 1
)

// InlineFrame is one function inlined at an address: its name, the source line of the address in
// it, and where its code starts.
type InlineFrame struct {
	Name    string    // qualified: "stackTestClass::stackMethod"
	Inlinee TypeIndex // its IPI id (LF_FUNC_ID or LF_MFUNC_ID)
	File    string    // source file of the line ("" when the PDB does not say)
	Line    int       // the line of the inlinee the address comes from
	RVA     uint32    // image RVA of the first byte of the site's first piece of code
	Disp    uint32    // the address's distance from RVA (counted before OMAP rearrangement)
}

// inlineeLine is a DEBUG_S_INLINEELINES entry: an inlinee's first line and its file (an offset
// into the module's file checksums).
type inlineeLine struct {
	file uint32
	line uint32
}

// inlineModule is what one module's streams give for inline frames, decoded on first use.
type inlineModule struct {
	inlinees  map[TypeIndex]inlineeLine
	checksums []byte // DEBUG_S_FILECHKSMS, copied: names are resolved on demand
	stream    int    // the module's symbol stream
	symEnd    int64  // SymByteSize: where the symbol records end

	mu    sync.Mutex
	procs map[uint32]*lazy[[]inlineSite] // by procedure record offset
}

// inlineSite is one S_INLINESITE of a procedure.
type inlineSite struct {
	inlinee TypeIndex
	parent  int // index of the enclosing inline site in the procedure's list, -1 for none
	rows    []inlineRow
}

// InlineFrames returns the functions inlined at an image RVA, innermost first: for an address in
// code that the compiler inlined into a procedure, each inlined call of the chain with the line
// the address comes from. The procedure itself is not in the list (FunctionAt and LineAt name it;
// its line is the call site of the outermost inlined function). An address outside inlined code,
// or in a PDB without procedure records, gives no frames and no error; the error reports a
// damaged site or line table (the frames decoded before the damage are returned with it).
func (f *File) InlineFrames(rva uint32) ([]InlineFrame, error) {
	fn, disp, ok := f.FunctionAt(rva)
	if !ok {
		return nil, nil
	}
	im, err := f.inlineModule(fn.Module)
	if err != nil {
		return nil, err
	}
	sites, err := im.sitesOf(f, fn)
	chain := siteChain(sites, disp)
	out := make([]InlineFrame, 0, len(chain))
	for k := len(chain) - 1; k >= 0; k-- {
		s := &sites[chain[k]]
		row := s.rowAt(disp)
		fr := InlineFrame{Name: f.inlineeName(s.inlinee), Inlinee: s.inlinee, Line: int(row.line)}
		fr.File, _ = im.fileName(f, row.file)
		first := s.rows[0].start
		fr.Disp = disp - first
		fr.RVA, _ = f.imageRVA(fn.internal + first)
		out = append(out, fr)
	}
	return out, err
}

// imageRVA maps an internal RVA to the image's.
func (f *File) imageRVA(x uint32) (uint32, bool) {
	addr, err := f.addressMap()
	if err != nil {
		return 0, false
	}
	return addr.toImage(x)
}

// siteChain returns the indexes of the sites holding offset off of their procedure, outermost
// first: a site at the procedure's level holding it, then one of its children holding it, ...
func siteChain(sites []inlineSite, off uint32) []int {
	var chain []int
	parent := -1
	for {
		next := -1
		for i := range sites {
			if sites[i].parent == parent && sites[i].contains(off) {
				next = i
				break
			}
		}
		if next < 0 {
			return chain
		}
		chain = append(chain, next)
		parent = next
	}
}

func (s *inlineSite) contains(off uint32) bool {
	_, ok := s.row(off)
	return ok
}

func (s *inlineSite) row(off uint32) (inlineRow, bool) {
	for _, r := range s.rows {
		if off >= r.start && off < r.end {
			return r, true
		}
	}
	return inlineRow{}, false
}

func (s *inlineSite) rowAt(off uint32) inlineRow {
	r, _ := s.row(off)
	return r
}

// inlineeName is an inlinee's qualified name from its IPI record: the class of a member
// function id, or the scope (a string id such as "std") of a function id, then the name.
func (f *File) inlineeName(id TypeIndex) string {
	t, err := f.ID(id)
	if err != nil || t.Leaf != LF_FUNC_ID && t.Leaf != LF_MFUNC_ID {
		return fmt.Sprintf("<inlinee 0x%x>", uint32(id))
	}
	switch {
	case t.Leaf == LF_MFUNC_ID && t.Class != 0:
		if c, err := f.Type(t.Class); err == nil && c.Name != "" {
			return c.Name + "::" + t.Name
		}
	case t.Leaf == LF_FUNC_ID && t.Scope != 0:
		if sc, err := f.ID(t.Scope); err == nil && sc.Leaf == LF_STRING_ID && sc.Name != "" {
			return anonymousNamespaces(sc.Name) + "::" + t.Name
		}
	}
	return t.Name
}

// anonymousNamespaces spells the compiler's names of anonymous namespaces in a scope
// ("?A0xc3a0617d", unique per translation unit) as its procedure records do:
// "`anonymous namespace'".
func anonymousNamespaces(scope string) string {
	parts := strings.Split(scope, "::")
	for i, p := range parts {
		if strings.HasPrefix(p, "?A") {
			parts[i] = "`anonymous namespace'"
		}
	}
	return strings.Join(parts, "::")
}

// fileName is the source file of a file checksum entry offset.
func (im *inlineModule) fileName(f *File, entry uint32) (string, error) {
	if uint64(entry)+4 > uint64(len(im.checksums)) {
		return "", fmt.Errorf("pdb: file checksum entry %d is outside the module's %d bytes of checksums", entry, len(im.checksums))
	}
	return f.String(binary.LittleEndian.Uint32(im.checksums[entry:]))
}

// inlineModule returns module i's inline data, reading its C13 inlinee lines on first use.
func (f *File) inlineModule(i int) (*inlineModule, error) {
	f.modMu.Lock()
	if f.inlineMods == nil {
		f.inlineMods = map[int]*lazy[*inlineModule]{}
	}
	l, ok := f.inlineMods[i]
	if !ok {
		l = &lazy[*inlineModule]{}
		f.inlineMods[i] = l
	}
	f.modMu.Unlock()
	return l.Get(func() (*inlineModule, error) { return f.readInlineModule(i) })
}

func (f *File) readInlineModule(i int) (*inlineModule, error) {
	d, err := f.DBI()
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(d.Modules) || d.Modules[i].SymStream < 0 {
		return nil, fmt.Errorf("pdb: module %d has no symbol stream", i)
	}
	mod := d.Modules[i]
	im := &inlineModule{inlinees: map[TypeIndex]inlineeLine{}, stream: mod.SymStream,
		symEnd: int64(mod.SymByteSize), procs: map[uint32]*lazy[[]inlineSite]{}}
	if mod.C13ByteSize == 0 {
		return im, nil
	}
	s, err := f.stream(mod.SymStream, fmt.Sprintf("module %d symbols", i))
	if err != nil {
		return nil, err
	}
	c13Off := int64(mod.SymByteSize) + int64(mod.C11ByteSize)
	b, err := s.view(c13Off, int64(mod.C13ByteSize), "C13 lines")
	if err != nil {
		return nil, err
	}
	// C13 subsections: {Kind u32, Length u32, data}, 4-byte aligned (lines.go).
	c := newCursor(s.w, "C13 inlinee lines", b, c13Off)
	var inl []*cursor
	for c.remaining() >= 8 {
		kind, n := c.u32(), c.u32()
		off := c.off()
		data := c.take(int(min(n, uint32(c.remaining()+1))))
		if c.err != nil {
			return im, c.err
		}
		c.align(4)
		switch kind {
		case debugSFileChksms:
			im.checksums = append([]byte(nil), data...)
		case debugSInlineeLines:
			inl = append(inl, newCursor(s.w, "DEBUG_S_INLINEELINES", data, off))
		}
	}
	for _, ic := range inl {
		if err := im.readInlineeLines(ic); err != nil {
			return im, err
		}
	}
	return im, nil
}

// readInlineeLines reads a DEBUG_S_INLINEELINES subsection: Signature u32, then entries of
// {Inlinee u32, FileID u32 (a checksum entry offset), SourceLineNum u32} and, with the Ex
// signature, {ExtraFileCount u32, that many file ids} after each.
func (im *inlineModule) readInlineeLines(c *cursor) error {
	sig := c.u32()
	if c.err != nil {
		return c.err
	}
	if sig != inlineeSourceLineSignature && sig != inlineeSourceLineSignatureEx {
		c.fail("signature %#x, want 0 or 1", sig)
		return c.err
	}
	for c.remaining() > 0 {
		id, file, line := TypeIndex(c.u32()), c.u32(), c.u32()
		if sig == inlineeSourceLineSignatureEx {
			n := c.u32()
			if c.err == nil && uint64(n)*4 > uint64(c.remaining()) {
				c.fail("%d extra files in %d bytes", n, c.remaining())
			}
			c.skip(int(n) * 4)
		}
		if c.err != nil {
			return c.err
		}
		if _, dup := im.inlinees[id]; !dup {
			im.inlinees[id] = inlineeLine{file: file, line: line}
		}
	}
	return nil
}

// sitesOf returns the inline sites of a procedure, decoding its records on first use.
func (im *inlineModule) sitesOf(f *File, fn Function) ([]inlineSite, error) {
	im.mu.Lock()
	l, ok := im.procs[fn.recOff]
	if !ok {
		l = &lazy[[]inlineSite]{}
		im.procs[fn.recOff] = l
	}
	im.mu.Unlock()
	return l.Get(func() ([]inlineSite, error) { return im.readSites(f, fn) })
}

// readSites walks the records of a procedure, from its record to the S_END that closes it, and
// decodes its inline sites. Nesting is taken from the records' order (each scope-opening record
// is closed by S_END, S_PROC_ID_END or S_INLINESITE_END), not from their parent pointers.
func (im *inlineModule) readSites(f *File, fn Function) ([]inlineSite, error) {
	s, err := f.stream(im.stream, fmt.Sprintf("module %d symbols", fn.Module))
	if err != nil {
		return nil, err
	}
	start := int64(fn.recOff)
	if start >= im.symEnd || im.symEnd > s.Size() {
		return nil, s.w.errorf(start, "procedure", "record at %d outside the %d bytes of symbols", start, im.symEnd)
	}
	// Read up to the procedure's S_END (PROCSYM32 pEnd @8, records.go), not the rest of the
	// module: a damaged pEnd falls back to the end of the symbols.
	stop := im.symEnd
	if c, err := s.cursor(start, min(12, im.symEnd-start), "procedure"); err == nil {
		c.skip(recordHeaderSize + 4)
		if end := int64(c.u32()) + recordHeaderSize; c.err == nil && end > start && end < stop {
			stop = end
		}
	}
	b, err := s.view(start, stop-start, "procedure")
	if err != nil {
		return nil, err
	}
	var sites []inlineSite
	var firstErr error
	var scopes []int // open scopes inside the procedure: a site's index, or -1 for a block or thunk
	werr := walkRecords(s.w, "procedure", b, start, func(off int64, kind uint16, rec []byte) bool {
		switch {
		case off == start:
			return isProc(kind)
		case kind == S_END || kind == S_PROC_ID_END || kind == S_INLINESITE_END:
			if len(scopes) == 0 {
				return false // the procedure's own end
			}
			scopes = scopes[:len(scopes)-1]
		case kind == S_BLOCK32 || kind == S_THUNK32 || kind == S_SEPCODE || isProc(kind):
			scopes = append(scopes, -1)
		case kind == S_INLINESITE || kind == S_INLINESITE2:
			site, err := im.decodeSite(s.w, off, kind, rec)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			site.parent = -1
			for k := len(scopes) - 1; k >= 0; k-- {
				if scopes[k] >= 0 {
					site.parent = scopes[k]
					break
				}
			}
			scopes = append(scopes, len(sites))
			sites = append(sites, site)
		}
		return true
	})
	if firstErr == nil {
		firstErr = werr
	}
	return sites, firstErr
}

// decodeSite decodes an S_INLINESITE (Parent u32, End u32, Inlinee u32, annotations) or
// S_INLINESITE2 (the same with Invocations u32 before the annotations).
func (im *inlineModule) decodeSite(w where, off int64, kind uint16, rec []byte) (inlineSite, error) {
	c := newCursor(w, "S_INLINESITE", rec, off)
	c.skip(recordHeaderSize + 8)
	site := inlineSite{inlinee: TypeIndex(c.u32())}
	if kind == S_INLINESITE2 {
		c.u32()
	}
	if c.err != nil {
		return site, c.err
	}
	start := im.inlinees[site.inlinee]
	annots := c.take(c.remaining())
	rows, err := decodeAnnotations(annots, int32(start.line), start.file)
	site.rows = rows
	if err != nil {
		return site, w.errorf(off, "S_INLINESITE", "%v", err)
	}
	return site, nil
}
