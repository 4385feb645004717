package ksynth

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wdbg/engine"
	"wdbg/engine/symbols"
	"wdbg/engine/symstore"
)

// WriteSymbols is checked through the debugger's own path: the dump opened by engine.Open, the
// kernel PDB found by the symbol resolver in the store directory (matched against the RSDS
// record of the nt image in the dump), and every nt variable and function the manifest lists
// resolved by name and named by address.
func TestWriteSymbols(t *testing.T) {
	for _, mc := range Machines {
		t.Run(mc.String(), func(t *testing.T) {
			d, err := Build(Spec{Machine: mc, Storage: Bitmap, Pool: LeakScenario(mc)})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			dump := filepath.Join(dir, "MEMORY.DMP")
			if err := d.WriteFile(dump); err != nil {
				t.Fatal(err)
			}
			store := filepath.Join(dir, "sym")
			path, err := d.WriteSymbols(store)
			if err != nil {
				t.Fatal(err)
			}
			m := d.Manifest()
			nt := m.Module("nt")
			// FORMATS.md §7.6: <store>/<name>/<GUID 32 hex><age hex>/<name>.
			id := strings.ReplaceAll(nt.GUID, "-", "")
			want := filepath.Join(store, nt.PDB, fmt.Sprintf("%s%X", id[:8]+id[8:12]+id[12:16]+id[16:], nt.Age), nt.PDB)
			if path != want {
				t.Errorf("PDB written to %s, want %s", path, want)
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatal(err)
			}
			target, err := engine.Open(dump)
			if err != nil {
				t.Fatal(err)
			}
			defer target.Close()
			r := symbols.New(target, symbols.Options{Path: symstore.ParsePath(store)})
			ctx := context.Background()
			ntIndex, ok := r.ModuleByName("nt")
			if !ok {
				t.Fatal("no nt module in the opened dump")
			}
			if kind := r.Load(ctx, ntIndex); kind != symbols.PublicPDB {
				t.Fatalf("nt symbols: %v (notes %v), want pdb symbols", kind, r.Notes(ntIndex))
			}
			names := []string{"PoolTrackTable", "PoolTrackTableSize", "PoolTrackTableExpansion",
				"PoolTrackTableExpansionSize", "PoolBigPageTable", "PoolBigPageTableSize", "MmDriverCommit",
				"MmNumberOfPhysicalPages", "KdDebuggerDataBlock", "PsLoadedModuleList"}
			if m.Build == 19041 {
				names = append(names, "MiSystemPartition", "ExpPoolQuotaCookie")
			} else {
				names = append(names, "MmNonPagedPoolStart", "MmPagedPoolEnd", "MmAvailablePages")
			}
			for _, name := range names {
				want, ok := m.Globals[name]
				if !ok {
					t.Errorf("manifest has no global %s", name)
					continue
				}
				got, ok := r.Address(ctx, "nt!"+name)
				if !ok || got != want {
					t.Errorf("nt!%s = %#x %v, manifest %#x", name, got, ok, want)
				}
			}
			for _, e := range nt.Exports {
				got, ok := r.Address(ctx, "nt!"+e.Name)
				if !ok || got != e.Address {
					t.Errorf("nt!%s = %#x %v, manifest %#x", e.Name, got, ok, e.Address)
				}
				sym, ok := r.Lookup(ctx, e.Address+3)
				if !ok || sym.String() != "nt!"+e.Name+"+0x3" {
					t.Errorf("Lookup(%#x) = %s, want nt!%s+0x3", e.Address+3, sym, e.Name)
				}
			}
			// A variable inside a larger block names the block: MiSystemPartition+0x1b00+0xc0.
			if p, ok := m.Globals["MiSystemPartition"]; ok {
				if sym, _ := r.Lookup(ctx, p+0x1BC0); sym.String() != "nt!MiSystemPartition+0x1bc0" {
					t.Errorf("Lookup(MiSystemPartition+0x1bc0) = %s", sym)
				}
			}
		})
	}
}
