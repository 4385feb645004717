package symbols

import "wdbg/engine"

// SetRawMemory changes the dump memory read beneath the image overlay: in a kernel dump
// `.process` switches the address space that user addresses translate through.
func (r *Resolver) SetRawMemory(m engine.Memory) { r.raw = m }
