package pdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

// mappedReader is a bytes.Reader that also offers its bytes, as *mmap.File does, so that the
// zero-copy path is exercised as well as the io.ReaderAt one.
type mappedReader struct {
	*bytes.Reader
	b []byte
}

func (m mappedReader) Bytes() []byte { return m.b }

// synthVariants are the synthetic PDB laid out in several ways: small blocks (fields straddle
// blocks), blocks in reverse order (no stream is contiguous), through a plain io.ReaderAt or a
// mapping.
func synthVariants() map[string]func() (*File, error) {
	out := map[string]func() (*File, error){}
	for _, bs := range []int{512, 4096} {
		for _, rev := range []bool{false, true} {
			data := buildSynthPDB(bs, rev)
			name := map[bool]string{false: "forward", true: "reversed"}[rev]
			out[name+"/"+map[int]string{512: "512", 4096: "4096"}[bs]+"/readerat"] = func() (*File, error) {
				return NewFile(bytes.NewReader(data), int64(len(data)))
			}
			out[name+"/"+map[int]string{512: "512", 4096: "4096"}[bs]+"/mapped"] = func() (*File, error) {
				return NewFile(mappedReader{bytes.NewReader(data), data}, int64(len(data)))
			}
		}
	}
	return out
}

func TestSynthetic(t *testing.T) {
	for name, open := range synthVariants() {
		t.Run(name, func(t *testing.T) {
			f, err := open()
			if err != nil {
				t.Fatal(err)
			}
			checkSynthetic(t, f)
		})
	}
}

func checkSynthetic(t *testing.T, f *File) {
	in, err := f.Info()
	if err != nil {
		t.Fatal(err)
	}
	if in.Version != 20000404 || in.Signature != synthSig || in.Age != synthInfoAge || in.GUID != synthGUID {
		t.Errorf("info %+v", in)
	}
	if in.NamedStreams["/names"] == 0 || len(in.Features) != 1 || in.Features[0] != FeatureVC140 {
		t.Errorf("named streams %v features %v", in.NamedStreams, in.Features)
	}
	if got := FormatGUID(in.GUID); got != "3249D99D0C4049318610F4E4FB0B6936" {
		t.Errorf("FormatGUID = %s", got)
	}
	if age, err := f.Age(); age != synthDBIAge || err != nil {
		t.Errorf("Age = %d, %v", age, err)
	}
	if err := f.Matches(synthGUID, synthDBIAge); err != nil {
		t.Errorf("Matches: %v", err)
	}
	var mm *MismatchError
	if err := f.Matches(synthGUID, synthInfoAge); !errors.As(err, &mm) || mm.Age != synthDBIAge {
		t.Errorf("Matches with the info age: %v", err)
	}
	d, err := f.DBI()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Modules) != 2 || d.Modules[0].Name != `c:\src\a.obj` || d.Modules[1].SymStream != -1 || d.Header.Machine != 0x14C {
		t.Errorf("modules %+v", d.Modules)
	}
	if len(d.SectionMap) != 2 || d.SectionMap[1].Frame != 2 || d.DebugStream(DebugOmapToSrc) != -1 {
		t.Errorf("section map %+v, debug streams %v", d.SectionMap, d.DebugStreams)
	}
	scs, err := f.SectionContributions()
	if err != nil || len(scs) != 2 || scs[1] != (SectionContrib{Section: 2, Size: 0x100, Characteristics: 0x60000020, Module: 1}) {
		t.Errorf("contributions %+v %v", scs, err)
	}
	if rva, ok := f.RVA(2, 4); rva != 0x2004 || !ok {
		t.Errorf("RVA(2, 4) = %x %v", rva, ok)
	}
	if _, ok := f.RVA(3, 0); ok {
		t.Error("RVA(3, 0) mapped: there are two sections")
	}

	// Publics.
	p, disp, ok := f.PublicAt(0x1015)
	if !ok || p.Name != "_main" || p.RVA != 0x1010 || disp != 5 || !p.IsFunction() {
		t.Errorf("PublicAt(0x1015) = %+v +%x %v", p, disp, ok)
	}
	if p, _, ok := f.PublicAt(0x100f); ok {
		t.Errorf("PublicAt(0x100f) = %+v: before the first public", p)
	}
	if p, ok := f.PublicByName("_gvar"); !ok || p.RVA != 0x2004 || p.IsFunction() {
		t.Errorf("PublicByName(_gvar) = %+v %v", p, ok)
	}
	if _, ok := f.PublicByName("_nothing"); ok {
		t.Error("PublicByName(_nothing) found")
	}
	pubs, err := f.Publics()
	if err != nil || len(pubs) != 3 || pubs[1].Name != "_helper" {
		t.Errorf("Publics = %+v %v", pubs, err)
	}

	// Globals.
	g, ok := f.GlobalByName("gvar")
	if !ok || g.RVA != 0x2004 || g.TypeIndex != 0x74 || g.Kind != S_GDATA32 {
		t.Errorf("GlobalByName(gvar) = %+v %v", g, ok)
	}
	if gs, err := f.Globals(); err != nil || len(gs) != 1 {
		t.Errorf("Globals = %+v %v", gs, err)
	}

	// Procedures and lines.
	fn, disp, ok := f.FunctionAt(0x1020)
	if !ok || fn.Name != "main" || fn.RVA != 0x1010 || fn.Size != 0x30 || disp != 0x10 || fn.Kind != S_GPROC32 {
		t.Fatalf("FunctionAt(0x1020) = %+v +%x %v", fn, disp, ok)
	}
	if fn.Frame == nil || fn.Frame.FrameSize != 12 || fn.Frame.SavedRegsSize != 8 || fn.Frame.Flags != 0x4000 {
		t.Errorf("main's frame %+v", fn.Frame)
	}
	if h, _, ok := f.FunctionAt(0x109f); !ok || h.Name != "helper" || h.Frame != nil || h.Kind != S_LPROC32 {
		t.Errorf("FunctionAt(0x109f) = %+v %v", h, ok)
	}
	if h, _, ok := f.FunctionAt(0x10a0); ok {
		t.Errorf("FunctionAt(0x10a0) = %+v: past helper", h)
	}
	if h, ok := f.FunctionByName("main"); !ok || h.RVA != 0x1010 {
		t.Errorf("FunctionByName(main) = %+v %v", h, ok)
	}
	for _, c := range []struct {
		rva  uint32
		line int
	}{{0x1010, 10}, {0x1017, 10}, {0x1018, 11}, {0x102f, 11}, {0x1030, 12}, {0x103f, 12}} {
		file, line, ok := f.LineAt(c.rva)
		if !ok || file != `c:\src\a.c` || line != c.line {
			t.Errorf("LineAt(%x) = %s:%d %v, want line %d", c.rva, file, line, ok, c.line)
		}
	}
	if _, _, ok := f.LineAt(0x1040); ok {
		t.Error("LineAt(0x1040) found a line past main's table")
	}
	rows, err := f.LinesOf(fn)
	if err != nil || len(rows) != 3 || rows[1] != (Line{RVA: 0x1018, Size: 0x18, Line: 11, File: `c:\src\a.c`}) {
		t.Errorf("LinesOf(main) = %+v %v", rows, err)
	}

	// x86 frame descriptions.
	fpo, ok := f.FPOAt(0x109f)
	if !ok || fpo != (FPOData{RVA: 0x1080, Size: 0x20, Locals: 1, Params: 2, Prolog: 3, Regs: 2, UseBP: true, internal: 0x1080}) {
		t.Errorf("FPOAt(0x109f) = %+v %v", fpo, ok)
	}
	if _, ok := f.FPOAt(0x10a0); ok {
		t.Error("FPOAt(0x10a0) found a record past helper")
	}
	fd, ok := f.FrameDataAt(0x1030)
	if !ok || fd.RVA != 0x1010 || fd.CodeSize != 0x30 || fd.LocalSize != 12 || fd.ParamsSize != 8 ||
		fd.PrologSize != 5 || fd.SavedRegsSize != 4 || fd.Flags != FrameDataIsFunctionStart || fd.Program != synthProgram {
		t.Errorf("FrameDataAt(0x1030) = %+v %v", fd, ok)
	}
	if _, ok := f.FrameDataAt(0x1040); ok {
		t.Error("FrameDataAt(0x1040) found a record past main")
	}

	// Streams read the same through ReadAt, in pieces that straddle blocks, as through the
	// views the decoders use.
	for i := 0; i < f.NumStreams(); i++ {
		s, err := f.Stream(i)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := s.all("test")
		if err != nil {
			t.Fatal(err)
		}
		var pieces []byte
		buf := make([]byte, 77)
		for off := int64(0); ; {
			n, err := s.ReadAt(buf, off)
			pieces = append(pieces, buf[:n]...)
			off += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(pieces, whole) || int64(len(whole)) != s.Size() {
			t.Errorf("stream %d: ReadAt and view differ", i)
		}
	}
	if info, _ := f.Stream(1); info != nil {
		var hdr [4]byte
		if _, err := info.ReadAt(hdr[:], 0); err != nil || binary.LittleEndian.Uint32(hdr[:]) != 20000404 {
			t.Errorf("info stream starts % x, %v", hdr, err)
		}
	}

	if err := f.Close(); err != nil {
		t.Error(err)
	}
	// After Close, lookups that read the file (PublicAt reads the name) fail cleanly.
	if p, _, ok := f.PublicAt(0x1015); ok {
		t.Errorf("PublicAt after Close: %+v", p)
	}
	s, err := f.Stream(1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadAt(make([]byte, 4), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadAt after Close: %v", err)
	}
}

func TestMismatchError(t *testing.T) {
	err := &MismatchError{WantGUID: synthGUID, WantAge: 1, GUID: synthGUID, Age: 2}
	want := "pdb: mismatched PDB: image wants 3249D99D0C4049318610F4E4FB0B6936 age 1, PDB is 3249D99D0C4049318610F4E4FB0B6936 age 2"
	if err.Error() != want {
		t.Errorf("%q", err.Error())
	}
	if got := SymbolStoreID(synthGUID, 0x1a); got != "3249D99D0C4049318610F4E4FB0B69361A" {
		t.Errorf("SymbolStoreID = %s", got)
	}
}

// TestBadInput: damaged files give errors that name the stream and the offset, never a panic.
func TestBadInput(t *testing.T) {
	good := buildSynthPDB(512, true)
	set32 := func(b []byte, off int, v uint32) []byte {
		c := append([]byte(nil), b...)
		c[off], c[off+1], c[off+2], c[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		return c
	}
	cases := []struct {
		name string
		data []byte
		want string // in the error of NewFile, or "" when NewFile succeeds
	}{
		{"empty", nil, "not an MSF 7.00"},
		{"not a PDB", []byte("MZ\x90\x00"), "not an MSF 7.00"},
		{"magic cut", good[:20], "superblock at file offset 0x0: truncated"},
		{"superblock cut", good[:40], "superblock at file offset 0x0: truncated"},
		{"block size", set32(good, 0x20, 1000), "block size 1000"},
		{"no blocks", set32(good, 0x28, 0), "no blocks"},
		{"directory too big", set32(good, 0x2C, 1<<30), "directory of 1073741824 bytes"},
		{"block map outside", set32(good, 0x34, 1<<20), "block map at block 1048576"},
		{"truncated file", good[:len(good)/2], "past the end of the file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewFile(bytes.NewReader(c.data), int64(len(c.data)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("NewFile: %v, want an error with %q", err, c.want)
			}
		})
	}
}

// TestBadStreams damages streams after the directory: the part that needs them fails with an
// error naming the stream and offset, the others still work.
func TestBadStreams(t *testing.T) {
	f0, err := NewFile(bytes.NewReader(buildSynthPDB(4096, false)), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := f0.DBI()
	modStream := d.Modules[0].SymStream
	// Find where a stream starts in the file (forward layout: blocks in order, one per stream).
	streamBlock := func(i int) int {
		s, err := f0.Stream(i)
		if err != nil {
			t.Fatal(err)
		}
		return int(s.block(0))
	}
	good := buildSynthPDB(4096, false)
	patch := func(stream, off int, v ...byte) []byte {
		c := append([]byte(nil), good...)
		copy(c[streamBlock(stream)*4096+off:], v)
		return c
	}
	open := func(b []byte) *File {
		f, err := NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}

	// DBI: ModInfoSize larger than the stream.
	f := open(patch(3, 0x18, 0xff, 0xff, 0, 0))
	_, err = f.DBI()
	if err == nil || !strings.Contains(err.Error(), "stream 3 (DBI) at 0x40: DBI header: module info substream of 65535 bytes") {
		t.Errorf("DBI with a huge module info: %v", err)
	}
	if in, err := f.Info(); err != nil || in.Age != synthInfoAge {
		t.Errorf("Info after a bad DBI: %v", err)
	}
	if _, _, ok := f.PublicAt(0x1010); ok {
		t.Error("PublicAt worked without section headers")
	}

	// Module stream: a procedure record whose length runs past the symbols.
	f = open(patch(modStream, 4, 0xf0, 0xff))
	_, err = f.Functions()
	if err == nil || !strings.Contains(err.Error(), "module 0 symbols) at 0x4: module symbols: truncated") {
		t.Errorf("Functions with a bad record: %v", err)
	}
	if p, _, ok := f.PublicAt(0x1010); !ok || p.Name != "_main" {
		t.Errorf("PublicAt after a bad module: %+v", p)
	}

	// Section contributions with an unknown version: procedures and lines are found by reading
	// every module instead.
	modInfoSize := int(binary.LittleEndian.Uint32(good[streamBlock(3)*4096+0x18:]))
	f = open(patch(3, 64+modInfoSize, 0x12, 0x34))
	if _, err := f.SectionContributions(); err == nil || !strings.Contains(err.Error(), "stream 3 (DBI) at 0x") || !strings.Contains(err.Error(), "unknown version") {
		t.Errorf("SectionContributions: %v", err)
	}
	if fn, _, ok := f.FunctionAt(0x1020); !ok || fn.Name != "main" {
		t.Errorf("FunctionAt without contributions: %+v %v", fn, ok)
	}
	if file, line, ok := f.LineAt(0x1018); !ok || line != 11 || file != `c:\src\a.c` {
		t.Errorf("LineAt without contributions: %s:%d %v", file, line, ok)
	}

	// Info stream: a named-stream key outside the name buffer.
	f = open(patch(1, 0x28+0x14, 0x40))
	if _, err := f.Info(); err == nil || !strings.Contains(err.Error(), "stream 1 (PDB info)") {
		t.Errorf("Info with a bad key: %v", err)
	}
}

// TestSharedStreams: modules that all name one stream (only a crafted file has them) cannot make
// the reader decode more than about twice the file.
func TestSharedStreams(t *testing.T) {
	data := buildSynthPDBSharing(512, false, 2000)
	f, err := NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Functions()
	if err == nil || !strings.Contains(err.Error(), "decoding more than twice the file's") {
		t.Errorf("Functions over 2000 modules sharing a stream: %v", err)
	}
	if f.decoded.Load() > f.budget()+8192 {
		t.Errorf("decoded %d bytes of a %d-byte file", f.decoded.Load(), len(data))
	}
}
