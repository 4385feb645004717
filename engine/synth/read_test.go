package synth_test

import (
	"encoding/binary"
	"testing"
	"unicode/utf16"
)

// dump is a deliberately small reader of what the writer produced, written from FORMATS.md §4
// for these tests only: it shares nothing with the writer, and fails the test on anything
// out of bounds instead of guarding against it.
type dump struct {
	t    *testing.T
	b    []byte
	dirs []dirEntry
}

type dirEntry struct {
	typ, size, rva uint32
}

func readDump(t *testing.T, b []byte) *dump {
	t.Helper()
	d := &dump{t: t, b: b}
	if d.u32(0) != 0x504D444D { // 'MDMP', FORMATS.md §4.1
		t.Fatalf("signature %#x", d.u32(0))
	}
	n, dir := d.u32(8), d.u32(0xC)
	for i := uint32(0); i < n; i++ {
		e := int(dir + 12*i)
		d.dirs = append(d.dirs, dirEntry{d.u32(e), d.u32(e + 4), d.u32(e + 8)})
	}
	return d
}

func (d *dump) check(off, n int) {
	d.t.Helper()
	if off < 0 || n < 0 || off+n > len(d.b) {
		d.t.Fatalf("read of %d bytes at %#x outside the %#x-byte file", n, off, len(d.b))
	}
}

func (d *dump) u16(off int) uint16 { d.check(off, 2); return binary.LittleEndian.Uint16(d.b[off:]) }
func (d *dump) u32(off int) uint32 { d.check(off, 4); return binary.LittleEndian.Uint32(d.b[off:]) }
func (d *dump) u64(off int) uint64 { d.check(off, 8); return binary.LittleEndian.Uint64(d.b[off:]) }
func (d *dump) bytes(off, n int) []byte {
	d.check(off, n)
	return d.b[off : off+n]
}

// stream is the body of the only stream of type typ.
func (d *dump) stream(typ uint32) (off, size int) {
	d.t.Helper()
	found := -1
	for i, e := range d.dirs {
		if e.typ == typ {
			if found >= 0 {
				d.t.Fatalf("stream type %#x listed twice", typ)
			}
			found = i
		}
	}
	if found < 0 {
		d.t.Fatalf("no stream of type %#x", typ)
	}
	e := d.dirs[found]
	d.check(int(e.rva), int(e.size))
	return int(e.rva), int(e.size)
}

// str reads a MINIDUMP_STRING: Length u32 in bytes, UTF-16LE text, NUL (FORMATS.md §4.1).
func (d *dump) str(rva int) string {
	d.t.Helper()
	n := int(d.u32(rva))
	if n%2 != 0 {
		d.t.Fatalf("MINIDUMP_STRING at %#x: odd length %d", rva, n)
	}
	if d.u16(rva+4+n) != 0 {
		d.t.Fatalf("MINIDUMP_STRING at %#x: no NUL after the text", rva)
	}
	return decodeUTF16(d.bytes(rva+4, n))
}

func decodeUTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// memRange is one range of captured memory and where its bytes are in the file.
type memRange struct {
	addr uint64
	size uint64
	off  int64
}

// memory lists the MemoryList and Memory64List ranges (FORMATS.md §4.3).
func (d *dump) memory() []memRange {
	var out []memRange
	for _, e := range d.dirs {
		switch e.typ {
		case 5:
			n := int(d.u32(int(e.rva)))
			for i := 0; i < n; i++ {
				m := int(e.rva) + 4 + 16*i
				out = append(out, memRange{d.u64(m), uint64(d.u32(m + 8)), int64(d.u32(m + 12))})
			}
		case 9:
			n := int(d.u64(int(e.rva)))
			off := int64(d.u64(int(e.rva) + 8))
			for i := 0; i < n; i++ {
				m := int(e.rva) + 16 + 16*i
				r := memRange{d.u64(m), d.u64(m + 8), off}
				out = append(out, r)
				off += int64(r.size)
			}
		}
	}
	return out
}

// read reads n bytes of target memory at addr from one range, failing the test when no single
// range holds them.
func (d *dump) read(addr uint64, n int) []byte {
	d.t.Helper()
	for _, r := range d.memory() {
		if addr >= r.addr && addr+uint64(n) <= r.addr+r.size {
			return d.bytes(int(r.off+int64(addr-r.addr)), n)
		}
	}
	d.t.Fatalf("no captured memory holds %#x+%#x", addr, n)
	return nil
}

func (d *dump) readU64(addr uint64) uint64 { return binary.LittleEndian.Uint64(d.read(addr, 8)) }
func (d *dump) readU32(addr uint64) uint32 { return binary.LittleEndian.Uint32(d.read(addr, 4)) }
func (d *dump) readU16(addr uint64) uint16 { return binary.LittleEndian.Uint16(d.read(addr, 2)) }

func (d *dump) readPtr(addr uint64, size int) uint64 {
	if size == 4 {
		return uint64(d.readU32(addr))
	}
	return d.readU64(addr)
}

// unicodeString reads a UNICODE_STRING {Length u16, MaximumLength u16, pad, Buffer ptr} in
// target memory and the text it points at.
func (d *dump) unicodeString(addr uint64, ptr int) string {
	n := int(d.readU16(addr))
	buf := d.readPtr(addr+uint64(ptr), ptr)
	return decodeUTF16(d.read(buf, n))
}
