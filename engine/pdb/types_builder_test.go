package pdb

import (
	"encoding/binary"
)

// A small PDB with type records and a module whose procedures have variables, written from the
// format descriptions (FORMATS.md §7.3, §7.5; the LLVM CodeView type and symbol record docs)
// without the reader's code, for the synthetic tests and as the seed of FuzzTypes. Every leaf the
// reader decodes appears once, and so do the loops a crafted file can hold: a pointer to
// itself, two modifiers of each other, a field list that continues into itself, a forward
// reference without a definition.

// typeRecord appends a type record {Len, Leaf, payload} padded with LF_PAD bytes to 4.
func typeRecord(b *le, leaf uint16, payload []byte) {
	n := 2 + len(payload)
	pad := (4 - (n+2)%4) % 4
	b.u16(uint16(n + pad))
	b.u16(leaf)
	b.Write(payload)
	for i := pad; i > 0; i-- {
		b.u8(0xF0 | uint8(i))
	}
}

// member appends a field list member and pads it to 4 bytes from the start of the list.
func member(b *le, start int, leaf uint16, payload []byte) {
	b.u16(leaf)
	b.Write(payload)
	for i := (4 - (b.Len()-start)%4) % 4; i > 0; i-- {
		b.u8(0xF0 | uint8(i))
	}
}

func payload(parts ...any) []byte {
	var b le
	for _, p := range parts {
		switch v := p.(type) {
		case uint8:
			b.u8(v)
		case uint16:
			b.u16(v)
		case uint32:
			b.u32(v)
		case int32:
			b.u32(uint32(v))
		case string:
			b.str(v)
		case []byte:
			b.Write(v)
		}
	}
	return b.Bytes()
}

// typeStreamBytes writes a TPI/IPI stream: the 56-byte header and the records.
func typeStreamBytes(count int, records []byte) []byte {
	var h le
	h.u32(20040203)
	h.u32(56)
	h.u32(0x1000)
	h.u32(uint32(0x1000 + count))
	h.u32(uint32(len(records)))
	h.u16(0xFFFF) // no hash stream
	h.u16(0xFFFF)
	h.u32(4)
	h.u32(0x3FFFF)
	for range 6 {
		h.u32(0)
	}
	h.Write(records)
	return h.Bytes()
}

// Type indices of the synthetic TPI stream.
const (
	synConstInt     = 0x1000 // LF_MODIFIER const int
	synPConstInt    = 0x1001 // LF_POINTER 64-bit to it
	synFooFwd       = 0x1002 // LF_STRUCTURE _FOO, forward reference
	synPFoo         = 0x1003 // LF_POINTER to the forward reference
	synBits         = 0x1004 // LF_BITFIELD unsigned int, pos 2, 3 bits
	synChars        = 0x1005 // LF_ARRAY char[16]
	synFooFields    = 0x1006 // LF_FIELDLIST, continued in synFooFields2
	synFooFields2   = 0x1007
	synFoo          = 0x1008 // LF_STRUCTURE _FOO, 40 bytes
	synFuncArgs     = 0x1009 // LF_ARGLIST (_FOO *, int, ...)
	synFunc         = 0x100A // LF_PROCEDURE void (_FOO *, int, ...)
	synPFunc        = 0x100B // LF_POINTER to it
	synSelfPtr      = 0x100C // LF_POINTER to itself
	synModA         = 0x100D // LF_MODIFIER of synModB
	synModB         = 0x100E // LF_MODIFIER of synModA
	synLoopFwd      = 0x100F // LF_STRUCTURE LOOP, forward reference, never defined
	synLoopFields   = 0x1010 // LF_FIELDLIST continuing into itself
	synLoopy        = 0x1011 // LF_STRUCTURE LOOPY with that field list
	synColor        = 0x1012 // LF_ENUM COLOR
	synColorFields  = 0x1013
	synWidget       = 0x1014 // LF_CLASS Widget
	synWidgetFields = 0x1015
	synPWidget      = 0x1016 // LF_POINTER 32-bit const, to Widget
	synMethodArgs   = 0x1017 // LF_ARGLIST (double)
	synMethod       = 0x1018 // LF_MFUNCTION int Widget::(double)
	synTypeCount    = 0x19

	synFuncID   = 0x1000 // IPI LF_FUNC_ID func
	synMethodID = 0x1001 // IPI LF_MFUNC_ID method
)

func synthTypes() []byte {
	var r le
	u16, u32 := func(v int) uint16 { return uint16(v) }, func(v int) uint32 { return uint32(v) }
	ptr64 := uint32(0x0C | 8<<13)
	typeRecord(&r, LF_MODIFIER, payload(u32(0x74), u16(ModConst)))
	typeRecord(&r, LF_POINTER, payload(u32(synConstInt), ptr64))
	typeRecord(&r, LF_STRUCTURE, payload(u16(0), u16(0x80|0x200), u32(0), u32(0), u32(0), u16(0), "_FOO", ".?AU_FOO@@"))
	typeRecord(&r, LF_POINTER, payload(u32(synFooFwd), ptr64))
	typeRecord(&r, LF_BITFIELD, payload(u32(0x75), uint8(3), uint8(2)))
	typeRecord(&r, LF_ARRAY, payload(u32(0x70), u32(0x23), u16(16), ""))
	var fl le
	member(&fl, 0, LF_MEMBER, payload(u16(3), u32(0x74), u16(0), "a"))
	member(&fl, 0, LF_MEMBER, payload(u16(3), u32(synBits), u16(4), "bits"))
	member(&fl, 0, LF_MEMBER, payload(u16(3), u32(synChars), u16(8), "name"))
	member(&fl, 0, LF_MEMBER, payload(u16(3), u32(synPFoo), u16(LF_ULONG), u32(24), "next"))
	member(&fl, 0, LF_INDEX, payload(u16(0), u32(synFooFields2)))
	typeRecord(&r, LF_FIELDLIST, fl.Bytes())
	fl.Reset()
	member(&fl, 0, LF_MEMBER, payload(u16(3), u32(0x23), u16(32), "big"))
	typeRecord(&r, LF_FIELDLIST, fl.Bytes())
	typeRecord(&r, LF_STRUCTURE, payload(u16(5), u16(0x200), u32(synFooFields), u32(0), u32(0), u16(40), "_FOO", ".?AU_FOO@@"))
	typeRecord(&r, LF_ARGLIST, payload(u32(3), u32(synPFoo), u32(0x74), u32(0)))
	typeRecord(&r, LF_PROCEDURE, payload(u32(0x03), uint8(0), uint8(0), u16(3), u32(synFuncArgs)))
	typeRecord(&r, LF_POINTER, payload(u32(synFunc), ptr64))
	typeRecord(&r, LF_POINTER, payload(u32(synSelfPtr), ptr64))
	typeRecord(&r, LF_MODIFIER, payload(u32(synModB), u16(ModVolatile)))
	typeRecord(&r, LF_MODIFIER, payload(u32(synModA), u16(ModConst)))
	typeRecord(&r, LF_STRUCTURE, payload(u16(0), u16(0x80), u32(0), u32(0), u32(0), u16(0), "LOOP"))
	fl.Reset()
	member(&fl, 0, LF_MEMBER, payload(u16(3), u32(0x74), u16(0), "x"))
	member(&fl, 0, LF_INDEX, payload(u16(0), u32(synLoopFields)))
	typeRecord(&r, LF_FIELDLIST, fl.Bytes())
	typeRecord(&r, LF_STRUCTURE, payload(u16(1), u16(0), u32(synLoopFields), u32(0), u32(0), u16(4), "LOOPY"))
	typeRecord(&r, LF_ENUM, payload(u16(2), u16(0), u32(0x74), u32(synColorFields), "COLOR"))
	fl.Reset()
	member(&fl, 0, LF_ENUMERATE, payload(u16(3), u16(0), "RED"))
	member(&fl, 0, LF_ENUMERATE, payload(u16(3), u16(LF_CHAR), uint8(0xFF), "BLUE"))
	typeRecord(&r, LF_FIELDLIST, fl.Bytes())
	typeRecord(&r, LF_CLASS, payload(u16(3), u16(0x200), u32(synWidgetFields), u32(0), u32(0), u16(8), "Widget", ".?AVWidget@@"))
	fl.Reset()
	member(&fl, 0, LF_VFUNCTAB, payload(u16(0), u32(0x1234)))
	member(&fl, 0, LF_MEMBER, payload(u16(3), u32(0x74), u16(4), "x"))
	member(&fl, 0, LF_ONEMETHOD, payload(u16(3|4<<2), u32(synMethod), u32(0), "method")) // introducing virtual
	member(&fl, 0, LF_STMEMBER, payload(u16(3), u32(0x74), "count"))
	typeRecord(&r, LF_FIELDLIST, fl.Bytes())
	typeRecord(&r, LF_POINTER, payload(u32(synWidget), uint32(0x0A|1<<10|4<<13)))
	typeRecord(&r, LF_ARGLIST, payload(u32(1), u32(0x41)))
	typeRecord(&r, LF_MFUNCTION, payload(u32(0x74), u32(synWidget), u32(synPWidget), uint8(0x0B), uint8(0), u16(1), u32(synMethodArgs), int32(0)))
	return typeStreamBytes(synTypeCount, r.Bytes())
}

func synthIDs() []byte {
	var r le
	typeRecord(&r, LF_FUNC_ID, payload(uint32(0), uint32(synFunc), "func"))
	typeRecord(&r, LF_MFUNC_ID, payload(uint32(synWidget), uint32(synMethod), "method"))
	return typeStreamBytes(2, r.Bytes())
}

// CodeView register numbers used below (LLVM CodeViewRegisters.def).
const (
	cvRAX = 328
	cvRCX = 330
	cvRDX = 331
	cvRBP = 334
	cvRSP = 335
)

// addrRange is a CV_LVAR_ADDR_RANGE in section 1 and its gaps.
func addrRange(off uint32, size uint16, gaps ...uint16) []byte {
	b := payload(off, uint16(1), size)
	for _, g := range gaps {
		b = binary.LittleEndian.AppendUint16(b, g)
	}
	return b
}

// synthModule writes the module symbol stream: signature 4, then
//
//	func (S_GPROC32_ID, 1:0x10, 0x40 bytes, id synFuncID), S_FRAMEPROC locals on RBP, params on RSP:
//	  p (param, _FOO *): RCX over [0x10,+8) with gap (2,2), RSP+8 over [0x18,+0x28); home RSP+48 (S_REGREL32)
//	  n (param, int): RSP+16 for the whole procedure
//	  x (struct _FOO): bytes from 4 in RDX over [0x20,+4), bytes from 8 at RBP-16 over [0x20,+0x10)
//	  block 1:0x30, 8 bytes: y (unsigned int) at RBP-4 over [0x30,+8); sv, static at 2:4
//	  an inline site with a local inl, which belongs to the inlinee
//	method (S_GPROC32, 1:0x60, 0x20 bytes, type synMethod): S_REGREL32 this RSP+8, d RSP+16, loc RSP+32; S_REGISTER r in RAX
//	notype (S_LPROC32, 1:0x90, 0x10 bytes, no type): S_BPREL32 q +8, l -4
func synthModule() (stream []byte, symSize int) {
	var m le
	m.u32(4)
	proc := func(kind uint16, off, size, ti uint32, name string) (start uint32, patchEnd func()) {
		endAt := 4 + 4
		start = record(&m, kind, payload(uint32(0), uint32(0), uint32(0), size, uint32(0), size, ti, off, uint16(1), uint8(0), name))
		return start, func() {
			end := record(&m, S_END, nil)
			binary.LittleEndian.PutUint32(m.Bytes()[int(start)+endAt:], end)
		}
	}
	_, end := proc(S_GPROC32_ID, 0x10, 0x40, synFuncID, "func")
	// FRAMEPROCSYM flags: encoded local base pointer 2 (frame pointer) in bits 15:14, param
	// base pointer 1 (stack pointer) in bits 17:16.
	record(&m, S_FRAMEPROC, payload(uint32(0x40), uint32(0), uint32(0), uint32(0), uint32(0), uint16(0), uint32(2<<14|1<<16)))
	record(&m, S_LOCAL, payload(uint32(synPFoo), uint16(LocalIsParam), "p"))
	record(&m, S_DEFRANGE_REGISTER, payload(uint16(cvRCX), uint16(0), addrRange(0x10, 8, 2, 2)))
	record(&m, S_DEFRANGE_FRAMEPOINTER_REL, payload(int32(8), addrRange(0x18, 0x28)))
	record(&m, S_LOCAL, payload(uint32(0x74), uint16(LocalIsParam), "n"))
	record(&m, S_DEFRANGE_FRAMEPOINTER_REL_FULL_SCOPE, payload(int32(16)))
	record(&m, S_LOCAL, payload(uint32(synFoo), uint16(LocalIsAggregate), "x"))
	record(&m, S_DEFRANGE_SUBFIELD_REGISTER, payload(uint16(cvRDX), uint16(0), uint32(4), addrRange(0x20, 4)))
	record(&m, S_DEFRANGE_REGISTER_REL, payload(uint16(cvRBP), uint16(8<<4), int32(-16), addrRange(0x20, 0x10)))
	block := record(&m, S_BLOCK32, payload(uint32(0), uint32(0), uint32(8), uint32(0x30), uint16(1), ""))
	_ = block
	record(&m, S_LOCAL, payload(uint32(0x75), uint16(0), "y"))
	record(&m, S_DEFRANGE_FRAMEPOINTER_REL, payload(int32(-4), addrRange(0x30, 8)))
	record(&m, S_LDATA32, payload(uint32(0x74), uint32(4), uint16(2), "sv"))
	record(&m, S_END, nil)
	record(&m, S_INLINESITE, payload(uint32(0), uint32(0), uint32(synFuncID)))
	record(&m, S_LOCAL, payload(uint32(0x74), uint16(0), "inl"))
	record(&m, S_DEFRANGE_REGISTER, payload(uint16(cvRAX), uint16(0), addrRange(0x40, 4)))
	record(&m, S_INLINESITE_END, nil)
	record(&m, S_REGREL32, payload(int32(48), uint32(synPFoo), uint16(cvRSP), "p"))
	end()

	_, end = proc(S_GPROC32, 0x60, 0x20, synMethod, "Widget::method")
	record(&m, S_REGREL32, payload(int32(8), uint32(synPWidget), uint16(cvRSP), "this"))
	record(&m, S_REGREL32, payload(int32(16), uint32(0x41), uint16(cvRSP), "d"))
	record(&m, S_REGREL32, payload(int32(32), uint32(0x74), uint16(cvRSP), "loc"))
	record(&m, S_REGISTER, payload(uint32(0x74), uint16(cvRAX), "r"))
	end()

	_, end = proc(S_LPROC32, 0x90, 0x10, 0, "notype")
	record(&m, S_BPREL32, payload(int32(8), uint32(0x74), "q"))
	record(&m, S_BPREL32, payload(int32(-4), uint32(0x74), "l"))
	end()
	return m.Bytes(), m.Len()
}

// buildTypesPDB assembles the streams: info, TPI, DBI (one module, section headers .text at
// 0x1000 and .data at 0x2000, AMD64), IPI, the module's symbols and the section headers.
func buildTypesPDB(blockSize int, reverse bool) []byte {
	w := &msfWriter{blockSize: blockSize, reverse: reverse, nilStream: map[int]bool{}}
	w.add(nil)
	infoIdx := w.add(nil)
	w.add(synthTypes())
	dbiIdx := w.add(nil)
	w.add(synthIDs())
	mod, symSize := synthModule()
	modIdx := w.add(mod)

	var info le
	info.u32(20000404)
	info.u32(1)
	info.u32(1)
	info.Write(make([]byte, 16))
	info.u32(0) // no named streams
	info.u32(0)
	info.u32(0)
	info.u32(0)
	info.u32(0)
	info.u32(0)
	w.streams[infoIdx] = info.Bytes()

	var sh le
	for _, s := range []struct {
		name     string
		va, size uint32
	}{{".text", 0x1000, 0x1000}, {".data", 0x2000, 0x100}} {
		n := make([]byte, 8)
		copy(n, s.name)
		sh.Write(n)
		sh.u32(s.size)
		sh.u32(s.va)
		sh.u32(s.size)
		sh.u32(0x400)
		sh.Write(make([]byte, 12))
		sh.u32(0x60000020)
	}
	shIdx := w.add(sh.Bytes())

	var mi le
	mi.u32(0)
	mi.Write(payload(uint16(1), uint16(0), uint32(0), uint32(0x100), uint32(0x60000020), uint16(0), uint16(0), uint32(0), uint32(0)))
	mi.u16(0)
	mi.u16(uint16(modIdx))
	mi.u32(uint32(symSize))
	mi.u32(0)
	mi.u32(0)
	mi.u16(0)
	mi.u16(0)
	mi.Write(make([]byte, 12))
	mi.str("t.obj")
	mi.str("t.obj")
	mi.pad(4)
	var sc le
	sc.u32(0xeffe0000 + 19970605)
	sc.Write(payload(uint16(1), uint16(0), uint32(0), uint32(0x100), uint32(0x60000020), uint16(0), uint16(0), uint32(0), uint32(0)))
	var dbg le
	for i := range 11 {
		if i == DebugSectionHeaders {
			dbg.u16(uint16(shIdx))
		} else {
			dbg.u16(0xFFFF)
		}
	}
	var dbi le
	dbi.u32(0xFFFFFFFF)
	dbi.u32(19990903)
	dbi.u32(1)
	dbi.u16(0xFFFF) // no globals
	dbi.u16(0x8E00)
	dbi.u16(0xFFFF) // no publics
	dbi.u16(0)
	dbi.u16(0xFFFF) // no symbol records
	dbi.u16(0)
	dbi.u32(uint32(mi.Len()))
	dbi.u32(uint32(sc.Len()))
	dbi.u32(0)
	dbi.u32(0)
	dbi.u32(0)
	dbi.u32(0)
	dbi.u32(uint32(dbg.Len()))
	dbi.u32(0)
	dbi.u16(0)
	dbi.u16(MachineAMD64)
	dbi.u32(0)
	dbi.Write(mi.Bytes())
	dbi.Write(sc.Bytes())
	dbi.Write(dbg.Bytes())
	w.streams[dbiIdx] = dbi.Bytes()
	return w.bytes()
}
