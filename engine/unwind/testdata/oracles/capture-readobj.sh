#!/bin/bash
# Records llvm-readobj's decoding of the ARM64 unwind data (.pdata/.xdata) of symbolic's
# arm64/test.exe, an independent oracle for engine/unwind's ARM64 decoder, so that the test can
# run where llvm-19 is not installed. Run from this directory after ../shared/tools/install-oracles.sh:
#   bash capture-readobj.sh
set -euo pipefail
cd "$(dirname "$0")"
fixtures=../../../../../shared/fixtures
readobj=${READOBJ:-/usr/lib/llvm-19/bin/llvm-readobj}
"$readobj" --unwind "$fixtures/symbolic/arm64/test.exe" | gzip -9n > llvm-readobj-unwind-arm64-test.exe.txt.gz
