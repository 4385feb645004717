package pdb

import (
	"encoding/binary"
	"fmt"
)

// CodeView symbol record kinds used here (FORMATS.md §7.3–7.4; cvinfo.h SYM_ENUM_e).
const (
	S_END             = 0x0006
	S_FRAMEPROC       = 0x1012
	S_THUNK32         = 0x1102
	S_BLOCK32         = 0x1103
	S_CONSTANT        = 0x1107
	S_UDT             = 0x1108
	S_LDATA32         = 0x110C
	S_GDATA32         = 0x110D
	S_PUB32           = 0x110E
	S_LPROC32         = 0x110F
	S_GPROC32         = 0x1110
	S_REGREL32        = 0x1111
	S_LTHREAD32       = 0x1112
	S_GTHREAD32       = 0x1113
	S_PROCREF         = 0x1125
	S_LPROCREF        = 0x1127
	S_SEPCODE         = 0x1132
	S_LPROC32_ID      = 0x1146
	S_GPROC32_ID      = 0x1147
	S_INLINESITE      = 0x114D
	S_INLINESITE_END  = 0x114E
	S_PROC_ID_END     = 0x114F
	S_LPROC32_DPC     = 0x1155
	S_LPROC32_DPC_ID  = 0x1156
	recordHeaderSize  = 4 // RecLen u16 (excluding itself), RecKind u16
	maxRecordLen      = 0xFFFF + 2
	symRecordsName    = "symbol records"
	publicsStreamName = "publics"
	globalsStreamName = "globals"
)

// isProc reports whether a record kind is a procedure start (PROCSYM32 layout).
func isProc(kind uint16) bool {
	switch kind {
	case S_LPROC32, S_GPROC32, S_LPROC32_ID, S_GPROC32_ID, S_LPROC32_DPC, S_LPROC32_DPC_ID:
		return true
	}
	return false
}

// walkRecords calls fn for each symbol record in b (records of {RecLen u16, RecKind u16,
// payload}, FORMATS.md §7.4); rec includes the 4-byte header and off is its stream offset (base
// is the stream offset of b[0]). fn returns false to stop. The loop is bounded: every record
// consumes at least 4 bytes.
func walkRecords(w where, what string, b []byte, base int64, fn func(off int64, kind uint16, rec []byte) bool) error {
	for pos := 0; pos+recordHeaderSize <= len(b); {
		reclen := int(binary.LittleEndian.Uint16(b[pos:]))
		kind := binary.LittleEndian.Uint16(b[pos+2:])
		if reclen < 2 {
			return w.errorf(base+int64(pos), what, "record of length %d", reclen)
		}
		end := pos + 2 + reclen
		if end > len(b) {
			return w.truncated(base+int64(pos), what, uint64(reclen+2), uint64(len(b)-pos))
		}
		if !fn(base+int64(pos), kind, b[pos:end]) {
			return nil
		}
		pos = end
	}
	return nil
}

// symRecordStream is the stream all public and global records live in (DBI SymRecordStream).
func (f *File) symRecordStream() (*Stream, error) {
	h, err := f.DBIHeader()
	if err != nil {
		return nil, err
	}
	if h.SymRecordStream == noStream {
		return nil, fmt.Errorf("pdb: symbol record stream: %w", ErrNoStream)
	}
	return f.stream(int(h.SymRecordStream), symRecordsName)
}

// readRecord returns the whole record at off of the symbol record stream.
func readRecord(s *Stream, off int64) (kind uint16, rec []byte, err error) {
	hdr, err := s.view(off, recordHeaderSize, "symbol record")
	if err != nil {
		return 0, nil, err
	}
	reclen := int64(binary.LittleEndian.Uint16(hdr))
	if reclen < 2 {
		return 0, nil, s.w.errorf(off, "symbol record", "record of length %d", reclen)
	}
	rec, err = s.view(off, reclen+2, "symbol record")
	if err != nil {
		return 0, nil, err
	}
	return binary.LittleEndian.Uint16(hdr[2:]), rec, nil
}

// symRef is the part of S_PUB32, S_GDATA32/S_LDATA32 and friends that locates them: a u32 at
// @4 (flags or type index), Offset u32 @8, Segment u16 @0xC, Name @0xE (FORMATS.md §7.4).
type symRef struct {
	word    uint32
	offset  uint32
	segment uint16
	name    string
}

func decodeSymRef(w where, off int64, rec []byte) (symRef, error) {
	c := newCursor(w, "symbol record", rec, off)
	c.skip(recordHeaderSize)
	r := symRef{word: c.u32(), offset: c.u32(), segment: c.u16()}
	r.name = c.cstring()
	return r, c.err
}

// tooManyNames is the error of a listing whose names outgrow the budget: only a crafted table
// that names the same records over and over gets there.
func tooManyNames(w where, off int64, what string, budget int64) error {
	return w.errorf(off, what, "names total more than %d bytes, twice the file's size: records listed over and over?", budget)
}

// recordNamed reports whether the S_PUB32-shaped record at off (name at @0xE: S_PUB32,
// S_GDATA32, S_PROCREF, ...) has the given name, reading only that many bytes of it.
func recordNamed(s *Stream, off uint32, name string) bool {
	hdr, err := s.view(int64(off), recordHeaderSize, "symbol record")
	if err != nil {
		return false
	}
	reclen := int(binary.LittleEndian.Uint16(hdr))
	n := symRefNameOff + len(name) + 1
	if n > reclen+2 {
		return false
	}
	b, err := s.view(int64(off)+symRefNameOff, int64(len(name)+1), "symbol record")
	return err == nil && b[len(name)] == 0 && string(b[:len(name)]) == name
}

// symRefNameOff is where the name starts in S_PUB32, S_GDATA32, S_PROCREF and friends.
const symRefNameOff = 0xE

// Hash used by the GSI name tables: LLVM's hashStringV1 (Hasher::lhashPbCb in microsoft-pdb),
// as documented with llvm/lib/DebugInfo/PDB/Native/Hash.cpp: XOR of the little-endian u32 words,
// then of a trailing u16 and byte, folded.
func hashStringV1(s string) uint32 {
	var h uint32
	b := []byte(s)
	for len(b) >= 4 {
		h ^= binary.LittleEndian.Uint32(b)
		b = b[4:]
	}
	if len(b) >= 2 {
		h ^= uint32(binary.LittleEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		h ^= uint32(b[0])
	}
	h |= 0x20202020
	h ^= h >> 11
	return h ^ (h >> 16)
}
