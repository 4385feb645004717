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

# Types and variables (tpi_test.go, params_test.go). The type dumps are long, so each is cut to
# what the tests compare, by whole records:
#   NAME.typenames.txt  every argument of every LF_ARGLIST: the type index and LLVM's full name
#   NAME.udts.txt       every class, structure, union and enum record, joined to one line
#   NAME.fields.txt     the field lists of the named types (their definitions')
#   NAME.records.txt    the records of the given kinds, one line each, type names left out
#   NAME.vars.txt       the symbol records of the named procedures, S_*PROC32 to its S_END
types() { # name relative-path "type|names" "procedure|names" "LEAF|KINDS" [no-udts]
	local name=$1 pdb=$fixtures/$2 udts=$3 procs=$4 kinds=$5 dump
	dump=$(mktemp)
	"$pdbutil" dump -types "$pdb" >"$dump"
	{
		echo "# llvm-pdbutil dump -types $2 | LF_ARGLIST arguments, sorted, unique"
		awk '/^ *0x[0-9A-F]+ \| LF_/ { inargs = /\| LF_ARGLIST/; next }
			inargs && /^ *0x[0-9A-F]+( \(.*\))?: `/ { sub(/^ */, ""); print }' "$dump" | LC_ALL=C sort -u
	} >"$here/$name.typenames.txt"
	if [ -z "${6:-}" ]; then {
		echo "# llvm-pdbutil dump -types $2 | class, structure, union and enum records, one line each (unique names left out)"
		awk 'function flush() { if (rec != "") print rec; rec = "" }
			/^ *0x[0-9A-F]+ \| LF_/ { flush(); if (/\| LF_(STRUCTURE|CLASS|UNION|ENUM|INTERFACE) /) { sub(/^ */, ""); sub(/ \[size = [0-9]+\]/, ""); rec = $0 }; next }
			rec != "" && !/^ *unique name: / { sub(/^ */, ""); sub(/^vtable: <no type>, base list: <no type>, /, ""); rec = rec " | " $0 }
			END { flush() }' "$dump"
	} >"$here/$name.udts.txt"; fi
	{
		echo "# llvm-pdbutil dump -types $2 | field lists of: $udts"
		awk -v names="$udts" '
			BEGIN { n = split(names, a, "|"); for (i = 1; i <= n; i++) want["`" a[i] "`"] = 1 }
			FNR == NR {
				if (/^ *0x[0-9A-F]+ \| LF_/) { cur = ""; if (match($0, /`.*`$/) && substr($0, RSTART, RLENGTH) in want) cur = 1; next }
				if (cur && /field list: 0x/ && !/forward ref/) { match($0, /field list: 0x[0-9A-F]+/); fl[substr($0, RSTART + 12, RLENGTH - 12)] = 1 }
				next
			}
			/^ *0x[0-9A-F]+ \| LF_/ { printing = ($1 in fl) }
			printing { print }' "$dump" "$dump"
	} >"$here/$name.fields.txt"
	{
		echo "# llvm-pdbutil dump -types $2 | LF_($kinds) records, one line each, (names) left out"
		awk -v kinds="^LF_($kinds)\$" 'function flush() { if (rec != "") { while (gsub(/ \([^()]*\)/, "", rec)); print rec }; rec = "" }
			/^ *0x[0-9A-F]+ \| LF_/ { flush(); if ($3 ~ kinds) { sub(/^ */, ""); sub(/ \[size = [0-9]+\]/, ""); rec = $0 }; next }
			rec != "" { sub(/^ */, ""); rec = rec " | " $0 }
			END { flush() }' "$dump"
	} >"$here/$name.records.txt"
	rm -f "$dump"
	if [ -n "$procs" ]; then {
		echo "# llvm-pdbutil dump -symbols $2 | procedures: $procs"
		"$pdbutil" dump -symbols "$pdb" | awk -v names="$procs" '
			BEGIN { n = split(names, a, "|"); for (i = 1; i <= n; i++) want["`" a[i] "`"] = 1 }
			printing && /^ *[0-9]+ \| S_/ && $1 == endoff { print; printing = 0; next }
			printing { print; next }
			/^ *[0-9]+ \| S_[GL]PROC32 / && match($0, /`.*`$/) {
				nm = substr($0, RSTART, RLENGTH)
				if (nm in want && !(nm in done)) {
					done[nm] = 1; printing = 1; print
					getline; print
					match($0, /end = [0-9]+/); endoff = substr($0, RSTART + 6, RLENGTH - 6)
				}
			}'
	} >"$here/$name.vars.txt"; fi
}

types wow64 kdlibcpp/targetapp_stacktest_wow64/targetapp.pdb \
	"stackTestClass|structTest|structWithBits|structWithSignBits|structWithArray|structWithEnum|structWithNested|unionTest|classChild|virtualChild|enumType|listStruct|_PROCESS_INFORMATION|_STARTUPINFOW|EHExceptionRecord" \
	"stackTestClass::stackMethod|stackTestRun1|stackTestRun2|stackTestRun|classChild::overloadMethod|sleepThread" \
	"BITFIELD|ARRAY|MODIFIER"
types allreg kdlibcpp/targetapp_test_cv_allreg_amd64/targetapp.pdb \
	"stackTestClass|structWithBits|classChild|virtualChild|_STARTUPINFOW" \
	"test_cv_allreg_amd64|test_cv_allreg|stackTestRun1|startChildProcess|capture_previous_context|__security_init_cookie" "BITFIELD|ARRAY" no-udts
types amdppm test-pdb-repository/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb \
	"_DEVICE_OBJECT|_DRIVER_OBJECT|_IRP|_KUSER_SHARED_DATA|_LIST_ENTRY|_UNICODE_STRING|_LARGE_INTEGER|_KDPC|_DISPATCHER_HEADER|_IO_STACK_LOCATION" \
	"" "BITFIELD|ARRAY|MODIFIER|POINTER|PROCEDURE"

# Inline sites (inline_test.go):
#   NAME.inlines.txt  the module headers, every procedure record with the line after it (its
#                     address) and every S_INLINESITE/S_INLINESITE2/S_INLINESITE_END record with
#                     its decoded binary annotations
#   NAME.il.txt       dump -il: each inlinee's first line and source file
inlines() { # name relative-path
	local name=$1 pdb=$fixtures/$2
	{
		echo "# llvm-pdbutil dump -symbols $2 | modules, procedures, inline sites and their ends"
		"$pdbutil" dump -symbols "$pdb" | awk '
			/^ *[0-9]+ \| S_/ { keep = ($3 ~ /^S_([GL]PROC32(_ID)?|INLINESITE2?|INLINESITE_END)$/); proc = ($3 ~ /PROC32/); n = 0; if (keep) print; next }
			/^Mod [0-9]+ \|/ { print; next }
			keep && proc { if (n++ == 0) print; next }
			keep { print }'
	} >"$here/$name.inlines.txt"
	{
		echo "# llvm-pdbutil dump -il $2"
		"$pdbutil" dump -il "$pdb"
	} >"$here/$name.il.txt"
}

inlines stacktest kdlibcpp/targetapp_stacktest_x64_release_v1/targetapp.pdb
inlines allreg kdlibcpp/targetapp_test_cv_allreg_amd64/targetapp.pdb

# Inline chains from llvm-symbolizer (inline_test.go), an independent reader of the same PE+PDB
# pairs: NAME.symbolizer.txt has one line per address, "RVA|function|file|line|..." innermost
# first with the physical function last, for every 4th byte of .text where the chain has
# inlined frames and for every 30th of the others.
symbolizer=${pdbutil%/*}/llvm-symbolizer
# llvm-symbolizer 19 crashes on some inline sites (LazyRandomTypeCollection::getType): addresses
# go in chunks, and a chunk that crashes is redone one address at a time, leaving out those that
# crash.
symbolize1() { "$symbolizer" --obj="$1" --inlines --relative-address --no-demangle --output-style=GNU --addresses 2>/dev/null; }
symbolize() { # name relative-exe text-start text-size
	local name=$1 exe=$fixtures/$2 start=$3 size=$4 chunk out a
	chunk=$(mktemp)
	{
		echo "# llvm-symbolizer --obj=$2 --inlines --relative-address, every 4th address of .text, one line each"
		for ((base = start; base < start + size; base += 200)); do
			seq "$base" 4 $((base + 199 < start + size - 1 ? base + 199 : start + size - 1)) | awk '{ printf "0x%x\n", $1 }' >"$chunk"
			if ! out=$(symbolize1 "$exe" <"$chunk"); then
				out=""
				while read -r a; do
					out+=$(echo "$a" | symbolize1 "$exe")$'\n\n' || true
				done <"$chunk"
			fi
			printf '%s\n\n' "$out"
		done 2>/dev/null | awk 'function flush() { if (addr != "" && n > 0 && (n > 1 || k++ % 30 == 0)) print addr rec; addr = ""; rec = ""; n = 0; fn = "" }
				/^0x/ { flush(); addr = $0; next }
				/^$/ { flush(); next }
				fn == "" { fn = $0; next }
				{ loc = $0; line = loc; sub(/.*:/, "", line); file = loc; sub(/:[0-9]+$/, "", file)
				  rec = rec "|" fn "|" file "|" line; fn = ""; n++ }
				END { flush() }'
	} >"$here/$name.symbolizer.txt"
	rm -f "$chunk"
}

symbolize crash symbolic/crash.exe $((0x1000)) $((0x291b))
symbolize crashwithexception symbolic/CrashWithException.exe $((0x1000)) $((0x10e2))
