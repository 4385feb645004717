package symbols

import "wdbg/engine/pe"

// ImageHeaders is what a module's image says of itself, for lm's mismatch flags.
type ImageHeaders struct {
	TimeDateStamp uint32
	SizeOfImage   uint32
	CheckSum      uint32
}

// ImageHeaders returns the headers of module i's image as the resolver has it: the image already
// found for it (from the dump or from disk), else the headers mapped in the dump at the module's
// base. It never searches the image path or a store; ok is false when neither is at hand.
func (r *Resolver) ImageHeaders(i int) (ImageHeaders, bool) {
	if i < 0 || i >= len(r.mods) {
		return ImageHeaders{}, false
	}
	m := r.mods[i]
	m.imageMu.Lock()
	img := m.image
	m.imageMu.Unlock()
	if img == nil {
		f, err := pe.NewMapped(r.raw, m.module.Base)
		if err != nil {
			return ImageHeaders{}, false
		}
		img = f
	}
	return ImageHeaders{TimeDateStamp: img.TimeDateStamp, SizeOfImage: img.SizeOfImage, CheckSum: img.CheckSum}, true
}
