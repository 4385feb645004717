// Package breakpadsym reads Breakpad symbol files (".sym"), the text format that Breakpad's and
// Mozilla's dump_syms write from a PDB and that Chrome, Firefox and Electron crash pipelines keep
// instead of PDBs. The format is described in Breakpad's docs/symbol_files.md; the INLINE and
// INLINE_ORIGIN records (added to Breakpad in 2021) follow the same conventions.
//
// A file is a sequence of records, one a line: MODULE (first), INFO, FILE, INLINE_ORIGIN, FUNC with
// its line records and INLINE records, PUBLIC, STACK WIN and STACK CFI. Parse reads them into
// address-sorted tables; the lookups (FunctionAt, PublicAt, LineAt, StackWinAt, CFIAt) are binary
// searches. Line records, which are most of a file, are only located at parse time and read the
// first time their function is looked up, so opening a large file costs little more than one pass
// over its bytes.
//
// The parser trusts nothing: a malformed record is skipped and counted in Warnings (the first few
// kept in WarningSamples with their line numbers), never a panic; only a file whose first record
// is not MODULE is refused (ErrNotSymbolFile), so that callers can tell a .sym from other files.
package breakpadsym

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
)

// ErrNotSymbolFile is returned when the input does not start with a MODULE record.
var ErrNotSymbolFile = errors.New("breakpadsym: not a Breakpad symbol file (no MODULE record first)")

// Module is the MODULE record: `MODULE os arch id name`.
type Module struct {
	OS   string // "windows", "Linux", "mac", ...
	Arch string // "x86", "x86_64", "arm64", ...
	// ID is the debug identifier as written: for a PDB, the GUID's 32 hex digits followed by the
	// age in hex (no padding), which is also the symbol store directory name.
	ID   string
	Name string // the debug file's name, e.g. "test_app.pdb"; may contain spaces
}

// GUID is the first 32 hex digits of ID (upper case), or "" when ID is shorter.
func (m Module) GUID() string {
	if len(m.ID) < 32 {
		return ""
	}
	return upperHex(m.ID[:32])
}

// Age is the PDB age: the hex digits of ID after the GUID. ok is false when there are none or
// they do not parse.
func (m Module) Age() (age uint32, ok bool) {
	if len(m.ID) <= 32 {
		return 0, false
	}
	v, err := strconv.ParseUint(m.ID[32:], 16, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

// Info is one INFO record, `INFO key value` (e.g. "CODE_ID" "5AB380779000 crash.exe").
type Info struct {
	Key, Value string
}

// Func is a FUNC record, `FUNC [m] address size param_size name`, with the line and INLINE records
// that follow it.
type Func struct {
	Addr, Size uint64 // relative to the module's load address
	ParamSize  uint32 // bytes of stack arguments the function pops (stdcall)
	Name       string // undecorated by dump_syms; may contain spaces
	Multiple   bool   // "m": several symbols share this code (identical code folding)
	Inlines    []Inline

	// lineStart:lineEnd is the span of the file's text holding this function's line records,
	// parsed into lines on first use (see File.Lines).
	lineStart, lineEnd int
	firstLine          int // the 1-based line number where the span starts, for warnings
	lines              []Line
	parsed             bool
}

// Contains reports whether rva falls in [Addr, Addr+Size).
func (f *Func) Contains(rva uint64) bool { return rva >= f.Addr && rva-f.Addr < f.Size }

// Line is a line record, `address size line filenum`.
type Line struct {
	Addr, Size uint64
	Number     uint32 // the source line (decimal in the file)
	FileNum    uint32 // a FILE record's number
}

// Inline is an INLINE record: code of the function named by InlineOrigin Origin was inlined at
// the given call site into the enclosing function (Depth 0) or into the inline record of depth
// Depth-1 before it. `INLINE depth call_line call_file origin [address size]+`; the older form
// without call_file is read too (HasCallFile false).
type Inline struct {
	Depth       uint32
	CallLine    uint32
	CallFile    uint32
	HasCallFile bool
	Origin      uint32
	Ranges      []Range
}

// Range is an address range [Addr, Addr+Size).
type Range struct {
	Addr, Size uint64
}

// Contains reports whether rva falls in the range.
func (r Range) Contains(rva uint64) bool { return rva >= r.Addr && rva-r.Addr < r.Size }

// Public is a PUBLIC record, `PUBLIC [m] address param_size name`: a linker symbol whose code
// extends to the next symbol.
type Public struct {
	Addr      uint64
	ParamSize uint32
	Name      string
	Multiple  bool
}

// StackWinType is the type field of a STACK WIN record (DIA's StackFrameTypeEnum).
type StackWinType uint8

// The STACK WIN types; Breakpad (and wdbg) use only FPO and FrameData.
const (
	StackWinFPO       StackWinType = 0 // FPO data: the last field is allocates_base_pointer
	StackWinTrap      StackWinType = 1
	StackWinTSS       StackWinType = 2
	StackWinStandard  StackWinType = 3
	StackWinFrameData StackWinType = 4 // frame data: the last field is a program string
)

// StackWin is a STACK WIN record: `STACK WIN type rva code_size prologue_size epilogue_size
// parameter_size saved_register_size local_size max_stack_size has_program_string
// program_string_OR_allocates_base_pointer`, all numbers hexadecimal.
type StackWin struct {
	Type         StackWinType
	RVA          uint64
	CodeSize     uint64
	PrologSize   uint32
	EpilogSize   uint32
	ParamSize    uint32
	SavedRegSize uint32
	LocalSize    uint32
	MaxStackSize uint32
	HasProgram   bool
	// Program is the postfix program (when HasProgram), kept verbatim: see RunProgram.
	Program string
	// AllocatesBasePointer is the FPO flag (when !HasProgram): the function uses EBP as a
	// general register.
	AllocatesBasePointer bool
}

// Contains reports whether rva falls in [RVA, RVA+CodeSize).
func (w *StackWin) Contains(rva uint64) bool { return rva >= w.RVA && rva-w.RVA < w.CodeSize }

// String writes the record back in the file's syntax.
func (w *StackWin) String() string {
	last := "0"
	if w.HasProgram {
		last = w.Program
	} else if w.AllocatesBasePointer {
		last = "1"
	}
	has := 0
	if w.HasProgram {
		has = 1
	}
	return fmt.Sprintf("STACK WIN %x %x %x %x %x %x %x %x %x %x %s", uint8(w.Type), w.RVA, w.CodeSize,
		w.PrologSize, w.EpilogSize, w.ParamSize, w.SavedRegSize, w.LocalSize, w.MaxStackSize, has, last)
}

// CFI is a STACK CFI INIT record, `STACK CFI INIT address size rules`, with the `STACK CFI address
// rules` delta records that follow it. Rules are kept as written ("rules as strings"); CFIAt turns
// them into the row in force at an address.
type CFI struct {
	Addr, Size uint64
	Rules      string
	Deltas     []CFIDelta
}

// Contains reports whether rva falls in [Addr, Addr+Size).
func (c *CFI) Contains(rva uint64) bool { return rva >= c.Addr && rva-c.Addr < c.Size }

// CFIDelta is a STACK CFI record: the rules that change at Addr.
type CFIDelta struct {
	Addr  uint64
	Rules string
}

// Warning is a skipped record.
type Warning struct {
	Line int // 1-based line number in the file
	Msg  string
}

func (w Warning) String() string { return fmt.Sprintf("line %d: %s", w.Line, w.Msg) }

// maxWarningSamples bounds WarningSamples; Warnings counts them all.
const maxWarningSamples = 16

// File is a parsed symbol file. Its lookups are safe for concurrent use.
type File struct {
	Module Module
	Infos  []Info
	// CodeID and CodeFile come from `INFO CODE_ID id [file]` (the PE's TimeDateStamp+SizeOfImage
	// and its file name, for Windows modules).
	CodeID, CodeFile string
	Files            map[uint32]string // FILE records: number → source path
	InlineOrigins    map[uint32]string // INLINE_ORIGIN records: number → function name
	Funcs            []Func            // sorted by Addr
	Publics          []Public          // sorted by Addr (stable: file order among equal addresses)
	StackWins        []StackWin        // in file order
	CFIs             []CFI             // sorted by Addr

	// Warnings counts the records skipped as malformed (line records are checked when their
	// function is first looked up, and counted then).
	Warnings       int
	WarningSamples []Warning

	text           string // the whole file, which names and line spans refer to
	frameData, fpo stackWinIndex
	mu             sync.Mutex // guards lazily parsed line records and the warning counters
}

// Open reads and parses the symbol file at path.
func Open(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ParseBytes(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse reads a whole symbol file from r and parses it.
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return ParseBytes(data)
}

// ParseBytes parses a symbol file held in memory. The File keeps one copy of data (as a string)
// that its names and lazily read line records refer to.
func ParseBytes(data []byte) (*File, error) {
	return parse(string(data))
}

func (f *File) warn(line int, format string, args ...any) {
	f.Warnings++
	if len(f.WarningSamples) < maxWarningSamples {
		f.WarningSamples = append(f.WarningSamples, Warning{Line: line, Msg: fmt.Sprintf(format, args...)})
	}
}

// FileName is the path of FILE record num, or "" when there is none.
func (f *File) FileName(num uint32) string { return f.Files[num] }

func upperHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
