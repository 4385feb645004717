#!/bin/bash
# Records llvm-pdbutil's view of a few corpus PDBs, the oracle that pdbutil_test.go compares the
# reader with. llvm-pdbutil (LLVM 19) is not installed on CI, so its output is kept here; rerun
# this script after changing the list, from any directory:
#   engine/pdb/testdata/oracles/capture.sh [path/to/llvm-pdbutil]
# Outputs are trimmed only by selection (whole sections; for module symbols, only the procedure
# records and the line after each, which holds its address and size).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$(cd "$here/../../../../../shared/fixtures" && pwd)
pdbutil=${1:-/usr/lib/llvm-19/bin/llvm-pdbutil}
"$pdbutil" --version | grep -m1 "LLVM version" | sed "s/^ *//" >"$here/VERSION"

capture() { # name relative-path dump-options...
	local name=$1 rel=$2 pdb=$fixtures/$2
	shift 2
	{
		echo "# llvm-pdbutil dump $* $rel"
		"$pdbutil" dump "$@" "$pdb"
	} >"$here/$name.dump.txt"
	{
		echo "# llvm-pdbutil dump --symbols $rel | grep -A1 'S_[GL]PROC32'"
		"$pdbutil" dump --symbols "$pdb" | grep -A1 -E '\| S_[GL]PROC32' | grep -v '^--$' || true
	} >"$here/$name.procs.txt"
	{
		echo "# llvm-pdbutil dump -l $rel"
		"$pdbutil" dump -l "$pdb"
	} >"$here/$name.lines.txt"
}

# Section contributions are long: only the small PDB's are kept.
basic="--summary --section-headers --publics --fpo --modules"
capture crash symbolic/crash.pdb $basic
capture amdppm test-pdb-repository/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb $basic
capture sigsegv lldb/sigsegv.pdb $basic --section-contribs
