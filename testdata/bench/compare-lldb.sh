#!/bin/bash
# Open + all-thread stacks on each corpus dump: wdbg (`~*kv`) against lldb-19 (`bt all`), with
# hyperfine. Needs ../shared/tools/install-oracles.sh (lldb-19, hyperfine). Prints a Markdown table.
#   bash testdata/bench/compare-lldb.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
fixtures=../shared/fixtures
go build -o /tmp/wdbg-bench .
echo "| dump | wdbg ~*kv (ms) | lldb bt all (ms) | lldb / wdbg |"
echo "|---|---|---|---|"
for d in breakpad/minidump2.dmp breakpad/tiny-exe-fastfail.dmp symbolicator/windows.dmp lldb/sigsegv.dmp \
         kdlibcpp/targetapp_stacktest_x64_release_v1/targetapp_stacktest_x64_release.dmp \
         kdlibcpp/targetapp_stacktest_wow64/targetapp_stacktest_wow64.cab.dmp; do
  json=$(mktemp)
  hyperfine -N --warmup 2 --runs 10 --export-json "$json" \
    "/tmp/wdbg-bench -z $fixtures/$d -c \"~*kv;q\"" \
    "lldb-19 -b --core $fixtures/$d -o \"bt all\"" >/dev/null 2>&1
  python3 - "$json" "$d" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
w, l = r[0]["mean"] * 1000, r[1]["mean"] * 1000
print(f"| {sys.argv[2]} | {w:.1f} | {l:.1f} | {l / w:.1f}x |")
PY
  rm -f "$json"
done
