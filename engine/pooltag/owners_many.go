package pooltag

import (
	"context"
	"encoding/binary"
	"fmt"

	"wdbg/engine/pe"
)

// ImagesHolding answers Owners' question for many tags at once (the owner column of
// !poolused): for each tag, the names of the images that hold its four bytes, in image order.
// One pass over the images serves every tag: each 4-byte window is checked against a 64 Ki-bit
// filter of the tags' first two bytes before the set itself, so the cost barely grows with the
// number of tags. Wildcard or short tags are refused; unreadable pages are skipped. When ctx is
// cancelled the images done so far are returned with ctx's error.
func ImagesHolding(ctx context.Context, tags []string, images []Image) (map[string][]string, error) {
	want := map[uint32]string{}
	var filter [1 << 16 / 64]uint64
	for _, t := range tags {
		if IsPattern(t) || len(t) != TagLen {
			return nil, fmt.Errorf("pool tag %q: need exactly %d bytes without wildcards", t, TagLen)
		}
		v := binary.LittleEndian.Uint32([]byte(t))
		want[v] = t
		filter[v&0xFFFF/64] |= 1 << (v & 63)
	}
	out := map[string][]string{}
	buf := make([]byte, scanChunk+TagLen-1)
	for _, img := range images {
		found := map[string]bool{}
		err := scanWindows(ctx, img, buf, func(v uint32) {
			if filter[v&0xFFFF/64]&(1<<(v&63)) == 0 {
				return
			}
			if t, ok := want[v]; ok && !found[t] {
				found[t] = true
				out[t] = append(out[t], img.Name)
			}
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// scanWindows calls fn with every 4-byte little-endian window of the image's readable bytes;
// windows that would span a page the dump lacks are not formed.
func scanWindows(ctx context.Context, img Image, buf []byte, fn func(v uint32)) error {
	if img.Mem == nil {
		return nil
	}
	size := img.Size
	if size == 0 {
		if f, err := peSize(img); err == nil {
			size = f
		}
	}
	size = min(size, maxImageSpan, ^uint64(0)-img.Base)
	end := img.Base + size
	addr := img.Base
	carry := 0
	for addr < end {
		if err := ctx.Err(); err != nil {
			return err
		}
		want := int(min(uint64(scanChunk), end-addr))
		n, _ := img.Mem.ReadAt(buf[carry:carry+want], addr)
		n = max(0, min(n, want))
		data := buf[:carry+n]
		for i := 0; i+TagLen <= len(data); i++ {
			fn(binary.LittleEndian.Uint32(data[i:]))
		}
		if n == want {
			addr += uint64(n)
			carry = min(len(data), TagLen-1)
			copy(buf, data[len(data)-carry:])
			continue
		}
		hole := addr + uint64(n)
		addr, carry = min(hole&^(pageSize-1)+pageSize, end), 0
	}
	return nil
}

// peSize is SizeOfImage from the image's headers in the dump.
func peSize(img Image) (uint64, error) {
	f, err := pe.NewMapped(img.Mem, img.Base)
	if err != nil {
		return 0, err
	}
	return uint64(f.SizeOfImage), nil
}
