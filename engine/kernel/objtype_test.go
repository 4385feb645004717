package kernel

import (
	"errors"
	"testing"
)

// An address that does not hold a thread (its dispatcher header says process, or nothing) is
// refused instead of being decoded as one.
func TestObjectTypeChecked(t *testing.T) {
	m := newFakeMem(8)
	const proc, thread = 0xffffa00000010000, 0xffffa00000020000
	m.alloc(proc, 0x1000)
	m.u8(proc, dispatcherProcess)
	m.alloc(thread, 0x1000)
	r := &Reader{Mem: m, Layout: layout19041(t), PointerSize: 8}
	var te *ObjectTypeError
	if _, err := r.Thread(proc); !errors.As(err, &te) || te.Type != dispatcherProcess || te.WantType != dispatcherThread {
		t.Errorf("Thread(process address) = %v, want an ObjectTypeError", err)
	}
	if _, err := r.Process(thread); !errors.As(err, &te) || te.Type != 0 {
		t.Errorf("Process(zeroed memory) = %v, want an ObjectTypeError", err)
	}
	if _, err := r.Process(proc); err != nil {
		t.Errorf("Process(process) = %v", err)
	}
}
