// Package pe reads Portable Executable images (.exe, .dll, .sys) for what a debugger needs: the
// headers, the section table, exports, imports, the debug directory with its CodeView record
// (which PDB belongs to the image), the exception directory (.pdata) of x64 and ARM64 images,
// and the version resource.
//
// The layouts follow the Microsoft "PE Format" specification (learn.microsoft.com, "PE Format";
// the x64 and ARM64 exception-handling pages for .pdata) as summarised in
// ../shared/spec/FORMATS.md §4.3 (CodeView record), §7.6 (symbol-store keys) and §8.1
// (RUNTIME_FUNCTION); structs keep the specification's field names.
//
// An image comes from one of two places, and everything past the headers is read through one
// "read at RVA" view of it:
//
//   - a file on disk (Open, NewFile), laid out by file offsets: an RVA is translated through the
//     section table, and the part of a section past its raw data reads as zeros, as the loader
//     maps it;
//   - an image mapped in a dump's memory (NewMapped), laid out at its RVAs from a base address.
//     Pages may be missing from the dump: a read that touches one fails with an error naming the
//     address, and whatever does not need that page still works.
//
// The headers and section table are decoded when the image is opened; exports, imports, the
// debug directory, the exception table and the version resource on first use, once, safely from
// several goroutines. Nothing is trusted: every read is bounds-checked, counts are bounded before
// anything is allocated, and errors (*FormatError) name the RVA (and the file offset or virtual
// address) of the bytes that were wrong and what was expected there. Unwind data (UNWIND_INFO,
// .xdata) is not decoded here: ReadRVA gives the unwinder the bytes.
package pe
