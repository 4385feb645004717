#!/bin/bash
# Records what independent tools say about some corpus images, for engine/pe's tests to compare
# against (the tools are not on CI; these files are). Run from anywhere:
#   engine/pe/testdata/oracles/capture.sh
# Needs llvm-readobj from LLVM 19 (Debian package llvm-19: /usr/lib/llvm-19/bin/llvm-readobj)
# and pefile (Debian package python3-pefile, 2023.2.7), and the corpus at ../shared/fixtures
# beside the repository.
#
# NAME.readobj.txt = `llvm-readobj --coff-exports --coff-debug-directory` (and `--coff-imports`,
#   `--unwind` where noted) on the image, keeping only the "Key: value" lines of the fields the tests compare
#   (exports, debug entries with their PDB info, runtime functions); hex dumps and unwind-code
#   listings are dropped, and so are delay-import blocks (not decoded by the package). llvm-readobj 19 crashes with --unwind on some images (mozwer.dll,
#   basic64.dll, amdppm.sys, Wdf01000.sys) and prints field offsets instead of values for all but
#   the first runtime function of others (test-pdb-types.exe, pe_only_symbol_test.dll), so
#   --unwind is recorded only for images where its output is whole.
# NAME.version.txt = the version resource as pefile decodes it (see version_oracle.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$(cd "$here/../../../../../shared/fixtures" && pwd)
readobj=${READOBJ:-/usr/lib/llvm-19/bin/llvm-readobj}
python=${PYTHON:-/usr/bin/python3}

keys='Import|Symbol|ImportLookupTableRVA|ImportAddressTableRVA|File|Format|Arch|Ordinal|Name|RVA|ForwardedTo|Characteristics|TimeDateStamp|MajorVersion|MinorVersion|Type|SizeOfData|AddressOfRawData|PointerToRawData|PDBSignature|PDBGUID|PDBAge|PDBFileName|StartAddress|EndAddress|UnwindInfoAddress|Function|ExceptionRecord|Fragment|FunctionLength|RegF|RegI|HomedParameters|CR|FrameSize'

# readobj NAME IMAGE [--unwind]
readobj() {
	local name=$1 image=$2
	shift 2
	{
		echo "# $readobj --coff-exports --coff-debug-directory $* $image"
		echo "# $("$readobj" --version | grep -m1 'LLVM version' | sed 's/^ *//')"
		(cd "$fixtures" && "$readobj" --coff-exports --coff-debug-directory "$@" "$image") |
			awk '/^DelayImport \{/ { skip = 1 } !skip { print } skip && /^\}/ { skip = 0 }' |
			grep -E "^ *($keys)( \{|: )" | sed 's/^ *//'
	} >"$here/$name.readobj.txt"
}

readobj user32.dll rizin-testbins/pdb/user32.dll --coff-imports
readobj basic32.dll mozilla-dump_syms/basic32.dll --coff-imports
readobj mozwer.dll mozilla-dump_syms/mozwer.dll --coff-imports
readobj crash.exe symbolic/crash.exe
readobj amdppm.sys test-pdb-repository/amdppm.sys/c9c030003b000/amdppm.sys
readobj Wdf01000.sys test-pdb-repository/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys
readobj CrashWithException.exe symbolic/CrashWithException.exe --unwind
readobj dump_syms_regtest64.exe breakpad/dump_syms_testdata/dump_syms_regtest64.exe --unwind
readobj arm64-test.exe symbolic/arm64/test.exe --unwind

# version NAME IMAGE
version() {
	{
		echo "# pefile $("$python" -c 'import pefile; print(pefile.__version__)') on $2 (version_oracle.py)"
		(cd "$fixtures" && "$python" "$here/version_oracle.py" "$2")
	} >"$here/$1.version.txt"
}

version user32.dll rizin-testbins/pdb/user32.dll
version integration.dll symbolic/integration.dll
version amdppm.sys test-pdb-repository/amdppm.sys/c9c030003b000/amdppm.sys
version Wdf01000.sys test-pdb-repository/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys
version mozwer.dll mozilla-dump_syms/mozwer.dll
version pe_only_symbol_test.dll breakpad/dump_syms_testdata/pe_only_symbol_test.dll
