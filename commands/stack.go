package commands

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"wdbg/engine/cpu"
	"wdbg/engine/stack"
	"wdbg/engine/unwind"
)

// stackCommands: the k family and .frame (WINDBG-SPEC §3.2).
var stackCommands = []*Command{
	{
		Name: "k", Group: "Stacks", Glued: true,
		Usage:   "k[b|v|p|P][c][n][f][L] [FrameCount]",
		Summary: "show the current thread's stack",
		Help: "Walks the stack of the current register context (the thread's, or the one .ecxr/.cxr set) with the " +
			"modules' unwind data (x64/ARM64 function tables or Breakpad CFI, x86 FPO and frame data), frame " +
			"pointers, and a scan as the last resort, flagged with a warning. Options: b the first stack arguments " +
			"(4 on x64, 3 on x86); v like b plus FPO notes on x86; p each function's typed parameters with their " +
			"values (needs private PDB symbols), P the same one per line; c call sites only; f frame sizes; L no " +
			"source lines; n frame numbers (always shown). FrameCount (hex) limits the frames; the default is 0x100. " +
			"Functions the compiler inlined (S_INLINESITE records of a private PDB) get frames of their own, " +
			"numbered like the others and shown as `(Inline Function)`, innermost first; .frame selects them too.",
		Run: runK,
	},
	{
		Name: ".frame", Group: "Stacks",
		Usage: ".frame [/r] [FrameNumber]", Summary: "select a stack frame",
		Help: "Makes frame N (hex) of the current stack the current frame and shows it; `/r` also shows the " +
			"registers as they were in that frame. Without a number shows the current frame.",
		Run: runFrame,
	},
}

// defaultFrameCount is the k default (.kframes): 0x100 frames.
const defaultFrameCount = 0x100

type kOptions struct {
	args, verbose, clean, distances, noLines bool
	params, paramsPerLine                    bool // kp, kP
	count                                    int
}

func parseK(args string) (kOptions, error) {
	o := kOptions{count: defaultFrameCount}
	fields := strings.Fields(args)
	for i, f := range fields {
		if i == len(fields)-1 && isHex(f) && (i > 0 || !isOptionWord(f)) {
			n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(f), "0x"), 16, 32)
			if err != nil || n == 0 {
				return o, &SyntaxError{Input: "k " + args, Col: 2}
			}
			o.count = int(n)
			continue
		}
		if !isOptionWord(f) {
			return o, &SyntaxError{Input: "k " + args, Col: 2}
		}
		for _, c := range f {
			switch c {
			case 'b':
				o.args = true
			case 'v':
				o.args, o.verbose = true, true
			case 'c':
				o.clean = true
			case 'f':
				o.distances = true
			case 'L':
				o.noLines = true
			case 'p':
				o.params = true
			case 'P':
				o.params, o.paramsPerLine = true, true
			}
		}
	}
	return o, nil
}

func isOptionWord(s string) bool { return strings.Trim(s, "bvpPcnfLM") == "" }

func isHex(s string) bool {
	s = strings.TrimPrefix(strings.ToLower(s), "0x")
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// walkStack walks the current scope's stack: at most max frames, counting the inline frames
// that WinDbg numbers like the others (a function the compiler inlined into a physical frame).
func (s *Session) walkStack(ctx context.Context, max int) ([]stack.Frame, error) {
	c := s.Context()
	if c == nil {
		return nil, fmt.Errorf("Unable to get current thread context")
	}
	if s.walker == nil {
		s.walker = stack.NewWalker(s.Target, s.Symbols)
	}
	frames := s.walker.Walk(ctx, s.Arch(), c, max)
	return s.walker.WithInlineFrames(ctx, frames, max), nil
}

func runK(ctx context.Context, s *Session, args string) (Result, error) {
	o, err := parseK(args)
	if err != nil {
		return nil, err
	}
	frames, err := s.walkStack(ctx, o.count)
	if err != nil {
		return nil, err
	}
	r := &stackResult{opts: o, ptr: s.PointerSize(), arch: s.Arch(), trapMarks: true}
	if s.Scope != nil {
		r.Note = "  *** Stack trace for last set context - .thread/.cxr resets it"
	}
	for i, f := range frames {
		sf := newStackFrame(i, f, frames, o)
		if o.params && !f.Inline {
			sf.Params, sf.hasParams = s.frameParams(ctx, f)
		}
		r.Frames = append(r.Frames, sf)
	}
	return r, ctx.Err()
}

// stackFrame is one row of k output; JSON carries the provenance as well.
type stackFrame struct {
	Number        int          `json:"number"`
	ChildSP       string       `json:"child_sp"`
	FramePointer  string       `json:"frame_pointer,omitempty"`
	ReturnAddress string       `json:"return_address"`
	Instruction   string       `json:"instruction_pointer"`
	Args          []string     `json:"args,omitempty"`
	CallSite      string       `json:"call_site"`
	File          string       `json:"file,omitempty"`
	Line          int          `json:"line,omitempty"`
	Trust         string       `json:"trust"`
	Inline        bool         `json:"inline,omitempty"`
	Note          string       `json:"note,omitempty"`
	Stop          string       `json:"stop,omitempty"`
	TrapFrame     string       `json:"trap_frame,omitempty"` // the KTRAP_FRAME left through (kv's TrapFrame @)
	Params        []frameParam `json:"params,omitempty"`
	hasParams     bool
	frame         stack.Frame
	distance      uint64
	hasDistance   bool // a physical frame after another
	inModule      bool
}

func newStackFrame(i int, f stack.Frame, all []stack.Frame, o kOptions) stackFrame {
	sf := stackFrame{Number: i, ChildSP: hexString(f.StackPointer), ReturnAddress: hexString(f.ReturnAddress),
		Instruction: hexString(f.InstructionPointer), Trust: f.Trust.String(), Note: f.Note, Stop: f.Stop,
		frame: f, inModule: f.HasSymbol}
	if f.FramePointer != 0 {
		sf.FramePointer = hexString(f.FramePointer)
	}
	if trap := trapFrameOf(f.Frame); trap != 0 && !f.Inline {
		sf.TrapFrame = hexString(trap)
	}
	if f.Inline {
		// An inline frame lives in the next physical frame: no stack pointer or return address
		// of its own.
		sf.Inline, sf.ChildSP, sf.ReturnAddress, sf.FramePointer = true, "", "", ""
	}
	if f.HasSymbol {
		sf.CallSite = f.Symbol.String()
		sf.File, sf.Line = f.Symbol.File, f.Symbol.Line
	}
	if o.args && !f.Inline {
		for _, a := range f.Args[:f.ArgsValid] {
			sf.Args = append(sf.Args, hexString(a))
		}
	}
	// kf: the distance from the previous physical frame (inline frames have none of their own,
	// and the ones just before a physical frame share its stack pointer).
	for j := i - 1; j >= 0 && !f.Inline; j-- {
		if !all[j].Inline {
			sf.distance, sf.hasDistance = f.StackPointer-all[j].StackPointer, true
			break
		}
	}
	return sf
}

type stackResult struct {
	Note   string       `json:"note,omitempty"`
	Frames []stackFrame `json:"frames"`
	opts   kOptions
	ptr    int
	arch   cpu.Arch
	// trapMarks fills the x86 marker slot after RetAddr with ` (T)` for a frame left through a
	// trap frame (k and .frame; !analyze's STACK_TEXT leaves the slot blank).
	trapMarks bool
}

func (r *stackResult) WriteText(w io.Writer) error {
	var b strings.Builder
	o := r.opts
	if r.Note != "" {
		b.WriteString(r.Note + "\n")
	}
	dist := ""
	if o.distances {
		dist = "   Memory  "
	}
	x86 := r.ptr == 4
	switch {
	case o.clean:
		b.WriteString(" # Call Site\n")
	case x86 && o.args:
		fmt.Fprintf(&b, " #%s ChildEBP RetAddr      %-27s\n", dist, "Args to Child")
	case x86:
		fmt.Fprintf(&b, " #%s ChildEBP RetAddr      \n", dist)
	case o.args:
		fmt.Fprintf(&b, " #%s Child-SP          RetAddr               : %-72s: Call Site\n", dist, "Args to Child")
	default:
		fmt.Fprintf(&b, " #%s Child-SP          RetAddr               Call Site\n", dist)
	}
	warnedScan, warnedIP := false, false
	for _, f := range r.Frames {
		if f.frame.Trust == unwind.TrustScan && !warnedScan {
			b.WriteString("WARNING: Stack unwind information not available. Following frames may be wrong.\n")
			warnedScan = true
		}
		if !f.inModule && f.Number > 0 && !warnedIP {
			b.WriteString("WARNING: Frame IP not in any known module. Following frames may be wrong.\n")
			warnedIP = true
		}
		fmt.Fprintf(&b, "%02x ", f.Number)
		if o.distances {
			if !f.hasDistance {
				b.WriteString("         ")
			} else {
				fmt.Fprintf(&b, "%8x ", f.distance)
			}
		}
		switch {
		case o.clean:
		case f.Inline:
			b.WriteString(r.inlineColumns())
		default:
			sp := f.frame.StackPointer
			if x86 {
				sp = f.frame.FramePointer // the ChildEBP column (unwind keeps it in FramePointer)
			}
			marker := "    "
			if x86 && r.trapMarks && f.frame.TrapFrame != 0 {
				marker = " (T)" // WINDBG-SPEC §3.2: the 4-character marker slot
			}
			fmt.Fprintf(&b, "%s %s%s ", FormatAddr(sp, r.ptr), FormatAddr(f.frame.ReturnAddress, r.ptr), marker)
			if o.args {
				b.WriteString(r.argsText(f))
			}
		}
		b.WriteString(r.callSite(f))
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// inlineColumns fills an inline frame's Child-SP, RetAddr and argument columns as WinDbg does:
// `(Inline Function) --------`--------` on x64, `(Inline) --------` in the narrower x86 columns,
// and dashes for each argument.
func (r *stackResult) inlineColumns() string {
	dashes := "--------`--------"
	label := "(Inline Function)"
	if r.ptr == 4 {
		dashes, label = "--------", "(Inline)"
	}
	s := label + " " + dashes + "     "
	if r.opts.args {
		n := 4
		if r.ptr == 4 {
			n = 3
		}
		args := strings.TrimSuffix(strings.Repeat(dashes+" ", n), " ")
		if r.ptr == 4 {
			return s + args + " "
		}
		return s + ": " + args + " : "
	}
	return s
}

func (r *stackResult) argsText(f stackFrame) string {
	n := 4
	if r.ptr == 4 {
		n = 3
	}
	var parts []string
	for i := 0; i < n; i++ {
		if i < f.frame.ArgsValid {
			parts = append(parts, FormatAddr(f.frame.Args[i], r.ptr))
		} else {
			parts = append(parts, strings.Repeat("?", r.ptr*2+(r.ptr/8)))
		}
	}
	if r.ptr == 4 {
		return strings.Join(parts, " ") + " "
	}
	return ": " + strings.Join(parts, " ") + " : "
}

// callSite is the symbol with its source line, or the raw address outside every module
// (WINDBG-SPEC §1.2), and kv's notes.
func (r *stackResult) callSite(f stackFrame) string {
	site := f.CallSite
	if !f.inModule {
		site = "0x" + FormatAddr(f.frame.InstructionPointer, r.ptr)
	}
	if f.hasParams {
		site = withParams(site, f.Params, r.opts.paramsPerLine)
	}
	if f.Inline && r.opts.args && !r.opts.clean {
		// kb/kv name the physical frame's address the inlined code runs at.
		site += fmt.Sprintf(" (Inline Function @ %s)", FormatAddr(f.frame.InstructionPointer, r.ptr))
	}
	if f.File != "" && !r.opts.noLines && !r.opts.clean {
		site += fmt.Sprintf(" [%s @ %d]", f.File, f.Line)
	}
	if r.opts.verbose && r.ptr == 4 && !f.Inline {
		site += " " + fpoNote(f.frame.Frame)
	}
	if r.opts.verbose && r.ptr == 8 && !f.Inline {
		// x64: the machine frame a trap handler (KiPageFault, KiInterrupt...) pushed is the tail
		// of its KTRAP_FRAME; ARM64: the trap frame the handler's unwind code 0xE8 names.
		if trap := trapFrameOf(f.frame.Frame); trap != 0 {
			site += fmt.Sprintf(" (TrapFrame @ %s)", FormatAddr(trap, r.ptr))
		}
	}
	return site
}

// ktrapFrameRip is the offset of Rip in the x64 KTRAP_FRAME.
const ktrapFrameRip = 0x168

// trapFrameOf is the KTRAP_FRAME a frame's unwind went through, 0 if none: the x86 one the
// walker decoded for a FRAME_TRAP function, on ARM64 the one a trap handler's unwind code 0xE8
// restored the caller from, or on x64 the trap frame ending in the machine frame a trap
// handler's unwind data pushed. Its Rip sits at +0x168 (public `dt nt!_KTRAP_FRAME`,
// 1809-26100).
func trapFrameOf(f unwind.Frame) uint64 {
	switch {
	case f.Regs.Arch == cpu.ArchX86, f.Regs.Arch == cpu.ArchARM64:
		return f.TrapFrame
	case f.Regs.Arch == cpu.ArchAMD64 && f.MachineFrame != 0:
		return f.MachineFrame - ktrapFrameRip
	}
	return 0
}

// fpoNote is kv's x86 note (WINDBG-SPEC §3.2): `(FPO: [params,locals] TrapFrame @ addr)` in
// dwords for a trap handler (FPO record FRAME_TRAP), `(FPO: [params,locals,regs])` for a function
// without a frame pointer, `(FPO: [Non-Fpo])` otherwise.
func fpoNote(f unwind.Frame) string {
	x := f.X86
	if x != nil && x.Kind == unwind.X86FrameFPO && x.FrameType == unwind.FrameTypeTrap {
		// A trap frame the walker could not read is still where EBP points.
		trap := f.TrapFrame
		if trap == 0 {
			trap = f.FramePointer
		}
		return fmt.Sprintf("(FPO: [%d,%d] TrapFrame @ %s)", x.ParamsSize/4, x.LocalsSize/4, FormatAddr(trap, 4))
	}
	if x == nil || x.FrameType == unwind.FrameTypeNonFPO || x.UsesBP {
		return "(FPO: [Non-Fpo])"
	}
	return fmt.Sprintf("(FPO: [%d,%d,%d])", x.ParamsSize/4, x.LocalsSize/4, x.SavedRegsSize/4)
}

func runFrame(ctx context.Context, s *Session, args string) (Result, error) {
	showRegs := false
	if strings.HasPrefix(args, "/r") {
		showRegs, args = true, strings.TrimSpace(args[2:])
	}
	n := s.Frame
	if args != "" {
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(args), "0x"), 16, 32)
		if err != nil {
			return nil, &SyntaxError{Input: ".frame " + args, Col: 7}
		}
		n = int(v)
	}
	frames, err := s.walkStack(ctx, n+1)
	if err != nil {
		return nil, err
	}
	if n >= len(frames) {
		return nil, fmt.Errorf("Frame %x not found (the stack has %d frames)", n, len(frames))
	}
	s.Frame = n
	row := &stackResult{opts: kOptions{}, ptr: s.PointerSize(), arch: s.Arch(), trapMarks: true}
	row.Frames = []stackFrame{newStackFrame(n, frames[n], frames, kOptions{})}
	if !showRegs {
		return &frameResult{Frame: row.Frames[0], row: row}, nil
	}
	regs := frames[n].Regs.ApplyTo(s.Context())
	return &frameResult{Frame: row.Frames[0], row: row, regs: newRegisterDump(s, regs)}, nil
}

type frameResult struct {
	Frame stackFrame `json:"frame"`
	row   *stackResult
	regs  *registerDump
}

// WriteText prints the frame's k row (without the header) and, for /r, its registers.
func (f *frameResult) WriteText(w io.Writer) error {
	var b strings.Builder
	f.row.WriteText(&b)
	text := b.String()
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[i+1:]
	}
	if _, err := io.WriteString(w, text); err != nil {
		return err
	}
	if f.regs != nil {
		return f.regs.WriteText(w)
	}
	return nil
}
