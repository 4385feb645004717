// Package symstore is WinDbg's symbol path and a symbol-store client: it parses a symbol path as
// `.sympath`, `-y` and `_NT_SYMBOL_PATH` take it and finds files by their store key in local
// directories, local stores and HTTP(S) symbol servers, caching downloads in store layout.
//
// Facts come from WINDBG-SPEC.md §2.4 and FORMATS.md §7.6, which summarise Microsoft's
// "Symbol path for Windows debuggers", "Advanced SymSrv Use", "Symbol Storage Format" and
// "Symbol Store Folder Tree" pages and the SSQP key conventions (dotnet/symstore). Compressed
// store files (`name.pd_`) are Microsoft cabinets ([MS-CAB]) with MSZIP blocks ([MS-MCI]).
//
// Path syntax (`;`-separated elements, each one of):
//
//	DIR                      a plain directory (searched as a store, then flat: DIR/symbols/EXT, DIR/EXT, DIR)
//	srv*                     Microsoft's public server, cached in the default downstream store
//	srv*STORE                one store; an HTTP(S) store is cached in the default downstream store
//	srv*S1*S2*...*STORE      stores searched left to right; a file found in one is copied into every
//	                         store to its left (downstream first). An empty part is the default
//	                         downstream store (`srv**https://...`).
//	symsrv*DLL*S1*...        the same with the DLL named (`srv` is short for `symsrv*symsrv.dll`)
//	cache*DIR / cache*       files found by keyed lookups in elements to its right are copied into
//	                         DIR (or the default downstream store)
//
// The default downstream store is, in order: the directory given to `.symfix` (Path.DefaultCache),
// Options.DefaultCache, $DBGHELP_HOMEDIR/sym (the variable dbghelp documents for its home
// directory), and os.UserCacheDir()/wdbg/symbols (~/.cache/wdbg/symbols on Linux).
//
// Differences from dbghelp, on purpose:
//   - Lookups are offline first: every local location of the path (directories, local stores,
//     caches, the default downstream store) is searched in path order before any HTTP(S) store is
//     asked, so a cached file never costs a request.
//   - Windows paths on other systems: a drive-letter path (C:\x, C:/x) or a UNC path (\\srv\share)
//     cannot be reached, so such a directory or store is skipped, as symsrv skips a store it
//     cannot read or write; `srv*C:\symbols*https://server/symbols` from a Windows environment
//     therefore still works on Linux, caching into the default downstream store. Other
//     backslashes are read as separators (`..\syms` is ../syms).
//   - Files found by name only in a plain directory (not under their key) are never copied into a
//     cache: their identity is unverified (Options.Verify checks it when set).
//   - A compressed file is stored uncompressed in every downstream store, not only the last.
//   - A file.ptr read from an HTTP store may point to a URL or to a path relative to its own URL;
//     a local path named by a remote server is refused.
//   - Store lookups ignore case (SSQP: keys are case-insensitive): local directories are matched
//     with strings.EqualFold, and an HTTP store that answers 404 to the WinDbg spelling of a file
//     (amdppm.sys/C9C030003b000/amdppm.sys) is asked again with the id in lower case (how mirrors
//     of Microsoft's server spell it: Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys) and then all in
//     lower case (SSQP). The compressed form and file.ptr are asked in the WinDbg spelling only.
//   - An HTTP store is asked once per session for index2.txt, to learn whether it is two-tier.
//
// The engine never prints: progress goes to Options.Progress and the caller draws it.
package symstore
