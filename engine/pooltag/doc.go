// Package pooltag knows what pool tags mean: it reads pooltag.txt files (the debugger's tag
// list, WINDBG-SPEC.md §3.8 and §6), finds them where WinDbg and wdbg look, falls back on a
// built-in list of our own, formats a tag's description the way !poolused and !pool print it,
// matches tags against the `*`/`?` patterns of !poolused and !poolfind, and finds which loaded
// images in a dump contain a tag (the offline `findstr /m /l TAG *.sys` of Microsoft KB 298102).
//
// Tags are 4 bytes kept as a Go string in memory order: the tag the kernel stores as the
// little-endian dword 0x6b61654c is "Leak" (FORMATS.md §6.1). The package never prints; it
// returns values and errors.
package pooltag
