#!/bin/bash
# Throughput of `wdbg triage -j 2` over the whole ../shared/fixtures corpus against running
# `wdbg -z X -c "!analyze -v;q"` once per dump, one after the other (issue 6, "Throughput").
# Prints dumps per second for both, the ratio, and the CPU time per wall-clock second of the
# triage run ((user + sys) / wall: near 2 means both cores are busy). The corpus is small (its
# dumps open in milliseconds), so a second row triages it REPEAT times in one run (the folder
# given REPEAT times), where process start-up no longer dominates. Needs hyperfine and python3.
#   bash testdata/bench/triage.sh [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/../.."
fixtures=$(cd ../shared/fixtures && pwd)
repeat=${1:-50}
bin=/tmp/wdbg-bench
go build -o "$bin" .

# The dumps, found as `wdbg triage` finds them (by signature), in the same order.
mapfile -t dumps < <(find "$fixtures" -type f -print0 | sort -z |
	while IFS= read -r -d '' f; do
		case $(head -c 8 "$f" | tr -d '\0') in MDMP* | PAGEDUMP | PAGEDU64) echo "$f" ;; esac
	done)
n=${#dumps[@]}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One `wdbg -z X -c "!analyze -v;q"` per dump, sequentially; REPEAT passes for the second row.
{
	echo '#!/bin/bash'
	echo 'for pass in $(seq "$1"); do'
	for d in "${dumps[@]}"; do
		printf '  %q -z %q -c %q >/dev/null 2>&1 || true\n' "$bin" "$d" '!analyze -v;q'
	done
	echo 'done'
} >"$work/seq.sh"
folders=()
for _ in $(seq "$repeat"); do folders+=("$fixtures"); done

# Exit status 3 is expected: the corpus holds deliberately broken dumps (-i).
hyperfine -N -i --warmup 2 --runs 20 --export-json "$work/t1.json" "$bin triage -j 2 $fixtures" >/dev/null 2>&1
hyperfine -N -i --warmup 1 --runs 10 --export-json "$work/s1.json" "bash $work/seq.sh 1" >/dev/null 2>&1
hyperfine -N -i --warmup 1 --runs 5 --export-json "$work/tN.json" "$bin triage -j 2 ${folders[*]}" >/dev/null 2>&1
hyperfine -N -i --warmup 1 --runs 3 --export-json "$work/sN.json" "bash $work/seq.sh $repeat" >/dev/null 2>&1
# The same runs with one worker, to show what the second core buys.
hyperfine -N -i --warmup 1 --runs 5 --export-json "$work/tN1.json" "$bin triage -j 1 ${folders[*]}" >/dev/null 2>&1

python3 - "$work" "$n" "$repeat" <<'PY'
import json, sys
work, n, rep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(name):
    r = json.load(open(f"{work}/{name}.json"))["results"][0]
    return r["mean"], (r["user"] + r["system"]) / r["mean"]
print("| run | dumps | triage -j 2 (dumps/s) | CPU/wall | -z X -c \"!analyze -v;q\" per dump (dumps/s) | ratio | triage -j 1 (dumps/s) |")
print("|---|---|---|---|---|---|---|")
for label, t, s, one, k in (("corpus once", "t1", "s1", None, 1), (f"corpus x{rep}", "tN", "sN", "tN1", rep)):
    tm, tcpu = load(t)
    sm, _ = load(s)
    dumps = n * k
    j1 = f"{dumps / load(one)[0]:.0f}" if one else "-"
    print(f"| {label} | {dumps} | {dumps / tm:.0f} | {tcpu:.2f} | {dumps / sm:.0f} | {sm / tm:.1f}x | {j1} |")
PY
