package stack

import "context"

// WithInlineFrames returns the frames with, before each physical frame whose code the compiler
// inlined calls into, one frame per inlined function, innermost first, as WinDbg lists them: an
// inline frame copies the registers of the physical frame it lives in and is marked Inline. For a
// caller frame the chain is the one at the call instruction (the byte before the return
// address); displacements stay those of the address itself, as for physical frames. max bounds
// the result (0: no bound).
func (w *Walker) WithInlineFrames(ctx context.Context, frames []Frame, max int) []Frame {
	out := make([]Frame, 0, len(frames))
	for i, f := range frames {
		if f.HasSymbol && !f.Inline && f.InstructionPointer > 0 {
			addr, adjust := f.InstructionPointer, uint64(0)
			if i > 0 {
				addr, adjust = addr-1, 1
			}
			for _, sym := range w.syms.InlineFrames(ctx, addr) {
				sym.Displacement += adjust
				out = append(out, Frame{Frame: f.Frame, Symbol: sym, HasSymbol: true, Inline: true})
			}
		}
		out = append(out, f)
		if max > 0 && len(out) >= max {
			return out[:max]
		}
	}
	return out
}
