package synth

import (
	"encoding/binary"
	"path"
	"strings"
)

// userLayout holds the offsets of the user-mode structures !peb and !teb read, for one
// architecture, from the build 19041 columns of FORMATS.md §5 (_PEB, _PEB_LDR_DATA,
// _LDR_DATA_TABLE_ENTRY, _RTL_USER_PROCESS_PARAMETERS, _TEB; x64 tables and x86 tables).
type userLayout struct {
	ptr int // pointer size

	pebSize, pebBeingDebugged, pebImageBase, pebLdr, pebParams, pebHeap int
	pebNumberOfProcessors, pebNtGlobalFlag                              int
	pebOSMajor, pebOSMinor, pebOSBuild, pebOSPlatform, pebSessionID     int

	ldrSize, ldrLength, ldrInitialized, ldrLoadOrder, ldrMemoryOrder, ldrInitOrder int

	entrySize, entryLoadLinks, entryMemoryLinks, entryInitLinks, entryDllBase, entryEntryPoint int
	entrySizeOfImage, entryFullName, entryBaseName, entryFlags, entryLoadCount, entryTlsIndex  int
	entryHashLinks, entryTimeDateStamp                                                         int

	ppSize, ppFlags, ppCurrentDirectory, ppDllPath, ppImagePath, ppCommandLine, ppEnvironment int
	ppWindowTitle, ppDesktopInfo, ppShellInfo, ppRuntimeData, ppEnvironmentSize               int

	tebSize, tebExceptionList, tebStackBase, tebStackLimit, tebSelf, tebEnvironmentPointer int
	tebClientID, tebRpcHandle, tebTLS, tebPEB, tebLastError, tebOwnedLocks, tebLocale      int
	tebLastStatus, tebDeallocationStack                                                    int
}

// layoutX64 is FORMATS.md §5, x64 tables, column 19041.
var layoutX64 = userLayout{
	ptr: 8,
	// _PEB (x64)
	pebSize: 0x7c8, pebBeingDebugged: 0x2, pebImageBase: 0x10, pebLdr: 0x18, pebParams: 0x20,
	pebHeap: 0x30, pebNumberOfProcessors: 0xb8, pebNtGlobalFlag: 0xbc, pebOSMajor: 0x118,
	pebOSMinor: 0x11c, pebOSBuild: 0x120, pebOSPlatform: 0x124, pebSessionID: 0x2c0,
	// _PEB_LDR_DATA (x64)
	ldrSize: 0x58, ldrLength: 0x0, ldrInitialized: 0x4, ldrLoadOrder: 0x10, ldrMemoryOrder: 0x20,
	ldrInitOrder: 0x30,
	// _LDR_DATA_TABLE_ENTRY (x64)
	entrySize: 0x120, entryLoadLinks: 0x0, entryMemoryLinks: 0x10, entryInitLinks: 0x20,
	entryDllBase: 0x30, entryEntryPoint: 0x38, entrySizeOfImage: 0x40, entryFullName: 0x48,
	entryBaseName: 0x58, entryFlags: 0x68, entryLoadCount: 0x6c, entryTlsIndex: 0x6e,
	entryHashLinks: 0x70, entryTimeDateStamp: 0x80,
	// _RTL_USER_PROCESS_PARAMETERS (x64)
	ppSize: 0x440, ppFlags: 0x8, ppCurrentDirectory: 0x38, ppDllPath: 0x50, ppImagePath: 0x60,
	ppCommandLine: 0x70, ppEnvironment: 0x80, ppWindowTitle: 0xb0, ppDesktopInfo: 0xc0,
	ppShellInfo: 0xd0, ppRuntimeData: 0xe0, ppEnvironmentSize: 0x3f0,
	// _TEB (x64)
	tebSize: 0x1838, tebExceptionList: 0x0, tebStackBase: 0x8, tebStackLimit: 0x10, tebSelf: 0x30,
	tebEnvironmentPointer: 0x38, tebClientID: 0x40, tebRpcHandle: 0x50, tebTLS: 0x58, tebPEB: 0x60,
	tebLastError: 0x68, tebOwnedLocks: 0x6c, tebLocale: 0x108, tebLastStatus: 0x1250,
	tebDeallocationStack: 0x1478,
}

// layoutX86 is FORMATS.md §5, x86 tables, column 19041 (also the PEB32/TEB32 of WOW64).
var layoutX86 = userLayout{
	ptr: 4,
	// _PEB (x86)
	pebSize: 0x480, pebBeingDebugged: 0x2, pebImageBase: 0x8, pebLdr: 0xc, pebParams: 0x10,
	pebHeap: 0x18, pebNumberOfProcessors: 0x64, pebNtGlobalFlag: 0x68, pebOSMajor: 0xa4,
	pebOSMinor: 0xa8, pebOSBuild: 0xac, pebOSPlatform: 0xb0, pebSessionID: 0x1d4,
	// _PEB_LDR_DATA (x86)
	ldrSize: 0x30, ldrLength: 0x0, ldrInitialized: 0x4, ldrLoadOrder: 0xc, ldrMemoryOrder: 0x14,
	ldrInitOrder: 0x1c,
	// _LDR_DATA_TABLE_ENTRY (x86)
	entrySize: 0xa8, entryLoadLinks: 0x0, entryMemoryLinks: 0x8, entryInitLinks: 0x10,
	entryDllBase: 0x18, entryEntryPoint: 0x1c, entrySizeOfImage: 0x20, entryFullName: 0x24,
	entryBaseName: 0x2c, entryFlags: 0x34, entryLoadCount: 0x38, entryTlsIndex: 0x3a,
	entryHashLinks: 0x3c, entryTimeDateStamp: 0x44,
	// _RTL_USER_PROCESS_PARAMETERS (x86)
	ppSize: 0x2c0, ppFlags: 0x8, ppCurrentDirectory: 0x24, ppDllPath: 0x30, ppImagePath: 0x38,
	ppCommandLine: 0x40, ppEnvironment: 0x48, ppWindowTitle: 0x70, ppDesktopInfo: 0x78,
	ppShellInfo: 0x80, ppRuntimeData: 0x88, ppEnvironmentSize: 0x290,
	// _TEB (x86)
	tebSize: 0x1000, tebExceptionList: 0x0, tebStackBase: 0x4, tebStackLimit: 0x8, tebSelf: 0x18,
	tebEnvironmentPointer: 0x1c, tebClientID: 0x20, tebRpcHandle: 0x28, tebTLS: 0x2c, tebPEB: 0x30,
	tebLastError: 0x34, tebOwnedLocks: 0x38, tebLocale: 0xc4, tebLastStatus: 0xbf4,
	tebDeallocationStack: 0xe0c,
}

func userLayoutFor(arch Arch) *userLayout {
	if arch == ArchX86 || arch == ArchARM {
		return &layoutX86
	}
	return &layoutX64
}

// LoadedModule is one loader-list entry (LDR_DATA_TABLE_ENTRY).
type LoadedModule struct {
	Base          uint64
	Size          uint32
	EntryPoint    uint64
	FullName      string // C:\Windows\System32\ntdll.dll; the base name is its last element
	TimeDateStamp uint32
}

// ProcessParameters is RTL_USER_PROCESS_PARAMETERS' strings and environment.
type ProcessParameters struct {
	CurrentDirectory string
	DllPath          string
	ImagePathName    string
	CommandLine      string
	WindowTitle      string
	DesktopInfo      string
	ShellInfo        string
	Environment      []string // NAME=value, in block order
}

// Process describes a process environment block and what hangs off it. Build lays it out as
// target memory: the PEB at PEB, everything else (loader data, entries, parameters, strings,
// environment) packed from Heap upwards.
type Process struct {
	PEB  uint64
	Heap uint64

	ImageBase          uint64
	BeingDebugged      bool
	NtGlobalFlag       uint32
	NumberOfProcessors uint32
	OSMajorVersion     uint32
	OSMinorVersion     uint32
	OSBuildNumber      uint16
	OSPlatformID       uint32
	SessionID          uint32

	Modules []LoadedModule // in load order; all but the first are also in initialisation order
	Params  ProcessParameters

	// LoopLoaderList makes the last load-order entry point back at the first entry instead of
	// at the list head, so that a walker that only stops at the head never ends.
	LoopLoaderList bool
}

// MemoryBlock is a piece of target memory: where it is and its bytes.
type MemoryBlock struct {
	Addr uint64
	Data []byte
}

// heapWriter packs structures into one block of target memory.
type heapWriter struct {
	base uint64
	data []byte
	ptr  int
}

func (h *heapWriter) alloc(n int) (addr uint64, off int) {
	for len(h.data)%16 != 0 {
		h.data = append(h.data, 0)
	}
	off = len(h.data)
	h.data = append(h.data, make([]byte, n)...)
	return h.base + uint64(off), off
}

func (h *heapWriter) putPtr(off int, v uint64) { putPtr(h.data, off, h.ptr, v) }

func putPtr(b []byte, off, size int, v uint64) {
	if size == 4 {
		binary.LittleEndian.PutUint32(b[off:], uint32(v))
		return
	}
	binary.LittleEndian.PutUint64(b[off:], v)
}

// unicodeString stores s (with a NUL after it) and writes a UNICODE_STRING pointing at it at
// off: Length u16 (bytes, no NUL), MaximumLength u16, Buffer pointer after the padding
// (FORMATS.md §1.6's "Length u16, MaxLength u16, pad, Buffer ptr").
func (h *heapWriter) unicodeString(off int, s string) {
	text := UTF16Z(s)
	addr, at := h.alloc(len(text))
	copy(h.data[at:], text)
	binary.LittleEndian.PutUint16(h.data[off:], uint16(len(text)-2))
	binary.LittleEndian.PutUint16(h.data[off+2:], uint16(len(text)))
	h.putPtr(off+h.ptr, addr)
}

// Build lays the process out for the given architecture and returns the PEB block and the
// heap block.
func (p Process) Build(arch Arch) []MemoryBlock {
	lay := userLayoutFor(arch)
	ptr := lay.ptr
	h := &heapWriter{base: p.Heap, ptr: ptr}

	// PEB_LDR_DATA and the entries.
	ldrAddr, ldrOff := h.alloc(lay.ldrSize)
	binary.LittleEndian.PutUint32(h.data[ldrOff+lay.ldrLength:], uint32(lay.ldrSize))
	h.data[ldrOff+lay.ldrInitialized] = 1
	entries := make([]uint64, len(p.Modules))
	entryOffs := make([]int, len(p.Modules))
	for i := range p.Modules {
		entries[i], entryOffs[i] = h.alloc(lay.entrySize)
	}
	for i, m := range p.Modules {
		e := entryOffs[i]
		h.putPtr(e+lay.entryDllBase, m.Base)
		h.putPtr(e+lay.entryEntryPoint, m.EntryPoint)
		binary.LittleEndian.PutUint32(h.data[e+lay.entrySizeOfImage:], m.Size)
		h.unicodeString(e+lay.entryFullName, m.FullName)
		h.unicodeString(e+lay.entryBaseName, baseName(m.FullName))
		binary.LittleEndian.PutUint32(h.data[e+lay.entryFlags:], 0x000CC2CC)
		binary.LittleEndian.PutUint16(h.data[e+lay.entryLoadCount:], 0xFFFF)
		// HashLinks: a list of its own; point it at itself.
		h.putPtr(e+lay.entryHashLinks, entries[i]+uint64(lay.entryHashLinks))
		h.putPtr(e+lay.entryHashLinks+ptr, entries[i]+uint64(lay.entryHashLinks))
		binary.LittleEndian.PutUint32(h.data[e+lay.entryTimeDateStamp:], m.TimeDateStamp)
	}
	all := make([]int, len(p.Modules))
	for i := range all {
		all[i] = i
	}
	p.linkList(h, lay, ldrAddr+uint64(lay.ldrLoadOrder), ldrOff+lay.ldrLoadOrder, entries, entryOffs, lay.entryLoadLinks, all, p.LoopLoaderList)
	p.linkList(h, lay, ldrAddr+uint64(lay.ldrMemoryOrder), ldrOff+lay.ldrMemoryOrder, entries, entryOffs, lay.entryMemoryLinks, all, false)
	if len(all) > 0 {
		all = all[1:] // the image itself is not initialised like a DLL
	}
	p.linkList(h, lay, ldrAddr+uint64(lay.ldrInitOrder), ldrOff+lay.ldrInitOrder, entries, entryOffs, lay.entryInitLinks, all, false)

	// RTL_USER_PROCESS_PARAMETERS, normalised (Flags bit 0): its pointers are addresses.
	ppAddr, pp := h.alloc(lay.ppSize)
	binary.LittleEndian.PutUint32(h.data[pp:], uint32(lay.ppSize))   // MaximumLength
	binary.LittleEndian.PutUint32(h.data[pp+4:], uint32(lay.ppSize)) // Length
	binary.LittleEndian.PutUint32(h.data[pp+lay.ppFlags:], 1)
	h.unicodeString(pp+lay.ppCurrentDirectory, p.Params.CurrentDirectory) // CURDIR.DosPath
	h.unicodeString(pp+lay.ppDllPath, p.Params.DllPath)
	h.unicodeString(pp+lay.ppImagePath, p.Params.ImagePathName)
	h.unicodeString(pp+lay.ppCommandLine, p.Params.CommandLine)
	h.unicodeString(pp+lay.ppWindowTitle, p.Params.WindowTitle)
	h.unicodeString(pp+lay.ppDesktopInfo, p.Params.DesktopInfo)
	h.unicodeString(pp+lay.ppShellInfo, p.Params.ShellInfo)
	env := environmentBlock(p.Params.Environment)
	envAddr, envOff := h.alloc(len(env))
	copy(h.data[envOff:], env)
	h.putPtr(pp+lay.ppEnvironment, envAddr)
	h.putPtr(pp+lay.ppEnvironmentSize, uint64(len(env)))

	// The PEB itself.
	peb := make([]byte, lay.pebSize)
	if p.BeingDebugged {
		peb[lay.pebBeingDebugged] = 1
	}
	putPtr(peb, lay.pebImageBase, ptr, p.ImageBase)
	putPtr(peb, lay.pebLdr, ptr, ldrAddr)
	putPtr(peb, lay.pebParams, ptr, ppAddr)
	putPtr(peb, lay.pebHeap, ptr, p.Heap)
	binary.LittleEndian.PutUint32(peb[lay.pebNumberOfProcessors:], p.NumberOfProcessors)
	binary.LittleEndian.PutUint32(peb[lay.pebNtGlobalFlag:], p.NtGlobalFlag)
	binary.LittleEndian.PutUint32(peb[lay.pebOSMajor:], p.OSMajorVersion)
	binary.LittleEndian.PutUint32(peb[lay.pebOSMinor:], p.OSMinorVersion)
	binary.LittleEndian.PutUint16(peb[lay.pebOSBuild:], p.OSBuildNumber)
	binary.LittleEndian.PutUint32(peb[lay.pebOSPlatform:], p.OSPlatformID)
	binary.LittleEndian.PutUint32(peb[lay.pebSessionID:], p.SessionID)
	return []MemoryBlock{{p.PEB, peb}, {p.Heap, h.data}}
}

// linkList links the entries in order through the LIST_ENTRY at linkOff inside each entry,
// with the head at headAddr: head.Flink → first, last.Flink → head (or → first when loop),
// and Blinks the other way.
func (p Process) linkList(h *heapWriter, lay *userLayout, headAddr uint64, headOff int, entries []uint64, entryOffs []int, linkOff int, order []int, loop bool) {
	ptr := lay.ptr
	if len(order) == 0 {
		h.putPtr(headOff, headAddr)
		h.putPtr(headOff+ptr, headAddr)
		return
	}
	link := func(i int) uint64 { return entries[order[i]] + uint64(linkOff) }
	h.putPtr(headOff, link(0))
	h.putPtr(headOff+ptr, link(len(order)-1))
	for i := range order {
		off := entryOffs[order[i]] + linkOff
		next, prev := headAddr, headAddr
		if i+1 < len(order) {
			next = link(i + 1)
		} else if loop {
			next = link(0)
		}
		if i > 0 {
			prev = link(i - 1)
		}
		h.putPtr(off, next)
		h.putPtr(off+ptr, prev)
	}
}

// environmentBlock is the UTF-16 environment: each NAME=value NUL-terminated, then one more NUL.
func environmentBlock(vars []string) []byte {
	var b []byte
	for _, v := range vars {
		b = append(b, UTF16Z(v)...)
	}
	return append(b, 0, 0)
}

func baseName(full string) string {
	return path.Base(strings.ReplaceAll(full, `\`, "/"))
}

// TEB describes a thread environment block.
type TEB struct {
	Addr          uint64
	ExceptionList uint64
	StackBase     uint64
	StackLimit    uint64
	PEB           uint64
	ProcessID     uint64
	ThreadID      uint64
	TLS           uint64 // ThreadLocalStoragePointer
	LastError     uint32
	LastStatus    uint32
	Locale        uint32
	// DeallocationStack is the reservation base of the stack.
	DeallocationStack uint64
}

// Bytes lays the TEB out for the architecture (its full size: 0x1838 bytes on x64, 0x1000 on x86).
func (t TEB) Bytes(arch Arch) []byte {
	lay := userLayoutFor(arch)
	ptr := lay.ptr
	b := make([]byte, lay.tebSize)
	putPtr(b, lay.tebExceptionList, ptr, t.ExceptionList)
	putPtr(b, lay.tebStackBase, ptr, t.StackBase)
	putPtr(b, lay.tebStackLimit, ptr, t.StackLimit)
	putPtr(b, lay.tebSelf, ptr, t.Addr)
	putPtr(b, lay.tebClientID, ptr, t.ProcessID)
	putPtr(b, lay.tebClientID+ptr, ptr, t.ThreadID)
	putPtr(b, lay.tebTLS, ptr, t.TLS)
	putPtr(b, lay.tebPEB, ptr, t.PEB)
	binary.LittleEndian.PutUint32(b[lay.tebLastError:], t.LastError)
	binary.LittleEndian.PutUint32(b[lay.tebLocale:], t.Locale)
	binary.LittleEndian.PutUint32(b[lay.tebLastStatus:], t.LastStatus)
	putPtr(b, lay.tebDeallocationStack, ptr, t.DeallocationStack)
	return b
}
