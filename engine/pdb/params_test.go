package pdb

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Variables of procedures against llvm-pdbutil's symbol dump (NAME.vars.txt, recorded by
// testdata/oracles/capture.sh), read independently of the package's walker: the oracle's records
// are walked as text, with the package's documented rules applied to them (variables of inlined
// call sites left out, unnamed static data left out, a legacy record naming an S_LOCAL of the
// outermost scope being that variable).

type oracleRecord struct {
	off  int
	kind string
	name string
	body string // the lines after the header, joined with " "
}

type oracleProc struct {
	name     string
	sec      uint16
	off      uint32
	records  []oracleRecord
	localFP  string // S_FRAMEPROC's "local fp reg"
	paramFP  string
	hasFrame bool
}

var (
	reSymHeader = regexp.MustCompile("^(\\d+) \\| (S_[A-Z0-9_]+) \\[size = \\d+\\](?: `(.*)`)?(.*)$")
	reProcAddr  = regexp.MustCompile(`addr = (\d{4}):(\d+)`)
	reFPRegs    = regexp.MustCompile(`local fp reg = (\w+), param fp reg = (\w+)`)
)

func parseOracleProcs(t *testing.T, lines []string) []*oracleProc {
	var procs []*oracleProc
	var cur *oracleProc
	for _, line := range lines {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if m := reSymHeader.FindStringSubmatch(line); m != nil {
			off, _ := strconv.Atoi(m[1])
			r := oracleRecord{off: off, kind: m[2], name: m[3], body: strings.TrimSpace(m[4])}
			if strings.HasPrefix(r.kind, "S_GPROC32") || strings.HasPrefix(r.kind, "S_LPROC32") {
				if cur == nil || len(cur.records) > 0 && cur.records[len(cur.records)-1].kind == "S_END" && depthOf(cur) == 0 {
					cur = &oracleProc{name: r.name}
					procs = append(procs, cur)
				}
			}
			cur.records = append(cur.records, r)
			continue
		}
		if cur != nil && len(cur.records) > 0 {
			r := &cur.records[len(cur.records)-1]
			r.body = strings.TrimSpace(r.body + " " + line)
		}
	}
	for _, p := range procs {
		m := reProcAddr.FindStringSubmatch(p.records[0].body)
		if m == nil {
			t.Fatalf("%s: no address in %q", p.name, p.records[0].body)
		}
		sec, _ := strconv.Atoi(m[1])
		off, _ := strconv.Atoi(m[2])
		p.sec, p.off = uint16(sec), uint32(off)
		for _, r := range p.records {
			if r.kind == "S_FRAMEPROC" && !p.hasFrame {
				if fm := reFPRegs.FindStringSubmatch(r.body); fm != nil {
					p.localFP, p.paramFP, p.hasFrame = fm[1], fm[2], true
				}
			}
		}
	}
	return procs
}

// depthOf is the scope depth after a procedure's records so far.
func depthOf(p *oracleProc) int {
	d := 0
	for _, r := range p.records {
		switch r.kind {
		case "S_GPROC32", "S_LPROC32", "S_BLOCK32", "S_INLINESITE", "S_THUNK32":
			d++
		case "S_END", "S_INLINESITE_END", "S_PROC_ID_END":
			d--
		}
	}
	return d
}

var localFlagNames = map[string]uint16{"param": LocalIsParam, "address is taken": LocalAddrTaken,
	"compiler generated": LocalCompilerGenerated, "aggregate": LocalIsAggregate, "aggregated": LocalIsAggregated,
	"aliased": LocalIsAliased, "alias": LocalIsAlias, "return val": LocalIsReturnValue,
	"optimized away": LocalOptimizedOut, "enreg global": LocalEnregGlobal, "enreg static": LocalEnregStatic}

var (
	reLocalBody  = regexp.MustCompile(`^type=(0x[0-9A-F]+).*, flags = (.*)$`)
	reRegRelBody = regexp.MustCompile(`^type = (0x[0-9A-F]+).*, register = (\w+), offset = (-?\d+)$`)
	reBPRelBody  = regexp.MustCompile(`^type = (0x[0-9A-F]+).*, offset = (-?\d+)$`)
	reDataBody   = regexp.MustCompile(`^type = (0x[0-9A-F]+|<no type>).*, addr = (\d{4}):(\d+)$`)
	reDRRegister = regexp.MustCompile(`^register = (\w+), may have no name = \w+, range start = (\d{4}):(\d+), length = (\d+) gaps = \[(.*)\]$`)
	reDRSubfield = regexp.MustCompile(`^register = (\w+), may have no name = \w+, offset in parent = (\d+) range = \[(\d{4}):(\d+),\+(\d+)\), gaps = \[(.*)\]$`)
	reDRRegRel   = regexp.MustCompile(`^register = (\w+), offset = (-?\d+), offset in parent = (\d+), has spilled udt = \w+ range = \[(\d{4}):(\d+),\+(\d+)\), gaps = \[(.*)\]$`)
	reDRFrameRel = regexp.MustCompile(`^offset = (-?\d+), range = \[(\d{4}):(\d+),\+(\d+)\) gaps = \[(.*)\]$`)
	reDRFull     = regexp.MustCompile(`^offset = (-?\d+)$`)
	reBlockBody  = regexp.MustCompile(`code size = (\d+), addr = (\d{4}):(\d+)`)
)

// expectedVariables applies the package's rules to an oracle procedure and renders each
// variable as renderVariable does.
func expectedVariables(t *testing.T, f *File, p *oracleProc) []string {
	rva := func(sec, off string) uint32 {
		s, _ := strconv.Atoi(sec)
		o, _ := strconv.Atoi(off)
		v, ok := f.RVA(uint16(s), uint32(o))
		if !ok {
			t.Fatalf("%s: no RVA for %s:%s", p.name, sec, off)
		}
		return v
	}
	type ev struct {
		name, kind, ti string
		flags          uint16
		loc            string
		ranges         []string
		scope          string
		outer          bool
		merged         bool
	}
	var vars []*ev
	var last *ev
	var blocks []string // scope of each open S_BLOCK32, "" for other scopes
	inlined := 0
	frameReg := func(param bool) string {
		if param {
			return p.paramFP
		}
		return p.localFP
	}
	for _, r := range p.records[1:] {
		switch r.kind {
		case "S_BLOCK32":
			m := reBlockBody.FindStringSubmatch(r.body)
			size, _ := strconv.Atoi(m[1])
			blocks = append(blocks, fmt.Sprintf("%#x+%d", rva(m[2], m[3]), size))
			last = nil
			continue
		case "S_INLINESITE", "S_THUNK32":
			blocks = append(blocks, "inline")
			inlined++
			last = nil
			continue
		case "S_END", "S_INLINESITE_END", "S_PROC_ID_END":
			if len(blocks) > 0 {
				if blocks[len(blocks)-1] == "inline" {
					inlined--
				}
				blocks = blocks[:len(blocks)-1]
			}
			last = nil
			continue
		}
		if inlined > 0 {
			continue
		}
		scope, outer := "-", true
		for i := len(blocks) - 1; i >= 0; i-- {
			if blocks[i] != "inline" {
				scope, outer = blocks[i], false
				break
			}
		}
		gaps := func(s string) string { return "[" + strings.ReplaceAll(s, " ", "") + "]" }
		switch r.kind {
		case "S_LOCAL":
			m := reLocalBody.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatalf("S_LOCAL %q", r.body)
			}
			var flags uint16
			if m[2] != "none" {
				for _, n := range strings.Split(m[2], " | ") {
					v, ok := localFlagNames[n]
					if !ok {
						t.Fatalf("flag %q", n)
					}
					flags |= v
				}
			}
			last = &ev{name: r.name, kind: "S_LOCAL", ti: m[1], flags: flags, loc: "none", scope: scope, outer: outer}
			vars = append(vars, last)
			continue
		case "S_DEFRANGE_REGISTER":
			m := reDRRegister.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatalf("%s %q", r.kind, r.body)
			}
			if last != nil {
				last.ranges = append(last.ranges, fmt.Sprintf("%#x+%s %s reg %s", rva(m[2], m[3]), m[4], gaps(m[5]), m[1]))
			}
			continue
		case "S_DEFRANGE_SUBFIELD_REGISTER":
			m := reDRSubfield.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatalf("%s %q", r.kind, r.body)
			}
			if last != nil {
				last.ranges = append(last.ranges, fmt.Sprintf("%#x+%s %s reg %s piece@%s", rva(m[3], m[4]), m[5], gaps(m[6]), m[1], m[2]))
			}
			continue
		case "S_DEFRANGE_REGISTER_REL":
			m := reDRRegRel.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatalf("%s %q", r.kind, r.body)
			}
			if last != nil {
				last.ranges = append(last.ranges, fmt.Sprintf("%#x+%s %s %s%+d @%s", rva(m[4], m[5]), m[6], gaps(m[7]), m[1], atoi(t, m[2]), m[3]))
			}
			continue
		case "S_DEFRANGE_FRAMEPOINTER_REL":
			m := reDRFrameRel.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatalf("%s %q", r.kind, r.body)
			}
			if last != nil {
				last.ranges = append(last.ranges, fmt.Sprintf("%#x+%s %s frame %s%+d", rva(m[2], m[3]), m[4], gaps(m[5]), frameReg(last.flags&LocalIsParam != 0), atoi(t, m[1])))
			}
			continue
		case "S_DEFRANGE_FRAMEPOINTER_REL_FULL_SCOPE":
			m := reDRFull.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatalf("%s %q", r.kind, r.body)
			}
			if last != nil {
				last.loc = fmt.Sprintf("frame %s%+d", frameReg(last.flags&LocalIsParam != 0), atoi(t, m[1]))
			}
			continue
		}
		last = nil
		var v *ev
		switch r.kind {
		case "S_REGREL32":
			m := reRegRelBody.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatalf("%s %q", r.kind, r.body)
			}
			v = &ev{name: r.name, kind: r.kind, ti: m[1], loc: fmt.Sprintf("%s%+d", m[2], atoi(t, m[3]))}
		case "S_BPREL32":
			m := reBPRelBody.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatalf("%s %q", r.kind, r.body)
			}
			// BP-relative: from the frame pointer, EBP on x86.
			v = &ev{name: r.name, kind: r.kind, ti: m[1], loc: fmt.Sprintf("frame EBP%+d", atoi(t, m[2]))}
		case "S_LDATA32", "S_GDATA32":
			m := reDataBody.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatalf("%s %q", r.kind, r.body)
			}
			if r.name == "" {
				continue
			}
			var at uint32
			if m[2] != "0000" {
				at = rva(m[2], m[3])
			}
			v = &ev{name: r.name, kind: r.kind, ti: m[1], loc: fmt.Sprintf("static %#x", at)}
		default:
			continue
		}
		v.scope, v.outer = scope, outer
		if v.kind != "S_LDATA32" && v.kind != "S_GDATA32" && outer {
			merged := false
			for _, u := range vars {
				if u.kind == "S_LOCAL" && u.outer && u.name == v.name && !u.merged {
					u.merged, merged = true, true
					if u.loc == "none" {
						u.loc = v.loc
					}
					break
				}
			}
			if merged {
				continue
			}
		}
		vars = append(vars, v)
	}
	var out []string
	for _, v := range vars {
		ti := parseTI(t, v.ti)
		s := fmt.Sprintf("%s %s type=%#x flags=%#x loc=%s scope=%s", v.name, v.kind, uint32(ti), v.flags, v.loc, v.scope)
		for _, r := range v.ranges {
			s += " | " + r
		}
		out = append(out, s)
	}
	return out
}

func renderLocation(l Location) string {
	reg := strings.ToUpper(l.RegisterName)
	switch l.Kind {
	case LocNone:
		return "none"
	case LocRegister:
		if l.Piece {
			return fmt.Sprintf("reg %s piece@%d", reg, l.OffsetInParent)
		}
		return "reg " + reg
	case LocRegisterRelative:
		return fmt.Sprintf("%s%+d", reg, l.Offset)
	case LocFrameRelative:
		return fmt.Sprintf("frame %s%+d", reg, l.Offset)
	case LocStatic:
		return fmt.Sprintf("static %#x", l.RVA)
	}
	return fmt.Sprintf("kind %d", l.Kind)
}

func renderVariable(v Variable) string {
	scope := "-"
	if v.Scope.Size != 0 {
		scope = fmt.Sprintf("%#x+%d", v.Scope.RVA, v.Scope.Size)
	}
	kinds := map[uint16]string{S_LOCAL: "S_LOCAL", S_REGREL32: "S_REGREL32", S_BPREL32: "S_BPREL32", S_LDATA32: "S_LDATA32", S_GDATA32: "S_GDATA32"}
	s := fmt.Sprintf("%s %s type=%#x flags=%#x loc=%s scope=%s", v.Name, kinds[v.Kind], uint32(v.Type), v.Flags, renderLocation(v.Location), scope)
	for _, r := range v.Ranges {
		var gaps []string
		for _, g := range r.Gaps {
			gaps = append(gaps, fmt.Sprintf("(%d,%d)", g.Start, g.Size))
		}
		loc := renderLocation(r.Location)
		if r.Location.Kind == LocRegisterRelative {
			loc += fmt.Sprintf(" @%d", r.Location.OffsetInParent)
		}
		s += fmt.Sprintf(" | %#x+%d [%s] %s", r.RVA, r.Size, strings.Join(gaps, ","), loc)
	}
	return s
}

// TestVariablesLLVM compares every variable of a dozen procedures (x86 BP-relative parameters
// and block-scoped locals and statics; x64 optimized code with register ranges, gaps, frame-
// relative ranges, VFRAME-relative and subfield locations, inlined call sites) with the oracle.
func TestVariablesLLVM(t *testing.T) {
	for _, o := range typeOracles[:2] {
		t.Run(o.name, func(t *testing.T) {
			f := openCorpus(t, o.pdb)
			procs := parseOracleProcs(t, readOracle(t, o.name+".vars.txt"))
			if len(procs) < 5 {
				t.Fatalf("%d procedures in the oracle", len(procs))
			}
			total := 0
			for _, p := range procs {
				rva, ok := f.RVA(p.sec, p.off)
				if !ok {
					t.Fatalf("%s: no RVA", p.name)
				}
				fn, disp, ok := f.FunctionAt(rva)
				if !ok || disp != 0 || fn.Name != p.name {
					t.Errorf("FunctionAt(%#x) = %q+%d %v, want %s", rva, fn.Name, disp, ok, p.name)
					continue
				}
				vars, err := f.Variables(fn)
				if err != nil {
					t.Errorf("%s: %v", p.name, err)
				}
				var got []string
				for _, v := range vars {
					got = append(got, renderVariable(v))
				}
				want := expectedVariables(t, f, p)
				total += len(want)
				sort.Strings(got)
				sort.Strings(want)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s:\n got %s\nwant %s", p.name, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
				}
			}
			if total < 15 {
				t.Errorf("only %d variables compared", total)
			}
		})
	}
}

// procByName finds a procedure by name through FunctionByName.
func procByName(t *testing.T, f *File, name string) Function {
	t.Helper()
	fn, ok := f.FunctionByName(name)
	if !ok {
		t.Fatalf("no procedure %s", name)
	}
	return fn
}

func names(vs []Variable) []string {
	var n []string
	for _, v := range vs {
		n = append(n, v.Name+":"+v.TypeName)
	}
	return n
}

// TestParamsDbgEng checks parameters, locals and statics against what DbgEng reports for the
// same PDBs (kdlibcpp/ORACLE_NOTES.md, from kdlib's tests): in the WOW64 stack test the current
// frame stackTestClass::stackMethod has 3 typed parameters (this, a, b), frame 1 stackTestRun2
// has a and b first, frame 2 stackTestRun1 has 3 locals (localFloat and localChars among them)
// and 2 static variables (staticLong among them). The types are llvm-pdbutil's (wow64.vars.txt)
// in the C spelling.
func TestParamsDbgEng(t *testing.T) {
	f := openCorpus(t, typeOracles[0].pdb)
	check := func(what string, got []Variable, err error, want ...string) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
		g := names(got)
		if len(g) > len(want) && strings.HasPrefix(what, "prefix ") {
			g = g[:len(want)]
		}
		if strings.Join(g, ", ") != strings.Join(want, ", ") {
			t.Errorf("%s = %q, want %q", what, g, want)
		}
	}
	fn := procByName(t, f, "stackTestClass::stackMethod")
	ps, err := f.Params(fn)
	check("Params(stackMethod)", ps, err, "this:class stackTestClass *", "a:double", "b:int")
	// this at EBP-8, a at EBP+8, b at EBP+16 (S_BPREL32 offsets in wow64.vars.txt).
	for i, off := range []int32{-8, 8, 16} {
		if i < len(ps) && (ps[i].Location.Kind != LocFrameRelative || ps[i].Location.RegisterName != "ebp" || ps[i].Location.Offset != off) {
			t.Errorf("%s at %+v, want ebp%+d", ps[i].Name, ps[i].Location, off)
		}
	}
	ps, err = f.Params(procByName(t, f, "stackTestRun2"))
	check("prefix Params(stackTestRun2)", ps, err, "a:int", "b:double")
	fn = procByName(t, f, "stackTestRun1")
	ls, err := f.Locals(fn)
	check("Locals(stackTestRun1)", ls, err, "localDouble:double", "localFloat:float", "localChars:char [256]")
	ss, err := f.Statics(fn)
	check("Statics(stackTestRun1)", ss, err, "staticLong:long", "staticFloat:float")
	ps, err = f.Params(fn)
	check("Params(stackTestRun1)", ps, err, "a:int", "b:float *", "c:class std::basic_string<char,std::char_traits<char>,std::allocator<char> > *")
	ps, err = f.Params(procByName(t, f, "stackTestRun"))
	check("Params(stackTestRun)", ps, err)
}

// TestParamsOptimized: the x64 CV_ALLREG build. DbgEng reads the top frame's locals of
// test_cv_allreg_amd64 through CV_ALLREG_VFRAME register-relative locations (ORACLE_NOTES.md);
// llvm-pdbutil shows local r's S_DEFRANGE_REGISTER_REL on VFRAME at offset 80 over
// [0001:6627,+177) (allreg.vars.txt). In stackTestRun1 the parameters a, b, c are spread over
// an S_REGREL32 (a) and two S_LOCALs (b, c): they must come back once each, in order.
func TestParamsOptimized(t *testing.T) {
	f := openCorpus(t, typeOracles[1].pdb)
	fn := procByName(t, f, "test_cv_allreg_amd64")
	ps, err := f.Params(fn)
	if err != nil || strings.Join(names(ps), ",") != "aa:char *,ab:char *" {
		t.Errorf("Params(test_cv_allreg_amd64) = %q %v", names(ps), err)
	}
	ls, err := f.Locals(fn)
	if err != nil || len(ls) != 5 {
		t.Fatalf("Locals(test_cv_allreg_amd64) = %q %v", names(ls), err)
	}
	start, _ := f.RVA(1, 6627)
	var r *Variable
	for i := range ls {
		if ls[i].Name == "r" {
			r = &ls[i]
		}
	}
	if r == nil {
		t.Fatal("no local r")
	}
	// At +42 both ECX ranges are in a gap ([0001:6611,+109) gap (49,35) and [0001:6660,+144)
	// gap (6,54)): only the VFRAME range holds.
	loc, ok := r.LocationAt(start + 42)
	if !ok || loc.Kind != LocRegisterRelative || loc.Register != RegVFrame || loc.RegisterName != "vframe" || loc.Offset != 80 {
		t.Errorf("r at %#x: %+v %v, want vframe+80", start+42, loc, ok)
	}
	if loc, ok := r.LocationAt(start + 176); !ok || loc.Kind != LocRegister || loc.RegisterName != "ecx" {
		t.Errorf("r at %#x: %+v %v, want ecx (the first range that holds)", start+176, loc, ok)
	}
	if _, ok := r.LocationAt(start + 177); ok {
		t.Errorf("r has a location past its last range")
	}
	ps, err = f.Params(procByName(t, f, "stackTestRun1"))
	if err != nil || strings.Join(names(ps), ",") != "a:int,b:float *,c:class std::basic_string<char,std::char_traits<char>,std::allocator<char> > *" {
		t.Errorf("Params(stackTestRun1) = %q %v", names(ps), err)
	}
}
