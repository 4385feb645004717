package minidump

import (
	"errors"
	"fmt"
	"regexp"
	"testing"
)

// exerciseAll calls every accessor of f, reads every located block and some memory, and
// returns the errors it met, so that bad-input tests and the fuzz target touch every decoder.
func exerciseAll(f *File) []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	threads, err := f.Threads()
	add(err)
	tex, err := f.ThreadsEx()
	add(err)
	for _, th := range append(threads, tex...) {
		_, err := f.ThreadContext(th)
		add(err)
	}
	_, err = f.ThreadInfoList()
	add(err)
	names, err := f.ThreadNames()
	add(err)
	for _, n := range names {
		add(n.NameErr)
	}
	mods, err := f.Modules()
	add(err)
	for _, m := range mods {
		add(m.NameErr)
		add(m.CodeViewErr)
		_, err := f.Data(m.MiscRecord)
		add(err)
	}
	um, err := f.UnloadedModules()
	add(err)
	for _, m := range um {
		add(m.NameErr)
	}
	_, err = f.MemoryList()
	add(err)
	_, err = f.Memory64List()
	add(err)
	if e, err := f.Exception(); err != nil {
		add(err)
	} else if e != nil {
		_ = e.ExceptionRecord.Parameters()
		_, err := f.ExceptionContext(e)
		add(err)
	}
	if s, err := f.SystemInfo(); err != nil {
		add(err)
	} else if s != nil {
		add(s.CSDVersionErr)
		_ = s.Cpu.VendorId()
	}
	if m, err := f.MiscInfo(); err != nil {
		add(err)
	} else if m != nil {
		_ = m.Version()
	}
	_, err = f.MemoryInfoList()
	add(err)
	hs, err := f.Handles()
	add(err)
	for _, h := range hs {
		add(h.Err)
	}
	_, err = f.Comments()
	add(err)
	for _, d := range f.Directory {
		_, err := f.StreamData(d)
		add(err)
		_ = d.StreamType.String()
	}
	mem := f.Memory()
	errs = append(errs, mem.Issues...)
	p := make([]byte, 64)
	for i, r := range mem.Ranges() {
		if i > 64 {
			break
		}
		for _, a := range []uint64{r.Start, r.End() - 1, r.End() - 8, r.Start + r.Size/2} {
			n, err := mem.ReadAt(p, a)
			var re *ReadError
			if n > len(p) || (err != nil && !errors.As(err, &re)) {
				errs = append(errs, fmt.Errorf("ReadAt(%#x) = %d, %v", a, n, err))
			}
			mem.Slice(a, 16)
		}
	}
	mem.ReadAt(p, 0)
	mem.ReadAt(p, ^uint64(0)-10)
	return errs
}

// reNamesOffset matches the shape every decoding error must have: what, where, what was wrong.
var reNamesOffset = regexp.MustCompile(`^minidump: .+ at 0x[0-9a-f]+: .+`)

// checkErrorsNameOffsets fails the test for an error that does not say where in the file it
// happened (memory-set issues are summaries and have their own wording).
func checkErrorsNameOffsets(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		var fe *FormatError
		if errors.As(err, &fe) && !reNamesOffset.MatchString(err.Error()) {
			t.Errorf("error does not name an offset: %v", err)
		}
		if !errors.As(err, &fe) && !regexp.MustCompile(`^minidump: .*(0x[0-9a-f]+|file offset)`).MatchString(err.Error()) {
			t.Errorf("error without a location: %v", err)
		}
	}
}
