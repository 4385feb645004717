package pool

import (
	"strings"
	"testing"
)

func TestDecodeHeaderX64(t *testing.T) {
	// FORMATS.md §6.1 x64: PreviousSize 3 units, PoolIndex 7, BlockSize 0x25 units, stored
	// PoolType 2 (= Paged + 1), tag "Proc" stored as the bytes P r o c, ProcessBilled @8.
	b := []byte{3, 7, 0x25, 2, 'P', 'r', 'o', 'c', 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}
	h, ok := DecodeHeader(b, 8)
	if !ok {
		t.Fatal("not decoded")
	}
	want := Header{PreviousSize: 3 * 16, PoolIndex: 7, BlockSize: 0x25 * 16, RawType: 2, Tag: TagOf("Proc"), ProcessBilled: 0x1122334455667788}
	if h != want {
		t.Errorf("x64 header = %+v, want %+v", h, want)
	}
	if h.Free() || !h.Paged() || h.Type() != TypePaged || h.Tag.String() != "Proc" {
		t.Errorf("free %v paged %v type %d tag %q", h.Free(), h.Paged(), h.Type(), h.Tag)
	}
	if _, ok := DecodeHeader(b[:15], 8); ok {
		t.Error("15 bytes decoded as an x64 header")
	}
}

func TestDecodeHeaderX86(t *testing.T) {
	// §6.1 x86: u16 @0 = PreviousSize:9 | PoolIndex:7 → 0x1F5 | 5<<9; u16 @2 = BlockSize:9 |
	// PoolType:7 → 0x10A | 0<<9 (free); tag @4.
	b := []byte{0xF5, 0x0B, 0x0A, 0x01, 'S', 'e', 'S', 'd'}
	h, ok := DecodeHeader(b, 4)
	if !ok {
		t.Fatal("not decoded")
	}
	want := Header{PreviousSize: 0x1F5 * 8, PoolIndex: 5, BlockSize: 0x10A * 8, RawType: 0, Tag: TagOf("SeSd")}
	if h != want || !h.Free() {
		t.Errorf("x86 header = %+v, want %+v (free)", h, want)
	}
	// PoolType 0x21 stored as 0x22 in bits 15:9 of the second word: paged session pool.
	b = []byte{0, 0, 0x02, 0x22 << 1, 'G', 'l', 'a', '?'}
	h, _ = DecodeHeader(b, 4)
	if h.BlockSize != 0x10 || h.Type() != 0x21 || !h.Paged() || TypeName(h.Type()) != "Paged session pool" {
		t.Errorf("x86 session header = %+v type %#x", h, h.Type())
	}
}

func TestTagString(t *testing.T) {
	// §6.1: bit 31 (PROTECTED_POOL) masked for printing; non-printable bytes as '.' (WINDBG-SPEC §3.8).
	tag := Tag(uint32('O') | uint32('b')<<8 | uint32('j')<<16 | uint32('T'|0x80)<<24)
	if tag.String() != "ObjT" || !tag.Protected() {
		t.Errorf("protected tag = %q protected=%v", tag.String(), tag.Protected())
	}
	if s := Tag(0x23002B37).String(); s != "7+.#" {
		t.Errorf("non-printable tag = %q, want 7+.#", s)
	}
	if TagOf("Mm") != Tag(uint32('M')|uint32('m')<<8|0x20<<16|0x20<<24) {
		t.Errorf("short tag not space padded")
	}
}

func TestPattern(t *testing.T) {
	cases := []struct {
		pat  string
		tag  string
		want bool
	}{
		{"Leak", "Leak", true}, {"Leak", "leak", false}, {"Le?k", "Leak", true}, {"Le?k", "Lea ", false},
		{"Le*", "Leak", true}, {"Le*", "Lxak", false}, {"*", "Zzzz", true}, {"", "Abcd", true},
		{"*ak", "Leak", true}, {"*ak", "Leax", false}, {"L*k", "Leak", true}, {"?e*", "Leak", true},
		{"Mm", "Mm  ", true}, {"Mm", "MmSt", false}, {"Mm*", "MmSt", true}, {"????", "Proc", true},
	}
	for _, c := range cases {
		if got := ParsePattern(c.pat).Match(TagOf(c.tag)); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.pat, c.tag, got, c.want)
		}
	}
	// A protected tag matches its printable spelling.
	if !ParsePattern("ObjT").Match(TagOf("ObjT") | protectedBit) {
		t.Error("protected tag not matched")
	}
	if !strings.Contains(ParsePattern("A*b*").String(), "*") {
		t.Error("String lost the pattern")
	}
}
