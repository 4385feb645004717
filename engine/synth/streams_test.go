package synth_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"wdbg/engine/synth"
)

// Names that must survive as UTF-16LE: Latin accents, CJK, and a character outside the BMP
// (U+1F5A8 PRINTER, a surrogate pair).
const (
	unicodeModule   = `C:\Program Files\Ünïcødé\app.exe`
	cjkModule       = `C:\プリンター\ドライバー\印刷.dll`
	surrogateModule = `C:\Drivers\🖨 printer.dll`
	unicodeThread   = "Работник 打印 🖨"
)

var testGUID = synth.MustGUID("7DD47A9F-C2E8-499A-A78E-C14AE2C965A2")

// everyStream is an x64 dump with every stream type the writer knows. Breakpad's minidump_dump
// refuses names with surrogate pairs (it reports "found high surrogate 0xd83d without low 0xdda8"
// although DDA8 is a valid low surrogate), so its test leaves them out; the obj2yaml and by-hand
// tests keep them.
func everyStream(surrogates bool) *synth.Minidump {
	surrogateModule, unicodeThread := surrogateModule, unicodeThread
	if !surrogates {
		surrogateModule, unicodeThread = `C:\Drivers\printer.dll`, "Работник 打印"
	}
	b := synth.NewMinidump(synth.ArchAMD64)
	b.TimeDateStamp = 0x5C0AE38E
	si := synth.Windows10(synth.ArchAMD64)
	si.CSDVersion = "Service Pack 1"
	b.SystemInfo(si)
	t := b.Thread(0x2A6C, 0xADDAC91000, 0xADDABAE1E8, bytes.Repeat([]byte{0xAB}, 0x40), synth.ContextAMD64{Rip: 0x7FF7A13110D9, Rsp: 0xADDABAE1E8})
	t.SuspendCount, t.Priority = 1, 2
	b.Thread(0x1111, 0xADDAC93000, 0, nil, nil) // no stack, no context
	m := b.Module(0x7FF7A1310000, 0x7000, unicodeModule, 0x5C0AE38E, 0xABCD, synth.CodeView{GUID: testGUID, Age: 3, PDB: `C:\src\app.pdb`})
	m.Version = &synth.VersionInfo{FileVersion: [4]uint16{10, 0, 16299, 15}, ProductVersion: [4]uint16{10, 0, 16299, 15}, FileOS: 0x40004, FileType: 1}
	b.Module(0x7FFBDDD00000, 0x1E0000, cjkModule, 0x12345678, 0, synth.CodeView{NB10: true, Signature: 0x3A2B1C0D, Age: 7, PDB: "old.pdb"})
	b.Module(0x7FFBDC000000, 0x10000, surrogateModule, 1, 2, synth.CodeView{})
	b.UnloadedModule(0x7FFBD0000000, 0x9000, `C:\Windows\System32\gone.dll`, 0x11223344, 0x5566)
	b.Memory(0x10000, []byte("0123456789abcdef"))
	b.Exception(0x2A6C, 0xC0000005, 0x7FF7A13110D9, []uint64{1, 0x45}, synth.ContextAMD64{Rip: 0x7FF7A13110D9})
	b.MiscInfo(synth.MiscInfo{Size: synth.MiscInfoV5Size, ProcessID: 4440, ProcessCreateTime: 0x5C0AE300,
		ProcessUserTime: 3, ProcessKernelTime: 4, BuildString: "16299.15.amd64fre.rs3_release.170928-1534",
		TimeZone: &synth.TimeZone{Bias: -60, StandardName: "W. Europe Standard Time"}})
	b.ThreadInfo(synth.ThreadInfo{ThreadID: 0x2A6C, DumpFlags: 0x1, ExitStatus: 0x103, CreateTime: 0x01D48E6A00000000,
		KernelTime: 10, UserTime: 20, StartAddress: 0x7FF7A1311000, Affinity: 0xF})
	b.ThreadNames(synth.ThreadName{ThreadID: 0x2A6C, Name: unicodeThread}, synth.ThreadName{ThreadID: 0x1111, Name: "idle"})
	b.Handles(synth.HandleDescriptor2Size,
		synth.Handle{Handle: 0x4, TypeName: "File", ObjectName: `\Device\HarddiskVolume3\Ünïcødé`, Attributes: 2, GrantedAccess: 0x120089, HandleCount: 1, PointerCount: 2},
		synth.Handle{Handle: 0x8, TypeName: "Event", ObjectInfo: []byte{9, 9}})
	b.MemoryInfo(synth.MemoryInfo{BaseAddress: 0x10000, AllocationBase: 0x10000, AllocationProtect: 4, RegionSize: 0x1000, State: 0x1000, Protect: 4, Type: 0x20000})
	b.CommentA("plain comment")
	b.CommentW("wide comment 世界")
	b.RawStream(0x47670001, []byte("breakpad info")) // a user stream type (FORMATS.md §4.2)
	b.RawStream(0xABCD0001, []byte("nobody knows"))  // a user stream nobody knows
	b.RawStream(0x13, []byte{1, 2, 3, 4})            // Token: known to the format, not written by synth
	return b
}

func TestEveryStreamMinidumpDump(t *testing.T) {
	blocks := minidumpDump(t, everyStream(false).Bytes())
	expectOne := func(name string) block {
		t.Helper()
		bs := named(blocks, name)
		if len(bs) != 1 {
			t.Fatalf("minidump_dump printed %d %s blocks, want 1", len(bs), name)
		}
		return bs[0]
	}
	expectFields(t, "header", expectOne("MDRawHeader"), map[string]string{
		"signature": "0x504d444d", "version": "0xa793", "stream_count": "16", "stream_directory_rva": "0x20",
		"time_date_stamp": "0x5c0ae38e", "flags": "0x1824",
	})
	threads := named(blocks, "MDRawThread")
	if len(threads) != 2 {
		t.Fatalf("%d threads", len(threads))
	}
	expectFields(t, "thread 0", threads[0], map[string]string{
		"thread_id": "0x2a6c", "suspend_count": "1", "priority_class": "0x20", "priority": "0x2", "teb": "0xaddac91000",
		"stack.start_of_memory_range": "0xaddabae1e8", "stack.memory.data_size": "0x40", "thread_context.data_size": "0x4d0",
	})
	expectFields(t, "thread 1", threads[1], map[string]string{
		"thread_id": "0x1111", "stack.memory.data_size": "0x0", "thread_context.data_size": "0x0", "thread_context.rva": "0x0",
	})
	mods := named(blocks, "MDRawModule")
	if len(mods) != 3 {
		t.Fatalf("%d modules", len(mods))
	}
	expectFields(t, "module 0", mods[0], map[string]string{
		"base_of_image": "0x7ff7a1310000", "size_of_image": "0x7000", "checksum": "0xabcd", "time_date_stamp": "0x5c0ae38e",
		"(code_file)": `"` + unicodeModule + `"`, "version_info.signature": "0xfeef04bd",
		"version_info.file_version": "0xa0000:0x3fab000f", "(version)": `"10.0.16299.15"`,
		"(cv_record).cv_signature": "0x53445352", "(cv_record).signature": "7dd47a9f-c2e8-499a-a78e-c14ae2c965a2",
		"(cv_record).age": "3", "(cv_record).pdb_file_name": `"C:\src\app.pdb"`,
	})
	expectFields(t, "module 1 (NB10)", mods[1], map[string]string{
		"(code_file)": `"` + cjkModule + `"`, "(cv_record).cv_header.signature": "0x3031424e", "(cv_record).cv_header.offset": "0x0",
		"(cv_record).signature": "0x3a2b1c0d", "(cv_record).age": "7", "(cv_record).pdb_file_name": `"old.pdb"`,
	})
	expectFields(t, "module 2", mods[2], map[string]string{"(code_file)": `"C:\Drivers\printer.dll"`, "cv_record.data_size": "0"})
	mems := named(blocks, "MDMemoryDescriptor")
	if len(mems) != 2 {
		t.Fatalf("%d memory descriptors, want 2 (the stack and the explicit range)", len(mems))
	}
	expectFields(t, "stack memory", mems[0], map[string]string{"start_of_memory_range": "0xaddabae1e8", "memory.data_size": "0x40"})
	expectFields(t, "explicit memory", mems[1], map[string]string{"start_of_memory_range": "0x10000", "memory.data_size": "0x10"})
	expectFields(t, "exception", expectOne("MDException"), map[string]string{
		"thread_id": "0x2a6c", "exception_record.exception_code": "0xc0000005", "exception_record.exception_address": "0x7ff7a13110d9",
		"exception_record.number_parameters": "2", "exception_record.exception_information[ 0]": "0x1",
		"exception_record.exception_information[ 1]": "0x45", "thread_context.data_size": "1232",
	})
	expectFields(t, "system info", expectOne("MDRawSystemInfo"), map[string]string{
		"processor_architecture": "0x9", "number_of_processors": "4", "product_type": "1", "major_version": "10",
		"build_number": "19041", "platform_id": "0x2", "(csd_version)": `"Service Pack 1"`, "suite_mask": "0x100",
	})
	expectFields(t, "misc info", expectOne("MDRawMiscInfo"), map[string]string{
		"size_of_info": "1364", "flags1": "0x143", // PROCESS_ID | PROCESS_TIMES | TIMEZONE | BUILDSTRING "process_id": "4440", "process_create_time": "0x5c0ae300",
		"process_user_time": "3", "process_kernel_time": "4", "time_zone.bias": "-60",
		"time_zone.standard_name": "W. Europe Standard Time", "build_string": "16299.15.amd64fre.rs3_release.170928-1534",
	})
	expectFields(t, "memory info", expectOne("MDRawMemoryInfo"), map[string]string{
		"base_address": "0x10000", "allocation_base": "0x10000", "allocation_protection": "0x4", "region_size": "0x1000",
		"state": "0x1000", "protection": "0x4", "type": "0x20000",
	})
	names := named(blocks, "MDRawThreadName")
	if len(names) != 2 {
		t.Fatalf("%d thread names", len(names))
	}
	expectFields(t, "thread name", names[0], map[string]string{"thread_id": "0x2a6c", "thread_name": `"Работник 打印"`})
}

// TestEveryStreamObj2yaml reads the same dump with LLVM's parser: module names (decoded from
// UTF-16 by LLVM), the stack and memory contents, and the stream directory.
func TestEveryStreamObj2yaml(t *testing.T) {
	y := obj2yaml(t, everyStream(true).Bytes())
	for _, want := range []string{
		"Module Name:     \"C:\\\\Program Files\\\\Ünïcødé\\\\app.exe\"",
		"Module Name:     \"C:\\\\プリンター\\\\ドライバー\\\\印刷.dll\"",
		"Module Name:     \"C:\\\\Drivers\\\\🖨 printer.dll\"",
		"Thread Id:       0x2A6C",
		"Environment Block: 0xADDAC91000",
		"Content:         " + strings.Repeat("AB", 0x40),
		"Content:         '30313233343536373839616263646566'", // YAML quotes an all-digit string
		"Exception Code:  0xC0000005",
		"Type:            UnloadedModuleList",
		"Type:            ThreadInfoList",
		"Type:            HandleData",
		"Type:            CommentA",
		"Type:            CommentW",
		"Type:            BreakpadInfo", // LLVM names breakpad's user stream 0x47670001
		"Type:            0xABCD0001",
		"Type:            0x18",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("obj2yaml output lacks %q", want)
		}
	}
}

// TestStreamsByHand checks the streams neither oracle decodes (unloaded modules, thread info,
// handles, thread names, comments, raw streams) by reading FORMATS.md §4.3 offsets directly.
func TestStreamsByHand(t *testing.T) {
	d := readDump(t, everyStream(true).Bytes())
	off, size := d.stream(synth.UnloadedModuleListStream)
	if size != 12+24 || d.u32(off) != 12 || d.u32(off+4) != 24 || d.u32(off+8) != 1 {
		t.Errorf("unloaded header: size %d, %d %d %d", size, d.u32(off), d.u32(off+4), d.u32(off+8))
	}
	e := off + 12
	if d.u64(e) != 0x7FFBD0000000 || d.u32(e+8) != 0x9000 || d.u32(e+0xC) != 0x5566 || d.u32(e+0x10) != 0x11223344 ||
		d.str(int(d.u32(e+0x14))) != `C:\Windows\System32\gone.dll` {
		t.Errorf("unloaded entry wrong")
	}

	off, size = d.stream(synth.ThreadInfoListStream)
	if size != 12+64 || d.u32(off) != 12 || d.u32(off+4) != 64 || d.u32(off+8) != 1 {
		t.Errorf("thread info header")
	}
	e = off + 12
	if d.u32(e) != 0x2A6C || d.u32(e+4) != 1 || d.u32(e+0xC) != 0x103 || d.u64(e+0x10) != 0x01D48E6A00000000 ||
		d.u64(e+0x20) != 10 || d.u64(e+0x28) != 20 || d.u64(e+0x30) != 0x7FF7A1311000 || d.u64(e+0x38) != 0xF {
		t.Errorf("thread info entry wrong: % x", d.bytes(e, 64))
	}

	off, size = d.stream(synth.HandleDataStream)
	if size != 16+2*40 || d.u32(off) != 16 || d.u32(off+4) != 40 || d.u32(off+8) != 2 {
		t.Errorf("handle header")
	}
	h := off + 16
	if d.u64(h) != 4 || d.str(int(d.u32(h+8))) != "File" || d.str(int(d.u32(h+0xC))) != `\Device\HarddiskVolume3\Ünïcødé` ||
		d.u32(h+0x10) != 2 || d.u32(h+0x14) != 0x120089 || d.u32(h+0x18) != 1 || d.u32(h+0x1C) != 2 || d.u32(h+0x20) != 0 {
		t.Errorf("handle 0 wrong")
	}
	h += 40
	if d.u64(h) != 8 || d.u32(h+0xC) != 0 {
		t.Errorf("handle 1: ObjectNameRva %#x, want 0 for no name", d.u32(h+0xC))
	}
	info := int(d.u32(h + 0x20))
	if info == 0 || d.u32(info+8) != 2 || !bytes.Equal(d.bytes(info+12, 2), []byte{9, 9}) {
		t.Errorf("handle 1 object info wrong")
	}

	off, size = d.stream(synth.ThreadNamesStream)
	if size != 4+2*12 || d.u32(off) != 2 || d.u32(off+4) != 0x2A6C {
		t.Errorf("thread names header")
	}
	if got := d.str(int(d.u64(off + 8))); got != unicodeThread {
		t.Errorf("thread name %q, want %q", got, unicodeThread)
	}
	// The surrogate pair of U+1F5A8 is D83D DDA8, stored little-endian.
	if raw := d.bytes(int(d.u64(off+8))+4, int(d.u32(int(d.u64(off+8))))); !bytes.Contains(raw, []byte{0x3D, 0xD8, 0xA8, 0xDD}) {
		t.Errorf("thread name lacks the surrogate pair D83D DDA8: % x", raw)
	}

	off, size = d.stream(synth.CommentStreamA)
	if string(d.bytes(off, size)) != "plain comment\x00" {
		t.Errorf("CommentA = %q", d.bytes(off, size))
	}
	off, size = d.stream(synth.CommentStreamW)
	if got := decodeUTF16(d.bytes(off, size)); got != "wide comment 世界\x00" {
		t.Errorf("CommentW = %q", got)
	}
	off, size = d.stream(0x47670001)
	if string(d.bytes(off, size)) != "breakpad info" {
		t.Errorf("raw stream = %q", d.bytes(off, size))
	}
	// Every directory entry lies inside the file and stream bodies do not overlap.
	type span struct{ a, b int }
	var spans []span
	for _, e := range d.dirs {
		d.check(int(e.rva), int(e.size))
		for _, s := range spans {
			if int(e.rva) < s.b && s.a < int(e.rva+e.size) {
				t.Errorf("stream %#x at %#x overlaps another", e.typ, e.rva)
			}
		}
		spans = append(spans, span{int(e.rva), int(e.rva + e.size)})
	}
}

// TestMiscInfoSizes writes each MISC_INFO version and checks breakpad sees that version's
// fields and not the later ones.
func TestMiscInfoSizes(t *testing.T) {
	for _, tc := range []struct {
		size  int
		valid []string
		none  []string
	}{
		{synth.MiscInfoV1Size, []string{"process_id"}, []string{"processor_max_mhz"}},
		{synth.MiscInfoV2Size, []string{"process_id", "processor_max_mhz"}, []string{"time_zone.bias"}},
		{synth.MiscInfoV3Size, []string{"processor_max_mhz", "time_zone.bias"}, []string{"build_string"}},
		{synth.MiscInfoV4Size, []string{"time_zone.bias", "build_string"}, []string{"process_cookie"}},
		{synth.MiscInfoV5Size, []string{"build_string", "process_cookie"}, nil},
	} {
		b := synth.NewMinidump(synth.ArchX86)
		b.MiscInfo(synth.MiscInfo{Size: tc.size, ProcessID: 0x1234, ProcessCreateTime: 0x5C000000, ProcessorMaxMhz: 2400,
			TimeZone: &synth.TimeZone{Bias: 300, StandardName: "Eastern Standard Time"}, BuildString: "7601.24214.x86fre",
			ProcessCookie: 0xC00C1E})
		raw := b.Bytes()
		d := readDump(t, raw)
		if off, size := d.stream(synth.MiscInfoStream); size != tc.size || int(d.u32(off)) != tc.size {
			t.Errorf("size %d: stream %d bytes, SizeOfInfo %d", tc.size, size, d.u32(off))
		}
		mi := named(minidumpDump(t, raw), "MDRawMiscInfo")
		if len(mi) != 1 {
			t.Fatalf("size %d: no MDRawMiscInfo", tc.size)
		}
		want := map[string]string{"size_of_info": itoa(tc.size), "process_id": "4660"}
		for _, f := range tc.valid {
			switch f {
			case "processor_max_mhz":
				want[f] = "2400"
			case "time_zone.bias":
				want[f] = "300"
			case "build_string":
				want[f] = "7601.24214.x86fre"
			case "process_cookie":
				want[f] = "0xc00c1e"
			}
		}
		expectFields(t, "misc "+itoa(tc.size), mi[0], want)
		for _, f := range tc.none {
			if v, ok := mi[0].fields[f]; ok && v != "(invalid)" {
				t.Errorf("size %d: %s = %s, want absent or (invalid)", tc.size, f, v)
			}
		}
	}
}

func itoa(v int) string { return strconv.Itoa(v) }

// TestThreadExList: 64-byte MINIDUMP_THREAD_EX entries in stream 8 (FORMATS.md §4.3).
func TestThreadExList(t *testing.T) {
	b := synth.NewMinidump(synth.ArchAMD64)
	b.Thread(7, 0x7000, 0x9000, []byte("one"), synth.ContextAMD64{})
	b.UseThreadExList() // after a thread: the registered stream changes type
	b.Thread(8, 0x8000, 0xA000, []byte("two"), synth.ContextAMD64{})
	d := readDump(t, b.Bytes())
	off, size := d.stream(synth.ThreadExListStream)
	if size != 4+2*64 || d.u32(off) != 2 {
		t.Fatalf("ThreadExList: %d bytes, count %d", size, d.u32(off))
	}
	second := off + 4 + 64
	if d.u32(second) != 8 || d.u64(second+0x10) != 0x8000 || d.u64(second+0x18) != 0xA000 ||
		string(d.bytes(int(d.u32(second+0x24)), 3)) != "two" || d.u32(second+0x28) != 0x4D0 || d.u64(second+0x30) != 0 {
		t.Errorf("second entry: % x", d.bytes(second, 64))
	}
	for _, e := range d.dirs {
		if e.typ == synth.ThreadListStream {
			t.Error("a ThreadList was written too")
		}
	}
}
