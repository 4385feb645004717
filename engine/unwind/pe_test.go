package unwind

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"wdbg/engine/cpu"
)

// testPE is the least of a PE reader the tests need: sections mapped by RVA and the exception
// directory. Offsets are the PE/COFF specification's (optional header data directories at 112 for
// PE32+, 96 for PE32; entry 3 is the exception table; 40-byte section headers).
type testPE struct {
	file     []byte
	arch     cpu.Arch
	sections []testSection
	pdataRVA uint32
	pdataLen uint32
}

type testSection struct {
	name            string
	rva, vsize      uint32
	rawOff, rawSize uint32
}

func openTestPE(t testing.TB, path string) *testPE {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pe, err := parseTestPE(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pe
}

func parseTestPE(b []byte) (*testPE, error) {
	if len(b) < 0x40 || string(b[:2]) != "MZ" {
		return nil, fmt.Errorf("not an MZ image")
	}
	pe := int(binary.LittleEndian.Uint32(b[0x3C:]))
	if pe+24 > len(b) || string(b[pe:pe+4]) != "PE\x00\x00" {
		return nil, fmt.Errorf("no PE signature")
	}
	p := &testPE{file: b}
	switch binary.LittleEndian.Uint16(b[pe+4:]) {
	case 0x8664:
		p.arch = cpu.ArchAMD64
	case 0xAA64:
		p.arch = cpu.ArchARM64
	case 0x14C:
		p.arch = cpu.ArchX86
	}
	nsec := int(binary.LittleEndian.Uint16(b[pe+6:]))
	optSize := int(binary.LittleEndian.Uint16(b[pe+20:]))
	opt := pe + 24
	dirs := opt + 112
	if binary.LittleEndian.Uint16(b[opt:]) == 0x10B {
		dirs = opt + 96
	}
	if dirs+4*8 <= len(b) {
		p.pdataRVA = binary.LittleEndian.Uint32(b[dirs+3*8:])
		p.pdataLen = binary.LittleEndian.Uint32(b[dirs+3*8+4:])
	}
	sec := opt + optSize
	for i := 0; i < nsec; i++ {
		h := sec + 40*i
		if h+40 > len(b) {
			return nil, fmt.Errorf("section table truncated")
		}
		name := string(b[h : h+8])
		for j := range name {
			if name[j] == 0 {
				name = name[:j]
				break
			}
		}
		p.sections = append(p.sections, testSection{
			name:    name,
			vsize:   binary.LittleEndian.Uint32(b[h+8:]),
			rva:     binary.LittleEndian.Uint32(b[h+12:]),
			rawSize: binary.LittleEndian.Uint32(b[h+16:]),
			rawOff:  binary.LittleEndian.Uint32(b[h+20:]),
		})
	}
	return p, nil
}

// read maps [rva, rva+n) through the section table; bytes past a section's raw data are zero.
func (p *testPE) read(rva uint32, n int) ([]byte, error) {
	for _, s := range p.sections {
		size := s.vsize
		if size < s.rawSize {
			size = s.rawSize
		}
		if rva < s.rva || uint64(rva)+uint64(n) > uint64(s.rva)+uint64(size) {
			continue
		}
		out := make([]byte, n)
		off := rva - s.rva
		if off < s.rawSize {
			end := uint64(s.rawOff) + uint64(off) + uint64(n)
			if lim := uint64(s.rawOff) + uint64(s.rawSize); end > lim {
				end = lim
			}
			if end > uint64(len(p.file)) {
				end = uint64(len(p.file))
			}
			start := uint64(s.rawOff) + uint64(off)
			if start < end {
				copy(out, p.file[start:end])
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("RVA %#x+%d is in no section", rva, n)
}

// table is the image's function table.
func (p *testPE) table(t testing.TB) *FunctionTable {
	t.Helper()
	pdata, err := p.read(p.pdataRVA, int(p.pdataLen))
	if err != nil {
		t.Fatalf("exception directory: %v", err)
	}
	ft, err := NewFunctionTable(p.arch, pdata, p.read)
	if err != nil {
		t.Fatal(err)
	}
	return ft
}
