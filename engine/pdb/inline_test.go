package pdb

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"wdbg/internal/corpus"
)

// The x64 release build of kdlibcpp's stack test breaks in stackTestRun1+0x55, in code that the
// compiler inlined from stackTestRun2 and, inside it, stackTestClass::stackMethod. DbgEng's own
// inline stack for it (kdlibcpp/ORACLE_NOTES.md, InlineStackTest): stackTestClass::stackMethod
// at targetapp.cpp:129, stackTestRun2 at :144, then the real frame stackTestRun1 at :172.
// The address: the dump's exception address 0x7ff6f2971e65 (CATALOG.md) less the image base
// 0x7ff6f2970000; llvm-pdbutil puts stackTestRun1 at 0001:3600 (0x1e10) and 0x1e65 is +0x55.
func TestInlineFramesStackTest(t *testing.T) {
	f := openCorpusPDB(t, "kdlibcpp/targetapp_stacktest_x64_release_v1/targetapp.pdb")
	const rva = 0x1e65
	frames, err := f.InlineFrames(rva)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		name string
		line int
	}
	wants := []want{{"stackTestClass::stackMethod", 129}, {"stackTestRun2", 144}}
	if len(frames) != len(wants) {
		t.Fatalf("InlineFrames(%#x) = %+v, want %v", rva, frames, wants)
	}
	for i, w := range wants {
		fr := frames[i]
		if fr.Name != w.name || fr.Line != w.line || !strings.HasSuffix(fr.File, `\targetapp.cpp`) {
			t.Errorf("frame %d = %s %s:%d, want %s targetapp.cpp:%d", i, fr.Name, fr.File, fr.Line, w.name, w.line)
		}
	}
	// llvm-pdbutil: stackTestRun2's site starts at code 0x55 of stackTestRun1, stackMethod's too.
	if frames[0].RVA != 0x1e65 || frames[0].Disp != 0 || frames[1].RVA != 0x1e65 {
		t.Errorf("site starts %#x+%#x, %#x; want 0x1e65+0, 0x1e65", frames[0].RVA, frames[0].Disp, frames[1].RVA)
	}
	if fn, disp, ok := f.FunctionAt(rva); !ok || fn.Name != "stackTestRun1" || disp != 0x55 {
		t.Errorf("FunctionAt = %s+%#x %v, want stackTestRun1+0x55", fn.Name, disp, ok)
	}
	if _, line, ok := f.LineAt(rva); !ok || line != 172 {
		t.Errorf("LineAt = %d %v, want 172", line, ok)
	}
	// Outside inlined code (the procedure's first byte): no inline frames.
	if frames, err := f.InlineFrames(0x1e10); err != nil || len(frames) != 0 {
		t.Errorf("InlineFrames(0x1e10) = %+v, %v; want none", frames, err)
	}
}

func openCorpusPDB(t *testing.T, rel string) *File {
	t.Helper()
	f, err := Open(corpus.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// oracleSite is an inline site as llvm-pdbutil dump -symbols prints it.
type oracleSite struct {
	module, off, parent int
	inlinee             uint32
	pieces              []oraclePiece
	line                int // the line offset of the next piece
	openPiece           int // 1 + the index of the piece not closed yet, 0 for none
}

type oraclePiece struct {
	start, end uint32
	line       int // offset from the inlinee's first line
}

type inlineOracleProc struct {
	module, off  int
	section      uint16
	offset, size uint32
	sites        []*oracleSite
	name         string
}

var (
	inlRecordRe = regexp.MustCompile(`^(\d+) \| (S_\w+) `)
	inlProcAddr = regexp.MustCompile(`addr = ([0-9A-F]{4}):(\d+), code size = (\d+)`)
	inlInlinee  = regexp.MustCompile(`^inlinee = 0x([0-9A-F]+) .*, parent = (\d+), end = \d+$`)
	inlAnnot    = regexp.MustCompile(`^[0-9A-F]+\s+(.*)$`)
	inlCode     = regexp.MustCompile(`code 0x([0-9A-F]+) \(`)
	inlCodeEnd  = regexp.MustCompile(`code end 0x([0-9A-F]+) \(`)
	inlLine     = regexp.MustCompile(`line (-?\d+) \(`)
	inlModule   = regexp.MustCompile(`^Mod (\d{4}) \|`)
	inlILRow    = regexp.MustCompile(`^0x([0-9A-F]+) \|\s+(\d+) \| (.*) \(MD5: [0-9A-F]+\)$`)
)

// readInlineOracle parses NAME.inlines.txt (capture.sh): the procedures and their inline sites
// with the pieces of code pdbutil decoded from each site's annotations.
func readInlineOracle(t *testing.T, name string) []*inlineOracleProc {
	var procs []*inlineOracleProc
	var proc *inlineOracleProc
	var site *oracleSite
	module := -1
	lines := readOracle(t, name+".inlines.txt")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if m := inlModule.FindStringSubmatch(l); m != nil {
			module, proc, site = atoi(t, m[1]), nil, nil
			continue
		}
		if m := inlRecordRe.FindStringSubmatch(l); m != nil {
			off, kind := atoi(t, m[1]), m[2]
			site = nil
			switch {
			case strings.Contains(kind, "PROC32"):
				i++
				a := inlProcAddr.FindStringSubmatch(lines[i])
				if a == nil {
					t.Fatalf("%s line %d: no address in %q", name, i, lines[i])
				}
				proc = &inlineOracleProc{module: module, off: off, section: uint16(hexU(t, a[1])), offset: uint32(atoi(t, a[2])),
					size: uint32(atoi(t, a[3])), name: l}
				procs = append(procs, proc)
			case kind == "S_INLINESITE" || kind == "S_INLINESITE2":
				i++
				m := inlInlinee.FindStringSubmatch(lines[i])
				if m == nil || proc == nil {
					t.Fatalf("%s line %d: no inlinee in %q", name, i, lines[i])
				}
				site = &oracleSite{module: module, off: off, parent: atoi(t, m[2]), inlinee: hexU(t, m[1])}
				proc.sites = append(proc.sites, site)
			}
			continue
		}
		if site == nil {
			continue
		}
		m := inlAnnot.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		// One decoded annotation: a line change applies to the piece its code change opens.
		ann := m[1]
		if lm := inlLine.FindStringSubmatch(ann); lm != nil {
			site.lineNow(atoi(t, lm[1]))
		}
		if cm := inlCode.FindStringSubmatch(ann); cm != nil {
			site.open(hexU(t, cm[1]))
		}
		if em := inlCodeEnd.FindStringSubmatch(ann); em != nil {
			site.close(hexU(t, em[1]))
		}
	}
	for _, p := range procs {
		for _, s := range p.sites {
			s.dropOpen()
		}
	}
	return procs
}

// The annotations as pdbutil prints them: "code X" opens a piece at X with the current line
// (closing the open one there), "code end Y" closes the open piece at Y, "line L" sets the line
// offset of the pieces opened after it. A piece never closed is dropped.
func (s *oracleSite) lineNow(l int) { s.line = l }

func (s *oracleSite) open(at uint32) {
	s.close(at)
	s.pieces = append(s.pieces, oraclePiece{start: at, end: at, line: s.line})
	s.openPiece = len(s.pieces)
}

func (s *oracleSite) close(at uint32) {
	if s.openPiece > 0 {
		s.pieces[s.openPiece-1].end = at
		s.openPiece = 0
	}
}

func (s *oracleSite) dropOpen() {
	if s.openPiece > 0 {
		s.pieces = append(s.pieces[:s.openPiece-1], s.pieces[s.openPiece:]...)
		s.openPiece = 0
	}
}

func (s *oracleSite) at(off uint32) (oraclePiece, bool) {
	for _, p := range s.pieces {
		if off >= p.start && off < p.end {
			return p, true
		}
	}
	return oraclePiece{}, false
}

// chain is the oracle's inline chain at an offset, innermost first: at each level the first
// site (record order) nested in the previous one (pdbutil's parent pointers) that holds it.
func (p *inlineOracleProc) chain(off uint32) []*oracleSite {
	var out []*oracleSite
	parent := p.off
	for {
		var next *oracleSite
		for _, s := range p.sites {
			if _, ok := s.at(off); ok && s.parent == parent {
				next = s
				break
			}
		}
		if next == nil {
			break
		}
		out = append([]*oracleSite{next}, out...)
		parent = next.off
	}
	return out
}

type ilEntry struct {
	line int
	file string
}

// readILOracle parses NAME.il.txt: per module, each inlinee's first line and file.
func readILOracle(t *testing.T, name string) map[[2]int]ilEntry {
	out := map[[2]int]ilEntry{}
	module := -1
	for _, l := range readOracle(t, name+".il.txt") {
		if m := inlModule.FindStringSubmatch(l); m != nil {
			module = atoi(t, m[1])
			continue
		}
		if m := inlILRow.FindStringSubmatch(l); m != nil {
			out[[2]int{module, int(hexU(t, m[1]))}] = ilEntry{line: atoi(t, m[2]), file: m[3]}
		}
	}
	return out
}

// Every piece of every inline site llvm-pdbutil decodes in two release-build PDBs: at its first
// and last byte, InlineFrames must give the chain of sites pdbutil's parent pointers nest there,
// with the lines pdbutil's annotations give, counted from the inlinee's first line (dump -il),
// and the files dump -il names.
func TestInlineFramesPdbutil(t *testing.T) {
	for _, c := range []struct{ name, pdb string }{
		{"stacktest", "kdlibcpp/targetapp_stacktest_x64_release_v1/targetapp.pdb"},
		{"allreg", "kdlibcpp/targetapp_test_cv_allreg_amd64/targetapp.pdb"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := openCorpusPDB(t, c.pdb)
			procs := readInlineOracle(t, c.name)
			il := readILOracle(t, c.name)
			checked, sites := 0, 0
			for _, p := range procs {
				sites += len(p.sites)
				base, ok := f.RVA(p.section, p.offset)
				if !ok {
					t.Fatalf("%s: no RVA for %04X:%d", p.name, p.section, p.offset)
				}
				if fn, disp, ok := f.FunctionAt(base); !ok || disp != 0 || fn.recOff != uint32(p.off) {
					continue // a folded duplicate: the address names another procedure
				}
				for _, s := range p.sites {
					for _, pc := range s.pieces {
						for _, off := range []uint32{pc.start, pc.end - 1} {
							if off >= p.size {
								continue
							}
							checked++
							if err := compareChain(f, p, il, base, off); err != nil {
								t.Errorf("%s at +%#x: %v", p.name, off, err)
								if checked > 20 {
									t.FailNow()
								}
							}
						}
					}
				}
			}
			if sites < 400 || checked < 1000 {
				t.Errorf("%d sites, %d addresses checked: the oracle was not read", sites, checked)
			}
			t.Logf("%d procedures, %d inline sites, %d addresses", len(procs), sites, checked)
		})
	}
}

func compareChain(f *File, p *inlineOracleProc, il map[[2]int]ilEntry, base, off uint32) error {
	want := p.chain(off)
	got, err := f.InlineFrames(base + off)
	if err != nil {
		return err
	}
	describe := func() string {
		var b strings.Builder
		for _, g := range got {
			fmt.Fprintf(&b, " [%#x %s:%d]", uint32(g.Inlinee), g.Name, g.Line)
		}
		b.WriteString(" want")
		for _, w := range want {
			pc, _ := w.at(off)
			fmt.Fprintf(&b, " [%#x +%d]", w.inlinee, pc.line)
		}
		return b.String()
	}
	if len(got) != len(want) {
		return fmt.Errorf("chain%s", describe())
	}
	for k, w := range want {
		g := got[k]
		pc, _ := w.at(off)
		e, ok := il[[2]int{w.module, int(w.inlinee)}]
		if !ok {
			return fmt.Errorf("inlinee %#x not in dump -il", w.inlinee)
		}
		first := w.pieces[0].start
		if uint32(g.Inlinee) != w.inlinee || g.Line != e.line+pc.line || !strings.EqualFold(g.File, e.file) ||
			g.Disp != off-first || g.RVA != base+first {
			return fmt.Errorf("frame %d: %#x %s:%d +%#x at %#x, want %#x %s:%d +%#x at %#x;%s", k, uint32(g.Inlinee), g.File, g.Line,
				g.Disp, g.RVA, w.inlinee, e.file, e.line+pc.line, off-first, base+first, describe())
		}
	}
	return nil
}

// llvm-symbolizer --inlines over symbolic's two PE+PDB pairs (testdata/oracles/NAME.symbolizer.txt,
// capture.sh): at each address its inlined frames, innermost first, with their files and lines,
// then the physical function's file and line ("??:0" without line information). LLVM 19 only
// matches an address against a piece of an inline site that a length closes (its
// NativeFunctionSymbol inlineSiteContainsAddress), not against one that the next code offset
// closes, so it can miss the innermost sites (pdbutil's decoding of the same annotations, checked
// by TestInlineFramesPdbutil, and lldb's reader count those pieces): its chain must be the tail of
// ours, names and files exactly. Lines are not compared here: LLVM gives a line change to the
// pieces before it that had none, which at stackTestRun1+0x55 would put stackTestRun2 at line 147
// where DbgEng says 144 (TestInlineFramesStackTest); the lines are checked against pdbutil's
// decoding instead. LLVM prints an anonymous namespace as the compiler's "?A0x..." scope; names
// are compared after spelling it as the procedure records do.
func TestInlineFramesSymbolizer(t *testing.T) {
	for _, c := range []struct{ name, pdb string }{
		{"crash", "symbolic/crash.pdb"},
		{"crashwithexception", "symbolic/CrashWithException.pdb"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := openCorpusPDB(t, c.pdb)
			addrs, chains, same := 0, 0, 0
			for _, l := range readOracle(t, c.name+".symbolizer.txt") {
				if strings.HasPrefix(l, "#") || l == "" {
					continue
				}
				fields := strings.Split(l, "|")
				if (len(fields)-1)%3 != 0 || len(fields) < 4 {
					t.Fatalf("oracle line %q", l)
				}
				rva := hexU(t, strings.TrimPrefix(fields[0], "0x"))
				var want []InlineFrame
				for k := 1; k+2 < len(fields); k += 3 {
					want = append(want, InlineFrame{Name: fields[k], File: fields[k+1], Line: atoi(t, fields[k+2])})
				}
				phys := want[len(want)-1]
				want = want[:len(want)-1]
				addrs++
				if len(want) > 0 {
					chains++
				}
				got, err := f.InlineFrames(rva)
				if err != nil {
					t.Fatalf("%#x: %v", rva, err)
				}
				if len(got) < len(want) {
					t.Errorf("%#x: %d inline frames %+v, want at least %+v", rva, len(got), got, want)
					continue
				}
				if len(got) == len(want) {
					same++
				}
				tail := got[len(got)-len(want):]
				for k, w := range want {
					g := tail[k]
					name := inlAnonymous.ReplaceAllString(w.Name, "`anonymous namespace'")
					if g.Name != name || g.File != w.File {
						t.Errorf("%#x frame %d: %s %s, want %s %s", rva, k+len(got)-len(want), g.Name, g.File, name, w.File)
					}
				}
				if file, _, ok := f.LineAt(rva); phys.File != "??" && (!ok || file != phys.File) {
					t.Errorf("%#x: LineAt in %s, want %s", rva, file, phys.File)
				}
			}
			if addrs < 100 || chains < 50 || same < chains/2 {
				t.Errorf("%d addresses, %d with inline frames, %d with LLVM's chain: the oracle was not read", addrs, chains, same)
			}
			t.Logf("%d addresses, %d with inline frames, %d chains as long as LLVM's", addrs, chains, same)
		})
	}
}

var inlAnonymous = regexp.MustCompile(`\?A0x[0-9a-f]+`)
