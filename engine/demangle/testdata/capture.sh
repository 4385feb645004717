#!/bin/bash
# Regenerates undname.txt: MSVC decorated names and llvm-undname's reading of them (the oracle).
#
# Names come from the public, global and module symbol records of every PDB in the shared corpus
# (../shared/fixtures beside the repository), as listed by `llvm-pdbutil dump -publics -globals
# -symbols`, plus the hand-picked names of extra_names.txt (constructs the corpus lacks). Each
# distinct name is given to llvm-undname (LLVM 19); the result is one line per name:
#
#   DECORATED<TAB>UNDECORATED          (UNDECORATED is "!error" when llvm-undname refuses the name)
#
# Usage: engine/demangle/testdata/capture.sh [FIXTURES_DIR]   (run from anywhere; needs llvm-19)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fixtures=${1:-$here/../../../../shared/fixtures}
pdbutil=${PDBUTIL:-llvm-pdbutil-19}
undname=${UNDNAME:-/usr/lib/llvm-19/bin/llvm-undname}
export LC_ALL=C

names=$(mktemp)
trap 'rm -f "$names"' EXIT
{
	find "$fixtures" -name '*.pdb' -type f | sort | while read -r pdb; do
		"$pdbutil" dump -publics -globals -symbols "$pdb" 2>/dev/null | grep -o '`?[^`]*`' | tr -d '`' || true
	done
	grep -v '^#' "$here/extra_names.txt" | grep . || true
} | sort -u >"$names"

# llvm-undname echoes each input line on stdout, then the result there (or an error on stderr, which
# is dropped), then a blank line: so a paragraph of one line is a refused name. It exits 1 when it
# refused any name.
{ "$undname" <"$names" 2>/dev/null || true; } | awk '
	BEGIN { RS = ""; FS = "\n" }
	{ print $1 "\t" (NF >= 2 ? $2 : "!error") }
' >"$here/undname.txt"
echo "$(wc -l <"$here/undname.txt") names written to $here/undname.txt" >&2

# procnames.txt: the Name oracle. A PDB's procedure records (S_GPROC32/S_LPROC32) carry the
# compiler's own undecorated name, which is what WinDbg shows in stacks with private symbols; where
# exactly one decorated public (S_PUB32) and exactly one procedure start at the same section:offset,
# the pair "DECORATED<TAB>PROCEDURE NAME" is written. Names folded together by the linker (several
# publics at one address) are left out.
find "$fixtures" -name '*.pdb' -type f | sort | while read -r pdb; do
	"$pdbutil" dump -publics -symbols "$pdb" 2>/dev/null | awk '
		/\| S_PUB32 /                { kind = "pub"; match($0, /`.*`/); name = substr($0, RSTART + 1, RLENGTH - 2); next }
		/\| S_[GL]PROC32 /           { kind = "proc"; match($0, /`.*`/); name = substr($0, RSTART + 1, RLENGTH - 2); next }
		kind != "" && /addr = [0-9]+:[0-9]+/ {
			match($0, /addr = [0-9]+:[0-9]+/); addr = substr($0, RSTART + 7, RLENGTH - 7)
			if (kind == "pub") { pubs[addr]++; pub[addr] = name } else { procs[addr]++; proc[addr] = name }
			kind = ""
		}
		END {
			for (a in pub) if (pubs[a] == 1 && procs[a] == 1 && substr(pub[a], 1, 1) == "?") print pub[a] "\t" proc[a]
		}'
done | sort -u >"$here/procnames.txt"
echo "$(wc -l <"$here/procnames.txt") name pairs written to $here/procnames.txt" >&2
