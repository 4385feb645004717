package cpu

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
)

// field is one register of a CONTEXT layout as FORMATS.md §4.4 places it: the test reads the
// expected value straight from the record at off, independently of the decoder.
type field struct {
	name string // name for Register(), "" when Register does not expose it
	off  int
	size int // 1, 2, 4 or 8
	got  func(Context) uint64
}

// randomRecord is a record of n bytes of fixed pseudo-random content, so that a field read from
// a wrong offset cannot match by accident.
func randomRecord(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func readLE(b []byte, off, size int) uint64 {
	switch size {
	case 1:
		return uint64(b[off])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b[off:]))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b[off:]))
	}
	return binary.LittleEndian.Uint64(b[off:])
}

// checkFields decodes rec and compares every field of the table with the bytes at its offset,
// through the concrete struct and, where the field has a register name, through Register.
func checkFields(t *testing.T, decode func([]byte) (Context, error), rec []byte, fields []field) Context {
	t.Helper()
	c, err := decode(rec)
	if err != nil {
		t.Fatalf("decode %d bytes: %v", len(rec), err)
	}
	for _, f := range fields {
		want := readLE(rec, f.off, f.size)
		if got := f.got(c); got != want {
			t.Errorf("%s @%#x: struct field = %#x, want %#x", f.label(), f.off, got, want)
		}
		if f.name == "" {
			continue
		}
		got, ok := c.Register(f.name)
		if !ok || got != want {
			t.Errorf("Register(%q) = %#x, %v; want %#x (bytes @%#x)", f.name, got, ok, want, f.off)
		}
	}
	return c
}

func (f field) label() string {
	if f.name != "" {
		return f.name
	}
	return "field"
}

// checkShort checks that every prefix shorter than need is refused with a *ShortError that says
// how much was needed, and that exactly need bytes decode.
func checkShort(t *testing.T, arch Arch, decode func([]byte) (Context, error), need int) {
	t.Helper()
	for _, n := range []int{0, 1, need / 2, need - 1} {
		_, err := decode(make([]byte, n))
		var se *ShortError
		if !errors.As(err, &se) {
			t.Fatalf("decode %d bytes: err = %v, want *ShortError", n, err)
		}
		if se.Arch != arch || se.Need != need || se.Have != n {
			t.Errorf("decode %d bytes: %+v, want Arch %v Need %#x Have %d", n, se, arch, need, n)
		}
	}
	if _, err := decode(make([]byte, need)); err != nil {
		t.Errorf("decode exactly %#x bytes: %v", need, err)
	}
}

func checkNames(t *testing.T, c Context, want []string) {
	t.Helper()
	got := c.RegisterNames()
	if len(got) != len(want) {
		t.Fatalf("RegisterNames() = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("RegisterNames()[%d] = %q, want %q", i, got[i], want[i])
		}
		if _, ok := c.Register(want[i]); !ok {
			t.Errorf("Register(%q) not found though RegisterNames lists it", want[i])
		}
	}
	got[0] = "changed"
	if c.RegisterNames()[0] == "changed" {
		t.Error("RegisterNames returns a shared slice the caller can corrupt")
	}
}

// subCase is one sub-register lookup on a context whose full registers the test set by hand.
type subCase struct {
	name string
	want uint64
}

func checkSubRegisters(t *testing.T, c Context, cases []subCase) {
	t.Helper()
	for _, tc := range cases {
		got, ok := c.Register(tc.name)
		if !ok || got != tc.want {
			t.Errorf("Register(%q) = %#x, %v; want %#x", tc.name, got, ok, tc.want)
		}
	}
}

func put32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
func put64(b []byte, off int, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }
