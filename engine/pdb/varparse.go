package pdb

import "sort"

// varParser collects the variables of one procedure while walking its records.
type varParser struct {
	w       where
	addr    *addressMap
	machine uint16
	vars    []Variable
	scopes  []scope // open scopes, the procedure's at the bottom
	inlined int     // open inline sites: variables inside belong to the inlinee
	last    int     // the S_LOCAL that S_DEFRANGE_* records attach to, -1 when none
	err     error
	// legacyPos is, per variable, its place among the S_BPREL32, S_REGREL32 and S_REGISTER
	// records of the outermost scope (which carry no parameter flag; an S_LOCAL takes the place
	// of such a record naming it), -1 for the others; nLegacy counts those records.
	legacyPos []int
	nLegacy   int
	// outerLocals lists, by name, the S_LOCAL records of the outermost scope that no legacy
	// record has named yet.
	outerLocals map[string][]int
}

type scope struct {
	kind    uint16
	block   AddrRange // the innermost S_BLOCK32 at this depth (this one or an enclosing one)
	foreign bool      // an inline site or nested procedure
}

// push opens a scope; it inherits the enclosing block unless it is one.
func (p *varParser) push(sc scope) {
	if sc.kind != S_BLOCK32 && len(p.scopes) > 0 {
		sc.block = p.scopes[len(p.scopes)-1].block
	}
	p.scopes = append(p.scopes, sc)
	p.last = -1
}

func (p *varParser) record(off int64, kind uint16, rec []byte) bool {
	if len(p.vars) >= maxVariables {
		p.err = p.w.errorf(off, "procedure symbols", "more than %d variables", maxVariables)
		return false
	}
	c := newCursor(p.w, "procedure symbol", rec, off)
	c.skip(recordHeaderSize)
	switch {
	case len(p.scopes) == 0:
		// The procedure's own record opens the outermost scope.
		p.push(scope{kind: kind})
		return true
	case kind == S_THUNK32 || kind == S_WITH32 || kind == S_SEPCODE:
		p.push(scope{kind: kind})
		return true
	case kind == S_BLOCK32:
		c.skip(8) // Parent, End
		size, o, sec := c.u32(), c.u32(), c.u16()
		sc := scope{kind: kind}
		if rva, ok := p.rva(sec, o); ok && c.err == nil {
			sc.block = AddrRange{RVA: rva, Size: size}
		}
		p.push(sc)
		return true
	case kind == S_INLINESITE || kind == S_INLINESITE2 || isProc(kind):
		// An inlined call site (or a nested procedure): its variables are the callee's.
		p.push(scope{kind: kind, foreign: true})
		p.inlined++
		return true
	case kind == S_END || kind == S_PROC_ID_END || kind == S_INLINESITE_END:
		top := p.scopes[len(p.scopes)-1]
		p.scopes = p.scopes[:len(p.scopes)-1]
		if top.foreign {
			p.inlined--
		}
		p.last = -1
		return len(p.scopes) > 0
	}
	if p.inlined > 0 {
		return true
	}
	var v Variable
	switch kind {
	case S_LOCAL:
		v = Variable{Kind: kind, Type: c.typeIndex(), Flags: c.u16()}
		v.Name = c.cstring()
		v.IsParam = v.Flags&LocalIsParam != 0
		if c.err != nil {
			p.last = -1
			return true
		}
		p.add(v, false)
		p.last = len(p.vars) - 1
		return true
	case S_DEFRANGE_REGISTER, S_DEFRANGE_FRAMEPOINTER_REL, S_DEFRANGE_SUBFIELD_REGISTER,
		S_DEFRANGE_REGISTER_REL, S_DEFRANGE_FRAMEPOINTER_REL_FULL_SCOPE:
		if p.last >= 0 {
			p.defRange(c, kind, &p.vars[p.last])
		}
		return true
	case S_DEFRANGE, S_DEFRANGE_SUBFIELD:
		return true // locations as DIA programs: not read
	case S_BPREL32:
		// BPRELSYM32: Offset i32 @4, Type u32 @8, Name @0xC.
		off := c.i32()
		v = Variable{Kind: kind, Type: c.typeIndex()}
		v.Name = c.cstring()
		// Offsets from the frame pointer: EBP (RBP) in the frames that have one.
		v.Location = p.regLocation(LocFrameRelative, framePointerRegister(p.machine, 2), off)
	case S_REGREL32:
		// REGREL32: Offset i32 @4, Type u32 @8, Register u16 @0xC, Name @0xE.
		off := c.i32()
		v = Variable{Kind: kind, Type: c.typeIndex()}
		reg := c.u16()
		v.Name = c.cstring()
		v.Location = p.regLocation(LocRegisterRelative, reg, off)
	case S_REGISTER:
		// REGSYM: Type u32 @4, Register u16 @8, Name @0xA.
		v = Variable{Kind: kind, Type: c.typeIndex()}
		reg := c.u16()
		v.Name = c.cstring()
		v.Location = p.regLocation(LocRegister, reg, 0)
	case S_LDATA32, S_GDATA32, S_LTHREAD32, S_GTHREAD32:
		// DATASYM32 and THREADSYM32: Type u32 @4, Offset u32 @8, Segment u16 @0xC, Name @0xE.
		v = Variable{Kind: kind, Type: c.typeIndex()}
		o, sec := c.u32(), c.u16()
		v.Name = c.cstring()
		if kind == S_LTHREAD32 || kind == S_GTHREAD32 {
			v.Location = Location{Kind: LocThreadLocal, RVA: o}
		} else {
			// Data the linker discarded keep their record with address 0000:0000: RVA 0.
			v.Location = Location{Kind: LocStatic}
			v.Location.RVA, _ = p.rva(sec, o)
		}
		if v.Name == "" {
			// Unnamed data inside a procedure are compiler temporaries (jump tables, EH data).
			p.last = -1
			return true
		}
	default:
		return true
	}
	p.last = -1
	if c.err != nil {
		return true
	}
	p.add(v, kind != S_LDATA32 && kind != S_GDATA32 && kind != S_LTHREAD32 && kind != S_GTHREAD32)
	return true
}

// add appends a variable with the scope it is declared in. A legacy record (S_BPREL32,
// S_REGREL32, S_REGISTER) of the outermost scope that names an S_LOCAL already seen there is the
// same variable (optimizing compilers write both): it gives that S_LOCAL its location when the
// S_LOCAL has no whole-procedure one, and is not a second variable.
func (p *varParser) add(v Variable, legacy bool) {
	v.Scope = p.scopes[len(p.scopes)-1].block
	outer := len(p.scopes) == 1
	pos := -1
	if legacy && outer {
		pos = p.nLegacy
		p.nLegacy++
		if q := p.outerLocals[v.Name]; len(q) > 0 {
			i := q[0]
			p.outerLocals[v.Name] = q[1:]
			if u := &p.vars[i]; u.Location.Kind == LocNone {
				u.Location = v.Location
			}
			p.legacyPos[i] = pos
			return
		}
	}
	if v.Kind == S_LOCAL && outer {
		if p.outerLocals == nil {
			p.outerLocals = map[string][]int{}
		}
		p.outerLocals[v.Name] = append(p.outerLocals[v.Name], len(p.vars))
	}
	p.vars = append(p.vars, v)
	p.legacyPos = append(p.legacyPos, pos)
}

// defRange reads an S_DEFRANGE_* record (LLVM "CodeView Symbol Records"; cvinfo.h
// DEFRANGESYM*) into the variable it follows.
func (p *varParser) defRange(c *cursor, kind uint16, v *Variable) {
	var loc Location
	switch kind {
	case S_DEFRANGE_FRAMEPOINTER_REL_FULL_SCOPE:
		// offFramePointer i32: the location for the whole procedure.
		off := c.i32()
		if c.err == nil {
			v.Location = Location{Kind: LocFrameRelative, Offset: off}
		}
		return
	case S_DEFRANGE_REGISTER:
		// reg u16, attr u16 (bit 0: may have no user name), range, gaps.
		reg := c.u16()
		c.u16()
		loc = p.regLocation(LocRegister, reg, 0)
	case S_DEFRANGE_SUBFIELD_REGISTER:
		// reg u16, attr u16, offParent u32 (bits 11:0), range, gaps.
		reg := c.u16()
		c.u16()
		loc = p.regLocation(LocRegister, reg, 0)
		loc.Piece, loc.OffsetInParent = true, uint16(c.u32()&0xFFF)
	case S_DEFRANGE_FRAMEPOINTER_REL:
		// offFramePointer i32, range, gaps.
		loc = Location{Kind: LocFrameRelative, Offset: c.i32()}
	case S_DEFRANGE_REGISTER_REL:
		// baseReg u16, flags u16 (bit 0 spilled UDT member, bits 15:4 offset in parent),
		// offBasePointer i32, range, gaps.
		reg := c.u16()
		flags := c.u16()
		loc = p.regLocation(LocRegisterRelative, reg, c.i32())
		loc.OffsetInParent = flags >> 4
	}
	// CV_LVAR_ADDR_RANGE: offStart u32, isectStart u16, cbRange u16; then CV_LVAR_ADDR_GAP
	// {gapStartOffset u16, cbRange u16} to the end of the record.
	o, sec, size := c.u32(), c.u16(), c.u16()
	if c.err != nil {
		return
	}
	rva, ok := p.rva(sec, o)
	if !ok {
		return
	}
	r := LocationRange{RVA: rva, Size: uint32(size), Location: loc}
	for c.remaining() >= 4 {
		r.Gaps = append(r.Gaps, Gap{Start: uint32(c.u16()), Size: uint32(c.u16())})
	}
	v.Ranges = append(v.Ranges, r)
}

func (p *varParser) regLocation(kind LocationKind, reg uint16, off int32) Location {
	return Location{Kind: kind, Register: reg, RegisterName: RegisterName(p.machine, reg), Offset: off}
}

func (p *varParser) rva(sec uint16, off uint32) (uint32, bool) {
	in, ok := p.addr.internalRVA(sec, off)
	if !ok {
		return 0, false
	}
	return p.addr.toImage(in)
}

// classifyParams marks the parameters among the legacy records, which carry no flag, and puts
// the parameters first. The legacy records of the outermost scope list the parameters first,
// in declaration order (an S_LOCAL standing in for the record that names it): as many as the
// signature has parameters, less the flagged S_LOCAL records that no legacy record names.
// Without a signature, S_BPREL32 records at positive offsets are taken as parameters (the x86
// EBP frame layout).
func (p *varParser) classifyParams(sig Signature, haveSig bool) {
	need := sig.NumParams()
	for i, v := range p.vars {
		if v.Kind == S_LOCAL && v.IsParam && p.legacyPos[i] < 0 {
			need--
		}
	}
	for i := range p.vars {
		v, pos := &p.vars[i], p.legacyPos[i]
		switch {
		case pos < 0:
		case haveSig:
			v.IsParam = v.IsParam || pos < need
		default:
			v.IsParam = v.IsParam || v.Kind == S_BPREL32 && v.Location.Offset > 0
		}
	}
	// Parameters first, those named by legacy records in their order, then the others in
	// record order; the sort is stable.
	order := make([]int, len(p.vars))
	for i := range order {
		order[i] = i
	}
	key := func(i int) int {
		switch {
		case !p.vars[i].IsParam:
			return 2 * len(p.vars)
		case p.legacyPos[i] >= 0:
			return p.legacyPos[i]
		}
		return len(p.vars)
	}
	sort.SliceStable(order, func(a, b int) bool { return key(order[a]) < key(order[b]) })
	vars := make([]Variable, len(p.vars))
	pos := make([]int, len(p.vars))
	for k, i := range order {
		vars[k], pos[k] = p.vars[i], p.legacyPos[i]
	}
	p.vars, p.legacyPos = vars, pos
}

// resolveFrameRegisters names the base register of the S_DEFRANGE_FRAMEPOINTER_REL* locations:
// the register that S_FRAMEPROC names for locals or for parameters (it may follow the
// variables, so this waits for the end of the procedure).
func (p *varParser) resolveFrameRegisters(fp *FrameProc) {
	if fp == nil {
		return
	}
	for i := range p.vars {
		v := &p.vars[i]
		fix := func(loc *Location) {
			if loc.Kind != LocFrameRelative || loc.Register != RegNone {
				return
			}
			reg := fp.LocalBase(p.machine)
			if v.IsParam {
				reg = fp.ParamBase(p.machine)
			}
			if reg != RegNone {
				loc.Register, loc.RegisterName = reg, RegisterName(p.machine, reg)
			}
		}
		fix(&v.Location)
		for k := range v.Ranges {
			fix(&v.Ranges[k].Location)
		}
	}
}
