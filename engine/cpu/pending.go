package cpu

// Placeholders until the decoders land; the helper writing x86.go/amd64.go/arm64.go deletes this file.

func DecodeX86(b []byte) (Context, error)   { return nil, &ShortError{Arch: ArchX86} }
func DecodeAMD64(b []byte) (Context, error) { return nil, &ShortError{Arch: ArchAMD64} }
func DecodeARM64(b []byte) (Context, error) { return nil, &ShortError{Arch: ArchARM64} }
