package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"wdbg/engine/cpu"
	"wdbg/engine/ntuser"
)

// effmachCommands: .effmach, the effective machine. On a dump of a 32-bit process running under
// WOW64, `.effmach x86` makes the session show the process's x86 side: 32-bit pointers, the x86
// registers that WOW64 keeps for each thread, and the prompt 0:000:x86> (WINDBG-SPEC §1.4).
var effmachCommands = []*Command{
	{
		Name: ".effmach", Group: "Target",
		Usage:   ".effmach [. | # | x86 | amd64 | arm64]",
		Summary: "show or change the effective processor mode",
		Help: "Without an argument, shows the effective machine. `x86` switches a 32-bit process running on " +
			"64-bit Windows (WOW64) to its x86 view: registers, stacks and pointer-sized output become 32-bit " +
			"and the prompt shows :x86. `.` returns to the target's own machine; `#` selects the mode of the " +
			"code that was running at the event (x86 when the exception happened in 32-bit code). `amd64` " +
			"and `arm64` name the native machines of x64 and ARM64 dumps.",
		Run: runEffmach,
	},
}

// effmachResult is the effective machine after the command.
type effmachResult struct {
	Machine     string `json:"machine"`     // "x86", "x64", "ARM64"
	Description string `json:"description"` // "x86 compatible (x86)"
}

func (r *effmachResult) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "Effective machine: %s\n", r.Description)
	return err
}

// machineDescription is WinDbg's name for a machine in `.effmach` output. The x86 and x64 texts
// are quoted verbatim by BugId and by several public WOW64 walkthroughs; the ARM texts come from a
// single, partly garbled capture and are unverified.
func machineDescription(a cpu.Arch) string {
	switch a {
	case cpu.ArchX86:
		return "x86 compatible (x86)"
	case cpu.ArchAMD64:
		return "x64 (AMD64)"
	case cpu.ArchARM64:
		return "ARM 64-bit (AArch64) (ARM64)"
	case cpu.ArchARM:
		return "ARM Thumb-2 (ARM)"
	}
	return a.String()
}

func runEffmach(ctx context.Context, s *Session, args string) (Result, error) {
	t := s.Target
	native := t.Arch
	switch arg := strings.ToLower(strings.TrimSpace(args)); arg {
	case "":
	case ".":
		s.EffMach = cpu.ArchUnknown
	case "#":
		s.EffMach = cpu.ArchUnknown
		if e := t.Exception; e != nil && ntuser.IsWOW64(t) && ntuser.RunningX86(e.Context) {
			s.EffMach = cpu.ArchX86
		}
	default:
		want, ok := map[string]cpu.Arch{"x86": cpu.ArchX86, "amd64": cpu.ArchAMD64, "x64": cpu.ArchAMD64,
			"arm64": cpu.ArchARM64, "arm": cpu.ArchARM}[arg]
		if !ok {
			// Our wording; WinDbg's text for an unknown machine name is not in the spec.
			return nil, fmt.Errorf("Unknown machine type '%s' (use ., #, x86, amd64 or arm64)", strings.TrimSpace(args))
		}
		switch {
		case want == native:
			s.EffMach = cpu.ArchUnknown
		case want == cpu.ArchX86 && ntuser.IsWOW64(t):
			s.EffMach = cpu.ArchX86
		default:
			// Our wording: only the WOW64 x86 view of an x64 dump is a second machine wdbg knows.
			return nil, fmt.Errorf("Effective machine %s is not available: the dump is %s and not a 32-bit process under WOW64",
				want, native)
		}
	}
	a := s.Arch()
	return &effmachResult{Machine: a.String(), Description: machineDescription(a)}, nil
}

// EffectiveContext returns the register context that commands should see in place of native (a
// thread's own context or the .ecxr/.cxr scope's), given the effective machine. teb is the 64-bit
// TEB of the thread the context belongs to. After `.effmach x86` on a WOW64 dump this is the
// thread's x86 context (engine/ntuser.WOW64ContextOf); otherwise native itself.
//
// Session.Context should return EffectiveContext(its choice, the current thread's TEB).
func (s *Session) EffectiveContext(native cpu.Context, teb uint64) (cpu.Context, error) {
	if s.EffMach != cpu.ArchX86 || s.Target.Arch != cpu.ArchAMD64 {
		return native, nil
	}
	return ntuser.WOW64ContextOf(s.Target, teb, native)
}
