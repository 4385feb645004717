package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"wdbg/engine/analysis"
	"wdbg/engine/cpu"
)

// bugcheckCommands: .bugcheck and .trap, the kernel-dump companions of !analyze.
var bugcheckCommands = []*Command{
	{
		Name: ".bugcheck", Group: "Analysis",
		Usage: ".bugcheck", Summary: "show the bug check code and its four parameters",
		Help: "Shows the stop code of a kernel dump and its four parameters, as the dump header records them. " +
			"`!analyze -show` explains what they mean.",
		Run: runBugcheck,
	},
	{
		Name: ".trap", Group: "Registers",
		Usage: ".trap [Address]", Summary: "use a kernel trap frame as the register context",
		Help: "Reads the KTRAP_FRAME at Address (x64, x86 and ARM64 kernel dumps) and makes its registers the current scope, " +
			"like .cxr does for a CONTEXT record; registers the frame does not save show as zero. Without an " +
			"address, returns to the processor's own registers.",
		Run: runTrap,
	},
}

type bugcheckResult struct {
	Code      string   `json:"code"`
	Arguments []string `json:"arguments"`
	ptr       int
	params    [4]uint64
}

// WriteText prints `Bugcheck code 1000007E` and `Arguments ffffffff`c0000005 ...` (public
// captures of .bugcheck: eight upper-case digits; arguments as addresses, with the backtick on
// 64-bit targets).
func (r *bugcheckResult) WriteText(w io.Writer) error {
	args := make([]string, 4)
	for i, p := range r.params {
		args[i] = FormatAddr(p, r.ptr)
	}
	_, err := fmt.Fprintf(w, "Bugcheck code %s\nArguments %s\n", r.Code, strings.Join(args, " "))
	return err
}

func runBugcheck(ctx context.Context, s *Session, args string) (Result, error) {
	if strings.TrimSpace(args) != "" {
		return nil, &SyntaxError{Input: ".bugcheck " + args, Col: len(".bugcheck ")}
	}
	k := s.Target.Kernel
	if k == nil {
		return nil, errors.New(".bugcheck: a process dump has no bug check (it is a kernel-dump command)")
	}
	r := &bugcheckResult{Code: fmt.Sprintf("%08X", k.BugCheck.Code), ptr: s.Target.PointerSize(), params: k.BugCheck.Parameters}
	for _, p := range k.BugCheck.Parameters {
		r.Arguments = append(r.Arguments, fmt.Sprintf("0x%x", p))
	}
	return r, nil
}

func runTrap(ctx context.Context, s *Session, args string) (Result, error) {
	args = strings.TrimSpace(args)
	if args == "" {
		s.SetScope(nil)
		return Text("Resetting default scope\n"), nil
	}
	addr, err := s.Eval(args)
	if err != nil {
		return nil, err
	}
	c, err := analysis.ReadTrapFrame(s.Target, addr)
	if err != nil {
		return nil, fmt.Errorf("Unable to read trap frame at %s: %v", FormatAddr(addr, s.PointerSize()), err)
	}
	s.SetScope(&Scope{Context: c, Reason: "trap"})
	return trapRegisterDump(s, c), nil
}

// trapRegisterDump is the register display of a trap frame: two notes first and no segment line
// (WINDBG-SPEC §1.3, §3.9).
func trapRegisterDump(s *Session, c cpu.Context) *registerDump {
	d := newRegisterDump(s, c)
	d.Prefix = "NOTE: The trap frame does not contain all registers.\nSome register values may be zeroed or incorrect."
	kept := d.lines[:0:0]
	for _, l := range d.lines {
		if !strings.HasPrefix(l, "cs=") {
			kept = append(kept, l)
		}
	}
	d.lines = kept
	return d
}
