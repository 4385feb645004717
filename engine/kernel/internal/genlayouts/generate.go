package main

import (
	"fmt"
	"regexp"
	"strings"
)

// A table title in FORMATS.md §5: **_EPROCESS (x64)** or **_EPROCESS (x86 (Win7 = ...))**.
var titleRE = regexp.MustCompile(`^\*\*(_[A-Z0-9_]+) \((x64|x86)\b.*\*\*$`)

// A cell: hex offset with an optional bit position and confidence marks, "-" or "?".
var cellRE = regexp.MustCompile(`^(-|\?|0x[0-9a-f]+( bit[0-9]+)?[†‡§¶]*)$`)

// Generate returns the data files ("x64.txt", "x86.txt") for the §5 tables found in the spec.
func Generate(spec string) (map[string]string, error) {
	var out [2]strings.Builder
	archIndex := map[string]int{"x64": 0, "x86": 1}
	for i, name := range []string{"x64", "x86"} {
		fmt.Fprintf(&out[i], "# Windows kernel structure offsets (%s), per build, transcribed from FORMATS.md §5\n", name)
		fmt.Fprintf(&out[i], "# by engine/kernel/internal/genlayouts; regenerate with go generate, do not edit.\n")
		fmt.Fprintf(&out[i], "# struct field build=offset ...   (- absent, ? unknown, 0xN:bitK bitfield, †‡§¶ spec confidence marks)\n")
	}
	lines := strings.Split(spec, "\n")
	tables := 0
	for i := 0; i < len(lines); i++ {
		m := titleRE.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			continue
		}
		structName, arch := m[1], m[2]
		// The table header follows the title after a blank line.
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j+1 >= len(lines) {
			return nil, fmt.Errorf("line %d: %s (%s): no table follows", i+1, structName, arch)
		}
		header := splitRow(lines[j])
		if len(header) < 2 || header[0] != "field" {
			return nil, fmt.Errorf("line %d: %s (%s): table header %q", j+1, structName, arch, lines[j])
		}
		builds := header[1:]
		for _, b := range builds {
			if !regexp.MustCompile(`^[0-9]+$`).MatchString(b) {
				return nil, fmt.Errorf("line %d: build column %q is not a number", j+1, b)
			}
		}
		w := &out[archIndex[arch]]
		fmt.Fprintf(w, "\n")
		rows := 0
		for k := j + 2; k < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[k]), "|"); k++ {
			cells := splitRow(lines[k])
			if len(cells) != len(builds)+1 {
				return nil, fmt.Errorf("line %d: %d cells, the header has %d", k+1, len(cells), len(builds)+1)
			}
			fmt.Fprintf(w, "%s %s", structName, cells[0])
			for n, c := range cells[1:] {
				if !cellRE.MatchString(c) {
					return nil, fmt.Errorf("line %d: %s.%s build %s: cell %q is not an offset", k+1, structName, cells[0], builds[n], c)
				}
				fmt.Fprintf(w, " %s=%s", builds[n], strings.Replace(c, " bit", ":bit", 1))
			}
			fmt.Fprintf(w, "\n")
			rows++
		}
		if rows == 0 {
			return nil, fmt.Errorf("line %d: %s (%s): empty table", i+1, structName, arch)
		}
		tables++
		i = j
	}
	if tables == 0 {
		return nil, fmt.Errorf("no §5 structure tables found")
	}
	return map[string]string{"x64.txt": out[0].String(), "x86.txt": out[1].String()}, nil
}

// splitRow splits a Markdown table row into trimmed cells.
func splitRow(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	parts := strings.Split(line, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}
