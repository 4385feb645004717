package minidump

// ExceptionInfo is MINIDUMP_EXCEPTION_STREAM (ExceptionStream, FORMATS.md §4.3). It is not named
// ExceptionStream because that is the stream type's name.
type ExceptionInfo struct {
	ThreadId        uint32
	ExceptionRecord Exception
	// ThreadContext is the CONTEXT at the exception (what .ecxr shows); prefer it to the
	// thread-list context of ThreadId.
	ThreadContext LocationDescriptor
}

// Exception is MINIDUMP_EXCEPTION, the EXCEPTION_RECORD64 layout.
type Exception struct {
	ExceptionCode        uint32
	ExceptionFlags       uint32
	ExceptionRecord      uint64 // address of a chained record, 0 when none
	ExceptionAddress     uint64
	NumberParameters     uint32
	ExceptionInformation [ExceptionMaximumParameters]uint64
}

// ExceptionMaximumParameters is EXCEPTION_MAXIMUM_PARAMETERS.
const ExceptionMaximumParameters = 15

// Parameters returns the ExceptionInformation entries that NumberParameters says are used
// (at most 15).
func (e *Exception) Parameters() []uint64 {
	n := min(int(e.NumberParameters), ExceptionMaximumParameters)
	return e.ExceptionInformation[:n:n]
}

// Exception decodes the ExceptionStream; nil when the dump has none.
func (f *File) Exception() (*ExceptionInfo, error) {
	return f.exception.Get(func() (*ExceptionInfo, error) {
		c, err := f.streamCursor(ExceptionStream, "exception stream")
		if c == nil {
			return nil, err
		}
		// ThreadId @0, __alignment @4, MINIDUMP_EXCEPTION @8 (0x98 bytes), ThreadContext @0xA0.
		e := &ExceptionInfo{ThreadId: c.u32()}
		c.skip(4)
		r := &e.ExceptionRecord
		r.ExceptionCode = c.u32()
		r.ExceptionFlags = c.u32()
		r.ExceptionRecord = c.u64()
		r.ExceptionAddress = c.u64()
		r.NumberParameters = c.u32()
		c.skip(4) // __unusedAlignment
		for i := range r.ExceptionInformation {
			r.ExceptionInformation[i] = c.u64()
		}
		e.ThreadContext = c.location()
		if c.err != nil {
			return nil, c.err
		}
		return e, nil
	})
}

// ExceptionContext returns the raw CONTEXT record stored with the exception.
func (f *File) ExceptionContext(e *ExceptionInfo) ([]byte, error) {
	return f.block(uint64(e.ThreadContext.Rva), uint64(e.ThreadContext.DataSize), "exception context")
}
