package kernel

import (
	"encoding/binary"
	"fmt"
)

// Memory is a kernel virtual address space, with engine.Memory's contract: ReadAt returns the
// bytes it could read and, when short, an error naming the first address it could not.
type Memory interface {
	ReadAt(p []byte, addr uint64) (int, error)
}

// Reader reads kernel structures from Mem with Layout's offsets. PointerSize is 8 or 4 (0
// means the layout's).
type Reader struct {
	Mem         Memory
	Layout      *Layout
	PointerSize int
}

// ReadError is a structure or list the reader could not read at Addr.
type ReadError struct {
	What string // "EPROCESS", "list entry", ...
	Addr uint64
	Err  error
}

func (e *ReadError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("kernel: %s at %#x", e.What, e.Addr)
	}
	return fmt.Sprintf("kernel: %s at %#x: %v", e.What, e.Addr, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

func (r *Reader) ptrSize() int {
	if r.PointerSize == 4 || r.PointerSize == 8 {
		return r.PointerSize
	}
	if r.Layout != nil {
		return r.Layout.PointerSize()
	}
	return 8
}

// readFull reads len(p) bytes at addr.
func (r *Reader) readFull(p []byte, addr uint64) error {
	if r.Mem == nil {
		return fmt.Errorf("no memory")
	}
	n, err := r.Mem.ReadAt(p, addr)
	if n >= len(p) {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("memory at %#x is not in the dump", addr+uint64(n))
	}
	return err
}

func (r *Reader) readU32(addr uint64) (uint32, error) {
	var b [4]byte
	if err := r.readFull(b[:], addr); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// readPtr reads a pointer (8 or 4 bytes, zero-extended).
func (r *Reader) readPtr(addr uint64) (uint64, error) {
	var b [8]byte
	n := r.ptrSize()
	if err := r.readFull(b[:n], addr); err != nil {
		return 0, err
	}
	if n == 4 {
		return uint64(binary.LittleEndian.Uint32(b[:])), nil
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// maxStructRead bounds the single read a view makes of a structure (a bad size from a PDB or
// KDBG must not allocate without limit).
const maxStructRead = 0x10000

// view is one structure instance: its bytes read at once where possible, single fields read
// from memory past what the first read got. Fields the layout lacks are noted in missing.
type view struct {
	r       *Reader
	name    string
	addr    uint64
	buf     []byte
	missing []string
}

// newView reads size bytes (sizeof when known) of structName at addr. It fails only when not
// even the first byte is readable.
func (r *Reader) newView(structName string, addr uint64, what string) (*view, error) {
	v := &view{r: r, name: structName, addr: addr}
	size, ok := r.Layout.Size(structName)
	if !ok || size == 0 || size > maxStructRead {
		size = 0x100
	}
	buf := make([]byte, size)
	n, err := r.Mem.ReadAt(buf, addr)
	if n <= 0 {
		if err == nil {
			err = fmt.Errorf("memory at %#x is not in the dump", addr)
		}
		return nil, &ReadError{What: what, Addr: addr, Err: err}
	}
	v.buf = buf[:n]
	return v, nil
}

// off is the offset of a field, noting it as missing when the layout lacks it. Several names
// may be given (renamed fields such as Wow64Process/WoW64Process): the first known one wins.
func (v *view) off(fields ...string) (uint64, bool) {
	for _, f := range fields {
		if o, _, ok := v.r.Layout.Offset(v.name, f); ok {
			return o, true
		}
	}
	v.missing = append(v.missing, fields[0])
	return 0, false
}

// bytes returns n bytes at offset o of the instance.
func (v *view) bytes(o uint64, n int) ([]byte, bool) {
	if o+uint64(n) <= uint64(len(v.buf)) {
		return v.buf[o : o+uint64(n)], true
	}
	b := make([]byte, n)
	if err := v.r.readFull(b, v.addr+o); err != nil {
		return nil, false
	}
	return b, true
}

// uint reads an n-byte little-endian unsigned field; unreadable fields are noted too.
func (v *view) uint(n int, fields ...string) (uint64, bool) {
	o, ok := v.off(fields...)
	if !ok {
		return 0, false
	}
	b, ok := v.bytes(o, n)
	if !ok {
		v.missing = append(v.missing, fields[0]+" (unreadable)")
		return 0, false
	}
	var x [8]byte
	copy(x[:], b)
	return binary.LittleEndian.Uint64(x[:]), true
}

func (v *view) u8(fields ...string) uint8   { x, _ := v.uint(1, fields...); return uint8(x) }
func (v *view) u16(fields ...string) uint16 { x, _ := v.uint(2, fields...); return uint16(x) }
func (v *view) u32(fields ...string) uint32 { x, _ := v.uint(4, fields...); return uint32(x) }
func (v *view) u64(fields ...string) uint64 { x, _ := v.uint(8, fields...); return x }
func (v *view) ptr(fields ...string) uint64 { x, _ := v.uint(v.r.ptrSize(), fields...); return x }

// addrOf is the address of a field (an embedded LIST_ENTRY, say); 0 when the layout lacks it.
func (v *view) addrOf(fields ...string) uint64 {
	o, ok := v.off(fields...)
	if !ok {
		return 0
	}
	return v.addr + o
}
