// Command gensample writes testdata/sample.dmp, the small made-up spoolsv.exe crash dump that
// engine/synth.Sample describes. Run it through `go generate ./engine/synth`.
package main

import (
	"flag"
	"fmt"
	"os"

	"wdbg/engine/synth"
)

func main() {
	out := flag.String("o", "testdata/sample.dmp", "file to write")
	flag.Parse()
	if err := os.WriteFile(*out, synth.Sample().Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gensample:", err)
		os.Exit(1)
	}
}
