#!/bin/bash
# Open + stack with symbols fetched from a symbol server: cold (empty download cache, every file
# comes over HTTP from a loopback server holding ../shared/fixtures/test-pdb-repository) against
# warm (the cache already holds them). Needs hyperfine and python3 (for the loopback server).
# Prints a Markdown table.
#   bash testdata/bench/symbol-cache.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
fixtures=$(cd ../shared/fixtures && pwd)
go build -o /tmp/wdbg-bench .
port=$((20000 + RANDOM % 20000))
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$fixtures/test-pdb-repository" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$cache"' EXIT
cache=$(mktemp -d)
sleep 1
dump=$fixtures/rizin-testbins/dmp/triage_x64.dmp
cmd="/tmp/wdbg-bench -z $dump -y srv*$cache*http://127.0.0.1:$port -c \".cxr ffff850429891720;kv;q\""
echo "| dump | cold symbol cache (ms) | warm symbol cache (ms) |"
echo "|---|---|---|"
json=$(mktemp)
hyperfine -N --runs 10 --prepare "rm -rf $cache" --export-json "$json.cold" "$cmd" >/dev/null 2>&1
eval "$cmd" >/dev/null 2>&1
hyperfine -N --warmup 2 --runs 10 --export-json "$json.warm" "$cmd" >/dev/null 2>&1
python3 - "$json.cold" "$json.warm" <<'PY'
import json, sys
cold = json.load(open(sys.argv[1]))["results"][0]["mean"] * 1000
warm = json.load(open(sys.argv[2]))["results"][0]["mean"] * 1000
print(f"| rizin-testbins/dmp/triage_x64.dmp (.cxr; kv) | {cold:.1f} | {warm:.1f} |")
PY
rm -f "$json" "$json.cold" "$json.warm"
