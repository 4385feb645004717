// Package lazy holds values that the format parsers decode on first use, once, safely from several
// goroutines (streams of a minidump or PDB, tables of a PE image, blocks of a kernel dump).
package lazy

import "sync"

// Value is a decoded value and the error decoding gave, computed by the first Get.
type Value[T any] struct {
	once sync.Once
	v    T
	err  error
}

// Get returns the value, running decode the first time only.
func (l *Value[T]) Get(decode func() (T, error)) (T, error) {
	l.once.Do(func() { l.v, l.err = decode() })
	return l.v, l.err
}
