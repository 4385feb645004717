package pdb

import (
	"errors"
	"fmt"
)

// ErrNotPDB is returned when the file does not start with the MSF 7.00 magic.
var ErrNotPDB = errors.New("pdb: not an MSF 7.00 program database")

// ErrNoStream is returned (wrapped) when the PDB lacks an optional stream: no DBI stream, no
// publics, no section headers, ...
var ErrNoStream = errors.New("pdb: stream not present")

func isMissingStream(err error) bool { return errors.Is(err, ErrNoStream) }

// ErrClosed is returned by accessors that would read the file after Close.
var ErrClosed = errors.New("pdb: file already closed")

// containerStream is the Stream value of a FormatError about the MSF container itself (the
// superblock, the block map or the stream directory); Off is then a file offset.
const containerStream = -1

// FormatError reports malformed PDB data: which stream, where inside it, what was being read and
// what was wrong with it.
type FormatError struct {
	Stream int    // stream index, or -1 for the MSF container (then Off is a file offset)
	Name   string // what the stream holds, e.g. "DBI" or "module 5 symbols"
	Off    int64  // offset of the offending bytes inside the stream (or the file)
	What   string // what was being read, e.g. "module info"
	Msg    string // what was wrong, e.g. "truncated (need 64 bytes, have 12)"
}

func (e *FormatError) Error() string {
	if e.Stream == containerStream {
		return fmt.Sprintf("pdb: %s at file offset %#x: %s", e.What, e.Off, e.Msg)
	}
	return fmt.Sprintf("pdb: stream %d (%s) at %#x: %s: %s", e.Stream, e.Name, e.Off, e.What, e.Msg)
}

// MismatchError is returned by Matches when the PDB is not the one an image was linked with
// (WinDbg then refuses to load it).
type MismatchError struct {
	WantGUID [16]byte // from the image's CodeView (RSDS) record
	WantAge  uint32
	GUID     [16]byte // this PDB's
	Age      uint32
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("pdb: mismatched PDB: image wants %s age %d, PDB is %s age %d",
		FormatGUID(e.WantGUID), e.WantAge, FormatGUID(e.GUID), e.Age)
}
