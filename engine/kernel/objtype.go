package kernel

import "fmt"

// Dispatcher object types (DISPATCHER_HEADER.Type, the first byte of every KPROCESS and KTHREAD;
// the public KOBJECTS enumeration). Checking it keeps a mistyped address from being shown as a
// process or thread full of garbage.
const (
	dispatcherProcess = 3
	dispatcherThread  = 6
)

// ObjectTypeError: the address does not hold the kind of kernel object asked for.
type ObjectTypeError struct {
	Addr     uint64
	Want     string
	Type     uint8
	WantType uint8
}

func (e *ObjectTypeError) Error() string {
	return fmt.Sprintf("%#x is not a %s object (its dispatcher header type is %d, a %s has %d)", e.Addr, e.Want, e.Type, e.Want, e.WantType)
}

func checkObjectType(buf []byte, addr uint64, want uint8, name string) error {
	if len(buf) == 0 || buf[0] == want {
		return nil
	}
	return &ObjectTypeError{Addr: addr, Want: name, Type: buf[0], WantType: want}
}
