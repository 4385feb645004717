// Package pool reads the Windows kernel pool out of a kernel dump: the pool tag tracker tables
// (`!poolused`), the big-page table, pool block headers (`!pool`), a fast tag scan
// (`!poolfind`) and the memory manager's counters (`!vm`).
//
// Every layout comes from ../shared/spec/FORMATS.md §6 (pool) and §2 (KDBG). Nothing here
// trusts the dump: table sizes are capped, block walks are bounded by the page, and what could
// not be read becomes a note beside a partial answer. The package never prints.
package pool

import (
	"encoding/binary"
	"strings"
)

// Tag is a pool tag as stored: four ASCII bytes little-endian ('Proc' is the bytes P r o c,
// FORMATS.md §6.1).
type Tag uint32

// protectedBit is PROTECTED_POOL, set on some tags by old kernels (§6.1): masked for display.
const protectedBit = 0x80000000

// String is the tag as WinDbg prints it: bit 31 masked, non-printable bytes as '.'.
func (t Tag) String() string {
	v := uint32(t) &^ protectedBit
	b := make([]byte, 4)
	for i := range b {
		c := byte(v >> (8 * i))
		if c < 0x20 || c > 0x7E {
			c = '.'
		}
		b[i] = c
	}
	return string(b)
}

// Protected says whether bit 31 (PROTECTED_POOL) is set.
func (t Tag) Protected() bool { return uint32(t)&protectedBit != 0 }

// Bytes is the tag as stored in memory.
func (t Tag) Bytes() [4]byte {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(t))
	return b
}

// TagOf makes a tag from up to four characters, space-padded like pooltag.txt's short tags.
func TagOf(s string) Tag {
	var b [4]byte
	for i := range b {
		b[i] = ' '
		if i < len(s) {
			b[i] = s[i]
		}
	}
	return Tag(binary.LittleEndian.Uint32(b[:]))
}

// POOL_TYPE values (FORMATS.md §6.1).
const (
	TypeNonPaged   = 0
	TypePaged      = 1
	TypeSession    = 0x20
	TypeNonPagedNx = 0x200
)

// TypeName is the region text WinDbg gives a POOL_TYPE ("Paged" ⇔ type&1, §6.1).
func TypeName(poolType uint32) string {
	s := "Nonpaged pool"
	if poolType&TypePaged != 0 {
		s = "Paged pool"
	}
	if poolType&TypeSession != 0 {
		s = "Paged session pool"
		if poolType&TypePaged == 0 {
			s = "Nonpaged session pool"
		}
	}
	return s
}

// Header is a decoded POOL_HEADER (FORMATS.md §6.1). Sizes are in bytes.
type Header struct {
	PreviousSize  uint64 // PreviousSize × granularity
	PoolIndex     uint8
	BlockSize     uint64 // BlockSize × granularity, the header included
	RawType       uint16 // PoolType as stored: POOL_TYPE + 1, 0 = free
	Tag           Tag
	ProcessBilled uint64 // x64 word @8 (XOR-encoded on Win8+, not decoded)
}

// Free says the block is free (stored PoolType 0, §6.1).
func (h Header) Free() bool { return h.RawType == 0 }

// Type is the POOL_TYPE of an allocated block (stored value − 1).
func (h Header) Type() uint32 {
	if h.RawType == 0 {
		return 0
	}
	return uint32(h.RawType) - 1
}

// Paged says the block is paged pool.
func (h Header) Paged() bool { return !h.Free() && h.Type()&TypePaged != 0 }

// Granularity is the pool block unit: 16 bytes on x64, 8 on x86 (§6.1); it is also the size of
// a POOL_HEADER.
func Granularity(ptrSize int) uint64 {
	if ptrSize == 4 {
		return 8
	}
	return 16
}

// DecodeHeader decodes a POOL_HEADER from b (at least Granularity(ptrSize) bytes, else ok is
// false). FORMATS.md §6.1: x64 bytes PreviousSize, PoolIndex, BlockSize, PoolType, tag @4,
// ProcessBilled @8; x86 u16 @0 PreviousSize:9|PoolIndex:7, u16 @2 BlockSize:9|PoolType:7, tag @4.
func DecodeHeader(b []byte, ptrSize int) (Header, bool) {
	g := Granularity(ptrSize)
	if uint64(len(b)) < g {
		return Header{}, false
	}
	var h Header
	h.Tag = Tag(binary.LittleEndian.Uint32(b[4:]))
	if ptrSize == 4 {
		w0 := binary.LittleEndian.Uint16(b[0:])
		w1 := binary.LittleEndian.Uint16(b[2:])
		h.PreviousSize = uint64(w0&0x1FF) * g
		h.PoolIndex = uint8(w0 >> 9)
		h.BlockSize = uint64(w1&0x1FF) * g
		h.RawType = w1 >> 9
		return h, true
	}
	h.PreviousSize = uint64(b[0]) * g
	h.PoolIndex = b[1]
	h.BlockSize = uint64(b[2]) * g
	h.RawType = uint16(b[3])
	h.ProcessBilled = binary.LittleEndian.Uint64(b[8:])
	return h, true
}

// Pattern is a tag filter with WinDbg's wildcards: '?' matches one character, '*' any run
// (TagString of !poolused / !poolfind, WINDBG-SPEC §3.8). Matching is case-sensitive and works
// on the tag as printed (bit 31 masked). A pattern shorter than four characters without '*'
// is space-padded like the tags themselves.
type Pattern struct {
	text       string
	exact      bool // no wildcard: compare tags
	tag        Tag
	mask, want uint32 // when maskable: (tag & mask) == want decides
	maskable   bool
}

// ParsePattern compiles a tag filter. "" and "*" match every tag.
func ParsePattern(s string) Pattern {
	p := Pattern{text: s}
	if s == "" {
		s = "*"
	}
	if !strings.ContainsAny(s, "*?") {
		p.exact = true
		p.tag = TagOf(s)
		p.mask, p.want, p.maskable = 0x7FFFFFFF, uint32(p.tag)&0x7FFFFFFF, true
		return p
	}
	// Maskable: up to four fixed-or-'?' characters, optionally ending in one '*', e.g. "Le?k",
	// "Ob*", "*": a bit mask decides the match in one compare (the scan's fast path).
	body, star := s, false
	if strings.HasSuffix(body, "*") {
		body, star = body[:len(body)-1], true
	}
	if len(body) <= 4 && !strings.Contains(body, "*") {
		var mask, want uint32
		for i := 0; i < 4; i++ {
			c := byte(' ')
			if i < len(body) {
				c = body[i]
			} else if star {
				continue
			}
			if c == '?' {
				continue
			}
			mask |= 0xFF << (8 * i)
			want |= uint32(c) << (8 * i)
		}
		mask &= 0x7FFFFFFF
		p.mask, p.want, p.maskable = mask, want&mask, true
	}
	return p
}

// String is the pattern as given.
func (p Pattern) String() string { return p.text }

// Exact reports the tag of a wildcard-free pattern.
func (p Pattern) Exact() (Tag, bool) { return p.tag, p.exact }

// Match says whether tag matches.
func (p Pattern) Match(tag Tag) bool {
	if p.maskable {
		return uint32(tag)&p.mask == p.want
	}
	return globMatch(p.text, tag.String())
}

// globMatch matches s against a pattern of literal bytes, '?' and '*'.
func globMatch(pat, s string) bool {
	// Iterative matcher with one backtrack point: linear in practice, no recursion.
	pi, si, starP, starS := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(pat) && (pat[pi] == '?' || pat[pi] == s[si]):
			pi++
			si++
		case pi < len(pat) && pat[pi] == '*':
			starP, starS = pi, si
			pi++
		case starP >= 0:
			starS++
			pi, si = starP+1, starS
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}
