package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"wdbg/engine/analysis"
	"wdbg/engine/bugcheck"
	"wdbg/engine/ntstatus"
	"wdbg/engine/stack"
)

// !analyze on kernel dumps (WINDBG-SPEC §3.1.2 verbose layout, §3.1.5 short form) and
// !analyze -show.

func runAnalyzeKernel(ctx context.Context, s *Session, verbose bool) (Result, error) {
	if s.walker == nil {
		s.walker = stack.NewWalker(s.Target, s.Symbols)
	}
	rep, err := analysis.AnalyzeKernel(ctx, s.Target, s.walker, s.TriageRules)
	if errors.Is(err, analysis.ErrNoBugCheck) {
		return nil, errors.New("!analyze: the dump records no bug check (code 0); use k, !thread and !process to look at the system")
	}
	if err != nil {
		return nil, err
	}
	res := newKernelAnalyzeResult(s, rep, verbose)
	// The CONTEXT / TRAP_FRAME sections end with "Resetting default scope": like WinDbg, the
	// analysis leaves no .cxr/.trap scope behind (STACK_COMMAND reproduces the stack).
	s.SetScope(nil)
	return res, nil
}

// bugcheckArg is one `ArgN: value, meaning` line.
type bugcheckArg struct {
	Value   string `json:"value"`
	Meaning string `json:"meaning,omitempty"`
}

// bugcheckDescription is the heading part shared by !analyze -v and !analyze -show.
type bugcheckDescription struct {
	Code        string        `json:"bugcheck_code"` // "1000007e"
	Name        string        `json:"bugcheck_name,omitempty"`
	Title       string        `json:"title"`
	Description string        `json:"description"`
	Arguments   []bugcheckArg `json:"arguments"`
	ptr         int
}

func newBugcheckDescription(code uint32, params [4]uint64, ptr int) bugcheckDescription {
	e, _ := bugcheck.Lookup(code)
	d := bugcheckDescription{Code: fmt.Sprintf("%x", code), Name: e.Name, Title: e.Title(), Description: e.About(), ptr: ptr}
	for i, p := range params {
		d.Arguments = append(d.Arguments, bugcheckArg{Value: FormatPtr(p, ptr), Meaning: e.ParamText(i, params)})
	}
	return d
}

func (d *bugcheckDescription) write(b *strings.Builder) {
	b.WriteString(d.Title + "\n")
	for _, l := range wrapWords(d.Description, 79) {
		b.WriteString(l + "\n")
	}
	b.WriteString("Arguments:\n")
	for i, a := range d.Arguments {
		if a.Meaning == "" {
			fmt.Fprintf(b, "Arg%d: %s\n", i+1, a.Value)
		} else {
			fmt.Fprintf(b, "Arg%d: %s, %s\n", i+1, a.Value, a.Meaning)
		}
	}
}

// wrapWords breaks a paragraph into lines shorter than width, between words.
func wrapWords(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) >= width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// kernelAnalyzeResult carries every field of the kernel text form, for JSON too.
type kernelAnalyzeResult struct {
	Verbose bool `json:"verbose"`
	bugcheckDescription
	Warnings         []string `json:"warnings,omitempty"`
	BugCheckParams   []string `json:"bugcheck_parameters"`
	FileInCab        string   `json:"file_in_cab"`
	ExceptionRecord  string   `json:"exception_record,omitempty"` // address
	ContextRecord    string   `json:"context_record,omitempty"`
	TrapFrame        string   `json:"trap_frame,omitempty"`
	ProcessName      string   `json:"process_name,omitempty"`
	ReadAddress      string   `json:"read_address,omitempty"`
	WriteAddress     string   `json:"write_address,omitempty"`
	ExceptionCode    string   `json:"exception_code,omitempty"`
	ExceptionName    string   `json:"exception_name,omitempty"`
	ErrorCode        string   `json:"error_code,omitempty"`
	ExceptionParams  []string `json:"exception_parameters,omitempty"`
	StackText        []string `json:"stack_text"`
	FaultingFrame    int      `json:"faulting_frame"`
	SymbolName       string   `json:"symbol_name"`
	ModuleName       string   `json:"module_name"`
	ImageName        string   `json:"image_name"`
	ImageVersion     string   `json:"image_version,omitempty"`
	StackCommand     string   `json:"stack_command"`
	FuncOffset       string   `json:"bucket_id_func_offset,omitempty"`
	FailureBucketID  string   `json:"failure_bucket_id"`
	OSVersion        string   `json:"os_version"`
	BuildLab         string   `json:"buildlab_str,omitempty"`
	OSPlatform       string   `json:"osplatform_type"`
	OSName           string   `json:"osname"`
	FailureIDHash    string   `json:"failure_id_hash"`
	Followup         string   `json:"followup"`
	BugCheckLine     string   `json:"bugcheck_line"`
	ProbablyCausedBy string   `json:"probably_caused_by"`
	// KeyValues are KEY_VALUES_STRING's pairs, in the order printed.
	KeyValues []analyzeKeyValue `json:"key_values"`
	// ExceptionStr is EXCEPTION_STR (the exception code as 0x... without leading zeros).
	ExceptionStr string `json:"exception_str,omitempty"`
	// RecordText is the EXCEPTION_RECORD section's body (.exr of the record); ContextText the
	// CONTEXT or TRAP_FRAME section's (the registers as .cxr or .trap shows them).
	RecordText  string `json:"exception_record_text,omitempty"`
	ContextText string `json:"context_text,omitempty"`

	memoryAccess bool // READ/WRITE_ADDRESS comes from a memory-reference parameter (before PROCESS_NAME)
}

// analyzeKeyValue is one `Key : ... / Value: ...` pair of KEY_VALUES_STRING.
type analyzeKeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func newKernelAnalyzeResult(s *Session, rep *analysis.KernelReport, verbose bool) *kernelAnalyzeResult {
	ptr := s.PointerSize()
	bc := rep.BugCheck
	sys := s.Target.System
	r := &kernelAnalyzeResult{Verbose: verbose, bugcheckDescription: newBugcheckDescription(bc.Code, bc.Parameters, ptr),
		FileInCab: filepath.Base(s.Target.Path), ProcessName: rep.ProcessName, FaultingFrame: rep.FaultingFrame,
		SymbolName: rep.SymbolName, ModuleName: rep.ModuleName, ImageName: rep.ImageName, ImageVersion: rep.ImageVersion,
		StackCommand: rep.StackCommand, FailureBucketID: rep.BucketID, OSPlatform: osPlatform(s), OSName: windowsName(sys),
		FailureIDHash: rep.FailureIDHash, Followup: rep.Followup, BugCheckLine: bugCheckLine(bc),
		memoryAccess: rep.Entry.Hints.Memory != 0}
	r.OSVersion, r.BuildLab = osVersion(sys.MajorVersion, sys.MinorVersion, sys.BuildNumber, sys.BuildString)
	if r.ProcessName == "" {
		r.ProcessName = s.bugCheckProcessName()
	}
	for _, p := range bc.Parameters {
		// BUGCHECK_P1: 8 — bare hex (WINDBG-SPEC §3.1.2).
		r.BugCheckParams = append(r.BugCheckParams, fmt.Sprintf("%x", p))
	}
	if rep.FaultingFrame >= 0 {
		r.FuncOffset = fmt.Sprintf("%x", rep.FuncOffset)
	}
	image, symbol := rep.ImageName, rep.SymbolName
	if image == "" {
		image, symbol = "Unknown_Image", "Unknown_Symbol"
	}
	r.ProbablyCausedBy = fmt.Sprintf("%s ( %s )", image, symbol)

	switch rep.AccessKind {
	case "READ", "EXECUTE":
		r.ReadAddress = FormatPtr(rep.AccessAddress, ptr)
	case "WRITE":
		r.WriteAddress = FormatPtr(rep.AccessAddress, ptr)
	}
	if rep.HasException {
		r.ExceptionCode = fmt.Sprintf("%08x", rep.ExceptionCode)
		r.ExceptionName = rep.ExceptionName
		r.ErrorCode = fmt.Sprintf("(NTSTATUS) %#x - %s", rep.ExceptionCode, ntstatus.Description(rep.ExceptionCode))
		r.ExceptionStr = "0x" + strings.TrimLeft(r.ExceptionCode, "0")
	}
	// Keys sorted ordinally (WINDBG-SPEC §3.1.2 item 2); timing keys are left out.
	r.KeyValues = []analyzeKeyValue{{"Bugcheck.Code.LegacyAPI", "0x" + r.Code},
		{"Failure.Bucket", r.FailureBucketID}, {"Failure.Hash", r.FailureIDHash}}
	if rep.RecordAddress != 0 {
		r.ExceptionRecord = fmt.Sprintf("%x", rep.RecordAddress)
		var b strings.Builder
		if x := rep.Record; x != nil {
			newExceptionRecord(s, x.Code, x.Flags, x.Address, x.Parameters).WriteText(&b)
			for _, p := range x.Parameters {
				r.ExceptionParams = append(r.ExceptionParams, FormatPtr(p, ptr))
			}
		} else {
			fmt.Fprintf(&b, "Cannot read Exception record @ %s\n", FormatPtr(rep.RecordAddress, ptr))
		}
		r.RecordText = b.String()
	}
	if rep.ContextError != nil {
		r.Warnings = append(r.Warnings, fmt.Sprintf("*** WARNING: Unable to use the %v; the stack is the bug-checking processor's", rep.ContextError))
	}
	if rep.Context != nil && rep.ContextSource != "current" {
		var dump *registerDump
		if rep.ContextSource == "trap" {
			r.TrapFrame = fmt.Sprintf("%x", rep.ContextAddress)
			dump = trapRegisterDump(s, rep.Context)
		} else {
			r.ContextRecord = fmt.Sprintf("%x", rep.ContextAddress)
			dump = newRegisterDump(s, rep.Context)
		}
		var b strings.Builder
		dump.WriteText(&b)
		r.ContextText = b.String()
	}

	// STACK_TEXT: kb rows without frame numbers (WINDBG-SPEC §3.1.2 item 8).
	stackRes := &stackResult{opts: kOptions{args: true, noLines: true}, ptr: ptr}
	for i, f := range rep.Frames {
		stackRes.Frames = append(stackRes.Frames, newStackFrame(i, f, rep.Frames, stackRes.opts))
	}
	var b strings.Builder
	stackRes.WriteText(&b)
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n")[1:] {
		if strings.HasPrefix(line, "WARNING") {
			r.StackText = append(r.StackText, line)
		} else if len(line) > 3 {
			r.StackText = append(r.StackText, line[3:])
		}
	}
	return r
}

const bugcheckBox = `*******************************************************************************
*                                                                             *
*                        Bugcheck Analysis                                    *
*                                                                             *
*******************************************************************************

`

func (r *kernelAnalyzeResult) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString(bugcheckBox)
	if !r.Verbose {
		// WINDBG-SPEC §3.1.5.
		b.WriteString("Use !analyze -v to get detailed debugging information.\n\n")
		b.WriteString(r.BugCheckLine + "\n\n")
		fmt.Fprintf(&b, "Probably caused by : %s\n\n", r.ProbablyCausedBy)
		fmt.Fprintf(&b, "Followup:     %s\n---------\n\n", r.Followup)
		_, err := io.WriteString(w, b.String())
		return err
	}
	r.bugcheckDescription.write(&b)
	b.WriteString("\nDebugging Details:\n------------------\n\n")
	for _, l := range r.Warnings {
		b.WriteString(l + "\n")
	}
	b.WriteString("\n")
	b.WriteString("KEY_VALUES_STRING: 1\n\n")
	for _, kv := range r.KeyValues {
		fmt.Fprintf(&b, "    Key  : %s\n    Value: %s\n\n", kv.Key, kv.Value)
	}
	b.WriteString("\n")
	key := func(name, value string) { fmt.Fprintf(&b, "%s%s\n\n", name, value) }
	// Per-key spacing after the colon follows the captures (WINDBG-SPEC §3.1.2).
	key("BUGCHECK_CODE:  ", r.Code)
	for i, p := range r.BugCheckParams {
		key(fmt.Sprintf("BUGCHECK_P%d: ", i+1), p)
	}
	key("FILE_IN_CAB:  ", r.FileInCab)
	if r.memoryAccess {
		r.writeAccess(key)
	}
	if r.ExceptionRecord != "" {
		fmt.Fprintf(&b, "EXCEPTION_RECORD:  %s -- (.exr 0x%s)\n%s\n", r.ExceptionRecord, r.ExceptionRecord, r.RecordText)
	}
	if r.ContextRecord != "" {
		fmt.Fprintf(&b, "CONTEXT:  %s -- (.cxr 0x%s)\n%sResetting default scope\n\n", r.ContextRecord, r.ContextRecord, r.ContextText)
	}
	if r.ProcessName != "" {
		key("PROCESS_NAME:  ", r.ProcessName)
	}
	if r.TrapFrame != "" {
		fmt.Fprintf(&b, "TRAP_FRAME:  %s -- (.trap 0x%s)\n%sResetting default scope\n\n", r.TrapFrame, r.TrapFrame, r.ContextText)
	}
	if !r.memoryAccess {
		r.writeAccess(key)
	}
	if r.ExceptionCode != "" {
		key("ERROR_CODE: ", r.ErrorCode)
		key("EXCEPTION_CODE_STR:  ", r.ExceptionCode)
		for i, p := range r.ExceptionParams {
			key(fmt.Sprintf("EXCEPTION_PARAMETER%d:  ", i+1), p)
		}
		key("EXCEPTION_STR:  ", r.ExceptionStr)
	}
	b.WriteString("STACK_TEXT:  \n")
	for _, l := range r.StackText {
		b.WriteString(l + "\n")
	}
	b.WriteString("\n\n")
	if r.SymbolName != "" {
		key("SYMBOL_NAME:  ", r.SymbolName)
		key("MODULE_NAME: ", r.ModuleName)
		key("IMAGE_NAME:  ", r.ImageName)
	}
	if r.ImageVersion != "" {
		key("IMAGE_VERSION:  ", r.ImageVersion)
	}
	key("STACK_COMMAND:  ", r.StackCommand)
	if r.FuncOffset != "" {
		key("BUCKET_ID_FUNC_OFFSET:  ", r.FuncOffset)
	}
	key("FAILURE_BUCKET_ID:  ", r.FailureBucketID)
	// The kernel layout prints IMAGE_VERSION with the module keys above.
	writeAnalysisTail(&b, key, analysisTail{r.OSVersion, r.BuildLab, r.OSPlatform, r.OSName, "",
		r.FailureIDHash, r.Followup})
	_, err := io.WriteString(w, b.String())
	return err
}

// writeAccess prints READ_ADDRESS / WRITE_ADDRESS (value then one space, as in the captures).
func (r *kernelAnalyzeResult) writeAccess(key func(string, string)) {
	if r.ReadAddress != "" {
		key("READ_ADDRESS:  ", r.ReadAddress+" ")
	}
	if r.WriteAddress != "" {
		key("WRITE_ADDRESS:  ", r.WriteAddress+" ")
	}
}

// analyzeShowResult is !analyze -show: a code described without a dump.
type analyzeShowResult struct {
	bugcheckDescription
}

func (r *analyzeShowResult) WriteText(w io.Writer) error {
	var b strings.Builder
	r.write(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// runAnalyzeShow is `!analyze -show Code [P1 [P2 [P3 [P4]]]]`: numbers are MASM expressions (hex
// by default); missing parameters are 0.
func runAnalyzeShow(s *Session, args string) (Result, error) {
	fields := strings.Fields(args)
	if len(fields) == 0 || len(fields) > 5 {
		return nil, errors.New("usage: !analyze -show BugCheckCode [P1 [P2 [P3 [P4]]]]")
	}
	var vals [5]uint64
	for i, f := range fields {
		v, err := s.Eval(f)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	// A code such as c0000218 may come back sign-extended from the evaluator.
	if hi := vals[0] >> 32; hi != 0 && !(hi == 0xffffffff && vals[0]&0x80000000 != 0) {
		return nil, fmt.Errorf("!analyze -show: %s is not a 32-bit bug check code", fields[0])
	}
	params := [4]uint64{vals[1], vals[2], vals[3], vals[4]}
	return &analyzeShowResult{newBugcheckDescription(uint32(vals[0]), params, s.PointerSize())}, nil
}

// bugCheckProcessName is the image of the process whose thread was running on the bug-checking
// processor (PROCESS_NAME), "" when the dump does not hold that EPROCESS.
func (s *Session) bugCheckProcessName() string {
	k := s.Target.Kernel
	if k == nil || k.CurrentProcess == 0 {
		return ""
	}
	// The session's reader: with the kernel PDB's types when there are any (an ARM64 kernel's
	// EPROCESS.ImageFileName has no other source).
	r, err := s.kernelReader(context.Background())
	if err != nil {
		return ""
	}
	p, err := r.Process(k.CurrentProcess)
	if err != nil {
		return ""
	}
	return p.ImageName
}
