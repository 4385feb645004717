package analysis

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"wdbg/engine"
	"wdbg/engine/bugcheck"
	"wdbg/engine/cpu"
	"wdbg/engine/ntstatus"
	"wdbg/engine/stack"
)

// KernelReport is the result of analysing a kernel dump's bug check (WINDBG-SPEC §3.1.2).
type KernelReport struct {
	BugCheck engine.BugCheck
	Entry    bugcheck.Entry // the catalog entry (Known() false for an unknown code)

	// ExceptionCode is the exception the bug check reports (0x7E, 0x8E, 0x1E, 0x3B...), or the one
	// in its exception record; HasException says whether there is one.
	ExceptionCode uint32
	HasException  bool
	ExceptionName string // STATUS_ACCESS_VIOLATION
	// Record is the EXCEPTION_RECORD a parameter names, decoded; nil when there is none or it
	// could not be read (RecordError says why).
	RecordAddress uint64
	Record        *ExceptionRecord
	RecordError   error

	// ContextSource says where Context came from: "cxr" (a CONTEXT record a parameter names),
	// "trap" (a KTRAP_FRAME a parameter names) or "current" (the bug-checking processor's
	// registers). ContextAddress is the record's or frame's address.
	ContextSource  string
	ContextAddress uint64
	Context        cpu.Context
	// ContextError says why the context a parameter names could not be used (the analysis then
	// fell back to the current context).
	ContextError error

	AccessAddress uint64 // READ_ADDRESS / WRITE_ADDRESS
	AccessKind    string // READ, WRITE, EXECUTE or ""
	FaultingIP    uint64
	HasFaultingIP bool

	Frames        []stack.Frame
	FaultingFrame int    // index into Frames, -1 when none was chosen
	SymbolName    string // amdppm!WriteIoMemRawEx+70, or module+offset
	ModuleName    string
	ImageName     string
	ImageVersion  string
	FunctionName  string
	FuncOffset    uint64 // BUCKET_ID_FUNC_OFFSET: from the function, or the module base without one
	Followup      string
	BucketID      string
	FailureIDHash string
	StackCommand  string
	ProcessName   string // "" when unknown
}

// ExceptionRecord is an EXCEPTION_RECORD read from kernel memory.
type ExceptionRecord struct {
	Code       uint32
	Flags      uint32
	Record     uint64 // chained record
	Address    uint64
	Parameters []uint64
}

// ErrNoBugCheck is returned for a kernel dump without a bug check (code 0).
var ErrNoBugCheck = errors.New("the dump records no bug check")

// avCodes are the bug checks raised for a bad memory reference; their buckets, like those of an
// access-violation exception, are AV_<module>!<function> (WINDBG-SPEC §3.1.4, whose 0xD1 capture
// buckets AV_myfault!unknown_function). Extending the rule to the other memory-reference codes
// is our choice.
var avCodes = map[uint32]bool{0x0A: true, 0x50: true, 0xC5: true, 0xCE: true, 0xD0: true, 0xD1: true, 0xD5: true, 0xD6: true}

// AnalyzeKernel analyses the bug check of a kernel dump: it takes the context the parameters name
// (a CONTEXT record, else a trap frame, else the bug-checking processor's registers), walks the
// stack there, chooses the faulting frame by the triage rules and names the bucket.
func AnalyzeKernel(ctx context.Context, t *engine.Target, w *stack.Walker, rules *Rules) (*KernelReport, error) {
	if t.Kernel == nil {
		return nil, errors.New("not a kernel dump")
	}
	bc := t.Kernel.BugCheck
	if bc.Code == 0 {
		return nil, ErrNoBugCheck
	}
	if rules == nil {
		rules = DefaultRules()
	}
	e, _ := bugcheck.Lookup(bc.Code)
	r := &KernelReport{BugCheck: bc, Entry: e, FaultingFrame: -1}
	h := e.Hints
	param := func(n int) (uint64, bool) {
		if n == 0 {
			return 0, false
		}
		return bc.Parameters[n-1], true
	}

	if a, ok := param(h.ExceptionRecord); ok && a != 0 {
		r.RecordAddress = a
		r.Record, r.RecordError = ReadExceptionRecord(t, a)
	}
	if c, ok := param(h.ExceptionCode); ok {
		r.ExceptionCode, r.HasException = uint32(c), true
	} else if r.Record != nil {
		r.ExceptionCode, r.HasException = r.Record.Code, true
	}
	if r.HasException {
		if c, ok := ntstatus.Lookup(r.ExceptionCode); ok {
			r.ExceptionName = c.Name
		}
	}
	r.classifyAccess(h)
	if ip, ok := param(h.FaultingIP); ok {
		r.FaultingIP, r.HasFaultingIP = ip, true
	} else if ip, ok := param(h.ExceptionAddress); ok {
		r.FaultingIP, r.HasFaultingIP = ip, true
	}

	cxr, hasCxr := param(h.ContextRecord)
	r.chooseContext(t, cxr, hasCxr)
	if r.Context != nil {
		r.Frames = w.Walk(ctx, r.Context.Arch(), r.Context, 0)
	}
	r.chooseFrame(rules)
	r.bucket()
	return r, ctx.Err()
}

// classifyAccess sets the referenced address and the access kind: from the memory hint of codes
// such as 0xD1, else from the exception's parameters when the exception is an access violation.
func (r *KernelReport) classifyAccess(h bugcheck.Hints) {
	p := r.BugCheck.Parameters
	if h.Memory != 0 {
		r.AccessAddress, r.AccessKind = p[h.Memory-1], r.Entry.AccessKind(p)
		return
	}
	if !r.HasException || r.ExceptionCode != 0xC0000005 {
		return
	}
	var kind, addr uint64
	switch {
	case r.Record != nil && len(r.Record.Parameters) >= 2:
		kind, addr = r.Record.Parameters[0], r.Record.Parameters[1]
	case h.ExceptionParam0 != 0 && h.ExceptionParam1 != 0:
		kind, addr = p[h.ExceptionParam0-1], p[h.ExceptionParam1-1]
	default:
		return
	}
	r.AccessAddress = addr
	r.AccessKind = map[uint64]string{0: "READ", 1: "WRITE", 8: "EXECUTE"}[kind]
}

// chooseContext reads the CONTEXT record or trap frame a parameter names; when there is none, or
// it cannot be read, it takes the bug-checking processor's own registers.
func (r *KernelReport) chooseContext(t *engine.Target, cxr uint64, hasCxr bool) {
	h := r.Entry.Hints
	switch {
	case hasCxr && cxr != 0:
		c, err := ReadContextRecord(t, cxr)
		if err == nil {
			r.Context, r.ContextSource, r.ContextAddress = c, "cxr", cxr
			r.StackCommand = fmt.Sprintf(".cxr 0x%x ; kb", cxr)
			return
		}
		r.ContextError = fmt.Errorf("context record at %#x: %w", cxr, err)
	case h.TrapFrame != 0 && r.BugCheck.Parameters[h.TrapFrame-1] != 0:
		addr := r.BugCheck.Parameters[h.TrapFrame-1]
		c, err := ReadTrapFrame(t, addr)
		if err == nil {
			r.Context, r.ContextSource, r.ContextAddress = c, "trap", addr
			r.StackCommand = fmt.Sprintf(".trap 0x%x ; kb", addr)
			return
		}
		r.ContextError = fmt.Errorf("trap frame at %#x: %w", addr, err)
	}
	r.ContextSource, r.StackCommand = "current", "kb"
	i := t.Kernel.Processor
	if i < 0 || i >= len(t.Threads) {
		i = 0
	}
	if i < len(t.Threads) {
		r.Context = t.Threads[i].Context
	}
}

// chooseFrame picks the faulting frame with the same rules as user-mode analysis (§3.1.7).
func (r *KernelReport) chooseFrame(rules *Rules) {
	u := &Report{Frames: r.Frames, FaultingFrame: -1}
	u.chooseFaultingFrame(rules)
	r.FaultingFrame, r.Followup = u.FaultingFrame, u.Followup
	r.SymbolName, r.ModuleName, r.ImageName, r.ImageVersion = u.SymbolName, u.ModuleName, u.ImageName, u.ImageVersion
	r.FunctionName = u.FunctionName
	if r.Followup == "" {
		r.Followup = rules.Owner("", "")
	}
	if r.FaultingFrame >= 0 {
		f := r.Frames[r.FaultingFrame]
		if f.Symbol.Name != "" {
			r.FuncOffset = f.Symbol.Displacement
		} else if m := f.Symbol.Module; m != nil {
			r.FuncOffset = f.InstructionPointer - m.Base
		}
	}
}

// bucket names the failure (WINDBG-SPEC §3.1.4): AV_<module>!<function> for access violations,
// else 0x<code>[_<subtype>]_<module>!<function>, with unknown_function when the module has no
// symbols and ANALYSIS_INCONCLUSIVE when no frame could be chosen. The "_M" variants bucket
// under their base code.
func (r *KernelReport) bucket() {
	where := "ANALYSIS_INCONCLUSIVE!unknown_function"
	if r.ModuleName != "" {
		fn := r.FunctionName
		if fn == "" {
			fn = "unknown_function"
		}
		where = r.ModuleName + "!" + fn
	}
	base := bugcheck.Base(r.BugCheck.Code)
	if avCodes[base] || (r.HasException && r.ExceptionCode == 0xC0000005) {
		r.BucketID = "AV_" + where
	} else {
		prefix := fmt.Sprintf("0x%X", base)
		if sel := r.Entry.Hints.Select; sel != 0 {
			prefix += fmt.Sprintf("_%x", r.BugCheck.Parameters[sel-1])
		}
		r.BucketID = prefix + "_" + where
	}
	r.FailureIDHash = failureIDHash(r.BucketID)
}

// failureIDHash is our FAILURE_ID_HASH: WinDbg's algorithm is not public, so, as for user-mode
// buckets, it is the first 16 bytes of the bucket's SHA-256 printed as a GUID — stable across
// runs and machines.
func failureIDHash(bucket string) string {
	sum := sha256.Sum256([]byte(bucket))
	return fmt.Sprintf("{%x-%x-%x-%x-%x}", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

// contextRecordSize is the size of a CONTEXT record (FORMATS.md §4.4).
func contextRecordSize(a cpu.Arch) int {
	switch a {
	case cpu.ArchX86:
		return 0x2cc
	case cpu.ArchAMD64:
		return 0x4d0
	case cpu.ArchARM64:
		return 0x390
	}
	return 0
}

// ReadContextRecord reads and decodes the CONTEXT record at addr in the target's memory.
func ReadContextRecord(t *engine.Target, addr uint64) (cpu.Context, error) {
	size := contextRecordSize(t.Arch)
	if size == 0 || t.Memory == nil {
		return nil, fmt.Errorf("no CONTEXT layout for %s", t.Arch)
	}
	buf := make([]byte, size)
	if err := engine.ReadFull(t.Memory, buf, addr); err != nil {
		return nil, err
	}
	return cpu.Decode(t.Arch, buf)
}

// ReadTrapFrame reads and decodes the KTRAP_FRAME at addr.
func ReadTrapFrame(t *engine.Target, addr uint64) (cpu.Context, error) {
	size := TrapFrameSize(t.Arch)
	if size == 0 || t.Memory == nil {
		return nil, fmt.Errorf("trap frames of %s are not supported", t.Arch)
	}
	buf := make([]byte, size)
	if err := engine.ReadFull(t.Memory, buf, addr); err != nil {
		return nil, err
	}
	return DecodeTrapFrameBuild(t.Arch, buf, addr, t.System.BuildNumber)
}

// ReadExceptionRecord reads an EXCEPTION_RECORD (0x98 bytes on 64-bit targets, 0x50 on 32-bit):
// code, flags, chained record, address, parameter count, then up to 15 parameters.
func ReadExceptionRecord(t *engine.Target, addr uint64) (*ExceptionRecord, error) {
	ptr := t.PointerSize()
	size, addrOff, countOff, paramOff := 0x50, 0xc, 0x10, 0x14
	if ptr == 8 {
		size, addrOff, countOff, paramOff = 0x98, 0x10, 0x18, 0x20
	}
	if t.Memory == nil {
		return nil, errors.New("the dump has no memory")
	}
	b := make([]byte, size)
	if err := engine.ReadFull(t.Memory, b, addr); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	word := func(off int) uint64 {
		if ptr == 8 {
			return le.Uint64(b[off:])
		}
		return uint64(le.Uint32(b[off:]))
	}
	x := &ExceptionRecord{Code: le.Uint32(b), Flags: le.Uint32(b[4:]), Record: word(8), Address: word(addrOff)}
	n := int(le.Uint32(b[countOff:]))
	if n > 15 {
		return nil, fmt.Errorf("exception record at %#x claims %d parameters (at most 15)", addr, n)
	}
	for i := 0; i < n; i++ {
		x.Parameters = append(x.Parameters, word(paramOff+i*ptr))
	}
	return x, nil
}
