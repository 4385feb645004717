package repl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/fatih/color"

	"wdbg/commands"
)

// OutputConfig says where a session's output goes and in which form.
type OutputConfig struct {
	Stdout io.Writer // the terminal or pipe
	Log    io.Writer // -logo/-loga file, nil when none; gets the same text without colour
	JSON   bool      // one JSON document per command instead of WinDbg text
	Color  bool      // errors in colour on Stdout (decided once by main)
}

// Output writes what a session prints: free text (product line, echoed commands), command
// results as WinDbg text or JSON documents, and errors. Everything written to the terminal also
// goes to the log file. Writes are buffered; Flush after each command.
type Output struct {
	term     *bufio.Writer
	log      *bufio.Writer
	json     bool
	errColor *color.Color // nil: no colour
	err      error        // first write error on the terminal
}

// NewOutput prepares output as cfg says.
func NewOutput(cfg OutputConfig) *Output {
	o := &Output{term: bufio.NewWriterSize(cfg.Stdout, 64<<10), json: cfg.JSON}
	if cfg.Log != nil {
		o.log = bufio.NewWriterSize(cfg.Log, 64<<10)
	}
	if cfg.Color {
		o.errColor = color.New(color.FgRed, color.Bold)
		o.errColor.EnableColor()
	}
	return o
}

// JSON reports whether results are printed as JSON documents.
func (o *Output) JSON() bool { return o.json }

// Write sends p to the terminal and the log.
func (o *Output) Write(p []byte) (int, error) {
	if o.log != nil {
		o.log.Write(p)
	}
	n, err := o.term.Write(p)
	if err != nil && o.err == nil {
		o.err = err
	}
	return n, err
}

// Text prints free text (product line, echoed command lines). In JSON mode it prints nothing, so
// that standard output holds only JSON documents.
func (o *Output) Text(s string) {
	if !o.json {
		io.WriteString(o, s)
	}
}

// LogOnly writes s to the log file only: what the terminal already shows by itself, such as the
// prompt and the line typed at it.
func (o *Output) LogOnly(s string) {
	if o.log != nil {
		o.log.WriteString(s)
	}
}

// Result prints one command's outcome: its result as WinDbg text, or its error as WinDbg prints
// it with a syntax error's caret promptWidth columns in; in JSON mode one document
// {"schema": 1, "command": ..., "result": ..., "error": ...} on one line (docs/json.md). It
// reports whether the command (or rendering its result) failed. The runner uses the steps below
// instead, so that rendering happens while Ctrl-C can still stop it.
func (o *Output) Result(command string, res commands.Result, err error, promptWidth int) (failed bool) {
	if o.json {
		var raw json.RawMessage
		raw, err = encodeResult(command, res, err)
		return o.document(command, raw, err)
	}
	if err == nil && res != nil {
		err = o.WriteResult(res)
	}
	if err != nil {
		o.Error(err, promptWidth)
		return true
	}
	return false
}

// WriteResult streams a result's WinDbg text to the terminal and the log. Results may render
// lazily (a memory display reads the dump while it writes), so nothing is gathered in memory.
func (o *Output) WriteResult(res commands.Result) error {
	return res.WriteText(o)
}

// Error prints err as WinDbg prints command errors, in colour on the terminal when enabled.
func (o *Output) Error(err error, promptWidth int) {
	var buf bytes.Buffer
	commands.WriteError(&buf, err, promptWidth)
	text := buf.String()
	if o.log != nil {
		o.log.WriteString(text)
	}
	if o.errColor != nil {
		// Colour each line apart so that the reset code comes before the newline.
		for _, line := range strings.SplitAfter(text, "\n") {
			body := strings.TrimSuffix(line, "\n")
			if body != "" {
				o.errColor.Fprint(o.term, body)
			}
			if len(body) < len(line) {
				o.term.WriteString("\n")
			}
		}
		return
	}
	o.term.WriteString(text)
}

// JSONSchemaVersion is the version of the --json document format and of every command's result
// shape (docs/json.md). Adding a field, a command or a value keeps it; renaming or removing a
// field, or changing a field's JSON type or meaning, raises it.
const JSONSchemaVersion = 1

// document is one line of --json output.
type document struct {
	Schema  int             `json:"schema"`
	Command string          `json:"command"`
	Result  json.RawMessage `json:"result"`
	Error   *string         `json:"error"`
}

// encodeResult marshals a command's result for its JSON document; it returns the command's error
// unchanged, or the encoding error.
func encodeResult(command string, res commands.Result, err error) (json.RawMessage, error) {
	if err != nil || res == nil {
		return nil, err
	}
	raw, merr := marshalResult(res)
	if merr != nil {
		return nil, fmt.Errorf("cannot encode the result of '%s' as JSON: %w", command, merr)
	}
	return raw, nil
}

// document writes one JSON document; raw is the encoded result (nil for null).
func (o *Output) document(command string, raw json.RawMessage, err error) (failed bool) {
	doc := document{Schema: JSONSchemaVersion, Command: command, Result: raw}
	if raw == nil {
		doc.Result = json.RawMessage("null")
	}
	if err != nil {
		text := strings.TrimRight(err.Error(), "\n")
		doc.Error = &text
		doc.Result = json.RawMessage("null")
	}
	enc := json.NewEncoder(o)
	enc.SetEscapeHTML(false)
	if eerr := enc.Encode(doc); eerr != nil {
		return true
	}
	return err != nil
}

// marshalResult encodes a result compactly, without HTML escaping (<, > and & are common in
// WinDbg text and symbol names).
func marshalResult(res commands.Result) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

// Flush writes buffered output to the terminal and the log. It returns the first error writing
// to the terminal, so that the loop can stop when standard output has gone away.
func (o *Output) Flush() error {
	if o.log != nil {
		o.log.Flush()
	}
	if err := o.term.Flush(); err != nil && o.err == nil {
		o.err = err
	}
	return o.err
}
