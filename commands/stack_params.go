package commands

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"wdbg/engine"
	"wdbg/engine/pdb"
	"wdbg/engine/stack"
)

// Typed parameters for kp and kP (WINDBG-SPEC §3.2): `type name = value`, read from where the
// frame's private PDB symbols say each parameter lives at the frame's instruction.

// frameParam is one parameter as kp prints it.
type frameParam struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// frameParams returns the parameters of the function of frame f, and false when its module has
// no private symbols for it (kp then prints the frame as k does).
func (s *Session) frameParams(ctx context.Context, f stack.Frame) ([]frameParam, bool) {
	if !f.HasSymbol || s.Symbols == nil {
		return nil, false
	}
	i, ok := s.Symbols.ModuleByName(f.Symbol.Module.Name)
	if !ok {
		return nil, false
	}
	p := s.Symbols.PDB(ctx, i)
	if p == nil {
		return nil, false
	}
	rva := uint32(f.InstructionPointer - f.Symbol.Module.Base)
	fn, _, ok := p.FunctionAt(rva)
	if !ok {
		return nil, false
	}
	vars, err := p.Params(fn)
	if err != nil {
		return nil, false
	}
	out := make([]frameParam, 0, len(vars))
	for _, v := range vars {
		out = append(out, frameParam{Type: v.TypeName, Name: v.Name, Value: s.paramValue(p, v, f, rva)})
	}
	return out, true
}

// paramValue reads a parameter in frame f: a register's value, or memory at register+offset.
func (s *Session) paramValue(p *pdb.File, v pdb.Variable, f stack.Frame, rva uint32) string {
	const unavailable = "<value unavailable>"
	loc, ok := v.LocationAt(rva)
	if !ok || loc.Piece {
		return unavailable
	}
	size, ok := p.TypeSize(v.Type)
	if !ok || size == 0 || size > 8 {
		if ok && size > 8 {
			return v.TypeName // an aggregate passed by value: WinDbg names its type
		}
		return unavailable
	}
	base, known := f.Regs.Get(loc.RegisterName)
	switch loc.Kind {
	case pdb.LocRegister:
		if !known {
			return unavailable
		}
		return formatParam(v.TypeName, base, int(size), s.PointerSize())
	case pdb.LocRegisterRelative, pdb.LocFrameRelative:
		if !known {
			return unavailable
		}
		buf := make([]byte, 8)
		addr := base + uint64(int64(loc.Offset))
		if err := engine.ReadFull(s.Memory(), buf[:size], addr); err != nil {
			return unavailable
		}
		return formatParam(v.TypeName, binary.LittleEndian.Uint64(buf), int(size), s.PointerSize())
	}
	return unavailable
}

// formatParam spells a value as kp does: pointers in hex with 0x, signed integers in decimal
// with 0n, unsigned ones in hex, floating point in decimal.
func formatParam(typeName string, raw uint64, size, ptrSize int) string {
	t := strings.TrimSpace(typeName)
	switch {
	case strings.HasSuffix(t, "*") || strings.HasSuffix(t, "&"):
		return "0x" + FormatAddr(raw, ptrSize)
	case t == "float":
		return fmt.Sprint(math.Float32frombits(uint32(raw)))
	case t == "double":
		return fmt.Sprint(math.Float64frombits(raw))
	case t == "bool":
		if raw&0xff != 0 {
			return "true"
		}
		return "false"
	case strings.Contains(t, "unsigned") || strings.HasPrefix(t, "enum "):
		return fmt.Sprintf("0x%x", truncate(raw, size))
	}
	shift := 64 - 8*uint(size)
	return fmt.Sprintf("0n%d", int64(raw<<shift)>>shift)
}

func truncate(v uint64, size int) uint64 {
	if size >= 8 {
		return v
	}
	return v & (1<<(8*uint(size)) - 1)
}

// withParams puts a parameter list after the function name of a call site
// (`mod!f+0x10` → `mod!f(int a = 0n1)+0x10`), on one line for kp or one per line for kP.
func withParams(site string, params []frameParam, perLine bool) string {
	name, off, hasOff := strings.Cut(site, "+0x")
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = fmt.Sprintf("%s %s = %s", p.Type, p.Name, p.Value)
	}
	var list string
	switch {
	case len(parts) == 0:
		list = "(void)"
	case perLine:
		list = "(\n\t\t\t" + strings.Join(parts, ", \n\t\t\t") + ")"
	default:
		list = "(" + strings.Join(parts, ", ") + ")"
	}
	if hasOff {
		return name + list + "+0x" + off
	}
	return name + list
}
