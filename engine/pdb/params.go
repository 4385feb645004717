package pdb

import (
	"fmt"
)

// Symbol records that describe a procedure's variables and scopes (cvinfo.h SYM_ENUM_e; LLVM
// docs "CodeView Symbol Records").
const (
	S_REGISTER                             = 0x1106
	S_BPREL32                              = 0x110B
	S_WITH32                               = 0x1104
	S_LOCAL                                = 0x113E
	S_DEFRANGE                             = 0x113F
	S_DEFRANGE_SUBFIELD                    = 0x1140
	S_DEFRANGE_REGISTER                    = 0x1141
	S_DEFRANGE_FRAMEPOINTER_REL            = 0x1142
	S_DEFRANGE_SUBFIELD_REGISTER           = 0x1143
	S_DEFRANGE_FRAMEPOINTER_REL_FULL_SCOPE = 0x1144
	S_DEFRANGE_REGISTER_REL                = 0x1145
	S_INLINESITE2                          = 0x115D
)

// S_LOCAL flags (CV_LVARFLAGS).
const (
	LocalIsParam           = 0x0001
	LocalAddrTaken         = 0x0002
	LocalCompilerGenerated = 0x0004
	LocalIsAggregate       = 0x0008
	LocalIsAggregated      = 0x0010
	LocalIsAliased         = 0x0020
	LocalIsAlias           = 0x0040
	LocalIsReturnValue     = 0x0080
	LocalOptimizedOut      = 0x0100
	LocalEnregGlobal       = 0x0200
	LocalEnregStatic       = 0x0400
)

// LocationKind says where a variable lives.
type LocationKind uint8

const (
	LocNone             LocationKind = iota // no location (optimized out, or only in Ranges)
	LocRegister                             // in Register
	LocRegisterRelative                     // in memory at Register + Offset
	LocFrameRelative                        // in memory at Register + Offset, Register being the frame's base (S_BPREL32, S_DEFRANGE_FRAMEPOINTER_REL*)
	LocStatic                               // in memory at the image RVA
	LocThreadLocal                          // at RVA bytes into the module's thread-local block
)

// Location is where a variable, or a piece of it, is found.
type Location struct {
	Kind         LocationKind
	Register     uint16 // CodeView register number (RegisterName has the debugger's name)
	RegisterName string // "ebp", "rsp", "rcx", "vframe", ...
	Offset       int32  // register- and frame-relative: added to the register's value
	RVA          uint32 // static: image RVA (0 when the linker discarded the data); thread-local: offset in the TLS block
	// Piece is set for S_DEFRANGE_SUBFIELD_REGISTER: the register holds only the part of the
	// variable from byte OffsetInParent. S_DEFRANGE_REGISTER_REL sets OffsetInParent too.
	Piece          bool
	OffsetInParent uint16
}

// Gap is a hole in a LocationRange where the location does not hold the variable.
type Gap struct {
	Start uint32 // bytes from the range's RVA
	Size  uint32
}

// LocationRange is one S_DEFRANGE_* record: where a variable is over a range of code.
type LocationRange struct {
	RVA      uint32 // image RVA of the first byte of code
	Size     uint32
	Gaps     []Gap
	Location Location
}

// Contains reports whether the code at an image RVA lies in the range and outside its gaps.
func (r LocationRange) Contains(rva uint32) bool {
	d := rva - r.RVA
	if rva < r.RVA || d >= r.Size {
		return false
	}
	for _, g := range r.Gaps {
		if d >= g.Start && d-g.Start < g.Size {
			return false
		}
	}
	return true
}

// AddrRange is a range of code by image RVA.
type AddrRange struct {
	RVA  uint32
	Size uint32
}

// Variable is a parameter, local or static variable of a procedure.
type Variable struct {
	Name     string
	Type     TypeIndex
	TypeName string // the type in C as kp prints it (TypeName)
	IsParam  bool
	Kind     uint16 // the record that declared it: S_LOCAL, S_REGREL32, S_BPREL32, S_REGISTER, S_LDATA32, ...
	Flags    uint16 // S_LOCAL's flags (Local*); 0 for the other records
	// Location holds over the whole procedure: S_REGREL32, S_BPREL32, S_REGISTER, static data,
	// S_DEFRANGE_FRAMEPOINTER_REL_FULL_SCOPE; for an S_LOCAL, also the S_REGREL32 or S_BPREL32
	// of the same name that optimizing compilers add for the parameter's home slot. LocNone when
	// only Ranges say.
	Location Location
	Ranges   []LocationRange // S_LOCAL: where the variable is over which code
	// Scope is the block (S_BLOCK32) the variable is declared in; Size 0 for the procedure's
	// outermost scope.
	Scope AddrRange
}

// LocationAt returns where the variable is while the code at an image RVA runs: the first of
// its ranges that holds rva, else its whole-procedure Location. ok is false when neither says.
func (v Variable) LocationAt(rva uint32) (Location, bool) {
	for _, r := range v.Ranges {
		if r.Contains(rva) {
			return r.Location, true
		}
	}
	return v.Location, v.Location.Kind != LocNone
}

// Params returns a procedure's parameters in declaration order, this first for member
// functions. Parameters are the S_LOCAL records flagged as such and, for the older records
// (S_BPREL32, S_REGREL32, S_REGISTER) which carry no flag, the first ones in the procedure's
// outermost scope, as many as its function type has parameters.
func (f *File) Params(fn Function) ([]Variable, error) {
	return f.filterVariables(fn, func(v Variable) bool { return v.IsParam })
}

// Locals returns a procedure's local variables (not its parameters nor its static data), those of
// nested blocks included (their Scope says which block). Variables of inlined functions are left
// out.
func (f *File) Locals(fn Function) ([]Variable, error) {
	return f.filterVariables(fn, func(v Variable) bool { return !v.IsParam && !isStaticLocation(v.Location.Kind) })
}

// Statics returns the static data declared inside a procedure (S_LDATA32, S_LTHREAD32 in its
// scope).
func (f *File) Statics(fn Function) ([]Variable, error) {
	return f.filterVariables(fn, func(v Variable) bool { return isStaticLocation(v.Location.Kind) })
}

func isStaticLocation(k LocationKind) bool { return k == LocStatic || k == LocThreadLocal }

func (f *File) filterVariables(fn Function, keep func(Variable) bool) ([]Variable, error) {
	all, err := f.Variables(fn)
	var out []Variable
	for _, v := range all {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out, err
}

// maxVariables bounds the variables of one procedure; a real one has far fewer.
const maxVariables = 1 << 14

// Variables returns every parameter, local and static variable of a procedure, from its
// module's symbol stream: the parameters first in declaration order, then the others in record
// order. Variables declared inside inlined call sites belong to the
// inlined functions and are left out.
func (f *File) Variables(fn Function) ([]Variable, error) {
	s, b, base, err := f.procRecords(fn)
	if err != nil {
		return nil, err
	}
	addr, err := f.addressMap()
	if err != nil {
		return nil, err
	}
	var machine uint16
	if h, err := f.DBIHeader(); err == nil {
		machine = h.Machine
	}
	p := &varParser{w: s.w, addr: addr, machine: machine, last: -1}
	werr := walkRecords(s.w, "procedure symbols", b, base, p.record)
	if werr == nil {
		werr = p.err
	}
	sig, serr := f.FunctionSignature(fn)
	p.classifyParams(sig, serr == nil)
	p.resolveFrameRegisters(fn.Frame)
	names := map[TypeIndex]string{}
	for i := range p.vars {
		ti := p.vars[i].Type
		n, ok := names[ti]
		if !ok {
			n = f.TypeName(ti)
			names[ti] = n
		}
		p.vars[i].TypeName = n
	}
	return p.vars, werr
}

// procRecords returns the symbol records of a procedure: from its S_*PROC32 record to the
// S_END its End field names, and their stream offset.
func (f *File) procRecords(fn Function) (*Stream, []byte, int64, error) {
	d, err := f.DBI()
	if err != nil {
		return nil, nil, 0, err
	}
	if fn.Module < 0 || fn.Module >= len(d.Modules) {
		return nil, nil, 0, fmt.Errorf("pdb: %s: module %d does not exist", fn.Name, fn.Module)
	}
	mod := d.Modules[fn.Module]
	if mod.SymStream < 0 {
		return nil, nil, 0, fmt.Errorf("pdb: %s: module %d has no symbols", fn.Name, fn.Module)
	}
	s, err := f.stream(mod.SymStream, fmt.Sprintf("module %d symbols", fn.Module))
	if err != nil {
		return nil, nil, 0, err
	}
	symEnd := min(int64(mod.SymByteSize), s.Size())
	start := int64(fn.recOff)
	if start < 4 || start+0x10 > symEnd {
		return nil, nil, 0, s.w.errorf(start, "procedure", "%s: record offset outside the %d bytes of symbols", fn.Name, symEnd)
	}
	c, err := s.cursor(start, 0x10, "procedure")
	if err != nil {
		return nil, nil, 0, err
	}
	c.skip(recordHeaderSize + 4) // RecLen, RecKind, Parent
	end := int64(c.u32())
	if end <= start || end+recordHeaderSize > symEnd {
		// A procedure without a valid End: read up to the end of the symbols, the walk stops
		// at the closing S_END all the same.
		end = symEnd - recordHeaderSize
	}
	b, err := s.view(start, end+recordHeaderSize-start, "procedure symbols")
	if err != nil {
		return nil, nil, 0, err
	}
	return s, b, start, nil
}
