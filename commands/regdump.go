package commands

import (
	"fmt"
	"io"
	"strings"

	"wdbg/engine/cpu"
)

// The register dump of r, .ecxr, .cxr and ~Ns (WINDBG-SPEC §3.9).

// registerDump is a full register display of one context.
type registerDump struct {
	Arch        string            `json:"arch"`
	Registers   map[string]string `json:"registers"`
	Flags       string            `json:"flags,omitempty"`
	Label       string            `json:"label,omitempty"`       // symbol of the current instruction
	Instruction string            `json:"instruction,omitempty"` // the current instruction line
	Prefix      string            `json:"-"`                     // a line printed before the dump
	lines       []string
}

func (d *registerDump) WriteText(w io.Writer) error {
	var b strings.Builder
	if d.Prefix != "" {
		b.WriteString(d.Prefix + "\n")
	}
	for _, l := range d.lines {
		b.WriteString(l + "\n")
	}
	if d.Label != "" {
		b.WriteString(d.Label + ":\n")
	}
	if d.Instruction != "" {
		b.WriteString(d.Instruction + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// newRegisterDump lays out ctx in WinDbg's rows for its architecture.
func newRegisterDump(s *Session, ctx cpu.Context) *registerDump {
	d := &registerDump{Arch: ctx.Arch().String(), Registers: map[string]string{}}
	for _, n := range ctx.RegisterNames() {
		v, _ := ctx.Register(n)
		d.Registers[n] = fmt.Sprintf("0x%x", v)
	}
	get := func(n string) uint64 { v, _ := ctx.Register(n); return v }
	switch ctx.Arch() {
	case cpu.ArchAMD64:
		row := func(names ...string) string {
			var parts []string
			for _, n := range names {
				parts = append(parts, fmt.Sprintf("%3s=%016x", n, get(n)))
			}
			return strings.Join(parts, " ")
		}
		efl := uint32(get("efl"))
		d.Flags = cpu.FlagMnemonics(efl)
		d.lines = []string{
			row("rax", "rbx", "rcx"), row("rdx", "rsi", "rdi"), row("rip", "rsp", "rbp"),
			row("r8", "r9", "r10"), row("r11", "r12", "r13"), row("r14", "r15"),
			cpu.EFlagsText(efl),
			segmentLine(get) + fmt.Sprintf("             efl=%08x", efl),
		}
	case cpu.ArchX86:
		row := func(names ...string) string {
			var parts []string
			for _, n := range names {
				parts = append(parts, fmt.Sprintf("%s=%08x", n, get(n)))
			}
			return strings.Join(parts, " ")
		}
		efl := uint32(get("efl"))
		d.Flags = cpu.FlagMnemonics(efl)
		d.lines = []string{
			row("eax", "ebx", "ecx", "edx", "esi", "edi"),
			row("eip", "esp", "ebp") + " " + cpu.EFlagsText(efl),
			segmentLine(get) + fmt.Sprintf("             efl=%08x", efl),
		}
	case cpu.ArchARM64:
		// The ARM64 layout (four registers a row, then fp/lr/sp and pc/psr) is reconstructed from
		// memory of WinDbg sessions and not verified against a capture.
		var cells []string
		for i := 0; i <= 28; i++ {
			cells = append(cells, fmt.Sprintf("%3s=%016x", fmt.Sprintf("x%d", i), get(fmt.Sprintf("x%d", i))))
		}
		cells = append(cells, fmt.Sprintf("%3s=%016x", "fp", get("fp")), fmt.Sprintf("%3s=%016x", "lr", get("lr")),
			fmt.Sprintf("%3s=%016x", "sp", get("sp")), fmt.Sprintf("%3s=%016x", "pc", get("pc")))
		cpsr := get("cpsr")
		d.Flags = arm64Flags(cpsr)
		cells = append(cells, fmt.Sprintf("psr=%08x %s", cpsr, d.Flags))
		for i := 0; i < len(cells); i += 4 {
			end := min(i+4, len(cells))
			d.lines = append(d.lines, strings.Join(cells[i:end], "   "))
		}
	default:
		for _, n := range ctx.RegisterNames() {
			d.lines = append(d.lines, fmt.Sprintf("%s=%x", n, get(n)))
		}
	}
	d.Label, d.Instruction = currentInstruction(s, ctx)
	return d
}

func segmentLine(get func(string) uint64) string {
	return fmt.Sprintf("cs=%04x  ss=%04x  ds=%04x  es=%04x  fs=%04x  gs=%04x",
		get("cs"), get("ss"), get("ds"), get("es"), get("fs"), get("gs"))
}

// arm64Flags spells NZCV as letters or dashes, then the exception level: `N--- EL0`.
func arm64Flags(cpsr uint64) string {
	letters := []byte("NZCV")
	for i := range letters {
		if cpsr&(1<<(31-uint(i))) == 0 {
			letters[i] = '-'
		}
	}
	return fmt.Sprintf("%s EL%d", letters, (cpsr>>2)&3)
}

// registerWidth is how many hex digits `r NAME` shows for a register of the given name.
func registerWidth(arch cpu.Arch, name string) int {
	n := strings.ToLower(name)
	switch {
	case n == "efl" || n == "eflags" || n == "cpsr" || n == "mxcsr":
		return 8
	case n == "cs" || n == "ds" || n == "es" || n == "fs" || n == "gs" || n == "ss":
		return 4
	}
	if arch == cpu.ArchARM64 {
		if strings.HasPrefix(n, "w") {
			return 8
		}
		return 16
	}
	byteRegs := map[string]bool{"al": true, "bl": true, "cl": true, "dl": true, "ah": true, "bh": true, "ch": true,
		"dh": true, "sil": true, "dil": true, "spl": true, "bpl": true}
	wordRegs := map[string]bool{"ax": true, "bx": true, "cx": true, "dx": true, "si": true, "di": true, "sp": true,
		"bp": true, "ip": true}
	switch {
	case byteRegs[n] || (strings.HasPrefix(n, "r") && strings.HasSuffix(n, "b")):
		return 2
	case wordRegs[n] || (strings.HasPrefix(n, "r") && strings.HasSuffix(n, "w")):
		return 4
	case strings.HasPrefix(n, "e") || (strings.HasPrefix(n, "r") && strings.HasSuffix(n, "d")):
		return 8
	case strings.HasPrefix(n, "dr"):
		return arch.PointerSize() * 2
	}
	return 16
}
