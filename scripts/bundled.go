package scripts

import (
	"embed"
	"sort"
	"strings"
)

// The bundled playbooks are embedded in the binary, so that `wdbg --script triage` works with
// nothing installed beside it.
//
//go:embed *.lua
var bundled embed.FS

// BundledScript is one embedded playbook.
type BundledScript struct {
	Name        string // "triage.lua"
	Description string // its first comment line
}

// BundledList lists the embedded playbooks by name.
func BundledList() []BundledScript {
	entries, _ := bundled.ReadDir(".")
	var out []BundledScript
	for _, e := range entries {
		text, _ := bundled.ReadFile(e.Name())
		out = append(out, BundledScript{Name: e.Name(), Description: firstComment(string(text))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Bundled returns an embedded playbook's text by name, with or without ".lua".
func Bundled(name string) (text, fullName string, ok bool) {
	if strings.ContainsAny(name, `/\`) {
		return "", "", false
	}
	if !strings.HasSuffix(name, ".lua") {
		name += ".lua"
	}
	b, err := bundled.ReadFile(name)
	if err != nil {
		return "", "", false
	}
	return string(b), name, true
}

// firstComment is the text of a script's first "-- " line.
func firstComment(text string) string {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "--") {
			return strings.TrimSpace(strings.TrimLeft(line, "-"))
		}
		if line != "" {
			break
		}
	}
	return ""
}
