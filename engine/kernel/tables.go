package kernel

import (
	"bufio"
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"wdbg/engine/cpu"
)

//go:embed layouts/x64.txt layouts/x86.txt
var layoutFiles embed.FS

// table is one structure's FORMATS.md §5 table: a column per build, a row per field.
type table struct {
	builds []uint32          // ascending
	fields map[string][]cell // field → one cell per build column
}

type cellState uint8

const (
	cellUnknown cellState = iota // "?"
	cellKnown
	cellAbsent // "-"
)

type cell struct {
	off    uint64
	bit    int // bitfield start, -1 when not a bitfield
	state  cellState
	marked bool // a §5 confidence mark (†‡§¶): inferred or single-source
}

var (
	x64Tables = sync.OnceValues(func() (map[string]*table, error) { return parseTables("layouts/x64.txt") })
	x86Tables = sync.OnceValues(func() (map[string]*table, error) { return parseTables("layouts/x86.txt") })
)

// hasTables says whether FORMATS.md §5 gives built-in tables for arch.
func hasTables(arch cpu.Arch) bool { return arch == cpu.ArchAMD64 || arch == cpu.ArchX86 }

// archTables is the parsed data file of an architecture, read once.
func archTables(arch cpu.Arch) (map[string]*table, error) {
	switch arch {
	case cpu.ArchAMD64:
		return x64Tables()
	case cpu.ArchX86:
		return x86Tables()
	}
	return nil, fmt.Errorf("kernel: no built-in structure tables for %s", arch)
}

// parseTables reads a data file written by internal/genlayouts.
func parseTables(name string) (map[string]*table, error) {
	data, err := layoutFiles.ReadFile(name)
	if err != nil {
		return nil, err
	}
	out := map[string]*table{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words := strings.Fields(line)
		if len(words) < 3 {
			return nil, fmt.Errorf("kernel: %s:%d: want \"struct field build=offset ...\"", name, lineNo)
		}
		var builds []uint32
		var cells []cell
		for _, w := range words[2:] {
			b, v, ok := strings.Cut(w, "=")
			build, err := strconv.ParseUint(b, 10, 32)
			if !ok || err != nil {
				return nil, fmt.Errorf("kernel: %s:%d: %q is not build=offset", name, lineNo, w)
			}
			c, err := parseCell(v)
			if err != nil {
				return nil, fmt.Errorf("kernel: %s:%d: %v", name, lineNo, err)
			}
			builds = append(builds, uint32(build))
			cells = append(cells, c)
		}
		if !sort.SliceIsSorted(builds, func(i, j int) bool { return builds[i] < builds[j] }) {
			return nil, fmt.Errorf("kernel: %s:%d: build columns are not ascending", name, lineNo)
		}
		t := out[words[0]]
		if t == nil {
			t = &table{builds: builds, fields: map[string][]cell{}}
			out[words[0]] = t
		} else if !equalBuilds(t.builds, builds) {
			return nil, fmt.Errorf("kernel: %s:%d: %s has other build columns than its earlier rows", name, lineNo, words[0])
		}
		t.fields[words[1]] = cells
	}
	return out, sc.Err()
}

func parseCell(v string) (cell, error) {
	c := cell{bit: -1}
	switch v {
	case "-":
		c.state = cellAbsent
		return c, nil
	case "?":
		return c, nil
	}
	if trimmed := strings.TrimRight(v, "†‡§¶"); trimmed != v {
		c.marked, v = true, trimmed
	}
	off, bit, hasBit := strings.Cut(v, ":bit")
	n, err := strconv.ParseUint(off, 0, 32)
	if err != nil {
		return c, fmt.Errorf("offset %q: %v", v, err)
	}
	c.off, c.state = n, cellKnown
	if hasBit {
		b, err := strconv.ParseUint(bit, 10, 8)
		if err != nil {
			return c, fmt.Errorf("bit position %q: %v", v, err)
		}
		c.bit = int(b)
	}
	return c, nil
}

func equalBuilds(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
