package ksynth

import (
	"crypto/sha1"
	"encoding/binary"
	"sort"
)

// PE images as the loader maps them: headers at RVA 0, then .text, .rdata, .pdata (x64) and
// .data, each at its RVA (Microsoft "PE Format"; FORMATS.md §4.3 for the CodeView record, §8.1
// for RUNTIME_FUNCTION / UNWIND_INFO).

// fnKind is how a function's frame is built; it fixes its prolog bytes, its unwind data (x64)
// and the stack layout of its frame.
type fnKind int

const (
	// fnAlloc: x64 "sub rsp, N"; x86 "mov edi,edi; push ebp; mov ebp,esp; sub esp,N".
	fnAlloc fnKind = iota
	// fnPushRbp: x64 "push rbp; sub rsp, N" (rbp saved, not used as frame pointer).
	fnPushRbp
	// fnMachineFrame: x64 interrupt handler (KiPageFault): the processor pushed a machine frame
	// with an error code; "push rbp; sub rsp, 0x158; lea rbp, [rsp+0x80]" makes rsp the
	// KTRAP_FRAME and rbp trap+0x80.
	fnMachineFrame
	// fnTrap86: x86 trap handler (KiTrap0E): ebp is the KTRAP_FRAME, whose DbgEbp/DbgEip
	// continue the EBP chain into the interrupted function.
	fnTrap86
	// fnTrapARM64: ARM64 trap handler (KiInterruptException): a KTRAP_FRAME below the
	// interrupted sp, then a frame record; .xdata with unwind code 0xE8 (arm64_trap.go).
	fnTrapARM64
)

// x64 KTRAP_FRAME facts (public ntddk.h/wdm.h amd64 layout, not in FORMATS.md): the machine
// frame (ErrorCode, Rip, SegCs, EFlags, Rsp, SegSs) ends the 0x190-byte frame at 0x160, and
// Rbp is saved at 0x158 just below it.
const (
	trapFrameSize64 = 0x190
	trapAlloc64     = 0x158
	trapRbpOffset64 = 0x80 // lea rbp, [rsp+0x80]
)

// function is one function of an image.
type function struct {
	name  string
	kind  fnKind
	alloc uint32   // bytes of locals (x64: the sub rsp; x86: the sub esp)
	sites []uint32 // offsets used as return addresses or faulting instructions
	rva   uint32
	size  uint32
	// prolog is the prolog's bytes; set by layout.
	prolog []byte
	image  *image
}

// va is the function's start address.
func (f *function) va() uint64 { return f.image.base + uint64(f.rva) }

// frameSize is what the function's prolog adds below its return address (x64), i.e. from the
// body's rsp to the return address slot.
func (f *function) frameSize() uint64 {
	switch f.kind {
	case fnPushRbp:
		return uint64(f.alloc) + 8
	case fnMachineFrame:
		return trapAlloc64 + 8
	}
	return uint64(f.alloc)
}

// moduleDef describes one module to build.
type moduleDef struct {
	name      string // WinDbg's module name: nt, hal, synthdrv
	file      string // image file name (also the export directory name)
	baseName  string // LDR BaseDllName
	fullName  string // LDR FullDllName
	timestamp uint32
	checksum  uint32
	dataSize  uint32 // bytes of .data
	funcs     []*function
}

// image is a module laid out in memory.
type image struct {
	def      *moduleDef
	base     uint64
	bytes    []byte // SizeOfImage bytes
	size     uint32
	byName   map[string]*function
	dataRVA  uint32
	dataNext uint32
	pdataRVA uint32
	pdataLen uint32
	guid     [16]byte
	age      uint32
	pdb      string
	ldrEntry uint64
}

// allocData reserves size bytes of .data (8-byte aligned) and returns the VA.
func (im *image) allocData(size uint64) uint64 {
	off := (im.dataNext + 7) &^ 7
	if uint64(off)+size > uint64(im.def.dataSize) {
		panic("ksynth: internal: .data of " + im.def.name + " is full")
	}
	im.dataNext = off + uint32(size)
	return im.base + uint64(im.dataRVA+off)
}

// le is a little-endian writer into a byte slice.
type le []byte

func (b le) u16(off uint32, v uint16) { binary.LittleEndian.PutUint16(b[off:], v) }
func (b le) u32(off uint32, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
func (b le) u64(off uint32, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }

// Section characteristics.
const (
	scnCode  = 0x60000020 // code, execute, read
	scnRData = 0x40000040 // initialized data, read
	scnData  = 0xC0000040 // initialized data, read, write
)

// layoutImage builds the image of def at base: code for every function, the export directory,
// a debug directory with an RSDS record and, for x64, .pdata/.xdata covering every function.
func layoutImage(p *profile, def *moduleDef, base uint64) *image {
	im := &image{def: def, base: base, byName: map[string]*function{}, age: 1, pdb: def.file[:len(def.file)-4] + ".pdb"}
	sum := sha1.Sum([]byte(p.name + "/" + def.name))
	copy(im.guid[:], sum[:16])

	// .text
	text := []byte{}
	const textRVA = 0x1000
	for _, f := range def.funcs {
		f.image = im
		im.byName[f.name] = f
		for len(text)%16 != 0 {
			text = append(text, 0xCC)
		}
		f.rva = textRVA + uint32(len(text))
		f.prolog = prologBytes(p, f)
		end := uint32(len(f.prolog)) + 0x10
		for _, s := range f.sites {
			end = max(end, s+0x10)
		}
		f.size = (end + 15) &^ 15
		body := make([]byte, f.size)
		for i := range body {
			body[i] = 0xCC
		}
		copy(body, f.prolog)
		if p.arm64 {
			armBody(f, body) // ARM64 instructions: prolog, nops, epilogue (arm64_pe.go)
		}
		text = append(text, body...)
	}
	textSize := uint32(len(text))
	rdataRVA := alignUp(textRVA+textSize, pageSize)

	// .rdata: exports, debug directory, CodeView record, unwind information.
	rdata := le(make([]byte, 0x1000+64*len(def.funcs)))
	off := uint32(0)
	put := func(n uint32, align uint32) uint32 {
		off = alignUp(off, align)
		at := off
		off += n
		return at
	}
	// Export directory (PE Format "Export Directory Table"): names sorted for binary search.
	funcs := append([]*function(nil), def.funcs...)
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].name < funcs[j].name })
	n := uint32(len(funcs))
	exp := put(40, 4)
	addrs := put(4*n, 4)
	names := put(4*n, 4)
	ords := put(2*n, 2)
	dllName := put(uint32(len(def.file)+1), 1)
	copy(rdata[dllName:], def.file)
	rdata.u32(exp+4, def.timestamp)
	rdata.u32(exp+12, rdataRVA+dllName)
	rdata.u32(exp+16, 1) // ordinal base
	rdata.u32(exp+20, n)
	rdata.u32(exp+24, n)
	rdata.u32(exp+28, rdataRVA+addrs)
	rdata.u32(exp+32, rdataRVA+names)
	rdata.u32(exp+36, rdataRVA+ords)
	for i, f := range funcs {
		rdata.u32(addrs+4*uint32(i), f.rva)
		s := put(uint32(len(f.name)+1), 1)
		copy(rdata[s:], f.name)
		rdata.u32(names+4*uint32(i), rdataRVA+s)
		rdata.u16(ords+2*uint32(i), uint16(i))
	}
	expSize := off - exp
	// CodeView RSDS record (FORMATS.md §4.3): 'RSDS', GUID, Age, PDB path.
	cv := put(24+uint32(len(im.pdb))+1, 4)
	copy(rdata[cv:], "RSDS")
	copy(rdata[cv+4:], im.guid[:])
	rdata.u32(cv+20, im.age)
	copy(rdata[cv+24:], im.pdb)
	cvSize := 24 + uint32(len(im.pdb)) + 1
	// IMAGE_DEBUG_DIRECTORY: Characteristics, TimeDateStamp, Major, Minor, Type 2 (CodeView),
	// SizeOfData, AddressOfRawData, PointerToRawData.
	dbg := put(28, 4)
	rdata.u32(dbg+4, def.timestamp)
	rdata.u32(dbg+12, 2)
	rdata.u32(dbg+16, cvSize)
	rdata.u32(dbg+20, rdataRVA+cv)
	// Unwind information (x64, FORMATS.md §8.1), 4-byte aligned.
	unwind := map[*function]uint32{}
	if p.is64 && !p.arm64 { // ARM64 .pdata entries hold packed unwind data instead
		for _, f := range def.funcs {
			u := unwindInfo(f)
			at := put(uint32(len(u)), 4)
			copy(rdata[at:], u)
			unwind[f] = rdataRVA + at
		}
	}
	if p.arm64 { // except trap handlers, whose unwind codes packed data cannot express
		for _, f := range def.funcs {
			if x := armXdata(f); x != nil {
				at := put(uint32(len(x)), 4)
				copy(rdata[at:], x)
				unwind[f] = rdataRVA + at
			}
		}
	}
	rdataSize := off
	next := alignUp(rdataRVA+rdataSize, pageSize)

	// .pdata: RUNTIME_FUNCTION {Begin, End, UnwindData}, sorted by Begin.
	var pdata le
	if p.arm64 {
		im.pdataRVA = next
		pdata = armPdata(def.funcs, unwind)
		im.pdataLen = uint32(len(pdata))
		next = alignUp(next+im.pdataLen, pageSize)
	} else if p.is64 {
		im.pdataRVA = next
		pdata = make(le, 12*len(def.funcs))
		for i, f := range def.funcs {
			pdata.u32(uint32(12*i), f.rva)
			pdata.u32(uint32(12*i+4), f.rva+f.size)
			pdata.u32(uint32(12*i+8), unwind[f])
		}
		im.pdataLen = uint32(len(pdata))
		next = alignUp(next+im.pdataLen, pageSize)
	}
	im.dataRVA = next
	im.size = alignUp(next+def.dataSize, pageSize)

	im.bytes = make([]byte, im.size)
	copy(im.bytes[textRVA:], text)
	copy(im.bytes[rdataRVA:], rdata[:rdataSize])
	copy(im.bytes[im.pdataRVA:], pdata)

	sections := []section{{".text", textRVA, textSize, scnCode}, {".rdata", rdataRVA, rdataSize, scnRData}}
	if p.is64 {
		sections = append(sections, section{".pdata", im.pdataRVA, im.pdataLen, scnRData})
	}
	sections = append(sections, section{".data", im.dataRVA, def.dataSize, scnData})
	dirs := map[int][2]uint32{
		0: {rdataRVA + exp, expSize}, // export
		6: {rdataRVA + dbg, 28},      // debug
	}
	if p.is64 {
		dirs[3] = [2]uint32{im.pdataRVA, im.pdataLen} // exception
	}
	writeHeaders(p, im, sections, dirs, def.funcs[0].rva)
	return im
}

type section struct {
	name       string
	rva, size  uint32
	attributes uint32
}

func alignUp(v, a uint32) uint32 { return (v + a - 1) &^ (a - 1) }

// writeHeaders writes the DOS header, the NT headers (PE32+ for x64, PE32 for x86) and the
// section table at the start of the image.
func writeHeaders(p *profile, im *image, sections []section, dirs map[int][2]uint32, entry uint32) {
	h := le(im.bytes)
	h.u16(0, 0x5A4D) // 'MZ'
	h.u32(0x3C, 0x80)
	h.u32(0x80, 0x00004550) // 'PE\0\0'
	optSize := uint32(0xE0)
	chars := uint16(0x0102) // executable, 32-bit machine
	if p.is64 {
		optSize, chars = 0xF0, 0x0022 // executable, large address aware
	}
	fh := uint32(0x84)
	h.u16(fh, uint16(p.machine))
	h.u16(fh+2, uint16(len(sections)))
	h.u32(fh+4, im.def.timestamp)
	h.u16(fh+16, uint16(optSize))
	h.u16(fh+18, chars)
	oh := fh + 20
	var codeSize uint32
	for _, s := range sections {
		if s.attributes == scnCode {
			codeSize += alignUp(s.size, 0x200)
		}
	}
	if p.is64 {
		h.u16(oh, 0x20B)
		h.u64(oh+0x18, im.base)
	} else {
		h.u16(oh, 0x10B)
		h.u32(oh+0x18, sections[1].rva) // BaseOfData
		h.u32(oh+0x1C, uint32(im.base))
	}
	h.u16(oh+2, 14) // linker 14.x
	h.u32(oh+4, codeSize)
	h.u32(oh+0x10, entry)
	h.u32(oh+0x14, sections[0].rva)
	h.u32(oh+0x20, pageSize) // SectionAlignment
	h.u32(oh+0x24, 0x200)    // FileAlignment
	h.u16(oh+0x28, uint16(p.osMajor))
	h.u16(oh+0x2A, uint16(p.osMinor))
	h.u16(oh+0x2C, uint16(p.osMajor))
	h.u16(oh+0x2E, uint16(p.osMinor))
	h.u16(oh+0x30, uint16(p.osMajor))
	h.u16(oh+0x32, uint16(p.osMinor))
	h.u32(oh+0x38, im.size)
	h.u32(oh+0x3C, 0x400) // SizeOfHeaders
	h.u32(oh+0x40, im.def.checksum)
	h.u16(oh+0x44, 1) // IMAGE_SUBSYSTEM_NATIVE
	dd := oh + 0x60
	if p.is64 {
		h.u16(oh+0x46, 0x160) // high entropy VA, dynamic base, NX compatible
		h.u64(oh+0x48, 0x80000)
		h.u64(oh+0x50, 0x2000)
		h.u64(oh+0x58, 0x100000)
		h.u64(oh+0x60, 0x1000)
		h.u32(oh+0x6C, 16)
		dd = oh + 0x70
	} else {
		h.u16(oh+0x46, 0x140)
		h.u32(oh+0x48, 0x40000)
		h.u32(oh+0x4C, 0x1000)
		h.u32(oh+0x50, 0x100000)
		h.u32(oh+0x54, 0x1000)
		h.u32(oh+0x5C, 16)
	}
	for i, d := range dirs {
		h.u32(dd+8*uint32(i), d[0])
		h.u32(dd+8*uint32(i)+4, d[1])
	}
	st := oh + optSize
	raw := uint32(0x400)
	for i, s := range sections {
		e := st + 40*uint32(i)
		copy(h[e:e+8], s.name)
		h.u32(e+8, s.size)
		h.u32(e+12, s.rva)
		rawSize := alignUp(s.size, 0x200)
		h.u32(e+16, rawSize)
		h.u32(e+20, raw)
		h.u32(e+36, s.attributes)
		raw += rawSize
	}
}

// prologBytes is the machine code of a function's prolog (see fnKind).
func prologBytes(p *profile, f *function) []byte {
	if p.arm64 {
		return armPrologBytes(f)
	}
	if !p.is64 {
		if f.kind == fnTrap86 {
			return nil
		}
		b := []byte{0x8B, 0xFF, 0x55, 0x8B, 0xEC} // mov edi,edi; push ebp; mov ebp,esp
		return append(b, subStack(false, f.alloc)...)
	}
	switch f.kind {
	case fnPushRbp:
		return append([]byte{0x40, 0x55}, subStack(true, f.alloc)...) // push rbp (REX form)
	case fnMachineFrame:
		b := []byte{0x55}                                                  // push rbp
		b = append(b, subStack(true, trapAlloc64)...)                      // sub rsp, 0x158
		return append(b, 0x48, 0x8D, 0xAC, 0x24, trapRbpOffset64, 0, 0, 0) // lea rbp, [rsp+0x80]
	}
	return subStack(true, f.alloc)
}

// subStack is "sub rsp/esp, n" in its imm8 or imm32 form.
func subStack(is64 bool, n uint32) []byte {
	var b []byte
	if is64 {
		b = []byte{0x48}
	}
	if n < 0x80 {
		return append(b, 0x83, 0xEC, byte(n))
	}
	b = append(b, 0x81, 0xEC)
	return binary.LittleEndian.AppendUint32(b, n)
}

// Unwind operation codes (FORMATS.md §8.1).
const (
	uwopPushNonvol   = 0
	uwopAllocLarge   = 1
	uwopAllocSmall   = 2
	uwopSetFPReg     = 3
	uwopPushMachFram = 10
	regRbp           = 5
)

// unwindInfo is the UNWIND_INFO of an x64 function: version 1, no handler, codes in descending
// prolog offset.
func unwindInfo(f *function) []byte {
	type code struct {
		off     byte
		op, inf byte
		extra   []uint16
	}
	alloc := func(end int, n uint32) code {
		if n <= 128 {
			return code{off: byte(end), op: uwopAllocSmall, inf: byte((n - 8) / 8)}
		}
		return code{off: byte(end), op: uwopAllocLarge, inf: 0, extra: []uint16{uint16(n / 8)}}
	}
	var codes []code
	var frameReg, frameOff byte
	pl := len(f.prolog)
	switch f.kind {
	case fnAlloc:
		codes = []code{alloc(pl, f.alloc)}
	case fnPushRbp:
		codes = []code{alloc(pl, f.alloc), {off: 2, op: uwopPushNonvol, inf: regRbp}}
	case fnMachineFrame:
		frameReg, frameOff = regRbp, trapRbpOffset64/16
		codes = []code{
			{off: byte(pl), op: uwopSetFPReg},
			alloc(pl-8, trapAlloc64),
			{off: 1, op: uwopPushNonvol, inf: regRbp},
			{off: 0, op: uwopPushMachFram, inf: 1}, // with error code
		}
	}
	var slots []uint16
	for _, c := range codes {
		slots = append(slots, uint16(c.off)|uint16(c.op|c.inf<<4)<<8)
		slots = append(slots, c.extra...)
	}
	count := len(slots)
	if len(slots)%2 == 1 {
		slots = append(slots, 0)
	}
	out := []byte{1, byte(pl), byte(count), frameReg | frameOff<<4}
	for _, s := range slots {
		out = binary.LittleEndian.AppendUint16(out, s)
	}
	return out
}
