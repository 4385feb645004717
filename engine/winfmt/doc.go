// Package winfmt holds Windows binary structures shared by the format parsers: the GUID, the
// CodeView record that names an image's PDB, and VS_FIXEDFILEINFO. The PE parser finds these in
// an image's debug directory and version resource, the minidump parser in its module list; both
// decode the bytes here and wrap failures in their own error types, which know the file offset.
//
// engine/synth, the independent dump writer, must not use this package: its tests check these
// decoders against bytes it writes on its own.
package winfmt
