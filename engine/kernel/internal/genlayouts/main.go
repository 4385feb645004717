// Command genlayouts transcribes the per-build structure tables of FORMATS.md §5 into the data
// files engine/kernel embeds (layouts/x64.txt, layouts/x86.txt). It only reshapes the tables:
// every cell is copied as written, so the data stays a faithful transcription of the spec.
//
//	go run ./internal/genlayouts -spec ../../../shared/spec/FORMATS.md -out layouts
//
// Output line format (one field of one structure):
//
//	_EPROCESS UniqueProcessId 7601=0x180 9600=0x2e0 ... 26100=0x1d0
//
// A cell is a hex offset, "0xN:bitK" for a bitfield, "-" (the field does not exist in that
// build) or "?" (unknown); the confidence marks †‡§¶ of the spec stay attached to the value.
// The row "sizeof" gives the structure size.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	spec := flag.String("spec", "../../../shared/spec/FORMATS.md", "path of FORMATS.md")
	out := flag.String("out", "layouts", "directory to write x64.txt and x86.txt into")
	flag.Parse()
	text, err := os.ReadFile(*spec)
	if err != nil {
		fatal(err)
	}
	files, err := Generate(string(text))
	if err != nil {
		fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(*out, name), []byte(data), 0o644); err != nil {
			fatal(err)
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "genlayouts:", err)
	os.Exit(1)
}
