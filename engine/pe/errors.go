package pe

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotPE is returned (wrapped in a *FormatError) when the data does not start with an MZ
// header leading to a "PE\0\0" signature.
var ErrNotPE = errors.New("not a PE image")

// FormatError reports image data that could not be read or decoded: what was being read, where,
// and what was wrong.
type FormatError struct {
	What string // what was being read, e.g. "export directory"
	RVA  uint32 // image-relative address of the data
	// Off is the file offset of the data for an image read from a file, -1 when there is none
	// (mapped images; an RVA that no section covers).
	Off int64
	// Addr is the virtual address of the data for an image mapped in memory, 0 for files.
	Addr uint64
	Msg  string // what was wrong, e.g. "truncated (need 40 bytes, have 12)"
	// Err is the underlying error, if any: ErrNotPE, or the memory reader's error for a page
	// missing from a dump (errors.As finds it through Unwrap).
	Err error
}

func (e *FormatError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pe: %s at RVA %#x", e.What, e.RVA)
	switch {
	case e.Addr != 0:
		fmt.Fprintf(&b, " (address %#x)", e.Addr)
	case e.Off >= 0:
		fmt.Fprintf(&b, " (file offset %#x)", e.Off)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Err != nil && e.Err != ErrNotPE {
		if e.Msg != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

// formatErr builds a *FormatError for data at rva, filling in where that is in the image's source.
func (f *File) formatErr(rva uint32, what, format string, args ...any) *FormatError {
	return &FormatError{What: what, RVA: rva, Off: f.src.fileOffset(rva), Addr: f.src.address(rva), Msg: fmt.Sprintf(format, args...)}
}

// readErr wraps a failed read of n bytes at rva of which have arrived.
func (f *File) readErr(rva uint32, what string, need, have int, err error) *FormatError {
	e := f.formatErr(rva, what, "truncated (need %d bytes, have %d)", need, have)
	e.Err = err
	return e
}
