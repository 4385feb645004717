package main

import (
	"flag"
	"fmt"

	"wdbg/engine/ksynth"
)

// Pool flags: the pool content of issue 5 and the kernel PDB.
//
//	go run ./engine/ksynth/cmd/genkdump -storage bitmap -pool leak -symbols /tmp/sym -o /tmp/leak.dmp
//	go run ./engine/ksynth/cmd/genkdump -storage bitmap -pool-fill 2G -o /tmp/pool2g.dmp
var (
	poolName         *string
	poolFill         *string
	symbolsDir       *string
	poolFillNonPaged *bool
)

func poolFlags() {
	poolName = flag.String("pool", "", "pool content: leak (ksynth.LeakScenario)")
	poolFill = flag.String("pool-fill", "", "add this many bytes (K, M, G) of generated paged pool pages")
	symbolsDir = flag.String("symbols", "", "write the kernel PDB in symbol-store layout under this directory")
	poolFillNonPaged = flag.Bool("pool-fill-nonpaged", false, "generate the -pool-fill pages in nonpaged pool")
}

// applyPool adds the pool the flags ask for; a fill larger than the machine's memory raises
// PhysicalBytes to the fill plus 64 MiB.
func applyPool(spec *ksynth.Spec) error {
	switch *poolName {
	case "":
	case "leak":
		spec.Pool = ksynth.LeakScenario(spec.Machine)
	default:
		return fmt.Errorf("unknown -pool %q (want leak)", *poolName)
	}
	if *poolFill == "" {
		return nil
	}
	n, err := parseSize(*poolFill)
	if err != nil {
		return fmt.Errorf("-pool-fill: %w", err)
	}
	if spec.Pool == nil {
		spec.Pool = &ksynth.PoolSpec{}
	}
	spec.Pool.Fill = ksynth.PoolFill{Bytes: n, Paged: !*poolFillNonPaged}
	if spec.PhysicalBytes < n+64<<20 {
		spec.PhysicalBytes = n + 64<<20
	}
	return nil
}

func writeSymbols(d *ksynth.Dump) error {
	if *symbolsDir == "" {
		return nil
	}
	path, err := d.WriteSymbols(*symbolsDir)
	if err != nil {
		return err
	}
	fmt.Println("kernel PDB:", path)
	return nil
}
