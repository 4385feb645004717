package symbols

import "context"

// InlineFrames names the functions the compiler inlined at addr, innermost first, each as a
// Symbol: its name, where its inlined code starts (Address, Displacement) and the source line of
// addr in it. The function that holds the inlined code is not in the list: Lookup names it, with
// the line of the outermost inlined call. Only private PDBs describe inlined code (S_INLINESITE);
// other sources and addresses outside inlined code give none.
func (r *Resolver) InlineFrames(ctx context.Context, addr uint64) []Symbol {
	i, ok := r.moduleIndex(addr)
	if !ok {
		return nil
	}
	r.Load(ctx, i)
	m := r.mods[i]
	if m.pdb == nil {
		return nil
	}
	rva := uint32(addr - m.module.Base)
	frames, _ := m.pdb.InlineFrames(rva) // a damaged site keeps the frames decoded before it
	out := make([]Symbol, 0, len(frames))
	for _, f := range frames {
		out = append(out, Symbol{Module: m.module, Name: f.Name, Address: addr - uint64(f.Disp),
			Displacement: uint64(f.Disp), File: f.File, Line: f.Line})
	}
	return out
}
