package kdbg

import (
	"encoding/binary"
	"errors"
	"testing"
)

const (
	testWaitNever  = 0x8642097531FEDCBB // low 6 bits 0x3B: a 59-bit rotation
	testWaitAlways = 0x0F1E2D3C4B5A6978
	testEncodedVA  = 0xFFFFF8047C6FC3E0 // address of KdpDataBlockEncoded
)

func TestDecodeWordVectors(t *testing.T) {
	// Expected values computed separately (Python, from the formula in FORMATS.md §2.3:
	// always ^ bswap64(key ^ rol64(w ^ never, never & 63))), not from this package.
	for _, v := range []struct{ enc, plain uint64 }{
		{0x0123456789ABCDEF, 0x657580d52fa8ad23},
		{0xFFFFF8047BA00000, 0x0a2b10cac44d5b5c},
		{0, 0x0a2bcde904b2a45b},
	} {
		if got := DecodeWord(v.enc, testWaitNever, testWaitAlways, testEncodedVA); got != v.plain {
			t.Errorf("DecodeWord(%#x) = %#x; want %#x", v.enc, got, v.plain)
		}
	}
}

func TestEncodeWordInvertsDecode(t *testing.T) {
	// EncodeWord follows the kernel's KdEncodeDataBlock order of operations, DecodeWord the
	// KdCopyDataBlock order (§2.3); each must undo the other for every rotation count.
	for rot := uint64(0); rot < 64; rot++ {
		never := testWaitNever&^63 | rot
		for _, p := range []uint64{0, 1, OwnerTagKDBG, 0xFFFFF8047BA00000, 0xDEADBEEFCAFEF00D} {
			e := EncodeWord(p, never, testWaitAlways, testEncodedVA)
			if got := DecodeWord(e, never, testWaitAlways, testEncodedVA); got != p {
				t.Fatalf("rot %d: %#x -> %#x -> %#x", rot, p, e, got)
			}
		}
	}
}

func TestDecodeEncodedBlock(t *testing.T) {
	plain := block(0x380, map[int]uint64{0x18: 0xFFFFF8047BA00000, 0x48: 0xFFFFF8047C62A390, 0x218: 0xFFFFF8047C6FDC80})
	binary.LittleEndian.PutUint16(plain[0x338:], 0x85C0)
	enc := Encode(plain, testWaitNever, testWaitAlways, testEncodedVA)
	if _, err := Decode(enc, 8); !errors.Is(err, ErrNotKDBG) {
		t.Fatalf("Decode(encoded) = %v; want ErrNotKDBG", err)
	}
	d, err := DecodeEncoded(enc, testWaitNever, testWaitAlways, testEncodedVA)
	if err != nil {
		t.Fatal(err)
	}
	if d.OwnerTag != OwnerTagKDBG || d.Size != 0x380 || d.KernBase != 0xFFFFF8047BA00000 ||
		d.PsLoadedModuleList != 0xFFFFF8047C62A390 || d.KiProcessorBlock != 0xFFFFF8047C6FDC80 || d.OffsetPrcbContext != 0x85C0 {
		t.Errorf("decoded: %+v", d)
	}
	// The block's own address is not the key (§2.3): using it must fail clearly.
	if _, err := DecodeEncoded(enc, testWaitNever, testWaitAlways, 0xFFFFF8047C600B20); !errors.Is(err, ErrNotKDBG) {
		t.Errorf("wrong key: %v; want ErrNotKDBG", err)
	}
	if _, err := DecodeEncoded(enc[:0x10], testWaitNever, testWaitAlways, testEncodedVA); !errors.Is(err, ErrTruncated) {
		t.Errorf("short: %v", err)
	}
}
