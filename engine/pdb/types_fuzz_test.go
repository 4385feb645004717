package pdb

import (
	"bytes"
	"io"
	"testing"
)

// FuzzTypes opens arbitrary bytes as a PDB and reads its types and the variables of its
// procedures; nothing may panic, hang or allocate beyond the input's size. Seeds: the synthetic
// types PDB (a few kilobytes, with a pointer to itself, modifiers of each other, a field list
// continuing into itself and an undefined forward reference) in both block layouts.
func FuzzTypes(f *testing.F) {
	for _, rev := range []bool{false, true} {
		f.Add(buildTypesPDB(512, rev))
	}
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
			exerciseTypes(pf)
		}
	})
}

// exerciseTypes calls every type and variable accessor, on the indices and procedures the file
// itself lists.
func exerciseTypes(f *File) {
	f.TPIHeader()
	f.IPIHeader()
	n, _ := f.NumTypes()
	tis := []TypeIndex{0, 0x03, 0x74, 0x0603, 0x0470, 0x1F0, FirstTypeIndex - 1}
	for k := 0; k < min(n, 48)+2; k++ {
		tis = append(tis, TypeIndex(FirstTypeIndex+k))
	}
	for _, ti := range tis {
		f.Type(ti)
		f.ID(ti)
		f.TypeName(ti)
		f.DtTypeName(ti)
		f.typeName(ti, llvmStyle)
		f.TypeSize(ti)
		f.Resolve(ti)
		f.Struct(ti)
		f.Enumerators(ti)
		f.Signature(ti)
	}
	f.FindType("_FOO")
	f.StructByName("COLOR")
	fns, _ := f.Functions()
	for _, fn := range fns[:min(len(fns), 16)] {
		f.FunctionSignature(fn)
		vs, _ := f.Variables(fn)
		for _, v := range vs[:min(len(vs), 16)] {
			v.LocationAt(fn.RVA)
			v.LocationAt(fn.RVA + fn.Size/2)
		}
		f.Params(fn)
		f.Locals(fn)
		f.Statics(fn)
	}
}
