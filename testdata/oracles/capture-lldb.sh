#!/bin/bash
# Records what lldb-19 (an independent minidump reader) prints for the corpus dumps: threads, each
# thread's registers and the module list. The files in testdata/oracles/lldb are its output, kept so
# that tests can compare wdbg with lldb on machines where lldb is not installed.
# Run from the repository root after ../shared/tools/install-oracles.sh:
#   bash testdata/oracles/capture-lldb.sh
set -euo pipefail
fixtures=../shared/fixtures
out=testdata/oracles/lldb
dumps=(
  breakpad/minidump2.dmp
  breakpad/tiny-exe-fastfail.dmp
  breakpad/write_av_non_canonical.dmp
  breakpad/tiny-exe-with-cet-xsave.dmp
  kdlibcpp/targetapp_minidump/target_minidump.dmp
  kdlibcpp/targetapp_stacktest_x64_release_v1/targetapp_stacktest_x64_release.dmp
  kdlibcpp/targetapp_test_cv_allreg_amd64/targetapp_test_cv_allreg_amd64.dmp
  lldb/fizzbuzz_no_heap.dmp
  lldb/sigsegv.dmp
  symbolicator/windows.dmp
)
for d in "${dumps[@]}"; do
  n=$(lldb-19 -b --core "$fixtures/$d" -o 'thread list' 2>/dev/null | grep -c '^[ *] thread #' || true)
  args=(-o 'thread list' -o 'image list')
  for i in $(seq 1 "$n"); do args+=(-o "thread select $i" -o 'register read'); done
  name=$(echo "$d" | tr '/' '_')
  { echo "# lldb-19 -b --core $d ${args[*]}"; lldb-19 -b --core "$fixtures/$d" "${args[@]}" 2>&1 | grep -v '^Core file\|^(lldb) target create'; } > "$out/$name.txt"
done
