package pdb

import (
	"bytes"
	"io"
	"testing"
)

// FuzzPDB opens arbitrary bytes as a PDB and uses every accessor; nothing may panic, hang or
// allocate beyond the input's size. Seeds: the synthetic PDB in its layouts (a few kilobytes
// each, so that every run makes progress quickly) and damaged copies of it.
func FuzzPDB(f *testing.F) {
	for _, bs := range []int{512} {
		for _, rev := range []bool{false, true} {
			data := buildSynthPDB(bs, rev)
			f.Add(data)
			f.Add(data[:len(data)*2/3])
		}
	}
	f.Add([]byte("Microsoft C/C++ MSF 7.00\r\n\x1aDS\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mapped := range []bool{false, true} {
			var r io.ReaderAt = bytes.NewReader(data)
			if mapped {
				r = mappedReader{bytes.NewReader(data), data}
			}
			pf, err := NewFile(r, int64(len(data)))
			if err != nil {
				continue
			}
			exercise(pf)
		}
	})
}

// exercise calls every accessor, with addresses taken from what the file itself lists.
func exercise(f *File) {
	for i := 0; i < min(f.NumStreams(), 64); i++ {
		if s, err := f.Stream(i); err == nil {
			io.Copy(io.Discard, io.NewSectionReader(s, 0, s.Size()))
		}
	}
	f.Info()
	f.Age()
	f.Matches([16]byte{}, 1)
	f.DBI()
	f.SectionContributions()
	f.SectionHeaders()
	f.RVA(1, 0x10)
	var rvas []uint32
	if pubs, err := f.Publics(); err == nil {
		for _, p := range pubs[:min(len(pubs), 32)] {
			f.PublicByName(p.Name)
			rvas = append(rvas, p.RVA)
		}
	}
	if gs, err := f.Globals(); err == nil {
		for _, g := range gs[:min(len(gs), 32)] {
			f.GlobalByName(g.Name)
		}
	}
	if fns, err := f.Functions(); err == nil {
		for _, fn := range fns[:min(len(fns), 32)] {
			f.FunctionByName(fn.Name)
			f.LinesOf(fn)
			rvas = append(rvas, fn.RVA, fn.RVA+fn.Size/2)
		}
	}
	if fpo, err := f.FPO(); err == nil {
		for _, r := range fpo[:min(len(fpo), 32)] {
			rvas = append(rvas, r.RVA)
		}
	}
	if fds, err := f.FrameDataRecords(); err == nil {
		for _, r := range fds[:min(len(fds), 32)] {
			rvas = append(rvas, r.RVA+1)
		}
	}
	rvas = append(rvas, 0, 0x1000, 0x1015, 0xFFFFFFFF)
	for _, rva := range rvas {
		f.PublicAt(rva)
		f.FunctionAt(rva)
		f.LineAt(rva)
		f.FPOAt(rva)
		f.FrameDataAt(rva)
		f.InlineFrames(rva)
	}
	f.Close()
	f.PublicAt(0x1015)
	f.LineAt(0x1015)
}
