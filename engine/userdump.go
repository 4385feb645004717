package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"wdbg/engine/cpu"
	"wdbg/engine/minidump"
)

// newUserTarget fills a Target from a user-mode minidump. Only a bad header or directory (which
// minidump.NewFile already rejected) is fatal: a stream that fails to decode becomes a Note and
// the rest of the dump still opens.
func newUserTarget(f *minidump.File) (*Target, error) {
	u := &userDump{f: f, t: &Target{Format: "minidump", closer: f.Close}}
	u.build()
	if u.t.Arch == cpu.ArchUnknown && len(u.t.Threads) == 0 && len(u.t.Modules) == 0 {
		// Nothing a debugger could show: no system info, no threads, no modules. This is a
		// damaged file that merely starts with 'MDMP' (rust-minidump's invalid-*.dmp).
		f.Close()
		why := "no SystemInfoStream, ThreadListStream or ModuleListStream could be read"
		if n := len(u.t.Notes); n > 0 {
			why += "; " + strings.Join(u.t.Notes[:min(n, 3)], "; ")
		}
		return nil, fmt.Errorf("minidump: nothing usable in the dump (%s)", why)
	}
	return u.t, nil
}

type userDump struct {
	f *minidump.File
	t *Target
}

// skipped records a stream that could not be decoded.
func (u *userDump) skipped(st minidump.StreamType, err error) {
	off := uint32(0)
	if d, ok := u.f.Stream(st); ok {
		off = d.Location.Rva
	}
	u.note("skipped %s at %#x: %v", st, off, err)
}

func (u *userDump) note(format string, args ...any) {
	u.t.Notes = append(u.t.Notes, fmt.Sprintf(format, args...))
}

// tally collects the problems of the records of one list, so that a list with a thousand bad
// names gives one note, not a thousand.
type tally struct {
	what  string // "module records only partly readable"
	n     int
	first error
}

func (t *tally) add(err error) {
	if err != nil {
		if t.n == 0 {
			t.first = err
		}
		t.n++
	}
}

func (u *userDump) noteTally(t *tally) {
	switch {
	case t.n == 1:
		u.note("%v", t.first)
	case t.n > 1:
		u.note("%d %s (first: %v)", t.n, t.what, t.first)
	}
}

func (u *userDump) build() {
	f, t := u.f, u.t
	h := f.Header
	if h.Version&0xFFFF != minidump.HeaderVersion {
		u.note("unexpected minidump version %#x (expected low 16 bits %#x)", h.Version, minidump.HeaderVersion)
	}
	if h.TimeDateStamp != 0 {
		t.DumpTime = time.Unix(int64(h.TimeDateStamp), 0).UTC()
	}
	u.streams()
	u.system()
	u.misc()
	mem64, err := f.Memory64List()
	if err != nil {
		u.skipped(minidump.Memory64ListStream, err)
	}
	t.Kind = KindUserMini
	if h.Flags&minidump.MiniDumpWithFullMemory != 0 || mem64 != nil {
		t.Kind = KindUserFull
	}
	u.threads()
	u.modules()
	u.unloaded()
	u.exception()
	u.handles()
	u.memoryInfo()
	if cs, err := f.Comments(); err != nil {
		u.note("skipped a comment stream: %v", err)
	} else {
		for _, c := range cs {
			t.Comments = append(t.Comments, c.Text)
		}
	}
	mem := f.Memory()
	for _, err := range mem.Issues {
		// A list that failed to decode was already noted by name; note clipping and overlaps.
		var fe *minidump.FormatError
		if !errors.As(err, &fe) {
			u.note("%v", err)
		} else if fe.What == "memory list" {
			u.skipped(minidump.MemoryListStream, err)
		}
	}
	t.Memory = userMemory{mem}
}

// decodedStreams are the stream types newUserTarget reads; a second stream of one of these
// types is ignored (with a note), as the first one is what every accessor uses.
var decodedStreams = map[minidump.StreamType]bool{
	minidump.ThreadListStream: true, minidump.ThreadExListStream: true, minidump.ModuleListStream: true,
	minidump.MemoryListStream: true, minidump.Memory64ListStream: true, minidump.ExceptionStream: true,
	minidump.SystemInfoStream: true, minidump.MiscInfoStream: true, minidump.UnloadedModuleListStream: true,
	minidump.MemoryInfoListStream: true, minidump.ThreadInfoListStream: true, minidump.ThreadNamesStream: true,
	minidump.HandleDataStream: true,
}

// streams lists the directory, noting unknown and duplicate streams.
func (u *userDump) streams() {
	seen := map[minidump.StreamType]bool{}
	var unknown []string
	for _, d := range u.f.Directory {
		st := d.StreamType
		u.t.Streams = append(u.t.Streams, StreamInfo{
			Type: uint32(st), Name: st.Name(), Offset: d.Location.Rva, Size: d.Location.DataSize, Known: st.Known(),
		})
		switch {
		case !st.Known():
			unknown = append(unknown, fmt.Sprintf("%#x at %#x", uint32(st), d.Location.Rva))
		case decodedStreams[st] && seen[st]:
			u.note("ignored a second %s at %#x", st, d.Location.Rva)
		}
		seen[st] = true
	}
	if len(unknown) > 0 {
		const show = 4
		list := strings.Join(unknown[:min(len(unknown), show)], ", ")
		if len(unknown) > show {
			list += fmt.Sprintf(" and %d more", len(unknown)-show)
		}
		u.note("skipped %d stream(s) of unknown type: %s", len(unknown), list)
	}
}

// archFromSystemInfo maps PROCESSOR_ARCHITECTURE_* to the debugger's architecture.
func archFromSystemInfo(pa uint16) Arch {
	switch pa {
	case minidump.ProcessorArchitectureIntel, minidump.ProcessorArchitectureIA32OnWin64:
		return cpu.ArchX86
	case minidump.ProcessorArchitectureAMD64:
		return cpu.ArchAMD64
	case minidump.ProcessorArchitectureARM64:
		return cpu.ArchARM64
	case minidump.ProcessorArchitectureARM, minidump.ProcessorArchitectureARM32OnWin64:
		return cpu.ArchARM
	}
	return cpu.ArchUnknown
}

func (u *userDump) system() {
	si, err := u.f.SystemInfo()
	if err != nil {
		u.skipped(minidump.SystemInfoStream, err)
	}
	if si == nil {
		if err == nil {
			u.note("the dump has no SystemInfoStream")
		}
		return
	}
	u.t.Arch = archFromSystemInfo(si.ProcessorArchitecture)
	if u.t.Arch == cpu.ArchUnknown {
		u.note("unknown processor architecture %#x in SystemInfoStream", si.ProcessorArchitecture)
	}
	if si.CSDVersionErr != nil {
		u.note("service pack string: %v", si.CSDVersionErr)
	}
	s := &u.t.System
	s.ProcessorArchitecture = si.ProcessorArchitecture
	s.ProcessorLevel = si.ProcessorLevel
	s.ProcessorRevision = si.ProcessorRevision
	s.NumberOfProcessors = int(si.NumberOfProcessors)
	s.ProductType = si.ProductType
	s.MajorVersion = si.MajorVersion
	s.MinorVersion = si.MinorVersion
	s.BuildNumber = si.BuildNumber
	s.PlatformID = si.PlatformId
	s.CSDVersion = si.CSDVersion
	s.SuiteMask = si.SuiteMask
	// CPU_INFORMATION holds the CPUID vendor only on x86 (X86CpuInfo); elsewhere it is
	// OtherCpuInfo.ProcessorFeatures (FORMATS.md §4.3).
	if u.t.Arch == cpu.ArchX86 {
		s.CPUVendor = si.Cpu.VendorId()
	}
}

func (u *userDump) misc() {
	mi, err := u.f.MiscInfo()
	if err != nil {
		u.skipped(minidump.MiscInfoStream, err)
	}
	if mi == nil {
		return
	}
	p := &u.t.Process
	if mi.Flags1&minidump.MiscInfoProcessID != 0 {
		p.ID, p.HasID = mi.ProcessId, true
	}
	if mi.Flags1&minidump.MiscInfoProcessTimes != 0 {
		p.HasTimes = true
		if mi.ProcessCreateTime != 0 {
			p.CreateTime = time.Unix(int64(mi.ProcessCreateTime), 0).UTC()
		}
		p.UserTime = time.Duration(mi.ProcessUserTime) * time.Second
		p.KernelTime = time.Duration(mi.ProcessKernelTime) * time.Second
	}
	if mi.Version() >= 3 && mi.Flags1&minidump.MiscInfoTimezone != 0 {
		tz := mi.TimeZone
		u.t.TimeZone = &TimeZone{
			ID: mi.TimeZoneId, Bias: tz.Bias, StandardName: tz.StandardName, DaylightName: tz.DaylightName,
			StandardBias: tz.StandardBias, DaylightBias: tz.DaylightBias,
		}
	}
	if mi.Version() >= 4 && mi.Flags1&minidump.MiscInfoBuildString != 0 {
		u.t.System.BuildString = mi.BuildString
	}
}

// contextArch picks the layout of a CONTEXT record. The dump's architecture decides, unless the
// record's own ContextFlags CPU bit (FORMATS.md §4.4) says it is another one, which happens
// when a 32-bit writer dumps a WOW64 process or when the dump has no SystemInfoStream.
func contextArch(sys Arch, raw []byte) Arch {
	if contextFlagsMatch(sys, raw) {
		return sys
	}
	for _, a := range []Arch{cpu.ArchAMD64, cpu.ArchX86, cpu.ArchARM64} {
		if a != sys && contextFlagsMatch(a, raw) {
			return a
		}
	}
	return sys
}

// contextFlagsMatch checks a CONTEXT's ContextFlags CPU bit and minimum size for one layout.
func contextFlagsMatch(a Arch, raw []byte) bool {
	flagsAt, bit, size := 0, uint32(0), 0
	switch a {
	case cpu.ArchX86:
		flagsAt, bit, size = 0, 0x00010000, 0xCC // up to SegSs; ExtendedRegisters is optional
	case cpu.ArchAMD64:
		flagsAt, bit, size = 0x30, 0x00100000, 0x4D0
	case cpu.ArchARM64:
		flagsAt, bit, size = 0, 0x00400000, 0x390
	default:
		return false
	}
	if len(raw) < size {
		return false
	}
	flags := binary.LittleEndian.Uint32(raw[flagsAt:])
	// Bits 16..23 name the CPU (x86 0x10000, IA64 0x80000, AMD64 0x100000, ARM 0x200000, ARM64
	// 0x400000); exactly the expected one must be set. Higher bits are exception-state flags.
	return flags&0x00FF0000 == bit
}

// decodeContext decodes a raw CONTEXT record for the dump's architecture, guessing the
// architecture from the record when the dump does not say.
func (u *userDump) decodeContext(raw []byte, rawErr error) (cpu.Context, error) {
	if rawErr != nil {
		return nil, rawErr
	}
	if len(raw) == 0 {
		return nil, errors.New("the dump holds no register context")
	}
	return cpu.Decode(contextArch(u.t.Arch, raw), raw)
}

func (u *userDump) threads() {
	f, t := u.f, u.t
	list, err := f.Threads()
	st := minidump.ThreadListStream
	if err != nil {
		u.skipped(st, err)
	}
	if _, has := f.Stream(minidump.ThreadListStream); !has {
		st = minidump.ThreadExListStream
		if list, err = f.ThreadsEx(); err != nil {
			u.skipped(st, err)
		}
	}
	names := map[uint32]string{}
	if tn, err := f.ThreadNames(); err != nil {
		u.skipped(minidump.ThreadNamesStream, err)
	} else {
		bad := tally{what: "thread names unreadable"}
		defer u.noteTally(&bad)
		for _, n := range tn {
			if n.NameErr != nil {
				bad.add(n.NameErr)
				continue
			}
			if _, dup := names[n.ThreadId]; !dup {
				names[n.ThreadId] = n.Name
			}
		}
	}
	infos := map[uint32]*ThreadInfo{}
	if ti, err := f.ThreadInfoList(); err != nil {
		u.skipped(minidump.ThreadInfoListStream, err)
	} else {
		for _, i := range ti {
			if _, dup := infos[i.ThreadId]; !dup {
				infos[i.ThreadId] = &ThreadInfo{
					DumpFlags: i.DumpFlags, DumpError: i.DumpError, ExitStatus: i.ExitStatus,
					CreateTime: i.CreateTime, ExitTime: i.ExitTime, KernelTime: i.KernelTime, UserTime: i.UserTime,
					StartAddress: i.StartAddress, Affinity: i.Affinity,
				}
			}
		}
	}
	if t.Arch == cpu.ArchUnknown {
		u.guessArch(list)
	}
	t.Threads = make([]Thread, 0, len(list))
	for _, th := range list {
		ctx, cerr := u.decodeContext(f.ThreadContext(th))
		t.Threads = append(t.Threads, Thread{
			ID: th.ThreadId, SuspendCount: th.SuspendCount, PriorityClass: th.PriorityClass, Priority: th.Priority,
			TEB: th.Teb, StackStart: th.Stack.StartOfMemoryRange, StackSize: uint64(th.Stack.Memory.DataSize),
			Context: ctx, ContextError: cerr, Name: names[th.ThreadId], Info: infos[th.ThreadId],
		})
	}
}

// guessArch sets the architecture from the first thread context whose flags say which it is.
func (u *userDump) guessArch(list []minidump.Thread) {
	for _, th := range list {
		raw, err := u.f.ThreadContext(th)
		if err != nil {
			continue
		}
		if a := contextArch(cpu.ArchUnknown, raw); a != cpu.ArchUnknown {
			u.t.Arch = a
			return
		}
	}
}

func (u *userDump) modules() {
	mods, err := u.f.Modules()
	if err != nil {
		u.skipped(minidump.ModuleListStream, err)
	}
	u.t.Modules = make([]Module, 0, len(mods))
	type key struct {
		base uint64
		size uint32
		path string
	}
	seen := map[key]bool{}
	bad := tally{what: "module records only partly readable"}
	defer u.noteTally(&bad)
	for i, m := range mods {
		// A WOW64 process's dump lists its main image twice, once per loader (64- and 32-bit),
		// with the same base, size and path; the debugger shows it once, as lldb does too.
		k := key{m.BaseOfImage, m.SizeOfImage, strings.ToLower(m.Name)}
		if seen[k] {
			continue
		}
		seen[k] = true
		if m.NameErr != nil {
			bad.add(fmt.Errorf("module %d at %#x: %w", i, m.BaseOfImage, m.NameErr))
		}
		if m.CodeViewErr != nil {
			bad.add(fmt.Errorf("module %d at %#x: %w", i, m.BaseOfImage, m.CodeViewErr))
		}
		mod := Module{
			Base: m.BaseOfImage, Size: m.SizeOfImage, Checksum: m.CheckSum, TimeDateStamp: m.TimeDateStamp,
			Path: m.Name, ImageName: imageName(m.Name),
		}
		if v := m.VersionInfo; v.Valid() {
			mod.Version = &FixedFileInfo{
				FileVersion: v.FileVersion(), ProductVersion: v.ProductVersion(),
				FileFlagsMask: v.FileFlagsMask, FileFlags: v.FileFlags, FileOS: v.FileOS,
				FileType: v.FileType, FileSubtype: v.FileSubtype,
				FileDate: uint64(v.FileDateMS)<<32 | uint64(v.FileDateLS),
			}
		}
		if cv := m.CodeView; cv != nil {
			mod.CodeView = &CodeView{Age: cv.Age, PDBName: cv.PDBName}
			if cv.Signature == minidump.CvSignatureRSDS {
				mod.CodeView.Signature = "RSDS"
				mod.CodeView.GUID = cv.GUID.Bytes()
			} else {
				mod.CodeView.Signature = "NB10"
				mod.CodeView.Timestamp = cv.Timestamp
			}
		}
		u.t.Modules = append(u.t.Modules, mod)
	}
	assignModuleNames(u.t.Modules)
}

func (u *userDump) unloaded() {
	mods, err := u.f.UnloadedModules()
	if err != nil {
		u.skipped(minidump.UnloadedModuleListStream, err)
	}
	bad := tally{what: "unloaded module names unreadable"}
	defer u.noteTally(&bad)
	for i, m := range mods {
		if m.NameErr != nil {
			bad.add(fmt.Errorf("unloaded module %d at %#x: %w", i, m.BaseOfImage, m.NameErr))
		}
		u.t.Unloaded = append(u.t.Unloaded, UnloadedModule{
			Base: m.BaseOfImage, Size: m.SizeOfImage, Checksum: m.CheckSum, TimeDateStamp: m.TimeDateStamp,
			Path: m.Name, ImageName: imageName(m.Name),
		})
	}
}

func (u *userDump) exception() {
	e, err := u.f.Exception()
	if err != nil {
		u.skipped(minidump.ExceptionStream, err)
	}
	if e == nil {
		return
	}
	r := e.ExceptionRecord
	x := &Exception{
		ThreadID: e.ThreadId, Code: r.ExceptionCode, Flags: r.ExceptionFlags, Record: r.ExceptionRecord,
		Address: r.ExceptionAddress, Parameters: append([]uint64(nil), r.Parameters()...),
	}
	if r.NumberParameters > minidump.ExceptionMaximumParameters {
		u.note("exception record claims %d parameters; only %d exist", r.NumberParameters, minidump.ExceptionMaximumParameters)
	}
	x.Context, x.ContextError = u.decodeContext(u.f.ExceptionContext(e))
	u.t.Exception = x
}

func (u *userDump) handles() {
	hs, err := u.f.Handles()
	if err != nil {
		u.skipped(minidump.HandleDataStream, err)
	}
	bad := tally{what: "handle descriptors only partly readable"}
	defer u.noteTally(&bad)
	for _, h := range hs {
		bad.add(h.Err)
		u.t.Handles = append(u.t.Handles, Handle{
			Handle: h.Handle, TypeName: h.TypeName, ObjectName: h.ObjectName, Attributes: h.Attributes,
			GrantedAccess: h.GrantedAccess, HandleCount: h.HandleCount, PointerCount: h.PointerCount,
		})
	}
}

func (u *userDump) memoryInfo() {
	infos, err := u.f.MemoryInfoList()
	if err != nil {
		u.skipped(minidump.MemoryInfoListStream, err)
	}
	for _, m := range infos {
		u.t.MemoryInfo = append(u.t.MemoryInfo, MemoryRegion{
			BaseAddress: m.BaseAddress, AllocationBase: m.AllocationBase, AllocationProtect: m.AllocationProtect,
			RegionSize: m.RegionSize, State: m.State, Protect: m.Protect, Type: m.Type,
		})
	}
}

// userMemory adapts the minidump's range set to Memory, translating its read errors.
type userMemory struct{ m *minidump.Memory }

func (u userMemory) ReadAt(p []byte, addr uint64) (int, error) {
	n, err := u.m.ReadAt(p, addr)
	var re *minidump.ReadError
	if errors.As(err, &re) {
		err = &ReadError{Addr: re.Addr}
	}
	return n, err
}
