// Command genkdump writes a synthetic kernel crash dump (engine/ksynth) and, optionally, its
// manifest as JSON, so that the kernel-dump commands can be tried by hand:
//
//	go run ./engine/ksynth/cmd/genkdump -machine x64 -storage bitmap -size 4G -o /tmp/k.dmp -manifest /tmp/k.json
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"wdbg/engine/ksynth"
)

func main() {
	machine := flag.String("machine", "x64-19041", "x64-19041 (x64), x64-7601, x86pae-7601 (x86), x86-7601 (no PAE) or arm64-22621 (arm64)")
	storage := flag.String("storage", "runlist", "runlist (DumpType 1) or bitmap")
	size := flag.String("size", "32M", "physical memory: bytes, or a number with K, M or G")
	all := flag.Bool("all", false, "bitmap: store every RAM page ('FDMP'), not only the filled ones ('SDMP')")
	align := flag.Bool("align", false, "bitmap: put the first page at a page-aligned file offset")
	cpus := flag.Int("cpus", 2, "number of processors")
	out := flag.String("o", "", "dump file to write (required)")
	manifest := flag.String("manifest", "", "write the manifest as JSON to this file")
	poolFlags() // -pool, -pool-fill, -symbols (pool.go)
	flag.Parse()
	if err := run(*machine, *storage, *size, *all, *align, *cpus, *out, *manifest); err != nil {
		fmt.Fprintln(os.Stderr, "genkdump:", err)
		os.Exit(1)
	}
}

func run(machine, storage, size string, all, align bool, cpus int, out, manifest string) error {
	if out == "" {
		return fmt.Errorf("-o is required")
	}
	m, err := ksynth.ParseMachine(machine)
	if err != nil {
		return err
	}
	s, err := ksynth.ParseStorage(storage)
	if err != nil {
		return err
	}
	bytes, err := parseSize(size)
	if err != nil {
		return err
	}
	spec := ksynth.Spec{Machine: m, Storage: s, PhysicalBytes: bytes, AllPages: all,
		PageAlignBitmapData: align, Processors: cpus}
	if err := applyPool(&spec); err != nil {
		return err
	}
	d, err := ksynth.Build(spec)
	if err != nil {
		return err
	}
	if err := d.WriteFile(out); err != nil {
		return err
	}
	if err := writeSymbols(d); err != nil {
		return err
	}
	if manifest != "" {
		if err := d.Manifest().WriteFile(manifest); err != nil {
			return err
		}
	}
	mf := d.Manifest()
	fmt.Printf("%s: %s %s dump, %d bytes, %d pages stored, bug check %#x, crash in %s\n",
		out, mf.Machine, mf.Storage, d.Size(), mf.StoredPages, mf.BugCheck.Code, mf.FaultingSymbol)
	return nil
}

func parseSize(s string) (uint64, error) {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	}
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("bad -size %q", s)
	}
	return n * mult, nil
}
