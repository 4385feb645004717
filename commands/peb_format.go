package commands

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"wdbg/engine/ntuser"
)

// Value rendering shared by !peb and !teb (WINDBG-SPEC §3.5). A field the dump does not hold is
// shown as question marks of the field's width (our convention, after the `??` of dt and d*,
// WINDBG-SPEC §1.3) and is null in JSON.

// pebPtr renders a pointer-wide field without a backtick (WINDBG-SPEC §1.1: !teb/!peb fields).
// width is the session's effective pointer size; after `.effmach x86` the 64-bit block of a WOW64
// process may hold a value above 4 GiB (the 64-bit ntdll's loader data), which is then printed
// with 16 digits rather than cut to 8 (our choice: never lose digits).
func pebPtr(v ntuser.Value, width int) string {
	if !v.Valid {
		return strings.Repeat("?", 2*width)
	}
	if width == 4 && v.V > 0xffffffff {
		width = 8
	}
	return FormatPtr(v.V, width)
}

// pebMinHex renders a number in minimal lowercase hex without 0x (NtGlobalFlag, LastStatusValue).
func pebMinHex(v ntuser.Value) string {
	if !v.Valid {
		return "??"
	}
	return fmt.Sprintf("%x", v.V)
}

// pebDec renders a number in decimal (LastErrorValue, Count Owned Locks, HardErrorMode).
func pebDec(v ntuser.Value) string {
	if !v.Valid {
		return "??"
	}
	return fmt.Sprintf("%d", v.V)
}

// pebYesNo renders a BOOLEAN as WinDbg does.
func pebYesNo(v ntuser.Value) string {
	switch {
	case !v.Valid:
		return "??"
	case v.V != 0:
		return "Yes"
	}
	return "No"
}

// nameNotReadable is WinDbg's text for a UNICODE_STRING it cannot read (WINDBG-SPEC §3.5).
const nameNotReadable = "< Name not readable >"

// pebQuoted renders a UNICODE_STRING between single quotes, or WinDbg's unreadable marker.
func pebQuoted(s ntuser.UnicodeString) string {
	if !s.Readable {
		return "'" + nameNotReadable + "'"
	}
	return "'" + s.Text + "'"
}

// pebLoaderDate is the module table's date, `Mmm dd hh:mm:ss yyyy`. It is printed in UTC so that
// output does not depend on where wdbg runs; WinDbg uses the debugger machine's time zone (lm t
// does the same in modules.go).
func pebLoaderDate(ts uint32) string {
	return time.Unix(int64(ts), 0).UTC().Format("Jan 02 15:04:05 2006")
}

// pebHex is a field in JSON: "0x1f", or null when the dump does not hold it.
type pebHex ntuser.Value

func (h pebHex) MarshalJSON() ([]byte, error) {
	if !h.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(fmt.Sprintf("0x%x", h.V))
}

// pebNum is a field in JSON as a number, or null.
type pebNum ntuser.Value

func (n pebNum) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(n.V)
}

// pebBool is a BOOLEAN field in JSON: true, false, or null.
type pebBool ntuser.Value

func (b pebBool) MarshalJSON() ([]byte, error) {
	if !b.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(b.V != 0)
}

// pebString is a UNICODE_STRING in JSON: its text, or null when unreadable.
func pebString(s ntuser.UnicodeString) *string {
	if !s.Readable {
		return nil
	}
	t := s.Text
	return &t
}

// pebAddr renders an address the way pebPtr renders a field.
func pebAddr(addr uint64, width int) string { return pebPtr(ntuser.Value{V: addr, Valid: true}, width) }
