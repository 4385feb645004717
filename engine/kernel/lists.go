package kernel

import "fmt"

// MaxListEntries caps every list walk: no kernel list the debugger walks is longer, and a
// corrupt list must not run forever.
const MaxListEntries = 1 << 16

// ListError says where a doubly linked list (LIST_ENTRY: Flink @0, Blink @pointer size) broke.
// The walker returns the entries it read before the break along with it.
type ListError struct {
	List  string // "PsActiveProcessHead", "ThreadListHead", ...
	Head  uint64
	Entry uint64 // the LIST_ENTRY whose Flink could not be followed
	Msg   string
	Err   error
}

func (e *ListError) Error() string {
	s := fmt.Sprintf("kernel: %s list (head %#x): entry %#x: %s", e.List, e.Head, e.Entry, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ListError) Unwrap() error { return e.Err }

// walkList calls visit with the address of each LIST_ENTRY after head, in Flink order, until
// the walk is back at head. It stops with a *ListError on an unreadable Flink or Blink, a Flink
// whose Blink does not point back, a NULL Flink, a loop that does not pass through head, or
// more than MaxListEntries entries. visit returning an error stops the walk with that error.
func (r *Reader) walkList(name string, head uint64, visit func(link uint64) error) error {
	ps := uint64(r.ptrSize())
	fail := func(entry uint64, msg string, err error) error {
		return &ListError{List: name, Head: head, Entry: entry, Msg: msg, Err: err}
	}
	seen := map[uint64]bool{head: true}
	prev := head
	next, err := r.readPtr(head)
	if err != nil {
		return fail(head, "cannot read the head's Flink", err)
	}
	for count := 0; ; count++ {
		if next == 0 {
			return fail(prev, "Flink is NULL", nil)
		}
		back, err := r.readPtr(next + ps)
		if err != nil {
			return fail(prev, fmt.Sprintf("Flink %#x: cannot read its Blink", next), err)
		}
		if back != prev {
			return fail(prev, fmt.Sprintf("Flink %#x has Blink %#x, not pointing back", next, back), nil)
		}
		if next == head {
			return nil
		}
		if seen[next] {
			return fail(prev, fmt.Sprintf("Flink %#x loops back into the list without reaching the head", next), nil)
		}
		if count >= MaxListEntries {
			return fail(prev, fmt.Sprintf("more than %d entries", MaxListEntries), nil)
		}
		seen[next] = true
		if err := visit(next); err != nil {
			return err
		}
		prev = next
		if next, err = r.readPtr(prev); err != nil {
			return fail(prev, "cannot read its Flink", err)
		}
	}
}
