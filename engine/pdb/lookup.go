package pdb

import (
	"sort"
)

// contribRange is a section contribution as an internal RVA range and its module.
type contribRange struct {
	start, end uint32
	module     int
}

// contributions returns the section contributions as internal RVA ranges, sorted: the map from
// an address to the one module whose symbol stream can describe it.
func (f *File) contributions() ([]contribRange, error) {
	return f.contribs.Get(func() ([]contribRange, error) {
		scs, err := f.SectionContributions()
		if err != nil {
			return nil, err
		}
		addr, err := f.addressMap()
		if err != nil {
			return nil, err
		}
		out := make([]contribRange, 0, len(scs))
		for _, sc := range scs {
			in, ok := addr.internalRVA(sc.Section, sc.Offset)
			if !ok || sc.Size == 0 {
				continue
			}
			out = append(out, contribRange{start: in, end: in + sc.Size, module: int(sc.Module)})
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].start < out[j].start })
		return out, nil
	})
}

// moduleAt returns the module whose contribution holds internal RVA x: -1 when none does, -2
// when the PDB has no usable contributions (then every module must be searched).
func (f *File) moduleAt(x uint32) int {
	cs, err := f.contributions()
	if err != nil || len(cs) == 0 {
		return -2
	}
	i := sort.Search(len(cs), func(i int) bool { return cs[i].start > x }) - 1
	if i < 0 || x >= cs[i].end {
		return -1
	}
	return cs[i].module
}

// FunctionAt returns the procedure holding an image RVA and the distance from its start
// (counted before OMAP rearrangement). Only the symbol stream of the module that contributed
// the address is read, on first use. ok is false when no procedure holds the address (stripped
// PDBs have none) or the symbols cannot be read (Functions reports why).
func (f *File) FunctionAt(rva uint32) (fn Function, disp uint32, ok bool) {
	addr, err := f.addressMap()
	if err != nil {
		return Function{}, 0, false
	}
	x, ok := addr.toInternal(rva)
	if !ok {
		return Function{}, 0, false
	}
	var procs []Function
	switch m := f.moduleAt(x); m {
	case -1:
		return Function{}, 0, false
	case -2:
		if procs, err = f.allFunctions(); err != nil {
			return Function{}, 0, false
		}
	default:
		md, err := f.module(m)
		if err != nil {
			return Function{}, 0, false
		}
		procs = md.procs
	}
	i := findProc(procs, x)
	if i < 0 {
		return Function{}, 0, false
	}
	return procs[i], x - procs[i].internal, true
}

// allFunctions reads every module's procedures into one table sorted by internal RVA.
func (f *File) allFunctions() ([]Function, error) {
	return f.functions.Get(func() ([]Function, error) {
		d, err := f.DBI()
		if err != nil {
			return nil, err
		}
		var all []Function
		var firstErr error
		for i := range d.Modules {
			md, err := f.module(i)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			all = append(all, md.procs...)
		}
		sort.SliceStable(all, func(i, j int) bool { return all[i].internal < all[j].internal })
		if len(all) == 0 && firstErr != nil {
			return nil, firstErr
		}
		return all, nil
	})
}

// Functions returns the procedures of every module, sorted by RVA. The error is the first
// module that could not be read (the others' procedures are returned all the same).
func (f *File) Functions() ([]Function, error) {
	all, err := f.allFunctions()
	if err != nil {
		return nil, err
	}
	out := append([]Function(nil), all...)
	if f.HasOMAP() {
		sort.SliceStable(out, func(i, j int) bool { return out[i].RVA < out[j].RVA })
	}
	d, _ := f.DBI()
	for i := range d.Modules {
		md, err := f.module(i)
		if err == nil {
			err = md.procsErr
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// moduleLines returns the line table that can hold internal RVA x: the contributing module's,
// or every module's when the PDB has no contributions.
func (f *File) moduleLines(x uint32) ([]lineEntry, bool) {
	switch m := f.moduleAt(x); m {
	case -1:
		return nil, false
	case -2:
		all, err := f.lines.Get(func() ([]lineEntry, error) {
			d, err := f.DBI()
			if err != nil {
				return nil, err
			}
			var all []lineEntry
			for i := range d.Modules {
				if md, err := f.module(i); err == nil {
					all = append(all, md.lines...)
				}
			}
			sort.SliceStable(all, func(i, j int) bool { return all[i].start < all[j].start })
			return all, nil
		})
		return all, err == nil
	default:
		md, err := f.module(m)
		if err != nil {
			return nil, false
		}
		return md.lines, true
	}
}

// LineAt returns the source file and line of the code at an image RVA, from the C13 line
// tables of the module that contributed it.
func (f *File) LineAt(rva uint32) (file string, line int, ok bool) {
	addr, err := f.addressMap()
	if err != nil {
		return "", 0, false
	}
	x, ok := addr.toInternal(rva)
	if !ok {
		return "", 0, false
	}
	lines, ok := f.moduleLines(x)
	if !ok {
		return "", 0, false
	}
	i := findLine(lines, x)
	if i < 0 {
		return "", 0, false
	}
	name, err := f.String(lines[i].nameOff)
	if err != nil {
		return "", 0, false
	}
	return name, int(lines[i].line), true
}

// LinesOf returns the line table rows of a function, in address order: the rows of its module
// that start inside it. RVAs are image RVAs; sizes are counted before OMAP rearrangement.
func (f *File) LinesOf(fn Function) ([]Line, error) {
	md, err := f.module(fn.Module)
	if err != nil {
		return nil, err
	}
	if md.linesErr != nil {
		return nil, md.linesErr
	}
	addr, err := f.addressMap()
	if err != nil {
		return nil, err
	}
	lines := md.lines
	i := sort.Search(len(lines), func(i int) bool { return lines[i].start >= fn.internal })
	var out []Line
	for ; i < len(lines) && lines[i].start-fn.internal < fn.Size; i++ {
		name, err := f.String(lines[i].nameOff)
		if err != nil {
			return out, err
		}
		rva, _ := addr.toImage(lines[i].start)
		out = append(out, Line{RVA: rva, Size: lines[i].end - lines[i].start, Line: int(lines[i].line), File: name})
	}
	return out, nil
}
