package minidump

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// catalogFacts is one MDMP row of fixtures/CATALOG.md: the "facts" column, read from each
// file's headers by the corpus's curator (an independent reader).
type catalogFacts struct {
	path    string
	arch    string // "x86", "AMD64", "None"
	version string // "5.1.2600 Service Pack 2"
	flags   uint64
	threads int // -1 when "-"
	modules int
	exc     *struct {
		code, addr uint64
		params     []uint64
	}
	ranges      int
	rangeBytes  uint64
	counts      map[string]int // memory_info_entries, handles, unloaded_modules, thread_info_entries
	streams     []string       // "ThreadList(100)"
	noException bool
}

var (
	reCatalogRow = regexp.MustCompile(`^\| ([^|]+\.dmp) \|.*?\| (MDMP;[^|]*) \|`)
	reThrMod     = regexp.MustCompile(`^thr (\S+), mod (\S+)$`)
	reExc        = regexp.MustCompile(`^exc (0x[0-9a-f]+) @ (0x[0-9a-f]+) params \[(.*)\]$`)
	reMem        = regexp.MustCompile(`^mem: (\d+) ranges, (\d+) bytes`)
	reCount      = regexp.MustCompile(`(\w+)=(\d+)`)
)

func readCatalog(t *testing.T) map[string]*catalogFacts {
	t.Helper()
	data, err := os.ReadFile(fixture(t, "CATALOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*catalogFacts{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := reCatalogRow.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		c := &catalogFacts{path: m[1], counts: map[string]int{}, threads: -1, modules: -1, ranges: -1}
		for _, part := range strings.Split(m[2], "; ") {
			switch {
			case part == "MDMP":
			case strings.HasPrefix(part, "WinNT "):
				c.version = strings.TrimPrefix(part, "WinNT ")
			case strings.HasPrefix(part, "flags "):
				c.flags, _ = strconv.ParseUint(strings.TrimPrefix(part, "flags "), 0, 64)
			case reThrMod.MatchString(part):
				mm := reThrMod.FindStringSubmatch(part)
				c.threads, _ = strconv.Atoi(mm[1])
				c.modules, _ = strconv.Atoi(mm[2])
			case reExc.MatchString(part):
				mm := reExc.FindStringSubmatch(part)
				e := &struct {
					code, addr uint64
					params     []uint64
				}{}
				e.code, _ = strconv.ParseUint(mm[1], 0, 64)
				e.addr, _ = strconv.ParseUint(mm[2], 0, 64)
				for _, p := range strings.Split(mm[3], ", ") {
					v, _ := strconv.ParseUint(strings.Trim(p, "'"), 0, 64)
					e.params = append(e.params, v)
				}
				c.exc = e
			case part == "no Exception stream":
				c.noException = true
			case reMem.MatchString(part):
				mm := reMem.FindStringSubmatch(part)
				c.ranges, _ = strconv.Atoi(mm[1])
				c.rangeBytes, _ = strconv.ParseUint(mm[2], 10, 64)
			case strings.HasPrefix(part, "streams: "):
				c.streams = strings.Fields(strings.TrimPrefix(part, "streams: "))
			case strings.Contains(part, "="):
				for _, mm := range reCount.FindAllStringSubmatch(part, -1) {
					c.counts[mm[1]], _ = strconv.Atoi(mm[2])
				}
			default:
				if c.arch == "" {
					c.arch = part
				}
			}
		}
		out[c.path] = c
	}
	return out
}

// TestCorpusCatalogFacts checks every user dump against the facts column of CATALOG.md:
// architecture, OS version, flags, thread and module counts, the exception, the memory ranges,
// the optional list sizes and the stream directory.
func TestCorpusCatalogFacts(t *testing.T) {
	facts := readCatalog(t)
	if len(facts) < len(corpusDumps) {
		t.Fatalf("CATALOG.md: found %d MDMP rows, want at least %d", len(facts), len(corpusDumps))
	}
	for _, rel := range corpusDumps {
		t.Run(rel, func(t *testing.T) {
			c := facts[rel]
			if c == nil {
				t.Fatalf("no CATALOG row for %s", rel)
			}
			f := openFixture(t, rel)
			checkCatalogFacts(t, f, c)
		})
	}
}

func checkCatalogFacts(t *testing.T, f *File, c *catalogFacts) {
	si, err := f.SystemInfo()
	if err != nil || si == nil {
		t.Fatalf("SystemInfo: %v, %v", si, err)
	}
	arch := map[uint16]string{ProcessorArchitectureIntel: "x86", ProcessorArchitectureAMD64: "AMD64"}[si.ProcessorArchitecture]
	if arch != c.arch {
		t.Errorf("architecture %d (%s), catalog says %s", si.ProcessorArchitecture, arch, c.arch)
	}
	version := fmt.Sprintf("%d.%d.%d", si.MajorVersion, si.MinorVersion, si.BuildNumber)
	if si.CSDVersion != "" {
		version += " " + si.CSDVersion
	}
	if version != c.version {
		t.Errorf("version %q, catalog says %q", version, c.version)
	}
	if f.Header.Flags != c.flags {
		t.Errorf("flags %#x, catalog says %#x", f.Header.Flags, c.flags)
	}
	threads, err := f.Threads()
	if err != nil || len(threads) != c.threads {
		t.Errorf("threads %d (%v), catalog says %d", len(threads), err, c.threads)
	}
	mods, err := f.Modules()
	if err != nil || len(mods) != c.modules {
		t.Errorf("modules %d (%v), catalog says %d", len(mods), err, c.modules)
	}
	e, err := f.Exception()
	switch {
	case err != nil:
		t.Errorf("Exception: %v", err)
	case c.noException && e != nil:
		t.Errorf("exception decoded, catalog says none")
	case c.exc != nil && e == nil:
		t.Errorf("no exception, catalog says %#x", c.exc.code)
	case c.exc != nil:
		r := e.ExceptionRecord
		if uint64(r.ExceptionCode) != c.exc.code || r.ExceptionAddress != c.exc.addr {
			t.Errorf("exception %#x @ %#x, catalog says %#x @ %#x", r.ExceptionCode, r.ExceptionAddress, c.exc.code, c.exc.addr)
		}
		if got := r.Parameters(); fmt.Sprint(got) != fmt.Sprint(c.exc.params) {
			t.Errorf("exception parameters %#x, catalog says %#x", got, c.exc.params)
		}
	}
	// The catalog counts the descriptors of the memory list the dump has.
	var n int
	var total uint64
	if l, err := f.Memory64List(); err != nil {
		t.Errorf("Memory64List: %v", err)
	} else if l != nil {
		for _, d := range l.MemoryRanges {
			n, total = n+1, total+d.DataSize
		}
	}
	if l, err := f.MemoryList(); err != nil {
		t.Errorf("MemoryList: %v", err)
	} else {
		for _, d := range l {
			n, total = n+1, total+uint64(d.Memory.DataSize)
		}
	}
	if n != c.ranges || total != c.rangeBytes {
		t.Errorf("memory: %d ranges, %d bytes; catalog says %d, %d", n, total, c.ranges, c.rangeBytes)
	}
	// The range set holds every byte when no ranges overlap (true of the whole corpus).
	var setTotal uint64
	mem := f.Memory()
	for _, r := range mem.Ranges() {
		setTotal += r.Size
	}
	if setTotal != c.rangeBytes || len(mem.Issues) != 0 {
		t.Errorf("range set holds %d bytes (issues %v), catalog says %d", setTotal, mem.Issues, c.rangeBytes)
	}
	for key, want := range c.counts {
		var got int
		var err error
		switch key {
		case "memory_info_entries":
			var l []MemoryInfo
			l, err = f.MemoryInfoList()
			got = len(l)
		case "handles":
			var l []HandleDescriptor
			l, err = f.Handles()
			got = len(l)
		case "unloaded_modules":
			var l []UnloadedModule
			l, err = f.UnloadedModules()
			got = len(l)
		case "thread_info_entries":
			var l []ThreadInfo
			l, err = f.ThreadInfoList()
			got = len(l)
		default:
			t.Errorf("catalog count %q not checked", key)
			continue
		}
		if err != nil || got != want {
			t.Errorf("%s = %d (%v), catalog says %d", key, got, err, want)
		}
	}
	var streams []string
	for _, d := range f.Directory {
		if d.StreamType == UnusedStream {
			continue
		}
		streams = append(streams, fmt.Sprintf("%s(%d)", strings.TrimSuffix(d.StreamType.Name(), "Stream"), d.Location.DataSize))
	}
	if strings.Join(streams, " ") != strings.Join(c.streams, " ") {
		t.Errorf("streams\n got  %v\n want %v", streams, c.streams)
	}
}

// TestUnloadedAndHandlesCET checks breakpad/tiny-exe-with-cet-xsave.dmp's unloaded module and
// first handles. Oracle: obj2yaml's raw Content of the UnloadedModuleList and HandleData
// streams decoded by hand, and the names read with xxd at their RVAs:
//
//	UnloadedModuleList: 0C000000 18000000 01000000 | 0000450FF97F0000 00A00E00 69D50E00 0AC30BD4 80210000
//	xxd -s 0x2180: 14000000 "s.h.c.o.r.e...d.l.l." → "shcore.dll"
//	HandleData: 10000000 20000000 93000000 00000000 | 0400000000000000 E09C0000 00000000 00000000 9F011200 02000000 FF7F0100
//	            | 0800000000000000 D09C0000 ... 03001F00 01000000 FFFF0000
//	xxd -s 0x9cd0: "Event", 0x9ce0: "File"
func TestUnloadedAndHandlesCET(t *testing.T) {
	f := openFixture(t, "breakpad/tiny-exe-with-cet-xsave.dmp")
	um, err := f.UnloadedModules()
	if err != nil || len(um) != 1 {
		t.Fatalf("UnloadedModules = %d, %v; want 1", len(um), err)
	}
	want := UnloadedModule{BaseOfImage: 0x7FF90F450000, SizeOfImage: 0xEA000, CheckSum: 0xED569,
		TimeDateStamp: 0xD40BC30A, ModuleNameRva: 0x2180, Name: "shcore.dll"}
	if um[0] != want {
		t.Errorf("unloaded module\n got  %+v\n want %+v", um[0], want)
	}
	hs, err := f.Handles()
	if err != nil || len(hs) != 147 { // CATALOG: handles=147
		t.Fatalf("Handles = %d, %v; want 147", len(hs), err)
	}
	h0 := hs[0]
	if h0.Handle != 4 || h0.TypeName != "File" || h0.ObjectName != "" || h0.GrantedAccess != 0x12019F ||
		h0.HandleCount != 2 || h0.PointerCount != 0x17FFF || h0.Err != nil {
		t.Errorf("handle 0 = %+v", h0)
	}
	if h1 := hs[1]; h1.Handle != 8 || h1.TypeName != "Event" || h1.GrantedAccess != 0x1F0003 || h1.HandleCount != 1 {
		t.Errorf("handle 1 = %+v", h1)
	}
	for i, h := range hs {
		if h.Err != nil {
			t.Errorf("handle %d: %v", i, h.Err)
		}
	}
}

// TestHandleObjectInfo checks the MINIDUMP_HANDLE_DESCRIPTOR_2 form of
// kdlibcpp/targetapp_minidump/target_minidump.dmp. Oracle: obj2yaml raw HandleData Content
//
//	10000000 28000000 2B000000 00000000 | 0400000000000000 D6340000 00000000 00000000 03001F00 02000000 01000100 E6340000 00000000
//	| 0800000000000000 FA340000 06350000 00000000 09000000 02000000 00000100 00000000 ...
//
// and xxd at the RVAs: 0x34d6 "Event"; 0x34e6 {Next 0, InfoType 6, SizeOfInfo 8, 00000000 01000000};
// 0x34fa "Key"; 0x3506 "\REGISTRY\MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options".
func TestHandleObjectInfo(t *testing.T) {
	f := openFixture(t, "kdlibcpp/targetapp_minidump/target_minidump.dmp")
	hs, err := f.Handles()
	if err != nil || len(hs) != 43 { // kdlibcpp ORACLE_NOTES: HandleData(43)
		t.Fatalf("Handles = %d, %v; want 43", len(hs), err)
	}
	h := hs[0]
	if h.Handle != 4 || h.TypeName != "Event" || h.GrantedAccess != 0x1F0003 || h.PointerCount != 0x10001 ||
		h.ObjectInfoRva != 0x34E6 || len(h.ObjectInfo) != 1 {
		t.Fatalf("handle 0 = %+v", h)
	}
	oi := h.ObjectInfo[0]
	if oi.NextInfoRva != 0 || oi.InfoType != 6 || oi.SizeOfInfo != 8 || !bytes.Equal(oi.Data, []byte{0, 0, 0, 0, 1, 0, 0, 0}) {
		t.Errorf("object info = %+v", oi)
	}
	h = hs[1]
	if h.Handle != 8 || h.TypeName != "Key" || h.GrantedAccess != 9 ||
		h.ObjectName != `\REGISTRY\MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options` {
		t.Errorf("handle 1 = %+v", h)
	}
	mi, err := f.MemoryInfoList()
	if err != nil || len(mi) != 91 { // kdlibcpp ORACLE_NOTES: MemoryInfoList(91)
		t.Errorf("MemoryInfoList = %d, %v; want 91", len(mi), err)
	}
}

// TestFizzbuzz checks lldb/fizzbuzz_no_heap.dmp against lldb's unit-test facts (ORACLE_NOTES:
// pid 4440, exception 0xC0000005 at 0x164d14, 6 modules, a ThreadInfoList) and obj2yaml.
func TestFizzbuzz(t *testing.T) {
	f := openFixture(t, "lldb/fizzbuzz_no_heap.dmp")
	mi, err := f.MiscInfo()
	if err != nil || mi == nil {
		t.Fatalf("MiscInfo: %v", err)
	}
	if mi.ProcessId != 4440 || mi.Flags1&MiscInfoProcessID == 0 || mi.Version() != 3 {
		t.Errorf("misc info pid %d flags %#x v%d; want 4440, PROCESS_ID, v3 (232 bytes)", mi.ProcessId, mi.Flags1, mi.Version())
	}
	// obj2yaml ThreadInfoList Content: 0C000000 40000000 01000000 | 20230000 00000000 00000000 03010000
	// 2244719EFEEFD001 0000000000000000 0000000000000000 0000000000000000 3E13160000000000 FFFFFFFF00000000
	ti, err := f.ThreadInfoList()
	want := ThreadInfo{ThreadId: 0x2320, ExitStatus: 0x103, CreateTime: 0x01D0EFFE9E714422, StartAddress: 0x16133E, Affinity: 0xFFFFFFFF}
	if err != nil || len(ti) != 1 || ti[0] != want {
		t.Errorf("ThreadInfoList = %+v, %v; want [%+v]", ti, err, want)
	}
	// obj2yaml MemoryList: range at 0x164C94 starts 83C4088B45EC50E8 05C4FFFF.
	p := make([]byte, 12)
	if n, err := f.Memory().ReadAt(p, 0x164C94); n != 12 || err != nil ||
		!bytes.Equal(p, []byte{0x83, 0xC4, 0x08, 0x8B, 0x45, 0xEC, 0x50, 0xE8, 0x05, 0xC4, 0xFF, 0xFF}) {
		t.Errorf("ReadAt(0x164C94) = %d, %v, % x", n, err, p)
	}
}

// TestWOW64FullMemory checks the Memory64List of the kdlibcpp WOW64 full-memory dump: 84
// ranges holding 11231232 bytes (CATALOG), and bytes at a few addresses as lldb-19 reads them
// (`lldb-19 -b --core targetapp_stacktest_wow64.cab.dmp -o 'memory read -s1 -c16 ADDR'`):
//
//	0x850000:       4d 5a 90 00 03 00 00 00 04 00 00 00 ff ff 00 00   (targetapp.exe's MZ header)
//	0x875f50:       89 4d f8 b9 71 30 89 00 e8 37 b8 fe ff cc 5f 5e   (0x875f5d = int3, the exception address)
//	0x7ffc8d700080: 97 23 84 20 d3 42 ea 73 d3 42 ea 73 d3 42 ea 73   (ntdll, 64-bit)
//	0x5d9000:       00 b0 5d 00 00 00 00 00 20 fd 34 00 00 00 00 00   (the first TEB)
//	0x7ffc8d858ff8: 05 98 57 21 01 e6 55 3f and 0x7ffc8d859000: 0f b1 81 cf 18 8e 66 3f
//	                (two adjacent ranges; lldb reads each separately, wdbg in one read)
//	0x897ff8: 8 readable bytes, then a hole (lldb: "Not all bytes (8/16) were able to be read")
func TestWOW64FullMemory(t *testing.T) {
	f := openFixture(t, "kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp")
	l, err := f.Memory64List()
	if err != nil || l == nil {
		t.Fatalf("Memory64List: %v", err)
	}
	var total uint64
	for _, d := range l.MemoryRanges {
		total += d.DataSize
	}
	if len(l.MemoryRanges) != 84 || total != 11231232 {
		t.Errorf("Memory64List: %d ranges, %d bytes; want 84, 11231232", len(l.MemoryRanges), total)
	}
	mem := f.Memory()
	for _, c := range []struct {
		addr uint64
		want string
	}{
		{0x850000, "4d5a90000300000004000000ffff0000"},
		{0x875f50, "894df8b971308900e837b8feffcc5f5e"},
		{0x7ffc8d700080, "97238420d342ea73d342ea73d342ea73"},
		{0x5d9000, "00b05d000000000020fd340000000000"},
		{0x7ffc8d858ff8, "0598572101e6553f0fb181cf188e663f"},
	} {
		p := make([]byte, 16)
		n, err := mem.ReadAt(p, c.addr)
		if got := fmt.Sprintf("%x", p); n != 16 || err != nil || got != c.want {
			t.Errorf("ReadAt(%#x) = %d, %v, %s; want %s", c.addr, n, err, got, c.want)
		}
	}
	p := make([]byte, 16)
	n, err := mem.ReadAt(p, 0x897ff8)
	var re *ReadError
	if n != 8 || !asReadError(err, &re) || re.Addr != 0x898000 {
		t.Errorf("ReadAt(0x897ff8) = %d, %v; want 8, ReadError at 0x898000", n, err)
	}
	if !f.Mapped() {
		t.Log("file not memory-mapped on this platform")
	} else if s, ok := mem.Slice(0x850000, 2); !ok || string(s) != "MZ" {
		t.Errorf("Slice(0x850000, 2) = %q, %v", s, ok)
	}
}

// TestConcurrentAccessors: streams decode once even when goroutines ask for them at the same
// time (run with -race).
func TestConcurrentAccessors(t *testing.T) {
	f := openFixture(t, "breakpad/tiny-exe-with-cet-xsave.dmp")
	done := make(chan []error)
	for range 8 {
		go func() { done <- exerciseAll(f) }()
	}
	for range 8 {
		if errs := <-done; len(errs) != 0 {
			t.Errorf("errors: %v", errs)
		}
	}
}
