package kdbg

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// The encoded KDBG of Windows 8+ x64 systems booted without a debugger (FORMATS.md §2.3).
// Every u64 word of the block is scrambled with two boot-random kernel variables,
// nt!KiWaitNever and nt!KiWaitAlways, and with the *address* of nt!KdpDataBlockEncoded (the
// byte flag that says the block is encoded). Bug-check dumps hold the block decoded (§1.5);
// memory images converted to dumps and live dumps may not.

// DecodeWord undoes the encoding of one word:
// plain = KiWaitAlways ^ bswap64(addr(KdpDataBlockEncoded) ^ rotl64(w ^ KiWaitNever, KiWaitNever & 63)).
func DecodeWord(w, waitNever, waitAlways, kdpDataBlockEncoded uint64) uint64 {
	x := bits.RotateLeft64(w^waitNever, int(waitNever&63))
	return waitAlways ^ bits.ReverseBytes64(kdpDataBlockEncoded^x)
}

// EncodeWord is the kernel's encoding of one word, the inverse of DecodeWord:
// w = KiWaitNever ^ rotr64(addr(KdpDataBlockEncoded) ^ bswap64(KiWaitAlways ^ plain), KiWaitNever & 63).
func EncodeWord(plain, waitNever, waitAlways, kdpDataBlockEncoded uint64) uint64 {
	x := kdpDataBlockEncoded ^ bits.ReverseBytes64(waitAlways^plain)
	return waitNever ^ bits.RotateLeft64(x, -int(waitNever&63))
}

// Encode scrambles every whole 8-byte word of a plain block (for synthetic dumps and tests).
func Encode(plain []byte, waitNever, waitAlways, kdpDataBlockEncoded uint64) []byte {
	out := make([]byte, len(plain)&^7)
	for i := 0; i+8 <= len(plain); i += 8 {
		w := binary.LittleEndian.Uint64(plain[i:])
		binary.LittleEndian.PutUint64(out[i:], EncodeWord(w, waitNever, waitAlways, kdpDataBlockEncoded))
	}
	return out
}

// DecodeEncoded decodes an encoded x64 block. kdpDataBlockEncoded is the virtual address of
// nt!KdpDataBlockEncoded (from the PDB publics), not the address of the block itself: that is
// the key the kernel XORs in (§2.3; decompiled KdCopyDataBlock and KdEncodeDataBlock agree).
// A wrong key shows as an OwnerTag that is still not 'KDBG' after decoding.
func DecodeEncoded(b []byte, waitNever, waitAlways, kdpDataBlockEncoded uint64) (*Data, error) {
	if len(b) < HeaderSize {
		return nil, &FormatError{Msg: fmt.Sprintf("block is %d bytes, the header needs %#x", len(b), HeaderSize), Err: ErrTruncated}
	}
	plain := make([]byte, len(b)&^7)
	for i := 0; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		binary.LittleEndian.PutUint64(plain[i:], DecodeWord(w, waitNever, waitAlways, kdpDataBlockEncoded))
	}
	// A key that differs only in low bytes (another address inside the kernel, such as the
	// block's own) leaves the OwnerTag intact after the byte swap but scrambles Size, so both
	// are checked before the block is believed.
	tag := binary.LittleEndian.Uint32(plain[0x10:])
	size := binary.LittleEndian.Uint32(plain[0x14:])
	if tag != OwnerTagKDBG || size < HeaderSize || size > MaxSize || size%8 != 0 {
		return nil, &FormatError{Offset: 0x10, Msg: fmt.Sprintf("decoded header (OwnerTag %#x, Size %#x) is not a KDBG header: wrong KiWaitNever/KiWaitAlways/KdpDataBlockEncoded address, or not an encoded block", tag, size), Err: ErrNotKDBG}
	}
	return Decode(plain, 8)
}
