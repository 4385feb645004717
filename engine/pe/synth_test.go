package pe

import (
	"bytes"
	"encoding/binary"
)

// synthPE builds small PE32+ images for the bad-input tests, from the PE Format specification's
// offsets (not from this package's structs): a DOS header with e_lfanew 0x40, the NT headers,
// a section table, and each section's raw data at a 0x200-aligned file offset.
type synthPE struct {
	machine  uint16
	dirs     [16]DataDirectory
	sections []synthSection
	// patch edits the finished image before it is returned.
	patch func(b []byte)
}

type synthSection struct {
	name string
	va   uint32
	data []byte
	// vsize is the VirtualSize; len(data) when 0.
	vsize uint32
}

const synthNT = 0x40
const synthOpt = synthNT + 24

func (s synthPE) bytes() []byte {
	le := binary.LittleEndian
	var b bytes.Buffer
	hdr := make([]byte, 0x200)
	copy(hdr, "MZ")
	le.PutUint32(hdr[0x3c:], synthNT)
	copy(hdr[synthNT:], "PE\x00\x00")
	machine := s.machine
	if machine == 0 {
		machine = MachineAMD64
	}
	le.PutUint16(hdr[synthNT+4:], machine)
	le.PutUint16(hdr[synthNT+6:], uint16(len(s.sections)))
	le.PutUint32(hdr[synthNT+8:], 0x5eed)
	le.PutUint16(hdr[synthNT+20:], 240)    // SizeOfOptionalHeader (PE32+)
	le.PutUint16(hdr[synthNT+22:], 0x2022) // executable, large address aware, DLL
	opt := hdr[synthOpt:]
	le.PutUint16(opt[0:], MagicPE32Plus)
	le.PutUint64(opt[24:], 0x180000000) // ImageBase
	le.PutUint32(opt[32:], 0x1000)      // SectionAlignment
	le.PutUint32(opt[36:], 0x200)       // FileAlignment
	size := uint32(0x1000)
	for _, sec := range s.sections {
		vs := sec.vsize
		if vs == 0 {
			vs = uint32(len(sec.data))
		}
		size = max(size, (sec.va+vs+0xfff)&^0xfff)
	}
	le.PutUint32(opt[56:], size)  // SizeOfImage
	le.PutUint32(opt[60:], 0x200) // SizeOfHeaders
	le.PutUint16(opt[68:], SubsystemWindowsCUI)
	le.PutUint32(opt[108:], 16) // NumberOfRvaAndSizes
	for i, d := range s.dirs {
		le.PutUint32(opt[112+8*i:], d.VirtualAddress)
		le.PutUint32(opt[112+8*i+4:], d.Size)
	}
	off := uint32(0x200)
	for i, sec := range s.sections {
		sh := hdr[synthOpt+240+40*i:]
		copy(sh[0:8], sec.name)
		vs := sec.vsize
		if vs == 0 {
			vs = uint32(len(sec.data))
		}
		raw := (uint32(len(sec.data)) + 0x1ff) &^ 0x1ff
		le.PutUint32(sh[8:], vs)
		le.PutUint32(sh[12:], sec.va)
		le.PutUint32(sh[16:], raw)
		le.PutUint32(sh[20:], off)
		le.PutUint32(sh[36:], 0x40000040) // initialized data, readable
		off += raw
	}
	b.Write(hdr)
	for _, sec := range s.sections {
		d := make([]byte, (len(sec.data)+0x1ff)&^0x1ff)
		copy(d, sec.data)
		b.Write(d)
	}
	out := b.Bytes()
	if s.patch != nil {
		s.patch(out)
	}
	return out
}

// put32 and put16 write little-endian values into a byte slice at off, growing it as needed.
func put32(b []byte, off int, vals ...uint32) []byte {
	for i, v := range vals {
		for len(b) < off+4*i+4 {
			b = append(b, 0)
		}
		binary.LittleEndian.PutUint32(b[off+4*i:], v)
	}
	return b
}

func put16(b []byte, off int, vals ...uint16) []byte {
	for i, v := range vals {
		for len(b) < off+2*i+2 {
			b = append(b, 0)
		}
		binary.LittleEndian.PutUint16(b[off+2*i:], v)
	}
	return b
}

// utf16z is s as NUL-terminated UTF-16LE (ASCII only).
func utf16z(s string) []byte {
	out := make([]byte, 0, 2*len(s)+2)
	for _, c := range []byte(s) {
		out = append(out, c, 0)
	}
	return append(out, 0, 0)
}
