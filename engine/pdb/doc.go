// Package pdb reads Microsoft program databases (PDB 7, the "MSF 7.00" multi-stream container)
// for symbolization and x86 stack walking: the PDB info stream (GUID and age, to match an image's
// CodeView record), the DBI stream (modules, section headers, section contributions, OMAP, FPO
// and frame data), the public symbols (GSI), the module symbol streams (procedures and their
// ranges) and the C13 line tables; for typed stacks and dt, the type records (TPI, IPI) and the
// variables of a procedure (parameters, locals, statics with their locations).
//
// The layouts follow ../shared/spec/FORMATS.md §7 (MSF, info, DBI, publics and symbol records,
// TPI and the leaf records) and §8.2 (FPO_DATA, FRAMEDATA), which summarise the LLVM PDB
// documentation (llvm.org/docs/PDB) and cvinfo.h; structs keep those documents' names where
// they have them. The variable records (S_LOCAL, S_DEFRANGE_*) follow LLVM's "CodeView Symbol
// Records" and its CodeViewRegisters.def for register numbers.
//
// Open and NewFile read only the MSF superblock and the stream directory, so that opening a
// 100 MB PDB costs a few page reads. Everything else is decoded on first use and cached: the
// public symbols on the first PublicAt, one module's procedures and lines when an address first
// falls in that module, the TPI record offsets (one pass over the record lengths) on the first
// type lookup, the names of the UDTs on the first FindType or forward reference, and so on.
// Lookups are binary searches over address-sorted tables.
//
// Addresses: symbols in a PDB are section:offset pairs. RVAs returned by this package are
// image-relative virtual addresses of the image the PDB describes, computed through the section
// headers the linker saved in the PDB and, for images rearranged after linking (old Microsoft
// binaries), through the OMAP tables (FORMATS.md §7.3).
//
// Lookups (PublicAt, FunctionAt, LineAt, FPOAt, FrameDataAt, the ByName forms) answer with an
// ok flag and never fail loudly; the listing accessors (Publics, Functions, Globals, FPO,
// FrameDataRecords, SectionContributions) return the error that kept a part from being read.
// Where identical functions were folded by the linker, several names share an address:
// FunctionAt names the one whose module contributed the bytes (section contributions), PublicAt
// the first in the publics' address map.
//
// Nothing in the file is trusted: every read is bounds-checked against its stream, a stream may
// not claim more bytes than the file holds (so no crafted size allocates more than the file),
// every loop is bounded by the bytes it consumes, and errors (*FormatError) name the stream and
// the offset inside it. A part that fails to decode does not stop the others.
//
// A File is safe for concurrent use by several goroutines, except Close.
package pdb
