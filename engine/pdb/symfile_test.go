package pdb

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// A reader for the parts of Breakpad .sym files (dump_syms output) the tests compare with: the
// files are the oracle for functions, lines, publics and x86 frame data of the PDBs they were
// made from. It shares nothing with the package: it parses text.
type symFile struct {
	moduleID string // MODULE os arch ID name: the GUID and age
	files    map[int]string
	funcs    []symFunc
	publics  []symPublic
	stackWin []symStackWin
}

type symFunc struct {
	addr, size uint32
	name       string
	lines      []symLine
}

type symLine struct {
	addr, size uint32
	line       int
	file       int
}

type symPublic struct {
	addr uint32
	name string
}

// symStackWin is a STACK WIN record: type 0 (FPO_DATA) or 4 (FRAMEDATA).
type symStackWin struct {
	typ                                                      int
	rva, codeSize, prolog, epilog, params, savedRegs, locals uint32
	maxStack                                                 uint32
	hasProgram                                               bool
	program                                                  string // when hasProgram
	allocatesBP                                              bool   // when not
}

func hex32(t testing.TB, s string) uint32 {
	t.Helper()
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return uint32(v)
}

func readSymFile(t testing.TB, path string) *symFile {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sf := &symFile{files: map[int]string{}}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "MODULE":
			sf.moduleID = f[3]
		case "FILE":
			n, _ := strconv.Atoi(f[1])
			sf.files[n] = strings.SplitN(line, " ", 3)[2]
		case "FUNC":
			parts := strings.SplitN(line, " ", 6)
			if parts[1] == "m" { // multiple: folded duplicates
				parts = append(parts[:1], strings.SplitN(strings.Join(parts[2:], " "), " ", 4)...)
			} else {
				parts = strings.SplitN(line, " ", 5)
			}
			sf.funcs = append(sf.funcs, symFunc{addr: hex32(t, parts[1]), size: hex32(t, parts[2]), name: parts[4]})
		case "PUBLIC":
			parts := strings.SplitN(line, " ", 4)
			if parts[1] == "m" {
				parts = strings.SplitN(line, " ", 5)[1:]
			}
			sf.publics = append(sf.publics, symPublic{addr: hex32(t, parts[1]), name: parts[3]})
		case "STACK":
			if f[1] != "WIN" {
				continue
			}
			typ, _ := strconv.Atoi(f[2])
			sw := symStackWin{typ: typ, rva: hex32(t, f[3]), codeSize: hex32(t, f[4]), prolog: hex32(t, f[5]),
				epilog: hex32(t, f[6]), params: hex32(t, f[7]), savedRegs: hex32(t, f[8]), locals: hex32(t, f[9]),
				maxStack: hex32(t, f[10]), hasProgram: f[11] == "1"}
			if sw.hasProgram {
				sw.program = strings.Join(f[12:], " ")
			} else {
				sw.allocatesBP = f[12] == "1"
			}
			sf.stackWin = append(sf.stackWin, sw)
		case "INFO", "INLINE", "INLINE_ORIGIN":
		default:
			// A line record belongs to the FUNC before it: address size line file.
			if len(f) == 4 && len(sf.funcs) > 0 {
				n, _ := strconv.Atoi(f[2])
				file, _ := strconv.Atoi(f[3])
				fn := &sf.funcs[len(sf.funcs)-1]
				fn.lines = append(fn.lines, symLine{addr: hex32(t, f[0]), size: hex32(t, f[1]), line: n, file: file})
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sf
}
