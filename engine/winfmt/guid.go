package winfmt

import (
	"encoding/binary"
	"fmt"
)

// GUID is a Windows GUID as its fields: Data1..Data3 are stored little-endian, Data4 in order.
type GUID struct {
	Data1 uint32
	Data2 uint16
	Data3 uint16
	Data4 [8]byte
}

// GUIDFromBytes decodes the 16 bytes of a stored GUID.
func GUIDFromBytes(b [16]byte) GUID {
	g := GUID{Data1: binary.LittleEndian.Uint32(b[0:]), Data2: binary.LittleEndian.Uint16(b[4:]), Data3: binary.LittleEndian.Uint16(b[6:])}
	copy(g.Data4[:], b[8:])
	return g
}

// String is the registry form in upper case, as WinDbg prints it and symbol stores key it:
// 3249D99D-0C40-4931-8610-F4E4FB0B6936.
func (g GUID) String() string {
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X", g.Data1, g.Data2, g.Data3, g.Data4[:2], g.Data4[2:])
}

// Bytes gives the 16 bytes as stored in a file.
func (g GUID) Bytes() [16]byte {
	var b [16]byte
	binary.LittleEndian.PutUint32(b[0:], g.Data1)
	binary.LittleEndian.PutUint16(b[4:], g.Data2)
	binary.LittleEndian.PutUint16(b[6:], g.Data3)
	copy(b[8:], g.Data4[:])
	return b
}
