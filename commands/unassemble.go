package commands

// u, ub, uu: list instructions (WINDBG-SPEC §3.12; debuggercmds/u--unassemble-.md).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"wdbg/engine"
	"wdbg/engine/cpu"
)

// unassembleCommands: the u family.
var unassembleCommands = []*Command{
	{
		Name:    "u",
		Group:   "Disassembly",
		Usage:   "u [Address | Address L Count | Address EndAddress]",
		Summary: "List the instructions at an address",
		Help: "Disassembles 8 instructions from Address (a MASM expression), Count instructions with " +
			"L Count, or every instruction that starts from Address through EndAddress. Without an " +
			"address it goes on after the previous listing, or starts at the current instruction. A " +
			"label line names the symbol at the start and wherever an instruction begins a new " +
			"symbol. The listing stops at memory the dump does not hold (see uu).",
		Run: func(ctx context.Context, s *Session, args string) (Result, error) {
			return runUnassemble(ctx, s, "u", args)
		},
	},
	{
		Name:    "ub",
		Group:   "Disassembly",
		Usage:   "ub [Address | Address L Count]",
		Summary: "List the instructions that end at an address",
		Help: "Disassembles the 8 (or Count) instructions before Address, finding where they start " +
			"by decoding forward from earlier bytes until the instructions end exactly at Address.",
		Run: func(ctx context.Context, s *Session, args string) (Result, error) {
			return runUnassemble(ctx, s, "ub", args)
		},
	},
	{
		Name:    "uu",
		Group:   "Disassembly",
		Usage:   "uu [Address | Address L Count | Address EndAddress]",
		Summary: "List instructions, going on across unreadable memory",
		Help:    "Like u, but memory the dump does not hold is shown as `??  ???` lines and the listing goes on.",
		Run: func(ctx context.Context, s *Session, args string) (Result, error) {
			return runUnassemble(ctx, s, "uu", args)
		},
	},
}

// defaultUnassembleCount is how many instructions u shows without L (8 on x86, x64 and ARM64).
const defaultUnassembleCount = 8

// maxUnassembleCount bounds a listing given without `L?`, as the display commands bound theirs.
const maxUnassembleCount = 1 << 20

// UnassembleState is what u carries from one command to the next: where a bare `u` goes on.
type UnassembleState struct {
	Next uint64
	Set  bool
}

// unassembleState is the session's u state.
func (s *Session) unassembleState() *UnassembleState { return &s.Unassemble }

// UnassembleResult is a u listing.
type UnassembleResult struct {
	Command      string            `json:"command"`
	Instructions []UnassembledLine `json:"instructions"`
	Stopped      string            `json:"stopped,omitempty"` // why the listing ended early
	ptrSize      int
}

// UnassembledLine is one instruction of a listing.
type UnassembledLine struct {
	Label      string `json:"label,omitempty"` // the symbol label printed before this instruction
	Address    string `json:"address"`
	Symbol     string `json:"symbol,omitempty"`
	Bytes      string `json:"bytes,omitempty"`
	Mnemonic   string `json:"mnemonic"`
	Operands   string `json:"operands,omitempty"`
	Text       string `json:"text"`
	Target     string `json:"target,omitempty"`
	Unreadable bool   `json:"unreadable,omitempty"`
	Invalid    bool   `json:"invalid,omitempty"`
	line       string
}

func (r *UnassembleResult) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, in := range r.Instructions {
		if in.Label != "" {
			b.WriteString(in.Label + ":\n")
		}
		b.WriteString(in.line + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// unassembleArgs is a parsed u/ub/uu argument.
type unassembleArgs struct {
	start    uint64
	hasStart bool
	count    uint64 // instructions; 0 with end set means "through end"
	end      uint64
	hasEnd   bool
}

func runUnassemble(ctx context.Context, s *Session, name, args string) (Result, error) {
	arch := s.Arch()
	if arch != cpu.ArchX86 && arch != cpu.ArchAMD64 && arch != cpu.ArchARM64 {
		return nil, fmt.Errorf("Disassembly of %s code is not supported", arch)
	}
	line := commandLine(name, args)
	a, err := parseUnassembleArgs(s, name, line, len(line)-len(args), args)
	if err != nil {
		return nil, err
	}
	if !a.hasStart {
		start, err := unassembleContinuation(s)
		if err != nil {
			return nil, err
		}
		a.start = start
	}
	if a.count == 0 && !a.hasEnd {
		a.count = defaultUnassembleCount
	}
	res := &UnassembleResult{Command: name, ptrSize: s.PointerSize()}
	var listing []Instruction
	if name == "ub" {
		listing = unassembleBackward(ctx, s, arch, a.start, int(a.count))
	} else {
		listing, res.Stopped = unassembleForward(ctx, s, arch, a, name == "uu")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Instructions = labelListing(s, listing, res.ptrSize)
	next := a.start
	if n := len(listing); n > 0 {
		next = listing[n-1].Addr + uint64(listing[n-1].Len)
	}
	if st := s.unassembleState(); st != nil {
		st.Next, st.Set = next, true
	}
	return res, nil
}

// parseUnassembleArgs reads `[Address] [L[?] Count | EndAddress]`. line is the whole command and
// base is where args starts in it, so that errors point into what the user typed.
func parseUnassembleArgs(s *Session, name, line string, base int, args string) (unassembleArgs, error) {
	var a unassembleArgs
	text := strings.TrimRight(args, " \t")
	pos := skipBlanks(text, 0)
	if pos >= len(text) {
		return a, nil
	}
	rest := text[pos:]
	restPos := base + pos
	if !isCountClause(rest) {
		v, r, err := s.EvalPrefix(rest)
		if err != nil {
			return a, rebase(err, line, restPos)
		}
		a.start, a.hasStart = v, true
		restPos += len(rest) - len(r)
		rest = r
	}
	if rest == "" {
		return a, nil
	}
	lastCol := base + len(text) - 1
	if isCountClause(rest) {
		countText := rest[1:]
		unlimited := strings.HasPrefix(countText, "?")
		if unlimited {
			countText = countText[1:]
		}
		trimmed := strings.TrimLeft(countText, " \t")
		countPos := restPos + len(rest) - len(trimmed)
		if trimmed == "" {
			return a, &SyntaxError{Input: line, Col: countPos}
		}
		n, err := s.Eval(trimmed)
		if err != nil {
			return a, rebase(err, line, countPos)
		}
		if n == 0 || (!unlimited && n > maxUnassembleCount) {
			return a, &RangeError{Input: line, Col: lastCol}
		}
		a.count = n
		return a, nil
	}
	if name == "ub" {
		// ub counts backwards and takes only `Address L Count` (u--unassemble-.md).
		return a, &SyntaxError{Input: line, Col: restPos}
	}
	end, err := s.Eval(rest)
	if err != nil {
		return a, rebase(err, line, restPos)
	}
	if end < a.start || end-a.start >= rangeLimit {
		return a, &RangeError{Input: line, Col: lastCol}
	}
	a.end, a.hasEnd = end, true
	return a, nil
}

// isCountClause tells `L8`, `L 8`, `L?100` from an address expression that starts with L: the
// letter must be followed by a blank, a `?`, a digit or nothing (`u addr L` lacks its count).
func isCountClause(s string) bool {
	if len(s) == 0 || (s[0] != 'L' && s[0] != 'l') {
		return false
	}
	if len(s) == 1 {
		return true
	}
	c := s[1]
	return c == ' ' || c == '\t' || c == '?' || (c >= '0' && c <= '9')
}

// unassembleContinuation is where a bare u starts: after the previous listing, else at the
// current instruction.
func unassembleContinuation(s *Session) (uint64, error) {
	if st := s.unassembleState(); st != nil && st.Set {
		return st.Next, nil
	}
	c := s.Context()
	if c == nil {
		// Our wording: WinDbg has no register context to take the address from either.
		return 0, errors.New("No current instruction: the dump has no register context; give an address")
	}
	return c.PC(), nil
}

// InstructionAt reads and disassembles the instruction at addr in the session's effective
// architecture, naming addresses with Symbolize. Memory the dump does not hold gives the
// unreadable instruction (`??  ???`); the error is only for an architecture without a disassembler.
func (s *Session) InstructionAt(addr uint64) (Instruction, error) {
	return readInstruction(s.Memory(), s.Arch(), addr, s.Symbolize)
}

func readInstruction(mem engine.Memory, arch cpu.Arch, addr uint64, symbolize func(uint64) string) (Instruction, error) {
	var buf [MaxInstructionLen]byte
	want := len(buf)
	if arch == cpu.ArchARM64 {
		want = 4
	}
	n := 0
	if mem != nil {
		n, _ = mem.ReadAt(buf[:want], addr)
		if n < 0 || n > want {
			n = 0
		}
	}
	if n == 0 {
		return UnreadableInstruction(arch, addr), nil
	}
	in, err := Disassemble(arch, buf[:n], addr, symbolize)
	if errors.Is(err, ErrTruncatedInstruction) {
		// The instruction runs into memory the dump does not hold.
		return UnreadableInstruction(arch, addr), nil
	}
	return in, err
}

// unassembleForward lists from a.start: a.count instructions, or those starting up to a.end. u
// stops at the first unreadable address (after showing it); uu goes on one byte at a time.
func unassembleForward(ctx context.Context, s *Session, arch cpu.Arch, a unassembleArgs, keepGoing bool) ([]Instruction, string) {
	var out []Instruction
	addr := a.start
	for i := uint64(0); ; i++ {
		if a.hasEnd {
			if addr > a.end || addr < a.start {
				break
			}
		} else if i >= a.count {
			break
		}
		if i%1024 == 0 && ctx.Err() != nil {
			return out, "cancelled"
		}
		in, err := s.InstructionAt(addr)
		if err != nil {
			return out, err.Error()
		}
		out = append(out, in)
		if in.Unreadable && !keepGoing {
			return out, fmt.Sprintf("memory at %s is not in the dump", FormatAddr(addr, s.PointerSize()))
		}
		next := addr + uint64(in.Len)
		if next < addr {
			break // wrapped around the address space
		}
		addr = next
	}
	return out, ""
}

// unassembleBackward finds the count instructions that end exactly at end. x86 code has no fixed
// instruction size, so it decodes forward from every start in a window before end and keeps the
// chain that reaches end exactly with the most instructions and no undecodable bytes; instruction
// streams resynchronise after a few instructions, so the last ones of that chain are the real
// ones as long as the window is wide.
func unassembleBackward(ctx context.Context, s *Session, arch cpu.Arch, end uint64, count int) []Instruction {
	if arch == cpu.ArchARM64 {
		start := end - uint64(4*count)
		var out []Instruction
		for a := start; a != end; a += 4 {
			in, _ := s.InstructionAt(a)
			out = append(out, in)
		}
		return out
	}
	window := uint64(count)*MaxInstructionLen + 2*MaxInstructionLen
	if window > end {
		window = end
	}
	base, code := readBackward(s.Memory(), end, window)
	if len(code) == 0 {
		// Nothing before end is readable: show the bytes before it as unreadable.
		var out []Instruction
		for a := end - uint64(count); a != end; a++ {
			out = append(out, UnreadableInstruction(arch, a))
		}
		return out
	}
	n := len(code)
	// steps[o] is the number of instructions from offset o to end along the decode chain, -1 when
	// the chain misses end or meets bytes that do not decode.
	steps := make([]int, n+1)
	length := make([]int, n)
	steps[n] = 0
	for o := n - 1; o >= 0; o-- {
		steps[o] = -1
		if o%256 == 0 && ctx.Err() != nil {
			return nil
		}
		in, err := Disassemble(arch, code[o:], base+uint64(o), nil)
		if err != nil || in.Invalid || o+in.Len > n {
			continue
		}
		length[o] = in.Len
		if next := steps[o+in.Len]; next >= 0 {
			steps[o] = next + 1
		}
	}
	best := -1
	for o := 0; o < n; o++ {
		if steps[o] >= 0 && (best < 0 || steps[o] > steps[best]) {
			best = o
		}
	}
	if best < 0 {
		var out []Instruction
		for a := end - uint64(count); a != end; a++ {
			in, _ := s.InstructionAt(a)
			out = append(out, in)
		}
		return out
	}
	var chain []int
	for o := best; o < n; o += length[o] {
		chain = append(chain, o)
	}
	if len(chain) > count {
		chain = chain[len(chain)-count:]
	}
	out := make([]Instruction, 0, len(chain))
	for _, o := range chain {
		in, _ := Disassemble(arch, code[o:], base+uint64(o), s.Symbolize)
		out = append(out, in)
	}
	return out
}

// readBackward reads the longest stretch of readable memory that ends at end and is at most max
// bytes long. Dump ranges need not be page aligned (a minidump keeps 256 bytes around the faulting
// instruction), so the start is found to the byte.
func readBackward(mem engine.Memory, end, max uint64) (uint64, []byte) {
	if mem == nil || max == 0 {
		return end, nil
	}
	buf := make([]byte, max)
	start := end - max
	for lo := uint64(0); lo < max; {
		n, _ := mem.ReadAt(buf[lo:], start+lo)
		if uint64(n) == max-lo {
			return start + lo, buf[lo:]
		}
		// A hole at or after start+lo: the readable suffix starts after the last hole. Find the
		// first readable byte after it by probing forward.
		lo += uint64(n) + 1
		for lo < max {
			var one [1]byte
			if k, _ := mem.ReadAt(one[:], start+lo); k == 1 {
				break
			}
			lo++
		}
	}
	return end, nil
}

// labelListing turns instructions into listing lines, with a label where the symbol changes
// (WINDBG-SPEC §3.12: at the start and where an instruction begins a new symbol).
func labelListing(s *Session, listing []Instruction, ptrSize int) []UnassembledLine {
	out := make([]UnassembledLine, 0, len(listing))
	prev := "\x00"
	for i, in := range listing {
		sym := s.Symbolize(in.Addr)
		l := UnassembledLine{Address: fmt.Sprintf("0x%x", in.Addr), Symbol: sym, Mnemonic: in.Mnemonic,
			Operands: in.Operands, Text: in.Text, Unreadable: in.Unreadable, Invalid: in.Invalid,
			line: FormatInstructionLine(in, ptrSize)}
		if len(in.Bytes) > 0 {
			l.Bytes = fmt.Sprintf("%x", in.Bytes)
		}
		if in.HasTarget {
			l.Target = fmt.Sprintf("0x%x", in.Target)
		}
		owner := symbolOwner(sym)
		if sym != "" && (i == 0 || owner != prev) {
			l.Label = sym
		}
		prev = owner
		out = append(out, l)
	}
	return out
}

// symbolOwner is the symbol a name+offset belongs to: "ntdll!NtCreateFile+0x12" → "ntdll!NtCreateFile".
func symbolOwner(sym string) string {
	if i := strings.LastIndex(sym, "+0x"); i >= 0 {
		return sym[:i]
	}
	return sym
}
