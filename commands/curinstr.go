package commands

import "wdbg/engine/cpu"

// currentInstruction returns the label and the disassembled line of the instruction at ctx's PC,
// for the end of a register dump. When the code is not in the dump the line is WinDbg's `??` line.
func currentInstruction(s *Session, ctx cpu.Context) (label, line string) {
	pc := ctx.PC()
	in, _ := s.InstructionAt(pc)
	var teb uint64
	if t := s.CurrentThread(); t != nil {
		teb = t.TEB
	}
	return s.Symbolize(pc), FormatCurrentInstruction(in, s.PointerSize(), ctx, s.Memory(), teb)
}
