package ksynth

import "fmt"

// owners writes each PoolOwner's tag into its driver's .data: a driver that allocates pool
// with a tag holds the tag's four bytes in its image (as an immediate operand or a constant),
// which is what a search of the images for the tag finds.
func (w *poolWriter) owners() error {
	for _, o := range w.spec.Owners {
		if len(o.Tag) != 4 {
			return fmt.Errorf("ksynth: owner tag %q is not four bytes", o.Tag)
		}
		var im *image
		for _, m := range w.b.modules {
			if m.def.name == o.Module {
				im = m
			}
		}
		if im == nil {
			return fmt.Errorf("ksynth: owner module %q is not loaded", o.Module)
		}
		for i := 0; i < max(o.Count, 1); i++ {
			// 16 bytes apart, so that no two copies run together into other byte sequences.
			va := im.allocData(16)
			w.b.write(va, []byte(o.Tag))
			w.f.Owners = append(w.f.Owners, OwnerFact{Module: o.Module, Tag: o.Tag, VA: va, RVA: uint32(va - im.base)})
		}
	}
	return nil
}
