// Package analysis is !analyze for process dumps: from the exception stored in a dump it takes the
// exception context, walks the stack there, chooses the faulting frame by triage rules (triage.go,
// rules in WinDbg's triage.ini syntax), classifies the failure and names its bucket, following the
// conventions of WINDBG-SPEC §3.1. It is a pure function of the target and its symbols.
package analysis

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"wdbg/engine"
	"wdbg/engine/cpu"
	"wdbg/engine/ntstatus"
	"wdbg/engine/stack"
)

// Report is the result of analysing a user-mode dump.
type Report struct {
	ExceptionCode   uint32
	ExceptionText   string // short text: "Access violation"
	ExceptionName   string // STATUS_ACCESS_VIOLATION
	Description     string // our one-sentence description of the code
	Address         uint64 // the exception address
	Parameters      []uint64
	ThreadIndex     int // index of the exception thread in Target.Threads
	ThreadID        uint32
	Context         cpu.Context // the exception context (.ecxr)
	ProcessName     string      // image file name of the main module
	AccessAddress   uint64      // READ_ADDRESS / WRITE_ADDRESS for access violations
	AccessKind      string      // "READ", "WRITE", "EXECUTE" or ""
	ProblemClass    string      // INVALID_POINTER_READ, NULL_POINTER_WRITE, BREAKPOINT, ...
	Frames          []stack.Frame
	FaultingFrame   int    // index into Frames, -1 when none could be chosen
	SymbolName      string // module!function+off (offset without 0x), or module+off
	ModuleName      string
	ImageName       string
	ImageVersion    string
	FunctionName    string // the faulting function, "" without symbols
	SourceFile      string
	SourceLine      int
	Followup        string // the faulting frame's owner
	BucketID        string
	FailureIDHash   string
	StackCommand    string
	FastFailSubcode string
}

// ErrNoException is returned for a dump that stores no exception (nothing to analyse).
var ErrNoException = errors.New("no exception is stored in this dump")

// Analyze analyses the exception stored in a user-mode dump. walker names and unwinds frames.
func Analyze(ctx context.Context, t *engine.Target, walker *stack.Walker, rules *Rules) (*Report, error) {
	x := t.Exception
	if x == nil {
		return nil, ErrNoException
	}
	if rules == nil {
		rules = DefaultRules()
	}
	r := &Report{ExceptionCode: x.Code, ExceptionText: ntstatus.EventText(x.Code), Address: x.Address,
		Parameters: x.Parameters, ThreadID: x.ThreadID, Context: x.Context, FaultingFrame: -1}
	if c, ok := ntstatus.Lookup(x.Code); ok {
		r.ExceptionName = c.Name
	}
	r.Description = ntstatus.Description(x.Code)
	r.ThreadIndex, _ = t.ThreadByID(x.ThreadID)
	if len(t.Modules) > 0 {
		r.ProcessName = t.Modules[0].ImageName
	}
	r.classify()

	if r.Context == nil && r.ThreadIndex >= 0 {
		r.Context = t.Threads[r.ThreadIndex].Context
	}
	if r.Context != nil {
		r.Frames = walker.Walk(ctx, r.Context.Arch(), r.Context, 0)
	}
	r.chooseFaultingFrame(rules)
	r.StackCommand = fmt.Sprintf("~%ds; .ecxr ; kb", max(r.ThreadIndex, 0))
	r.bucket()
	return r, ctx.Err()
}

// classify sets the problem class and the access address from the exception code and parameters.
// The classes are those seen in WinDbg's buckets (WINDBG-SPEC §3.1.4, §5); which address counts as
// "null" (below 64 KB, the region Windows never maps) is our choice.
func (r *Report) classify() {
	switch r.ExceptionCode {
	case 0xC0000005, 0xC0000006:
		if len(r.Parameters) >= 2 {
			r.AccessAddress = r.Parameters[1]
			r.AccessKind = map[uint64]string{0: "READ", 1: "WRITE", 8: "EXECUTE"}[r.Parameters[0]]
		}
		kind := r.AccessKind
		if kind == "" {
			kind = "READ"
		}
		switch {
		case r.AccessKind == "EXECUTE":
			r.ProblemClass = "BAD_INSTRUCTION_PTR"
		case r.AccessAddress < 0x10000:
			r.ProblemClass = "NULL_POINTER_" + kind
		default:
			r.ProblemClass = "INVALID_POINTER_" + kind
		}
	case 0x80000003, 0x4000001F:
		r.ProblemClass = "BREAKPOINT"
	case 0xC00000FD:
		r.ProblemClass = "STACK_OVERFLOW"
	case 0xC0000374:
		r.ProblemClass = "HEAP_CORRUPTION"
	case 0xC0000409:
		r.ProblemClass = "FAIL_FAST"
		if len(r.Parameters) >= 1 {
			name := ntstatus.FastFailName(r.Parameters[0])
			r.FastFailSubcode = name
			r.ProblemClass = "FAIL_FAST_" + strings.TrimPrefix(name, "FAST_FAIL_")
		}
	case 0xC000001D:
		r.ProblemClass = "ILLEGAL_INSTRUCTION"
	case 0xC0000094:
		r.ProblemClass = "INTEGER_DIVIDE_BY_ZERO"
	case 0xE06D7363:
		r.ProblemClass = "CPP_EXCEPTION"
	case 0xE0434352, 0xE0434F4D:
		r.ProblemClass = "CLR_EXCEPTION"
	default:
		r.ProblemClass = "APPLICATION_FAULT"
	}
}

// chooseFaultingFrame walks from the top: frames outside every module and frames whose owner is
// "ignore" are skipped; the first definite owner wins; a "maybe_" owner is kept unless a definite
// one follows, and a "last_" owner only when nothing better does (WINDBG-SPEC §3.1.7).
func (r *Report) chooseFaultingFrame(rules *Rules) {
	weak, weakRank := -1, 0 // rank 2: maybe_, 1: last_
	for i, f := range r.Frames {
		if !f.HasSymbol {
			continue
		}
		owner := rules.Owner(f.Symbol.Module.Name, f.Symbol.Name)
		switch {
		case strings.EqualFold(owner, "ignore"):
			continue
		case strings.HasPrefix(owner, "maybe_"):
			if weakRank < 2 {
				weak, weakRank = i, 2
			}
			continue
		case strings.HasPrefix(owner, "last_"):
			if weakRank < 1 {
				weak, weakRank = i, 1
			}
			continue
		}
		r.setFaulting(i, owner)
		return
	}
	if weak >= 0 {
		f := r.Frames[weak]
		r.setFaulting(weak, rules.Owner(f.Symbol.Module.Name, f.Symbol.Name))
	}
}

func (r *Report) setFaulting(i int, owner string) {
	f := r.Frames[i]
	m := f.Symbol.Module
	r.FaultingFrame = i
	r.Followup = strings.TrimPrefix(strings.TrimPrefix(owner, "maybe_"), "last_")
	r.ModuleName, r.ImageName, r.FunctionName = m.Name, m.ImageName, f.Symbol.Name
	r.SourceFile, r.SourceLine = f.Symbol.File, f.Symbol.Line
	// !analyze prints offsets without 0x (WINDBG-SPEC §1.2).
	if f.Symbol.Name != "" {
		r.SymbolName = fmt.Sprintf("%s!%s+%x", m.Name, f.Symbol.Name, f.Symbol.Displacement)
	} else {
		r.SymbolName = fmt.Sprintf("%s+%x", m.Name, f.InstructionPointer-m.Base)
	}
	if v := m.Version; v != nil {
		r.ImageVersion = fmt.Sprintf("%d.%d.%d.%d", v.FileVersion[0], v.FileVersion[1], v.FileVersion[2], v.FileVersion[3])
	}
}

// bucket names the failure `<CLASS>_<code>_<image>!<function|Unknown>` and hashes it. WinDbg's
// FAILURE_ID_HASH algorithm is not public: ours is the first 16 bytes of the bucket's SHA-256,
// printed as a GUID, stable across runs and machines.
func (r *Report) bucket() {
	image, fn := r.ImageName, r.FunctionName
	if image == "" {
		image = "Unknown"
	}
	if fn == "" {
		fn = "Unknown"
	}
	r.BucketID = fmt.Sprintf("%s_%08x_%s!%s", r.ProblemClass, r.ExceptionCode, image, fn)
	sum := sha256.Sum256([]byte(r.BucketID))
	r.FailureIDHash = fmt.Sprintf("{%x-%x-%x-%x-%x}", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}
