package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// dumpSignatures are the first bytes of the files `wdbg triage` takes from a folder: minidumps
// ('MDMP') and 32- and 64-bit kernel dumps ('PAGEDUMP', 'PAGEDU64'; FORMATS.md §1.1, §4.1).
// Dumps are recognised by content, not by name: .dmp, .mdmp, .hdmp and names without an
// extension are all common.
var dumpSignatures = [][]byte{[]byte("MDMP"), []byte("PAGEDUMP"), []byte("PAGEDU64")}

// findDumps expands the arguments of `wdbg triage`: a file is taken as it is (whatever it holds,
// so that a broken dump is reported, not skipped), a folder is searched recursively for files
// that start like a dump. The list is sorted within each folder so that runs are repeatable.
func findDumps(args []string) ([]string, error) {
	var out []string
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, arg)
			continue
		}
		var found []string
		err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // an unreadable folder is skipped, not fatal
			}
			if d.Type().IsRegular() && looksLikeDump(path) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no dump files found in %v", args)
	}
	return out, nil
}

func looksLikeDump(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	for _, sig := range dumpSignatures {
		if n >= len(sig) && bytes.Equal(head[:len(sig)], sig) {
			return true
		}
	}
	return false
}
