package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"wdbg/engine/analysis"
	"wdbg/engine/stack"
)

// analyzeCommands: !analyze for process dumps (WINDBG-SPEC §3.1).
var analyzeCommands = []*Command{
	{
		Name: "!analyze", Group: "Analysis",
		Usage:   "!analyze [-v] [-f] | !analyze -show BugCheckCode [P1 [P2 [P3 [P4]]]]",
		Summary: "analyse the exception or bug check stored in the dump",
		Help: "Switches to the exception context (process dumps) or to the context record or trap frame the bug " +
			"check names (kernel dumps), walks the stack and picks the faulting frame by triage rules (wdbg's " +
			"bundled rules in WinDbg's triage.ini syntax, plus a user triage.ini), then prints the failure: " +
			"exception or bug check with its parameters, context, record, stack, faulting symbol, module and image, " +
			"and a bucket id. Without -v prints the short form with `Probably caused by`. `-show` describes a " +
			"bug check code and its parameters from wdbg's catalog, without a dump.",
		Run: runAnalyze,
	},
}

func runAnalyze(ctx context.Context, s *Session, args string) (Result, error) {
	if rest, ok := strings.CutPrefix(strings.TrimSpace(args), "-show"); ok {
		return runAnalyzeShow(s, rest)
	}
	verbose := false
	for _, f := range strings.Fields(args) {
		switch {
		case strings.HasPrefix(f, "-v"):
			verbose = true
		case f == "-f", f == "-hang", strings.HasPrefix(f, "-c"):
		default:
			return nil, fmt.Errorf("!analyze: unknown option %s (supported: -v, -f)", f)
		}
	}
	if s.Target.Kind.IsKernel() {
		return runAnalyzeKernel(ctx, s, verbose)
	}
	if s.walker == nil {
		s.walker = stack.NewWalker(s.Target, s.Symbols)
	}
	rep, err := analysis.Analyze(ctx, s.Target, s.walker, s.TriageRules)
	if errors.Is(err, analysis.ErrNoException) {
		return nil, errors.New("!analyze: no exception is stored in this dump (a dump of a hang or a live snapshot); use ~*k to look at the threads")
	}
	if err != nil {
		return nil, err
	}
	res := newAnalyzeResult(s, rep, verbose)
	// Like WinDbg, !analyze -v leaves the event thread current.
	if rep.ThreadIndex >= 0 {
		s.SetThread(rep.ThreadIndex)
	}
	return res, nil
}

// analyzeResult carries every field of the text form, for JSON too.
type analyzeResult struct {
	Verbose          bool     `json:"verbose"`
	Comment          []string `json:"comment,omitempty"`
	ProcessName      string   `json:"process_name"`
	ExceptionCode    string   `json:"exception_code"`
	ExceptionText    string   `json:"exception_text"`
	ErrorCode        string   `json:"error_code"`
	ReadAddress      string   `json:"read_address,omitempty"`
	WriteAddress     string   `json:"write_address,omitempty"`
	Parameters       []string `json:"exception_parameters"`
	StackText        []string `json:"stack_text"`
	StackCommand     string   `json:"stack_command"`
	FaultingFrame    int      `json:"faulting_frame"`
	SourceFile       string   `json:"faulting_source_file,omitempty"`
	SourceLine       int      `json:"faulting_source_line_number,omitempty"`
	SymbolName       string   `json:"symbol_name"`
	ModuleName       string   `json:"module_name"`
	ImageName        string   `json:"image_name"`
	ImageVersion     string   `json:"image_version,omitempty"`
	FailureBucketID  string   `json:"failure_bucket_id"`
	FailureIDHash    string   `json:"failure_id_hash"`
	OSVersion        string   `json:"os_version"`
	BuildLab         string   `json:"buildlab_str,omitempty"`
	OSPlatform       string   `json:"osplatform_type"`
	OSName           string   `json:"osname"`
	Followup         string   `json:"followup"`
	ProbablyCausedBy string   `json:"probably_caused_by"`
	// ContextText is the CONTEXT section's body, the registers as .ecxr shows them; RecordText
	// the EXCEPTION_RECORD section's, the record as .exr -1 shows it.
	ContextText string `json:"context_text,omitempty"`
	RecordText  string `json:"exception_record_text"`
}

func newAnalyzeResult(s *Session, rep *analysis.Report, verbose bool) *analyzeResult {
	ptr := s.PointerSize()
	if rep.Context != nil {
		ptr = rep.Context.Arch().PointerSize()
	}
	sys := s.Target.System
	r := &analyzeResult{Verbose: verbose, Comment: s.Target.Comments, ProcessName: rep.ProcessName,
		ExceptionCode: fmt.Sprintf("%08x", rep.ExceptionCode), ExceptionText: rep.ExceptionText,
		ErrorCode:    fmt.Sprintf("(NTSTATUS) %#x - %s", rep.ExceptionCode, rep.Description),
		StackCommand: rep.StackCommand, FaultingFrame: rep.FaultingFrame, SourceFile: rep.SourceFile,
		SourceLine: rep.SourceLine, SymbolName: rep.SymbolName, ModuleName: rep.ModuleName,
		ImageName: rep.ImageName, ImageVersion: rep.ImageVersion, FailureBucketID: rep.BucketID,
		FailureIDHash: rep.FailureIDHash, OSPlatform: osPlatform(s), OSName: windowsName(sys),
		Followup: rep.Followup}
	r.OSVersion, r.BuildLab = osVersion(sys.MajorVersion, sys.MinorVersion, sys.BuildNumber, sys.BuildString)
	if r.Followup == "" {
		r.Followup = "MachineOwner"
	}
	switch rep.AccessKind {
	case "READ", "EXECUTE":
		r.ReadAddress = FormatPtr(rep.AccessAddress, ptr)
	case "WRITE":
		r.WriteAddress = FormatPtr(rep.AccessAddress, ptr)
	}
	for _, p := range rep.Parameters {
		r.Parameters = append(r.Parameters, FormatPtr(p, ptr))
	}
	image, symbol := rep.ImageName, rep.SymbolName
	if image == "" {
		image, symbol = "Unknown_Image", "Unknown_Symbol"
	}
	r.ProbablyCausedBy = fmt.Sprintf("%s ( %s )", image, symbol)

	// The exception context as .ecxr shows it, and the record as .exr -1 shows it.
	if rep.Context != nil {
		var b strings.Builder
		newRegisterDump(s, rep.Context).WriteText(&b)
		r.ContextText = b.String()
	}
	var b strings.Builder
	newExceptionRecord(s, rep.ExceptionCode, 0, rep.Address, rep.Parameters).WriteText(&b)
	r.RecordText = b.String()
	if x := s.Target.Exception; x != nil {
		b.Reset()
		newExceptionRecord(s, x.Code, x.Flags, x.Address, x.Parameters).WriteText(&b)
		r.RecordText = b.String()
	}

	// STACK_TEXT: kb rows without frame numbers.
	stackRes := &stackResult{opts: kOptions{args: true, noLines: true}, ptr: ptr}
	for i, f := range rep.Frames {
		stackRes.Frames = append(stackRes.Frames, newStackFrame(i, f, rep.Frames, stackRes.opts))
	}
	b.Reset()
	stackRes.WriteText(&b)
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n")[1:] {
		if strings.HasPrefix(line, "WARNING") {
			r.StackText = append(r.StackText, line)
			continue
		}
		if len(line) > 3 {
			r.StackText = append(r.StackText, line[3:])
		}
	}
	return r
}

func osPlatform(s *Session) string {
	return map[string]string{"x86": "x86", "x64": "x64", "ARM64": "arm64"}[s.Target.Arch.String()]
}

var (
	dottedBuild = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)\.(\d+)(?: \(([A-Za-z0-9_]+))?`)
	labBuild    = regexp.MustCompile(`^(\d+)\.(\d+)\.[a-z0-9]+fre\.([A-Za-z0-9_]+)\.`)
)

// osVersion is OS_VERSION (major.minor.build.revision) and BUILDLAB_STR, from the dump's build
// string when it has one: "10.0.14393.1715 (rs1_release_inmarket.170906-1810)" or
// "17134.1.amd64fre.rs4_release.180410-1804".
func osVersion(major, minor, build uint32, buildString string) (string, string) {
	if m := dottedBuild.FindStringSubmatch(buildString); m != nil {
		return fmt.Sprintf("%s.%s.%s.%s", m[1], m[2], m[3], m[4]), m[5]
	}
	if m := labBuild.FindStringSubmatch(buildString); m != nil {
		return fmt.Sprintf("%d.%d.%s.%s", major, minor, m[1], m[2]), m[3]
	}
	return fmt.Sprintf("%d.%d.%d.0", major, minor, build), ""
}

const analysisBox = `*******************************************************************************
*                                                                             *
*                        Exception Analysis                                   *
*                                                                             *
*******************************************************************************

`

func (r *analyzeResult) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString(analysisBox)
	if !r.Verbose {
		b.WriteString("Use !analyze -v to get detailed debugging information.\n\n")
		fmt.Fprintf(&b, "Probably caused by : %s\n\n", r.ProbablyCausedBy)
		fmt.Fprintf(&b, "Followup:     %s\n---------\n\n", r.Followup)
		_, err := io.WriteString(w, b.String())
		return err
	}
	key := func(name, value string) { fmt.Fprintf(&b, "%s%s\n\n", name, value) }
	if len(r.Comment) > 0 {
		key("COMMENT:  ", strings.Join(r.Comment, "\n"))
	}
	if r.ContextText != "" {
		fmt.Fprintf(&b, "CONTEXT:  (.ecxr)\n%sResetting default scope\n\n", r.ContextText)
	}
	fmt.Fprintf(&b, "EXCEPTION_RECORD:  (.exr -1)\n%s\n", r.RecordText)
	key("PROCESS_NAME:  ", r.ProcessName)
	if r.ReadAddress != "" {
		key("READ_ADDRESS:  ", r.ReadAddress+" ")
	}
	if r.WriteAddress != "" {
		key("WRITE_ADDRESS:  ", r.WriteAddress+" ")
	}
	key("ERROR_CODE: ", r.ErrorCode)
	key("EXCEPTION_CODE_STR:  ", r.ExceptionCode)
	for i, p := range r.Parameters {
		key(fmt.Sprintf("EXCEPTION_PARAMETER%d:  ", i+1), p)
	}
	b.WriteString("STACK_TEXT:  \n")
	for _, l := range r.StackText {
		b.WriteString(l + "\n")
	}
	b.WriteString("\n\n")
	if r.SourceLine != 0 {
		key("FAULTING_SOURCE_LINE:  ", r.SourceFile)
		key("FAULTING_SOURCE_LINE_NUMBER:  ", fmt.Sprint(r.SourceLine))
	}
	key("STACK_COMMAND: ", r.StackCommand)
	key("SYMBOL_NAME:  ", r.SymbolName)
	key("MODULE_NAME: ", r.ModuleName)
	key("IMAGE_NAME:  ", r.ImageName)
	key("FAILURE_BUCKET_ID:  ", r.FailureBucketID)
	writeAnalysisTail(&b, key, analysisTail{r.OSVersion, r.BuildLab, r.OSPlatform, r.OSName, r.ImageVersion,
		r.FailureIDHash, r.Followup})
	_, err := io.WriteString(w, b.String())
	return err
}

// analysisTail is what both !analyze layouts end with (WINDBG-SPEC §3.1.2 items 13-15, §3.1.3).
type analysisTail struct {
	osVersion, buildLab, platform, osName string
	imageVersion                          string // printed after OSNAME; "" where the layout has it earlier
	hash, followup                        string
}

func writeAnalysisTail(b *strings.Builder, key func(name, value string), t analysisTail) {
	key("OS_VERSION:  ", t.osVersion)
	if t.buildLab != "" {
		key("BUILDLAB_STR:  ", t.buildLab)
	}
	key("OSPLATFORM_TYPE:  ", t.platform)
	key("OSNAME:  ", t.osName)
	if t.imageVersion != "" {
		key("IMAGE_VERSION:  ", t.imageVersion)
	}
	key("FAILURE_ID_HASH:  ", t.hash)
	fmt.Fprintf(b, "Followup:     %s\n---------\n\n", t.followup)
}
