// Package synth writes synthetic Windows user-mode minidumps for tests: every stream type,
// x86/x64/ARM64 contexts, missing and overlapping memory, Unicode names, deliberately damaged
// files, and very large full-memory dumps streamed to disk.
//
// It lays the bytes out itself from ../shared/spec/FORMATS.md §4 and shares nothing with the
// parser (engine/minidump), so that a wrong offset cannot hide on both sides of a test.
//
// A Minidump is a description; Bytes, WriteTo and WriteFile lay it out. Streams appear in the
// directory in the order of the first call that creates them, so the same calls always give the
// same bytes.
package synth

import (
	"encoding/binary"
	"io"
)

// Arch is the processor architecture of a synthetic dump, valued as SystemInfo's
// ProcessorArchitecture (FORMATS.md §4.3).
type Arch uint16

const (
	ArchX86   Arch = 0
	ArchARM   Arch = 5
	ArchAMD64 Arch = 9
	ArchARM64 Arch = 12
)

// Stream types, FORMATS.md §4.2.
const (
	ThreadListStream         uint32 = 3
	ModuleListStream         uint32 = 4
	MemoryListStream         uint32 = 5
	ExceptionStream          uint32 = 6
	SystemInfoStream         uint32 = 7
	ThreadExListStream       uint32 = 8
	Memory64ListStream       uint32 = 9
	CommentStreamA           uint32 = 0xA
	CommentStreamW           uint32 = 0xB
	HandleDataStream         uint32 = 0xC
	FunctionTableStream      uint32 = 0xD
	UnloadedModuleListStream uint32 = 0xE
	MiscInfoStream           uint32 = 0xF
	MemoryInfoListStream     uint32 = 0x10
	ThreadInfoListStream     uint32 = 0x11
	HandleOperationStream    uint32 = 0x12
	TokenStream              uint32 = 0x13
	ThreadNamesStream        uint32 = 0x18
)

// MINIDUMP_TYPE bits of the header's Flags (FORMATS.md §4.1) that the writer sets by itself.
const (
	FlagWithFullMemory      uint64 = 0x2
	FlagWithHandleData      uint64 = 0x4
	FlagWithUnloadedModules uint64 = 0x20
	FlagWithFullMemoryInfo  uint64 = 0x800
	FlagWithThreadInfo      uint64 = 0x1000
)

// headerSize and directoryEntrySize are MINIDUMP_HEADER and MINIDUMP_DIRECTORY (FORMATS.md §4.1).
const (
	headerSize         = 32
	directoryEntrySize = 12
	signatureMDMP      = 0x504D444D
	versionMDMP        = 0xA793
)

// Minidump describes a dump to write. The zero value is not usable; call NewMinidump.
type Minidump struct {
	arch Arch

	// TimeDateStamp is the header's time_t. Version is the header's version word (low 16 bits
	// must be 0xA793 for a valid dump).
	TimeDateStamp uint32
	Version       uint32

	flags    uint64
	flagsSet bool

	order   []*stream // directory order
	streams map[uint32]*stream

	systemInfo  *SystemInfo
	threads     []*Thread
	threadEx    bool
	modules     []*Module
	unloaded    []UnloadedModule
	memory      []memoryRange // MemoryList
	full        []Range       // Memory64List
	fullUsed    bool
	exception   *Exception
	misc        *MiscInfo
	threadInfo  []ThreadInfo
	threadNames []ThreadName
	handles     []Handle
	handleSize  int
	memoryInfo  []MemoryInfo
	commentA    string
	commentW    string

	damage damage
}

// stream is one directory entry: its type and how to write its body.
type stream struct {
	typ   uint32
	raw   []byte // RawStream bodies
	write func(l *layout) (off, size int)
}

// NewMinidump starts a dump of the given architecture. Its header time is 0 until set.
func NewMinidump(arch Arch) *Minidump {
	return &Minidump{arch: arch, Version: versionMDMP, streams: map[uint32]*stream{}}
}

// Arch is the architecture the dump was created for.
func (b *Minidump) Arch() Arch { return b.arch }

// SetFlags sets the header's MINIDUMP_TYPE flags. Without it the writer derives them from the
// streams present (full memory, handles, unloaded modules, memory info, thread info).
func (b *Minidump) SetFlags(flags uint64) {
	b.flags, b.flagsSet = flags, true
}

// use registers the stream of type typ the first time a builder call needs it.
func (b *Minidump) use(typ uint32, write func(l *layout) (off, size int)) {
	if _, ok := b.streams[typ]; ok {
		return
	}
	s := &stream{typ: typ, write: write}
	b.streams[typ] = s
	b.order = append(b.order, s)
}

// RawStream adds a directory entry of any type with the given body, e.g. a type wdbg does not
// know. Each call adds one more entry, even for a type already present.
func (b *Minidump) RawStream(typ uint32, body []byte) {
	data := append([]byte(nil), body...)
	b.order = append(b.order, &stream{typ: typ, raw: data, write: func(l *layout) (int, int) {
		return l.put(data), len(data)
	}})
}

// CommentA adds the CommentStreamA stream: ANSI text with a terminating NUL.
func (b *Minidump) CommentA(text string) {
	b.commentA = text
	b.use(CommentStreamA, func(l *layout) (int, int) {
		body := append([]byte(b.commentA), 0)
		return l.put(body), len(body)
	})
}

// CommentW adds the CommentStreamW stream: UTF-16LE text with a terminating NUL.
func (b *Minidump) CommentW(text string) {
	b.commentW = text
	b.use(CommentStreamW, func(l *layout) (int, int) {
		body := append(utf16LE(b.commentW), 0, 0)
		return l.put(body), len(body)
	})
}

// derivedFlags is the MINIDUMP_TYPE a real writer would have set for the streams present.
func (b *Minidump) derivedFlags() uint64 {
	if b.flagsSet {
		return b.flags
	}
	var f uint64
	if b.fullUsed {
		f |= FlagWithFullMemory
	}
	if _, ok := b.streams[HandleDataStream]; ok {
		f |= FlagWithHandleData
	}
	if _, ok := b.streams[UnloadedModuleListStream]; ok {
		f |= FlagWithUnloadedModules
	}
	if _, ok := b.streams[MemoryInfoListStream]; ok {
		f |= FlagWithFullMemoryInfo
	}
	if _, ok := b.streams[ThreadInfoListStream]; ok {
		f |= FlagWithThreadInfo
	}
	return f
}

// Bytes lays the dump out in memory. Use WriteFile for dumps too large to hold.
func (b *Minidump) Bytes() []byte {
	l := b.layout()
	out := make([]byte, 0, l.total)
	w := &appendWriter{out}
	if _, err := l.writeTo(w); err != nil {
		panic("synth: writing to memory failed: " + err.Error()) // appendWriter never fails
	}
	return w.b
}

// WriteTo writes the dump to w, producing full-memory range contents a chunk at a time, so that
// a large dump never sits in memory whole.
func (b *Minidump) WriteTo(w io.Writer) (int64, error) {
	return b.layout().writeTo(w)
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// writeHeader fills MINIDUMP_HEADER (FORMATS.md §4.1) at offset 0.
func (b *Minidump) writeHeader(l *layout, streams int) {
	le := binary.LittleEndian
	le.PutUint32(l.buf[0x00:], signatureMDMP)
	le.PutUint32(l.buf[0x04:], b.Version)
	le.PutUint32(l.buf[0x08:], uint32(streams))
	le.PutUint32(l.buf[0x0C:], headerSize) // StreamDirectoryRva: right after the header
	le.PutUint32(l.buf[0x10:], 0)          // CheckSum
	le.PutUint32(l.buf[0x14:], b.TimeDateStamp)
	le.PutUint64(l.buf[0x18:], b.derivedFlags())
}
