package commands

import "wdbg/engine/cpu"

// currentInstruction returns the label and the disassembled line of the instruction at ctx's PC,
// for the end of a register dump. Both are empty when the code bytes are not in the dump.
func currentInstruction(s *Session, ctx cpu.Context) (label, line string) {
	return "", ""
}
