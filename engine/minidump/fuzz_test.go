package minidump

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"wdbg/internal/corpus"
)

// mappedReader is a bytes.Reader that also offers its bytes, as *mmap.File does, so that the
// fuzz target exercises the zero-copy path as well as the io.ReaderAt one.
type mappedReader struct {
	*bytes.Reader
	b []byte
}

func (m mappedReader) Bytes() []byte { return m.b }

// handmadeSeeds are small dumps covering every decoded stream type, for fuzzing without the
// corpus.
func handmadeSeeds() [][]byte {
	b := newDumpBuilder(14)
	var u le
	u.u32(1)
	u.u32(0x10)
	u.u32(0)
	u.u32(0)
	u.u32(0)
	u.u64(0x7ffde000)
	u.u64(0x12f000)
	u.u32(16)
	stack := b.add(bytes.Repeat([]byte{0xcc}, 16))
	u.u32(stack)
	ctx := make([]byte, 0x2cc)
	ctx[2] = 1 // ContextFlags 0x10000: x86
	u.u32(uint32(len(ctx)))
	u.u32(b.add(ctx))
	b.stream(ThreadListStream, u)

	var m le
	m.u32(1)
	m.u64(0x400000)
	m.u32(0x2d000)
	m.u32(0)
	m.u32(0x45d35f6c)
	m.u32(b.addString(`c:\test_app.exe`))
	m.u32(FixedFileInfoSignature)
	m.raw(make([]byte, 48))
	var cv le
	cv.u32(CvSignatureRSDS)
	cv.raw(bytes.Repeat([]byte{0xab}, 16))
	cv.u32(1)
	cv.raw([]byte("test_app.pdb\x00"))
	m.u32(uint32(len(cv)))
	m.u32(b.add(cv))
	m.raw(make([]byte, 24))
	b.stream(ModuleListStream, m)

	var ml le
	ml.u32(1)
	ml.u64(0x12f000)
	ml.u32(16)
	ml.u32(stack)
	b.stream(MemoryListStream, ml)

	var ex le
	ex.u32(0x10)
	ex.u32(0)
	ex.u32(0xC0000005)
	ex.u32(0)
	ex.u64(0)
	ex.u64(0x40429e)
	ex.u32(2)
	ex.u32(0)
	ex.u64(1)
	ex.u64(0x45)
	ex.raw(make([]byte, 13*8))
	ex.u32(uint32(len(ctx)))
	ex.u32(b.add(ctx))
	b.stream(ExceptionStream, ex)

	var si le
	si.u16(ProcessorArchitectureIntel)
	si.u16(6)
	si.u16(0xd08)
	si.raw([]byte{1, 1})
	si.u32(5)
	si.u32(1)
	si.u32(2600)
	si.u32(2)
	si.u32(b.addString("Service Pack 2"))
	si.u16(0x100)
	si.u16(0)
	si.raw([]byte("GenuineIntel"))
	si.raw(make([]byte, 12))
	b.stream(SystemInfoStream, si)

	misc := make(le, 0, MiscInfoSize5)
	misc.u32(MiscInfoSize5)
	misc.u32(MiscInfoProcessID | MiscInfoTimezone | MiscInfoBuildString)
	misc.u32(3932)
	misc = append(misc, make([]byte, MiscInfoSize5-len(misc))...)
	b.stream(MiscInfoStream, misc)

	var um le
	um.u32(12)
	um.u32(24)
	um.u32(1)
	um.u64(0x10000000)
	um.u32(0x1000)
	um.u32(0)
	um.u32(0)
	um.u32(b.addString("gone.dll"))
	b.stream(UnloadedModuleListStream, um)

	var mi le
	mi.u32(16)
	mi.u32(48)
	mi.u64(1)
	mi.u64(0x12f000)
	mi.u64(0x100000)
	mi.u32(4)
	mi.u32(0)
	mi.u64(0x1000)
	mi.u32(MemCommit)
	mi.u32(4)
	mi.u32(MemPrivate)
	mi.u32(0)
	b.stream(MemoryInfoListStream, mi)

	var ti le
	ti.u32(12)
	ti.u32(64)
	ti.u32(1)
	ti.u32(0x10)
	ti.raw(make([]byte, 60))
	b.stream(ThreadInfoListStream, ti)

	var tn le
	tn.u32(1)
	tn.u32(0x10)
	tn.u64(uint64(b.addString("main thread")))
	b.stream(ThreadNamesStream, tn)

	oi := b.add([]byte{0, 0, 0, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4})
	var hd le
	hd.u32(16)
	hd.u32(40)
	hd.u32(1)
	hd.u32(0)
	hd.u64(4)
	hd.u32(b.addString("Event"))
	hd.u32(b.addString(`\BaseNamedObjects\x`))
	hd.raw(make([]byte, 16))
	hd.u32(oi)
	hd.u32(0)
	b.stream(HandleDataStream, hd)

	b.stream(CommentStreamA, []byte("hello\x00"))
	b.stream(CommentStreamW, []byte("h\x00i\x00\x00\x00"))

	base := b.add([]byte("0123456789abcdef"))
	var m64 le
	m64.u64(2)
	m64.u64(uint64(base))
	m64.u64(0x7ffe0000)
	m64.u64(8)
	m64.u64(0x7ffe0008)
	m64.u64(8)
	b.stream(Memory64ListStream, m64)

	full := b.bytes()
	return [][]byte{full, full[:headerSize], newDumpBuilder(0).bytes()}
}

// TestMain shortens the fuzzer's minimisation of new inputs from its 60 s default to 5 s unless
// -test.fuzzminimizetime is given: minimising a 10 KB dump takes the whole default, and during it
// no new inputs are tried, so a one-minute `-fuzz=FuzzOpen -fuzztime=60s` run would do little else.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(fl *flag.Flag) { set = set || fl.Name == "test.fuzzminimizetime" })
	if !set {
		flag.Set("test.fuzzminimizetime", "5s")
	}
	os.Exit(m.Run())
}

func FuzzOpen(f *testing.F) {
	for _, s := range handmadeSeeds() {
		f.Add(s)
	}
	// The corpus's small dumps, when it is there (the fuzzer mutates bigger ones too slowly).
	if dir := findFixtures(); dir != "" {
		for _, rel := range corpusDumps {
			if b, err := os.ReadFile(filepath.Join(dir, rel)); err == nil && len(b) <= 128<<10 {
				f.Add(b)
			}
		}
		for _, name := range []string{"invalid-range.dmp", "invalid-record-count.dmp"} {
			if b, err := os.ReadFile(filepath.Join(dir, "rust-minidump", name)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The same bytes through both paths must decode to the same things.
		var results [2]string
		for i, r := range []interface {
			ReadAt([]byte, int64) (int, error)
		}{bytes.NewReader(data), mappedReader{bytes.NewReader(data), data}} {
			f, err := NewFile(r, int64(len(data)))
			if err != nil {
				results[i] = err.Error()
				continue
			}
			errs := exerciseAll(f)
			checkErrorsNameOffsets(t, errs)
			results[i] = fmt.Sprint(errs, f.Memory().Ranges())
		}
		if results[0] != results[1] {
			t.Errorf("reader and mapped paths differ:\n%s\n%s", results[0], results[1])
		}
	})
}

// findFixtures is the corpus directory for seeding the fuzzer ("" when absent).
func findFixtures() string { return corpus.Find() }

// TestHandmadeSeeds checks that the fuzz seeds decode as written, so the fuzzer starts from
// dumps that reach every decoder.
func TestHandmadeSeeds(t *testing.T) {
	data := handmadeSeeds()[0]
	f, err := newFileFromBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	if errs := exerciseAll(f); len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	mods, _ := f.Modules()
	if len(mods) != 1 || mods[0].Name != `c:\test_app.exe` || mods[0].CodeView == nil || mods[0].CodeView.PDBName != "test_app.pdb" {
		t.Errorf("modules %+v", mods)
	}
	names, _ := f.ThreadNames()
	if len(names) != 1 || names[0].Name != "main thread" {
		t.Errorf("thread names %+v", names)
	}
	hs, _ := f.Handles()
	if len(hs) != 1 || hs[0].TypeName != "Event" || len(hs[0].ObjectInfo) != 1 || string(hs[0].ObjectInfo[0].Data) != "\x01\x02\x03\x04" {
		t.Errorf("handles %+v", hs)
	}
	cs, _ := f.Comments()
	if len(cs) != 2 || cs[0].Text != "hello" || cs[1].Text != "hi" {
		t.Errorf("comments %+v", cs)
	}
	si, _ := f.SystemInfo()
	if si.CSDVersion != "Service Pack 2" || si.Cpu.VendorId() != "GenuineIntel" {
		t.Errorf("system info %+v", si)
	}
	mi, _ := f.MiscInfo()
	if mi.Version() != 5 || mi.ProcessId != 3932 {
		t.Errorf("misc info %+v", mi)
	}
	p := make([]byte, 16)
	if n, err := f.Memory().ReadAt(p, 0x7ffe0000); n != 16 || err != nil || string(p) != "0123456789abcdef" {
		t.Errorf("memory64 = %q, %v", p, err)
	}
}
