package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/ksynth"
	"wdbg/internal/corpus"
)

// !analyze -v's JSON carries every field of its text form (issue 6, docs/json.md): every `KEY:`
// the text prints, with its value, is found in the JSON at the path analyzeTextToJSON names.
// A key the text prints and the table does not know fails the test, so that a field added to the
// text must be mapped (and present) in the JSON too. The text is the oracle here: the other
// !analyze tests check it against rizin, breakpad and cdb.

// analyzeTextToJSON maps a text key to its JSON field ("N" in a key stands for 1, 2, ...: the
// N-th element of the array). A body section (CONTEXT, EXCEPTION_RECORD, TRAP_FRAME) has two
// fields: the heading's value (the record's address on kernel dumps, "" for none) and the body.
var analyzeTextToJSON = map[string]string{
	"COMMENT":                     "comment",
	"PROCESS_NAME":                "process_name",
	"READ_ADDRESS":                "read_address",
	"WRITE_ADDRESS":               "write_address",
	"ERROR_CODE":                  "error_code",
	"EXCEPTION_CODE_STR":          "exception_code",
	"EXCEPTION_PARAMETERN":        "exception_parameters",
	"EXCEPTION_STR":               "exception_str",
	"STACK_TEXT":                  "stack_text",
	"FAULTING_SOURCE_LINE":        "faulting_source_file",
	"FAULTING_SOURCE_LINE_NUMBER": "faulting_source_line_number",
	"STACK_COMMAND":               "stack_command",
	"SYMBOL_NAME":                 "symbol_name",
	"MODULE_NAME":                 "module_name",
	"IMAGE_NAME":                  "image_name",
	"IMAGE_VERSION":               "image_version",
	"BUCKET_ID_FUNC_OFFSET":       "bucket_id_func_offset",
	"FAILURE_BUCKET_ID":           "failure_bucket_id",
	"OS_VERSION":                  "os_version",
	"BUILDLAB_STR":                "buildlab_str",
	"OSPLATFORM_TYPE":             "osplatform_type",
	"OSNAME":                      "osname",
	"FAILURE_ID_HASH":             "failure_id_hash",
	"Followup":                    "followup",
	"BUGCHECK_CODE":               "bugcheck_code",
	"BUGCHECK_PN":                 "bugcheck_parameters",
	"FILE_IN_CAB":                 "file_in_cab",
	"KEY_VALUES_STRING":           "key_values",
	"ArgN":                        "arguments",
	"CONTEXT":                     "context_record context_text",
	"EXCEPTION_RECORD":            "exception_record exception_record_text",
	"TRAP_FRAME":                  "trap_frame context_text",
}

func TestAnalyzeJSONCarriesText(t *testing.T) {
	t.Run("user sample", func(t *testing.T) {
		tgt, err := engine.Open(filepath.Join(corpus.RepoRoot(t), "testdata", "sample.dmp"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tgt.Close() })
		checkAnalyzeJSON(t, NewSessionWith(tgt, SessionOptions{}))
	})
	t.Run("user with source lines", func(t *testing.T) {
		checkAnalyzeJSON(t, sessionWithSymbols(t, "symbolicator/windows.dmp", filepath.Join(corpus.Dir(t), "symbolic")))
	})
	t.Run("kernel triage", func(t *testing.T) {
		checkAnalyzeJSON(t, sessionWithSymbols(t, "rizin-testbins/dmp/triage_x64.dmp", filepath.Join(corpus.Dir(t), "test-pdb-repository")))
	})
	for _, mc := range []ksynth.Machine{ksynth.X64Win10_19041, ksynth.X86PAEWin7_7601} {
		t.Run("kernel synthetic "+mc.String(), func(t *testing.T) {
			checkAnalyzeJSON(t, synthAnalyzeSession(t, mc))
		})
	}
}

// synthAnalyzeSession opens engine/ksynth's dump of machine mc (bug check D1 in a driver, pool
// leak scenario) with its kernel PDB.
func synthAnalyzeSession(t *testing.T, mc ksynth.Machine) *Session {
	t.Helper()
	s, _ := openPoolSynth(t, mc)
	return s
}

// analyzeKeyLine is a `KEY:  value` line of the text form at the start of a line.
var analyzeKeyLine = regexp.MustCompile(`^([A-Z][A-Z0-9_]*|Followup|Arg\d):\s*(.*)$`)

// textField is one key of the text form: the value after the colon and, for sections, the body.
type textField struct {
	key, value string
	body       []string
}

func checkAnalyzeJSON(t *testing.T, s *Session) {
	t.Helper()
	res, err := s.Exec(context.Background(), "!analyze -v")
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	fields := parseAnalyzeText(text.String())
	if len(fields) < 15 {
		t.Fatalf("only %d keys found in the text:\n%s", len(fields), text.String())
	}
	for _, f := range fields {
		generic := regexp.MustCompile(`\d+$`).ReplaceAllString(f.key, "N")
		index := 0
		if generic != f.key {
			index, _ = strconv.Atoi(f.key[len(generic)-1:])
		}
		path, ok := analyzeTextToJSON[generic]
		if !ok {
			t.Errorf("the text prints %s but analyzeTextToJSON does not map it to a JSON field", f.key)
			continue
		}
		if err := checkTextField(f, path, index, doc); err != nil {
			t.Errorf("%s: %v\nJSON: %s", f.key, err, raw)
		}
	}
	// The heading of the kernel form (title and description) and the short form's line.
	if title, ok := doc["title"].(string); ok && !strings.Contains(text.String(), "\n"+title+"\n") {
		t.Errorf("title %q is not the text's", title)
	}
	if desc, ok := doc["description"].(string); ok && !strings.Contains(strings.Join(strings.Fields(text.String()), " "), desc) {
		t.Errorf("description %q is not the text's", desc)
	}
	if _, ok := doc["probably_caused_by"].(string); !ok {
		t.Errorf("no probably_caused_by (the short form's line)")
	}
}

// parseAnalyzeText finds the keys of a verbose !analyze text with their values; CONTEXT and
// TRAP_FRAME bodies run to "Resetting default scope", EXCEPTION_RECORD and STACK_TEXT bodies to
// the next blank line, KEY_VALUES_STRING's pairs to the first key after them.
func parseAnalyzeText(text string) []textField {
	lines := strings.Split(text, "\n")
	var fields []textField
	for i := 0; i < len(lines); i++ {
		m := analyzeKeyLine.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		f := textField{key: m[1], value: strings.TrimSpace(m[2])}
		switch f.key {
		case "CONTEXT", "TRAP_FRAME":
			for i++; i < len(lines) && lines[i] != "Resetting default scope"; i++ {
				f.body = append(f.body, lines[i])
			}
		case "EXCEPTION_RECORD", "STACK_TEXT":
			for i++; i < len(lines) && lines[i] != ""; i++ {
				f.body = append(f.body, lines[i])
			}
		case "KEY_VALUES_STRING":
			for i++; i < len(lines) && !analyzeKeyLine.MatchString(lines[i]); i++ {
				if l := strings.TrimSpace(lines[i]); l != "" {
					f.body = append(f.body, l)
				}
			}
			i--
		case "COMMENT":
			for i++; i < len(lines) && lines[i] != ""; i++ {
				f.value += "\n" + lines[i]
			}
		}
		fields = append(fields, f)
	}
	return fields
}

func checkTextField(f textField, path string, index int, doc map[string]any) error {
	heading, body, _ := strings.Cut(path, " ")
	v, present := doc[heading]
	switch f.key {
	case "KEY_VALUES_STRING":
		pairs, _ := v.([]any)
		var got []string
		for _, p := range pairs {
			kv, _ := p.(map[string]any)
			got = append(got, fmt.Sprintf("Key  : %v", kv["key"]), fmt.Sprintf("Value: %v", kv["value"]))
		}
		if strings.Join(got, "\n") != strings.Join(f.body, "\n") {
			return fmt.Errorf("key_values %q, text %q", got, f.body)
		}
		return nil
	case "STACK_TEXT":
		return equalStrings(v, f.body)
	case "COMMENT":
		return equalStrings(v, strings.Split(f.value, "\n"))
	}
	if body != "" {
		// "ffff850429891720 -- (.cxr 0xffff850429891720)" on kernel dumps; "(.ecxr)" or
		// "(.exr -1)" on process dumps, where the heading names no record.
		addr, _, _ := strings.Cut(f.value, " -- ")
		if strings.HasPrefix(f.value, "(") {
			addr = ""
		}
		if addr != "" && v != addr {
			return fmt.Errorf("%s = %v, text %q", heading, v, addr)
		}
		want := strings.Join(f.body, "\n") + "\n"
		if got, _ := doc[body].(string); strings.TrimRight(got, "\n") != strings.TrimRight(want, "\n") {
			return fmt.Errorf("%s = %q, text %q", body, got, want)
		}
		return nil
	}
	if index > 0 {
		arr, _ := v.([]any)
		if index > len(arr) {
			return fmt.Errorf("%s has %d elements, the text prints #%d", heading, len(arr), index)
		}
		v = arr[index-1]
		if arg, ok := v.(map[string]any); ok { // ArgN: value, meaning
			v = arg["value"]
			if m, _ := arg["meaning"].(string); m != "" {
				v = fmt.Sprintf("%v, %s", arg["value"], m)
			}
		}
	}
	if !present {
		return fmt.Errorf("no JSON field %s", heading)
	}
	got := fmt.Sprint(v)
	if n, ok := v.(float64); ok {
		got = strconv.FormatFloat(n, 'f', -1, 64)
	}
	if got != f.value {
		return fmt.Errorf("%s = %q, text %q", heading, got, f.value)
	}
	return nil
}

func equalStrings(v any, want []string) error {
	arr, _ := v.([]any)
	var got []string
	for _, e := range arr {
		got = append(got, fmt.Sprint(e))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		return fmt.Errorf("JSON %q, text %q", got, want)
	}
	return nil
}
