package minidump

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// checkAgainstBreakpad compares everything breakpad's minidump_dump prints about a dump with
// what this package decodes: header, directory, threads (and the CONTEXT records they point
// at), modules with version and CodeView records, the memory list with its bytes, the
// exception, system info, misc info and the memory info list.
func checkAgainstBreakpad(t *testing.T, f *File, recs []bpRecord) {
	t.Helper()
	h := byTitle(recs, "MDRawHeader")
	if len(h) != 1 {
		t.Fatalf("oracle has %d MDRawHeader blocks", len(h))
	}
	eq(t, "header signature", uint64(f.Header.Signature), h[0].num(t, "signature"))
	eq(t, "header version", uint64(f.Header.Version), h[0].num(t, "version"))
	eq(t, "header stream_count", uint64(f.Header.NumberOfStreams), h[0].num(t, "stream_count"))
	eq(t, "header stream_directory_rva", uint64(f.Header.StreamDirectoryRva), h[0].num(t, "stream_directory_rva"))
	eq(t, "header checksum", uint64(f.Header.CheckSum), h[0].num(t, "checksum"))
	eq(t, "header time_date_stamp", uint64(f.Header.TimeDateStamp), h[0].num(t, "time_date_stamp"))
	eq(t, "header flags", f.Header.Flags, h[0].num(t, "flags"))

	dirs := byTitle(recs, "MDRawDirectory")
	eq(t, "directory entries", uint64(len(f.Directory)), uint64(len(dirs)))
	for i := range min(len(dirs), len(f.Directory)) {
		d := f.Directory[i]
		eq(t, fmt.Sprintf("directory[%d] stream_type", i), uint64(d.StreamType), dirs[i].num(t, "stream_type"))
		eq(t, fmt.Sprintf("directory[%d] data_size", i), uint64(d.Location.DataSize), dirs[i].num(t, "location.data_size"))
		eq(t, fmt.Sprintf("directory[%d] rva", i), uint64(d.Location.Rva), dirs[i].num(t, "location.rva"))
	}

	checkThreadsAgainstBreakpad(t, f, recs)
	checkModulesAgainstBreakpad(t, f, recs)
	checkMemoryAgainstBreakpad(t, f, recs)
	checkExceptionAgainstBreakpad(t, f, recs)
	checkSystemAgainstBreakpad(t, f, recs)
	checkMiscAgainstBreakpad(t, f, recs)

	if infos := byTitle(recs, "MDRawMemoryInfo"); len(infos) > 0 {
		got, err := f.MemoryInfoList()
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "memory info entries", uint64(len(got)), uint64(len(infos)))
		for i := range min(len(got), len(infos)) {
			g, w := got[i], infos[i]
			p := fmt.Sprintf("memory info[%d] ", i)
			eq(t, p+"base_address", g.BaseAddress, w.num(t, "base_address"))
			eq(t, p+"allocation_base", g.AllocationBase, w.num(t, "allocation_base"))
			eq(t, p+"allocation_protection", uint64(g.AllocationProtect), w.num(t, "allocation_protection"))
			eq(t, p+"region_size", g.RegionSize, w.num(t, "region_size"))
			eq(t, p+"state", uint64(g.State), w.num(t, "state"))
			eq(t, p+"protection", uint64(g.Protect), w.num(t, "protection"))
			eq(t, p+"type", uint64(g.Type), w.num(t, "type"))
		}
	}
}

func eq(t *testing.T, what string, got, want uint64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#x, breakpad says %#x", what, got, want)
	}
}

func eqs(t *testing.T, what string, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, breakpad says %q", what, got, want)
	}
}

func checkThreadsAgainstBreakpad(t *testing.T, f *File, recs []bpRecord) {
	want := byTitle(recs, "MDRawThread")
	threads, err := f.Threads()
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "thread count", uint64(len(threads)), uint64(len(want)))
	// minidump_dump prints each thread's CONTEXT right after it, then the exception's.
	var contexts []bpRecord
	for _, r := range recs {
		if strings.HasPrefix(r.Title, "MDRawContext") {
			contexts = append(contexts, r)
		}
	}
	for i := range min(len(threads), len(want)) {
		g, w := threads[i], want[i]
		p := fmt.Sprintf("thread[%d] ", i)
		eq(t, p+"thread_id", uint64(g.ThreadId), w.num(t, "thread_id"))
		eq(t, p+"suspend_count", uint64(g.SuspendCount), w.num(t, "suspend_count"))
		eq(t, p+"priority_class", uint64(g.PriorityClass), w.num(t, "priority_class"))
		eq(t, p+"priority", uint64(g.Priority), w.num(t, "priority"))
		eq(t, p+"teb", g.Teb, w.num(t, "teb"))
		eq(t, p+"stack start", g.Stack.StartOfMemoryRange, w.num(t, "stack.start_of_memory_range"))
		eq(t, p+"stack size", uint64(g.Stack.Memory.DataSize), w.num(t, "stack.memory.data_size"))
		eq(t, p+"stack rva", uint64(g.Stack.Memory.Rva), w.num(t, "stack.memory.rva"))
		eq(t, p+"context size", uint64(g.ThreadContext.DataSize), w.num(t, "thread_context.data_size"))
		eq(t, p+"context rva", uint64(g.ThreadContext.Rva), w.num(t, "thread_context.rva"))
		raw, err := f.ThreadContext(g)
		if err != nil {
			t.Errorf("%scontext: %v", p, err)
			continue
		}
		if i < len(contexts) {
			checkContextAgainstBreakpad(t, p, raw, contexts[i])
		}
	}
}

// checkContextAgainstBreakpad checks a few registers of a raw CONTEXT at their FORMATS.md §4.4
// offsets against breakpad's decoding of the same record.
func checkContextAgainstBreakpad(t *testing.T, p string, raw []byte, w bpRecord) {
	t.Helper()
	u32 := func(off int) uint64 { return uint64(binary.LittleEndian.Uint32(raw[off:])) }
	u64 := func(off int) uint64 { return binary.LittleEndian.Uint64(raw[off:]) }
	switch w.Title {
	case "MDRawContextX86":
		eq(t, p+"context_flags", u32(0), w.num(t, "context_flags"))
		eq(t, p+"eip", u32(0xB8), w.num(t, "eip"))
		eq(t, p+"esp", u32(0xC4), w.num(t, "esp"))
		eq(t, p+"eax", u32(0xB0), w.num(t, "eax"))
	case "MDRawContextAMD64":
		eq(t, p+"context_flags", u32(0x30), w.num(t, "context_flags"))
		eq(t, p+"rip", u64(0xF8), w.num(t, "rip"))
		eq(t, p+"rsp", u64(0x98), w.num(t, "rsp"))
		eq(t, p+"rax", u64(0x78), w.num(t, "rax"))
	default:
		t.Logf("%s: no check for %s", p, w.Title)
	}
}

func checkModulesAgainstBreakpad(t *testing.T, f *File, recs []bpRecord) {
	want := byTitle(recs, "MDRawModule")
	mods, err := f.Modules()
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "module count", uint64(len(mods)), uint64(len(want)))
	for i := range min(len(mods), len(want)) {
		g, w := mods[i], want[i]
		p := fmt.Sprintf("module[%d] ", i)
		eq(t, p+"base_of_image", g.BaseOfImage, w.num(t, "base_of_image"))
		eq(t, p+"size_of_image", uint64(g.SizeOfImage), w.num(t, "size_of_image"))
		eq(t, p+"checksum", uint64(g.CheckSum), w.num(t, "checksum"))
		eq(t, p+"time_date_stamp", uint64(g.TimeDateStamp), w.num(t, "time_date_stamp"))
		eq(t, p+"module_name_rva", uint64(g.ModuleNameRva), w.num(t, "module_name_rva"))
		v := g.VersionInfo
		eq(t, p+"version signature", uint64(v.Signature), w.num(t, "version_info.signature"))
		eq(t, p+"struct_version", uint64(v.StrucVersion), w.num(t, "version_info.struct_version"))
		eqs(t, p+"file_version", fmt.Sprintf("%#x:%#x", v.FileVersionMS, v.FileVersionLS), w.Fields["version_info.file_version"])
		eqs(t, p+"product_version", fmt.Sprintf("%#x:%#x", v.ProductVersionMS, v.ProductVersionLS), w.Fields["version_info.product_version"])
		eqs(t, p+"file_date", fmt.Sprintf("%#x:%#x", v.FileDateMS, v.FileDateLS), w.Fields["version_info.file_date"])
		eq(t, p+"file_flags_mask", uint64(v.FileFlagsMask), w.num(t, "version_info.file_flags_mask"))
		eq(t, p+"file_flags", uint64(v.FileFlags), w.num(t, "version_info.file_flags"))
		eq(t, p+"file_os", uint64(v.FileOS), w.num(t, "version_info.file_os"))
		eq(t, p+"file_type", uint64(v.FileType), w.num(t, "version_info.file_type"))
		eq(t, p+"file_subtype", uint64(v.FileSubtype), w.num(t, "version_info.file_subtype"))
		eq(t, p+"cv_record size", uint64(g.CvRecord.DataSize), w.num(t, "cv_record.data_size"))
		eq(t, p+"cv_record rva", uint64(g.CvRecord.Rva), w.num(t, "cv_record.rva"))
		eq(t, p+"misc_record size", uint64(g.MiscRecord.DataSize), w.num(t, "misc_record.data_size"))
		eqs(t, p+"code_file", g.Name, w.str(t, "(code_file)"))
		if g.NameErr != nil {
			t.Errorf("%sname: %v", p, g.NameErr)
		}
		if w.Fields["(cv_record).cv_signature"] == "0x53445352" { // RSDS
			if g.CodeView == nil {
				t.Errorf("%sno CodeView record: %v", p, g.CodeViewErr)
				continue
			}
			// breakpad prints the GUID in lower case, WinDbg (and our String) in upper case.
			if got, want := g.CodeView.GUID.String(), w.Fields["(cv_record).signature"]; !strings.EqualFold(got, want) {
				t.Errorf("%scv guid = %q, breakpad says %q", p, got, want)
			}
			eq(t, p+"cv age", uint64(g.CodeView.Age), w.num(t, "(cv_record).age"))
			eqs(t, p+"pdb_file_name", g.CodeView.PDBName, w.str(t, "(cv_record).pdb_file_name"))
		}
	}
}

func checkMemoryAgainstBreakpad(t *testing.T, f *File, recs []bpRecord) {
	// Descriptors and "Memory" hex blocks alternate in minidump_dump's memory list section.
	var descs []bpRecord
	var hexes []string
	for i, r := range recs {
		if r.Title == "MDMemoryDescriptor" {
			descs = append(descs, r)
			if i+1 < len(recs) && recs[i+1].Title == "Memory" {
				hexes = append(hexes, recs[i+1].Hex)
			} else {
				hexes = append(hexes, "")
			}
		}
	}
	list, err := f.MemoryList()
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "memory list ranges", uint64(len(list)), uint64(len(descs)))
	mem := f.Memory()
	for i := range min(len(list), len(descs)) {
		g, w := list[i], descs[i]
		p := fmt.Sprintf("memory region[%d] ", i)
		eq(t, p+"start", g.StartOfMemoryRange, w.num(t, "start_of_memory_range"))
		eq(t, p+"size", uint64(g.Memory.DataSize), w.num(t, "memory.data_size"))
		eq(t, p+"rva", uint64(g.Memory.Rva), w.num(t, "memory.rva"))
		want, err := hex.DecodeString(hexes[i])
		if err != nil || len(want) == 0 {
			continue
		}
		// Through the range set, as a debugger reads it.
		got := make([]byte, len(want))
		if n, err := mem.ReadAt(got, g.StartOfMemoryRange); n != len(want) || err != nil {
			t.Errorf("%sReadAt = %d, %v", p, n, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%sbytes differ from breakpad's", p)
		}
	}
}

func checkExceptionAgainstBreakpad(t *testing.T, f *File, recs []bpRecord) {
	want := byTitle(recs, "MDException")
	e, err := f.Exception()
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		if e != nil {
			t.Errorf("exception stream decoded, breakpad shows none")
		}
		return
	}
	if e == nil {
		t.Fatal("no exception stream decoded")
	}
	w := want[0]
	r := e.ExceptionRecord
	eq(t, "exception thread_id", uint64(e.ThreadId), w.num(t, "thread_id"))
	eq(t, "exception_code", uint64(r.ExceptionCode), w.num(t, "exception_record.exception_code"))
	eq(t, "exception_flags", uint64(r.ExceptionFlags), w.num(t, "exception_record.exception_flags"))
	eq(t, "exception_record", r.ExceptionRecord, w.num(t, "exception_record.exception_record"))
	eq(t, "exception_address", r.ExceptionAddress, w.num(t, "exception_record.exception_address"))
	eq(t, "number_parameters", uint64(r.NumberParameters), w.num(t, "exception_record.number_parameters"))
	for i, v := range r.Parameters() {
		eq(t, fmt.Sprintf("exception_information[%d]", i), v, w.num(t, fmt.Sprintf("exception_record.exception_information[%2d]", i)))
	}
	eq(t, "exception context size", uint64(e.ThreadContext.DataSize), w.num(t, "thread_context.data_size"))
	eq(t, "exception context rva", uint64(e.ThreadContext.Rva), w.num(t, "thread_context.rva"))
	// The exception's CONTEXT is the last one minidump_dump prints.
	var last bpRecord
	for _, r := range recs {
		if strings.HasPrefix(r.Title, "MDRawContext") {
			last = r
		}
	}
	raw, err := f.ExceptionContext(e)
	if err != nil {
		t.Fatal(err)
	}
	checkContextAgainstBreakpad(t, "exception ", raw, last)
}

func checkSystemAgainstBreakpad(t *testing.T, f *File, recs []bpRecord) {
	want := byTitle(recs, "MDRawSystemInfo")
	s, err := f.SystemInfo()
	if err != nil || s == nil || len(want) != 1 {
		t.Fatalf("system info: %v, %v; oracle blocks %d", s, err, len(want))
	}
	w := want[0]
	eq(t, "processor_architecture", uint64(s.ProcessorArchitecture), w.num(t, "processor_architecture"))
	eq(t, "processor_level", uint64(s.ProcessorLevel), w.num(t, "processor_level"))
	eq(t, "processor_revision", uint64(s.ProcessorRevision), w.num(t, "processor_revision"))
	eq(t, "number_of_processors", uint64(s.NumberOfProcessors), w.num(t, "number_of_processors"))
	eq(t, "product_type", uint64(s.ProductType), w.num(t, "product_type"))
	eq(t, "major_version", uint64(s.MajorVersion), w.num(t, "major_version"))
	eq(t, "minor_version", uint64(s.MinorVersion), w.num(t, "minor_version"))
	eq(t, "build_number", uint64(s.BuildNumber), w.num(t, "build_number"))
	eq(t, "platform_id", uint64(s.PlatformId), w.num(t, "platform_id"))
	eq(t, "csd_version_rva", uint64(s.CSDVersionRva), w.num(t, "csd_version_rva"))
	eq(t, "suite_mask", uint64(s.SuiteMask), w.num(t, "suite_mask"))
	eqs(t, "csd_version", s.CSDVersion, w.str(t, "(csd_version)"))
	if s.ProcessorArchitecture == ProcessorArchitectureIntel {
		eqs(t, "cpu_vendor", s.Cpu.VendorId(), w.str(t, "(cpu_vendor)"))
		eq(t, "version_information", uint64(s.Cpu.VersionInformation()), w.num(t, "cpu.x86_cpu_info.version_information"))
		eq(t, "feature_information", uint64(s.Cpu.FeatureInformation()), w.num(t, "cpu.x86_cpu_info.feature_information"))
		eq(t, "amd_extended_cpu_features", uint64(s.Cpu.AMDExtendedCpuFeatures()), w.num(t, "cpu.x86_cpu_info.amd_extended_cpu_features"))
	}
}

func checkMiscAgainstBreakpad(t *testing.T, f *File, recs []bpRecord) {
	want := byTitle(recs, "MDRawMiscInfo")
	m, err := f.MiscInfo()
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		return
	}
	w := want[0]
	// Fields breakpad prints as a number; "(invalid)" ones (flag not set) are skipped.
	numeric := func(key string, got uint64) {
		v, ok := w.Fields[key]
		if !ok || strings.HasPrefix(v, "(") {
			return
		}
		eq(t, "misc "+key, got, w.num(t, key))
	}
	numeric("size_of_info", uint64(m.SizeOfInfo))
	numeric("flags1", uint64(m.Flags1))
	numeric("process_id", uint64(m.ProcessId))
	numeric("process_create_time", uint64(m.ProcessCreateTime))
	numeric("process_user_time", uint64(m.ProcessUserTime))
	numeric("process_kernel_time", uint64(m.ProcessKernelTime))
	numeric("processor_max_mhz", uint64(m.ProcessorMaxMhz))
	numeric("processor_current_mhz", uint64(m.ProcessorCurrentMhz))
	numeric("processor_mhz_limit", uint64(m.ProcessorMhzLimit))
	numeric("processor_max_idle_state", uint64(m.ProcessorMaxIdleState))
	numeric("processor_current_idle_state", uint64(m.ProcessorCurrentIdleState))
	numeric("process_integrity_level", uint64(m.ProcessIntegrityLevel))
	numeric("process_execute_flags", uint64(m.ProcessExecuteFlags))
	numeric("protected_process", uint64(m.ProtectedProcess))
	numeric("time_zone_id", uint64(m.TimeZoneId))
	numeric("time_zone.bias", uint64(int64(m.TimeZone.Bias)))
	numeric("time_zone.standard_bias", uint64(int64(m.TimeZone.StandardBias)))
	numeric("time_zone.daylight_bias", uint64(int64(m.TimeZone.DaylightBias)))
	numeric("xstate_data.size_of_info", uint64(m.XStateData.SizeOfInfo))
	numeric("xstate_data.context_size", uint64(m.XStateData.ContextSize))
	numeric("xstate_data.enabled_features", m.XStateData.EnabledFeatures)
	// minidump_dump prints the cookie as a signed decimal; compare its 32 bits.
	if v, ok := w.Fields["process_cookie"]; ok && !strings.HasPrefix(v, "(") {
		eq(t, "misc process_cookie", uint64(m.ProcessCookie), w.num(t, "process_cookie")&0xFFFFFFFF)
	}
	text := func(key, got string) {
		if v, ok := w.Fields[key]; ok && !strings.HasPrefix(v, "(") {
			eqs(t, "misc "+key, got, v)
		}
	}
	text("time_zone.standard_name", m.TimeZone.StandardName)
	text("time_zone.daylight_name", m.TimeZone.DaylightName)
	text("build_string", m.BuildString)
	text("dbg_bld_str", m.DbgBldStr)
}

// TestMinidump2AgainstBreakpadOracle compares the decoding of breakpad/minidump2.dmp with
// breakpad/expected/minidump2.dump.out (breakpad's own minidump_dump output, checked in
// upstream as the expected result of its tests).
func TestMinidump2AgainstBreakpadOracle(t *testing.T) {
	f := openFixture(t, "breakpad/minidump2.dmp")
	oracle, err := os.ReadFile(fixture(t, "breakpad/expected/minidump2.dump.out"))
	if err != nil {
		t.Fatal(err)
	}
	recs := parseBreakpadDump(bytes.NewReader(oracle))
	// Guard against a parser of the oracle that silently finds nothing.
	if len(byTitle(recs, "MDRawModule")) != 13 || len(byTitle(recs, "MDMemoryDescriptor")) != 3 {
		t.Fatalf("oracle parse: %d modules, %d memory descriptors; want 13, 3",
			len(byTitle(recs, "MDRawModule")), len(byTitle(recs, "MDMemoryDescriptor")))
	}
	checkAgainstBreakpad(t, f, recs)
}

// minidumpDumpTool is breakpad's minidump_dump when the oracles are installed (see
// /tmp/oracles.log); the test skips without it.
const minidumpDumpTool = "/tmp/oracles/npm/node_modules/minidump/bin/linux-x64/minidump_dump"

// TestCorpusAgainstMinidumpDump runs breakpad's minidump_dump on every user dump of the corpus
// and compares its output with this package's decoding.
func TestCorpusAgainstMinidumpDump(t *testing.T) {
	fixturesDir(t)
	if _, err := os.Stat(minidumpDumpTool); err != nil {
		t.Skipf("breakpad minidump_dump not installed at %s", minidumpDumpTool)
	}
	for _, rel := range corpusDumps {
		t.Run(rel, func(t *testing.T) {
			// minidump_dump exits 1 when an optional stream (the memory info list) is
			// missing, after printing everything else; its output is what counts.
			out, err := exec.Command(minidumpDumpTool, fixture(t, rel)).Output()
			var exitErr *exec.ExitError
			if err != nil && !errors.As(err, &exitErr) {
				t.Fatalf("minidump_dump: %v", err)
			}
			recs := parseBreakpadDump(bytes.NewReader(out))
			if len(byTitle(recs, "MDRawHeader")) != 1 {
				t.Fatalf("minidump_dump printed no header")
			}
			checkAgainstBreakpad(t, openFixture(t, rel), recs)
		})
	}
}
