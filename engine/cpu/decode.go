package cpu

// Decode decodes a CONTEXT record of the given architecture.
func Decode(arch Arch, b []byte) (Context, error) {
	switch arch {
	case ArchX86:
		return DecodeX86(b)
	case ArchAMD64:
		return DecodeAMD64(b)
	case ArchARM64:
		return DecodeARM64(b)
	}
	return nil, &UnsupportedError{Arch: arch}
}

// UnsupportedError reports a CONTEXT of an architecture wdbg cannot decode.
type UnsupportedError struct{ Arch Arch }

func (e *UnsupportedError) Error() string {
	return "CONTEXT of architecture " + e.Arch.String() + " is not supported"
}
