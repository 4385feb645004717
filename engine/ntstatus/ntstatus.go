// Package ntstatus names NTSTATUS and exception codes. The table is data (codes.txt, embedded), with the
// symbolic names of ntstatus.h and the short texts WinDbg prints (WINDBG-SPEC §5).
package ntstatus

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

//go:embed codes.txt
var codesText string

// Code describes one status code.
type Code struct {
	Value uint32
	Name  string // STATUS_ACCESS_VIOLATION
	Text  string // "Access violation"; empty when WinDbg has no short text
}

var byValue = parse(codesText)

func parse(text string) map[uint32]Code {
	m := make(map[uint32]Code)
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			panic("ntstatus: bad line in codes.txt: " + line)
		}
		v, err := strconv.ParseUint(strings.TrimPrefix(f[0], "0x"), 16, 32)
		if err != nil {
			panic("ntstatus: bad value in codes.txt: " + line)
		}
		text := strings.Join(f[2:], " ")
		if text == "-" {
			text = ""
		}
		m[uint32(v)] = Code{Value: uint32(v), Name: f[1], Text: text}
	}
	return m
}

// Lookup returns what the table knows of a code.
func Lookup(v uint32) (Code, bool) {
	c, ok := byValue[v]
	return c, ok
}

// EventText is the text of an exception event line and of .exr: the short text, or
// "Unknown exception" for codes WinDbg has none for.
func EventText(v uint32) string {
	if c, ok := byValue[v]; ok && c.Text != "" {
		return c.Text
	}
	return "Unknown exception"
}

// FastFailName names a __fastfail code (the FAST_FAIL_* constants of winnt.h), as .exr shows it
// after a STATUS_STACK_BUFFER_OVERRUN.
func FastFailName(code uint64) string {
	names := []string{
		"FAST_FAIL_LEGACY_GS_VIOLATION", "FAST_FAIL_VTGUARD_CHECK_FAILURE", "FAST_FAIL_STACK_COOKIE_CHECK_FAILURE",
		"FAST_FAIL_CORRUPT_LIST_ENTRY", "FAST_FAIL_INCORRECT_STACK", "FAST_FAIL_INVALID_ARG",
		"FAST_FAIL_GS_COOKIE_INIT", "FAST_FAIL_FATAL_APP_EXIT", "FAST_FAIL_RANGE_CHECK_FAILURE",
		"FAST_FAIL_UNSAFE_REGISTRY_ACCESS", "FAST_FAIL_GUARD_ICALL_CHECK_FAILURE",
		"FAST_FAIL_GUARD_WRITE_CHECK_FAILURE", "FAST_FAIL_INVALID_FIBER_SWITCH",
		"FAST_FAIL_INVALID_SET_OF_CONTEXT", "FAST_FAIL_INVALID_REFERENCE_COUNT",
	}
	if code < uint64(len(names)) {
		return names[code]
	}
	return "FAST_FAIL_<unknown>"
}

//go:embed descriptions.txt
var descriptionsText string

var descriptions = parseDescriptions(descriptionsText)

func parseDescriptions(text string) map[uint32]string {
	m := make(map[uint32]string)
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		code, desc, ok := strings.Cut(line, " ")
		v, err := strconv.ParseUint(strings.TrimPrefix(code, "0x"), 16, 32)
		if !ok || err != nil {
			panic("ntstatus: bad line in descriptions.txt: " + line)
		}
		m[uint32(v)] = strings.TrimSpace(desc)
	}
	return m
}

// Description is our one-sentence description of a code, or its symbolic name when we have none.
func Description(v uint32) string {
	if d, ok := descriptions[v]; ok {
		return d
	}
	if c, ok := byValue[v]; ok {
		return c.Name
	}
	return fmt.Sprintf("Unknown status %#08x", v)
}
