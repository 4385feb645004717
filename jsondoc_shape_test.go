package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"wdbg/commands"
)

// The shape of JSON values observed in --json results: for each place in a result (a path such
// as .modules[].base), which JSON types it held, whether every string there was a 0x-hex
// address, and whether some objects lacked the field. Observations of one command (and variant)
// merge, across every line and dump that produced them, and so do the elements of an array.

type jsonShape struct {
	kinds   map[string]int // "null", "boolean", "integer", "number", "object", "array" → times seen
	strs    int            // string values seen
	hexes   int            // of them "0x" and lowercase hex digits
	wdHexes int            // of them WinDbg's pointer text: 8 or 16 hex digits, maybe with a backtick
	objects int            // object values seen
	keys    []string       // object keys, in the order first seen
	fields  map[string]*jsonShape
	present map[string]int // objects that had the key
	elem    *jsonShape     // array elements, nil while every array seen was empty
}

func newJSONShape() *jsonShape {
	return &jsonShape{kinds: map[string]int{}, fields: map[string]*jsonShape{}, present: map[string]int{}}
}

var (
	hexValue    = regexp.MustCompile("^0x[0-9a-f]+$")
	windbgValue = regexp.MustCompile("^([0-9a-f]{8}`[0-9a-f]{8}|[0-9a-f]{16}|[0-9a-f]{8})$")
)

// orderedObject is a decoded JSON object that keeps its keys in document order, so that the
// reference lists fields in the order the result's struct declares them.
type orderedObject struct {
	keys   []string
	values map[string]any
}

// decodeOrdered reads one JSON value: objects as orderedObject, numbers as json.Number.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch d := tok.(type) {
	case json.Delim:
		switch d {
		case '{':
			obj := orderedObject{values: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				obj.keys = append(obj.keys, k)
				obj.values[k] = v
			}
			_, err := dec.Token() // '}'
			return obj, err
		case '[':
			var arr []any
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token() // ']'
			return arr, err
		}
		return nil, fmt.Errorf("unexpected %v", d)
	default:
		return tok, nil
	}
}

func (s *jsonShape) add(v any) {
	switch x := v.(type) {
	case nil:
		s.kinds["null"]++
	case bool:
		s.kinds["boolean"]++
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			s.kinds["number"]++
		} else {
			s.kinds["integer"]++
		}
	case string:
		s.strs++
		switch {
		case hexValue.MatchString(x):
			s.hexes++
		case windbgValue.MatchString(x):
			s.wdHexes++
		}
	case []any:
		s.kinds["array"]++
		for _, e := range x {
			if s.elem == nil {
				s.elem = newJSONShape()
			}
			s.elem.add(e)
		}
	case orderedObject:
		s.objects++
		for _, k := range x.keys {
			f := s.fields[k]
			if f == nil {
				f = newJSONShape()
				s.fields[k] = f
				s.keys = append(s.keys, k)
			}
			s.present[k]++
			f.add(x.values[k])
		}
	}
}

// typeName describes the values seen: "hex string", "array of object", "string or null".
func (s *jsonShape) typeName() string {
	var parts []string
	if s.objects > 0 {
		parts = append(parts, "object")
	}
	if s.kinds["array"] > 0 {
		if s.elem == nil {
			parts = append(parts, "array (empty in every sample)")
		} else {
			parts = append(parts, "array of "+s.elem.typeName())
		}
	}
	switch {
	case s.strs == 0:
	case s.hexes == s.strs:
		parts = append(parts, "hex string")
	case s.wdHexes == s.strs:
		parts = append(parts, "WinDbg hex string")
	default:
		parts = append(parts, "string")
	}
	for _, k := range []string{"integer", "number", "boolean", "null"} {
		if s.kinds[k] > 0 {
			parts = append(parts, k)
		}
	}
	if len(parts) == 0 {
		return "(no value seen)"
	}
	return strings.Join(parts, " or ")
}

// jsonMaps are objects whose keys are data, not field names (a register dump's registers, named
// as the architecture names them): the reference shows one row for all their members.
var jsonMaps = map[string]string{"registers": "register name"}

// rows lists the fields under path: one row per field, then the fields of its objects.
func (s *jsonShape) rows(path string, out *[][3]string) {
	for _, k := range s.keys {
		f := s.fields[k]
		note := ""
		if s.present[k] < s.objects {
			note = "optional"
		}
		p := path + "." + k
		if keyName, ok := jsonMaps[k]; ok && f.objects > 0 {
			members := newJSONShape()
			for _, m := range f.fields {
				members.merge(m)
			}
			*out = append(*out, [3]string{p, strings.Replace(f.typeName(), "object", "object (map)", 1), note})
			*out = append(*out, [3]string{p + ".<" + keyName + ">", members.typeName(), ""})
			if f.elem != nil {
				f.elem.children(p+"[]", out)
			}
			continue
		}
		*out = append(*out, [3]string{p, f.typeName(), note})
		f.children(p, out)
	}
}

// merge adds o's observations to s.
func (s *jsonShape) merge(o *jsonShape) {
	for k, n := range o.kinds {
		s.kinds[k] += n
	}
	s.strs += o.strs
	s.hexes += o.hexes
	s.wdHexes += o.wdHexes
	s.objects += o.objects
	for _, k := range o.keys {
		if s.fields[k] == nil {
			s.fields[k] = newJSONShape()
			s.keys = append(s.keys, k)
		}
		s.fields[k].merge(o.fields[k])
		s.present[k] += o.present[k]
	}
	if o.elem != nil {
		if s.elem == nil {
			s.elem = newJSONShape()
		}
		s.elem.merge(o.elem)
	}
}

// children lists what lies inside a value at path: an object's fields, an array's elements'.
func (s *jsonShape) children(path string, out *[][3]string) {
	if s.objects > 0 {
		s.rows(path, out)
	}
	if s.elem != nil {
		s.elem.children(path+"[]", out)
	}
}

// jsonReference gathers the observed shapes per command and variant.
type jsonReference struct {
	commands map[string]map[string]*jsonObserved // command name → variant → observations
}

type jsonObserved struct {
	shape *jsonShape
	lines []string // command lines that produced it, first seen first
	dumps []string // the dumps they ran on
}

func newJSONReference() *jsonReference {
	return &jsonReference{commands: map[string]map[string]*jsonObserved{}}
}

// add records one result document's result.
func (r *jsonReference) add(command, variant, line, dump string, raw json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return err
	}
	variants := r.commands[command]
	if variants == nil {
		variants = map[string]*jsonObserved{}
		r.commands[command] = variants
	}
	o := variants[variant]
	if o == nil {
		o = &jsonObserved{shape: newJSONShape()}
		variants[variant] = o
	}
	o.shape.add(v)
	if !slices.Contains(o.lines, line) {
		o.lines = append(o.lines, line)
	}
	if !slices.Contains(o.dumps, dump) {
		o.dumps = append(o.dumps, dump)
	}
	return nil
}

// write prints the reference as Markdown: the banner, then each command in the command table's
// order, grouped as README's command reference, then the commands without a documented shape.
func (r *jsonReference) write(w io.Writer, textOnly map[string]string) {
	var b strings.Builder
	if v := r.commands["(banner)"]; v != nil {
		b.WriteString("### The banner (first document, `\"command\": \"\"`)\n\n")
		writeObserved(&b, v[""])
	}
	group := ""
	for _, c := range commands.Table() {
		variants := r.commands[c.Name]
		if variants == nil {
			continue
		}
		if c.Group != group {
			group = c.Group
			fmt.Fprintf(&b, "### %s\n\n", group)
		}
		names := make([]string, 0, len(variants))
		for v := range variants {
			names = append(names, v)
		}
		slices.Sort(names) // "" (the usual result) first
		for _, v := range names {
			title := "`" + c.Name + "`"
			if v != "" {
				title += " (" + v + ")"
			}
			fmt.Fprintf(&b, "#### %s\n\n", title)
			writeObserved(&b, variants[v])
		}
	}
	if len(textOnly) > 0 {
		b.WriteString("### Commands without a documented shape\n\n| Command | Why |\n|---|---|\n")
		names := make([]string, 0, len(textOnly))
		for n := range textOnly {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintf(&b, "| `%s` | %s |\n", mdCell(n), mdCell(textOnly[n]))
		}
		b.WriteString("\n")
	}
	io.WriteString(w, b.String())
}

// maxExampleLines bounds the "seen with" list of a section.
const maxExampleLines = 6

func writeObserved(b *strings.Builder, o *jsonObserved) {
	var lines []string
	for i, l := range o.lines {
		if i == maxExampleLines {
			lines = append(lines, "...")
			break
		}
		if l == "" {
			continue
		}
		lines = append(lines, "`"+mdCell(l)+"`")
	}
	if len(lines) > 0 {
		fmt.Fprintf(b, "Seen with %s on the %s dump%s.\n\n", strings.Join(lines, ", "), joinAnd(o.dumps), plural(len(o.dumps)))
	} else {
		fmt.Fprintf(b, "Seen on the %s dump%s.\n\n", joinAnd(o.dumps), plural(len(o.dumps)))
	}
	var rows [][3]string
	o.shape.children("", &rows)
	if len(rows) == 0 {
		fmt.Fprintf(b, "The result is %s.\n\n", o.shape.typeName())
		return
	}
	b.WriteString("| Field | Type | |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", mdCell(r[0]), r[1], r[2])
	}
	b.WriteString("\n")
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
