package pdb

import (
	"fmt"
	"strings"
	"testing"

	"wdbg/internal/corpus"
)

// breakpadPairs are PDBs of the corpus with the .sym file Breakpad's or Mozilla's dump_syms made
// from them (CATALOG.md: "is itself the oracle"). The .sym records give every function's
// address, size and lines, the public symbols outside functions, and the x86 FPO and frame data.
// Mozilla's dump_syms post-processes line tables (Breakpad's, like DIA, prints the rows as they
// are): it cuts a function's last line at the function's end, merges adjacent rows of one line
// and folds the "hidden" lines 0xF00F00/0xFEEFEE into the row before. mozilla applies the same
// to both sides before comparing.
var breakpadPairs = []struct {
	pdb, sym string
	mozilla  bool
}{
	{"breakpad/dump_syms_testdata/dump_syms_regtest.pdb", "breakpad/dump_syms_testdata/dump_syms_regtest.sym", false},
	{"breakpad/dump_syms_testdata/dump_syms_regtest64.pdb", "breakpad/dump_syms_testdata/dump_syms_regtest64.sym", false},
	{"breakpad/dump_syms_testdata/dump_syms_regtest64.pdb", "mozilla-dump_syms/dump_syms_regtest64.sym", true},
	{"breakpad/dump_syms_testdata/omap_reorder_bbs.pdb", "breakpad/dump_syms_testdata/omap_reorder_bbs.sym", false},
	{"breakpad/dump_syms_testdata/omap_reorder_funcs.pdb", "breakpad/dump_syms_testdata/omap_reorder_funcs.sym", false},
	{"breakpad/dump_syms_testdata/omap_stretched.pdb", "breakpad/dump_syms_testdata/omap_stretched.sym", false},
	{"breakpad/dump_syms_testdata/omap_stretched_filled.pdb", "breakpad/dump_syms_testdata/omap_stretched_filled.sym", false},
	{"symbolic/crash.pdb", "symbolic/crash.sym", false},
	{"symbolic/CrashWithException.pdb", "symbolic/CrashWithException.pdb.sym", false},
	{"mozilla-dump_syms/basic32.pdb", "mozilla-dump_syms/basic32.sym", true},
	{"mozilla-dump_syms/basic32-min.pdb", "mozilla-dump_syms/basic32-min.sym", true},
}

func TestBreakpadSymFiles(t *testing.T) {
	for _, pair := range breakpadPairs {
		t.Run(pair.sym, func(t *testing.T) {
			f, err := Open(corpus.Path(t, pair.pdb))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sf := readSymFile(t, corpus.Path(t, pair.sym))
			checkSymModule(t, f, sf)
			checkSymFunctions(t, f, sf, pair.mozilla)
			checkSymPublics(t, f, sf)
			checkSymStackWin(t, f, sf, pair.mozilla)
		})
	}
}

// checkSymModule: the MODULE line's id is the symbol store id, GUID and DBI age.
func checkSymModule(t *testing.T, f *File, sf *symFile) {
	in, err := f.Info()
	if err != nil {
		t.Fatal(err)
	}
	age, err := f.Age()
	if err != nil {
		t.Fatal(err)
	}
	if got := SymbolStoreID(in.GUID, age); got != sf.moduleID {
		t.Errorf("symbol store id %s, .sym MODULE says %s", got, sf.moduleID)
	}
}

func checkSymFunctions(t *testing.T, f *File, sf *symFile, mozilla bool) {
	omap := f.HasOMAP()
	bad := 0
	report := func(format string, args ...any) {
		bad++
		if bad <= 10 {
			t.Errorf(format, args...)
		}
	}
	fns, err := f.Functions()
	if err != nil {
		t.Fatal(err)
	}
	byAddr := map[uint32][]Function{}
	for _, fn := range fns {
		byAddr[fn.RVA] = append(byAddr[fn.RVA], fn)
	}
	for _, sfn := range sf.funcs {
		fn, disp, ok := f.FunctionAt(sfn.addr)
		if !ok {
			report("FUNC %x %x %s: no function", sfn.addr, sfn.size, sfn.name)
			continue
		}
		// Identical functions folded into one by the linker share an address: the .sym names one
		// of them, and FunctionAt the one whose module contributed the bytes.
		named := false
		for _, g := range byAddr[fn.RVA] {
			// Mozilla spells MSVC's "`anonymous namespace'" as "(anonymous namespace)".
			moz := strings.ReplaceAll(g.Name, "`anonymous namespace'", "(anonymous namespace)")
			for _, name := range []string{g.Name, undecorateC(g.Name), moz} {
				named = named || strings.Contains(sfn.name, name)
			}
		}
		if !named {
			report("FUNC %x %s: function %q", sfn.addr, sfn.name, fn.Name)
		}
		if !omap && (disp != 0 || fn.RVA != sfn.addr || fn.Size != sfn.size) {
			report("FUNC %x %x %s: function at %x size %x (+%x)", sfn.addr, sfn.size, sfn.name, fn.RVA, fn.Size, disp)
		}
		// Every line record: the line and file of its first byte.
		for _, l := range sfn.lines {
			file, line, ok := f.LineAt(l.addr)
			if l.size == 0 {
				continue // an empty row: the next one at this address is the one that holds it
			}
			if !ok || line != l.line || !strings.EqualFold(file, sf.files[l.file]) {
				report("FUNC %s line %x %x %d %s: got %s:%d ok=%v", sfn.name, l.addr, l.size, l.line, sf.files[l.file], file, line, ok)
			}
		}
		if omap || disp != 0 {
			continue
		}
		// Without OMAP the function's rows are the .sym's, sizes included.
		rows, err := f.LinesOf(fn)
		if err != nil {
			report("FUNC %s: %v", sfn.name, err)
			continue
		}
		var gotRows, wantRows []symLine
		files := map[string]int{}
		for _, r := range rows {
			if mozilla {
				r.Size = min(r.Size, fn.RVA+fn.Size-r.RVA)
			}
			n, ok := files[strings.ToLower(r.File)]
			if !ok {
				n = -len(files) - 1
				files[strings.ToLower(r.File)] = n
			}
			gotRows = append(gotRows, symLine{addr: r.RVA, size: r.Size, line: r.Line, file: n})
		}
		for _, l := range sfn.lines {
			l.file = files[strings.ToLower(sf.files[l.file])]
			wantRows = append(wantRows, l)
		}
		if mozilla {
			gotRows, wantRows = mozillaRows(gotRows), mozillaRows(wantRows)
		}
		// Empty rows (a line with no code of its own) are left out by Mozilla's dump_syms.
		var got, want []string
		for _, r := range gotRows {
			if r.size > 0 {
				got = append(got, fmt.Sprintf("%x %x %d %d", r.addr, r.size, r.line, r.file))
			}
		}
		for _, r := range wantRows {
			if r.size > 0 {
				want = append(want, fmt.Sprintf("%x %x %d %d", r.addr, r.size, r.line, r.file))
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			report("FUNC %x %s lines:\n got %v\nwant %v", sfn.addr, sfn.name, got, want)
		}
	}
	if !omap {
		// And no function is missing from the .sym: one FUNC per distinct address.
		seen := map[uint32]bool{}
		for _, sfn := range sf.funcs {
			seen[sfn.addr] = true
		}
		for _, fn := range fns {
			if !seen[fn.RVA] && fn.Size > 0 {
				report("function %s at %x size %x is not in the .sym", fn.Name, fn.RVA, fn.Size)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d mismatches in %d FUNC records", bad, len(sf.funcs))
	}
}

// checkSymPublics: every PUBLIC record's address is a public symbol's.
func checkSymPublics(t *testing.T, f *File, sf *symFile) {
	bad := 0
	for _, p := range sf.publics {
		if strings.HasPrefix(p.name, "<") {
			continue // Mozilla's "<unknown in x.exe>": an address from the PE, not the PDB
		}
		pub, disp, ok := f.PublicAt(p.addr)
		if !ok || disp != 0 || pub.RVA != p.addr {
			bad++
			if bad <= 10 {
				t.Errorf("PUBLIC %x %s: got %+v +%x ok=%v", p.addr, p.name, pub, disp, ok)
			}
		}
	}
}

// checkSymStackWin: STACK WIN 0 records are the FPO_DATA records, STACK WIN 4 the frame data.
func checkSymStackWin(t *testing.T, f *File, sf *symFile, mozilla bool) {
	bad := 0
	report := func(format string, args ...any) {
		bad++
		if bad <= 10 {
			t.Errorf(format, args...)
		}
	}
	omap := f.HasOMAP()
	records, err := f.FrameDataRecords()
	if err != nil {
		t.Fatal(err)
	}
	frameByAddr := map[uint32][]FrameData{}
	for _, fd := range records {
		frameByAddr[fd.RVA] = append(frameByAddr[fd.RVA], fd)
	}
	for _, sw := range sf.stackWin {
		switch sw.typ {
		case 0:
			fpo, ok := f.FPOAt(sw.rva)
			if !ok {
				report("STACK WIN 0 %x: no FPO data", sw.rva)
				continue
			}
			// dump_syms prints sizes in bytes: dwords ×4, saved registers ×4.
			got := symStackWin{typ: 0, rva: fpo.RVA, codeSize: fpo.Size, prolog: uint32(fpo.Prolog),
				params: uint32(fpo.Params) * 4, savedRegs: uint32(fpo.Regs) * 4, locals: fpo.Locals * 4,
				allocatesBP: fpo.UseBP}
			if omap && got.rva != sw.rva {
				continue // a piece that the rearrangement moved away from the record's start
			}
			if mozilla {
				// Mozilla's dump_syms (like llvm-pdbutil) takes fUseBP from bit 10 of the
				// attributes, where winnt.h's FPO_DATA (FORMATS.md §8.2) has cbRegs; Breakpad's
				// DIA-made files agree with winnt.h (dump_syms_regtest.sym 2db0: bits 0x1100,
				// allocates_base_pointer 1).
				got.allocatesBP = sw.allocatesBP
			}
			if omap {
				got.codeSize = sw.codeSize // the first piece of the rearranged range
			}
			if got != sw {
				report("STACK WIN 0 %x:\n got %+v\nwant %+v", sw.rva, got, sw)
			}
		case 4:
			fd, ok := f.FrameDataAt(sw.rva)
			if !ok {
				report("STACK WIN 4 %x: no frame data", sw.rva)
				continue
			}
			candidates := []FrameData{fd}
			if !omap {
				// Folded functions keep one record each at their shared address: the .sym
				// shows one of them.
				candidates = append(candidates, frameByAddr[sw.rva]...)
			}
			var got symStackWin
			for _, fd := range candidates {
				got = symStackWin{typ: 4, rva: fd.RVA, codeSize: fd.CodeSize, prolog: uint32(fd.PrologSize),
					params: fd.ParamsSize, savedRegs: uint32(fd.SavedRegsSize), locals: fd.LocalSize,
					maxStack: fd.MaxStackSize, hasProgram: fd.Program != "", program: strings.Join(strings.Fields(fd.Program), " ")}
				if omap {
					// dump_syms cuts each record into the pieces the rearrangement scattered and
					// merges pieces of nested records in its own way: only what holds for the
					// whole function is comparable.
					got = symStackWin{typ: 4, params: fd.ParamsSize, locals: fd.LocalSize, maxStack: fd.MaxStackSize}
					sw = symStackWin{typ: 4, params: sw.params, locals: sw.locals, maxStack: sw.maxStack}
				}
				if got == sw {
					break
				}
			}
			if got != sw {
				report("STACK WIN 4 %x:\n got %+v\nwant %+v", sw.rva, got, sw)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d mismatches in %d STACK WIN records", bad, len(sf.stackWin))
	}
}

// undecorateC strips the decoration of a C name as dump_syms prints it: __cdecl's leading
// underscore, __fastcall's leading @, and __stdcall's and __fastcall's trailing @bytes.
func undecorateC(name string) string {
	if strings.HasPrefix(name, "?") {
		return name
	}
	if i := strings.LastIndexByte(name, '@'); i > 0 {
		if _, err := fmt.Sscanf(name[i+1:], "%d", new(int)); err == nil {
			name = name[:i]
		}
	}
	if strings.HasPrefix(name, "_") || strings.HasPrefix(name, "@") {
		name = name[1:]
	}
	return name
}

// mozillaRows merges line rows as Mozilla's dump_syms does (see breakpadPairs).
func mozillaRows(rows []symLine) []symLine {
	var out []symLine
	for _, r := range rows {
		if r.size == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].addr+out[n-1].size == r.addr &&
			(r.line == 0xF00F00 || r.line == 0xFEEFEE || r.line == out[n-1].line && r.file == out[n-1].file) {
			out[n-1].size += r.size
			continue
		}
		out = append(out, r)
	}
	return out
}
