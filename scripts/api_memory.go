package scripts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"unicode/utf16"

	lua "github.com/yuin/gopher-lua"

	"wdbg/commands"
	"wdbg/engine"
)

// Reads never raise on memory the dump does not hold: they return nil and WinDbg's message
// ("Memory access error at 'fffff804`8b58334c'"), since holes are normal in dumps.

const (
	maxStringRead = 1 << 20  // readstr/readwstr
	maxSearchSpan = 16 << 30 // search/strings: bytes of address space one call may scan
	maxMatches    = 100000
	searchChunk   = 64 << 10
)

// memError is the nil, message pair for an unreadable address.
func (h *Host) memError(L *lua.LState, err error, at uint64) int {
	var re *engine.ReadError
	if errors.As(err, &re) {
		at = re.Addr
	}
	L.Push(lua.LNil)
	L.Push(lua.LString(fmt.Sprintf("Memory access error at '%s'", commands.FormatAddr(at, h.sess.PointerSize()))))
	return 2
}

// apiRead is dbg.read(addr, n): n bytes as a Lua string; nil and a message when any is missing.
func (h *Host) apiRead(L *lua.LState) int {
	a := h.checkAddr(L, 1)
	n := L.CheckInt(2)
	if n < 0 || n > maxStringBytes {
		L.ArgError(2, fmt.Sprintf("size must be 0..%d", maxStringBytes))
	}
	buf := make([]byte, n)
	if err := engine.ReadFull(h.sess.Memory(), buf, a); err != nil {
		return h.memError(L, err, a)
	}
	L.Push(lua.LString(buf))
	return 1
}

// readUnsigned is dbg.readu8/16/32/64(addr). 8-, 16- and 32-bit values are Lua numbers (exact);
// 64-bit values are addr values, because a double would lose their low bits.
func (h *Host) readUnsigned(size int) lua.LGFunction {
	return func(L *lua.LState) int {
		a := h.checkAddr(L, 1)
		var buf [8]byte
		if err := engine.ReadFull(h.sess.Memory(), buf[:size], a); err != nil {
			return h.memError(L, err, a)
		}
		v := binary.LittleEndian.Uint64(buf[:])
		if size == 8 {
			L.Push(h.newAddr(L, v))
		} else {
			L.Push(lua.LNumber(v))
		}
		return 1
	}
}

// apiReadPtr is dbg.readptr(addr): a pointer of the effective machine's width, as an addr.
func (h *Host) apiReadPtr(L *lua.LState) int {
	a := h.checkAddr(L, 1)
	v, err := engine.ReadPointer(h.sess.Memory(), a, h.sess.PointerSize())
	if err != nil {
		return h.memError(L, err, a)
	}
	L.Push(h.newAddr(L, v))
	return 1
}

// readUpTo reads at most max bytes at a, stopping at the first unreadable byte.
func (h *Host) readUpTo(a uint64, max int) ([]byte, error) {
	buf := make([]byte, max)
	n, err := h.sess.Memory().ReadAt(buf, a)
	if n == 0 && err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// apiReadStr is dbg.readstr(addr, [max]): a NUL-terminated 8-bit string (at most max bytes,
// default 4096); what is readable before a hole counts.
func (h *Host) apiReadStr(L *lua.LState) int {
	a := h.checkAddr(L, 1)
	max := L.OptInt(2, 4096)
	if max <= 0 || max > maxStringRead {
		L.ArgError(2, fmt.Sprintf("max must be 1..%d", maxStringRead))
	}
	b, err := h.readUpTo(a, max)
	if err != nil {
		return h.memError(L, err, a)
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	L.Push(lua.LString(b))
	return 1
}

// apiReadWStr is dbg.readwstr(addr, [max]): a NUL-terminated UTF-16LE string of at most max
// characters (default 4096), as UTF-8.
func (h *Host) apiReadWStr(L *lua.LState) int {
	a := h.checkAddr(L, 1)
	max := L.OptInt(2, 4096)
	if max <= 0 || max > maxStringRead/2 {
		L.ArgError(2, fmt.Sprintf("max must be 1..%d", maxStringRead/2))
	}
	b, err := h.readUpTo(a, max*2)
	if err != nil {
		return h.memError(L, err, a)
	}
	units := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u := binary.LittleEndian.Uint16(b[i:])
		if u == 0 {
			break
		}
		units = append(units, u)
	}
	L.Push(lua.LString(string(utf16.Decode(units))))
	return 1
}

// searchPattern reads search's pattern: a string of bytes, or a table {bytes = "..."},
// {string = "..."} (the same), {wstring = "..."} (UTF-16LE) or {0x4d, 0x5a, ...}.
func searchPattern(L *lua.LState, i int) []byte {
	switch v := L.Get(i).(type) {
	case lua.LString:
		return []byte(v)
	case *lua.LTable:
		if s, ok := v.RawGetString("wstring").(lua.LString); ok {
			var b []byte
			for _, u := range utf16.Encode([]rune(string(s))) {
				b = binary.LittleEndian.AppendUint16(b, u)
			}
			return b
		}
		for _, k := range []string{"bytes", "string"} {
			if s, ok := v.RawGetString(k).(lua.LString); ok {
				return []byte(s)
			}
		}
		var b []byte
		for j := 1; j <= v.Len(); j++ {
			n, ok := v.RawGetInt(j).(lua.LNumber)
			if !ok || n < 0 || n > 255 || n != lua.LNumber(int(n)) {
				L.ArgError(i, "byte values 0..255 expected")
			}
			b = append(b, byte(n))
		}
		return b
	}
	L.ArgError(i, "pattern expected: a string, {wstring=...}, {bytes=...} or a table of bytes")
	return nil
}

// scan walks [start, end) in chunks, calling fn with each readable run of bytes and its
// address; chunks overlap by keep bytes so that matches across chunk edges are seen. Unreadable
// memory is skipped a page at a time. It stops when the script's context ends.
func (h *Host) scan(L *lua.LState, start, end uint64, keep int, fn func(at uint64, b []byte) bool) {
	if end <= start {
		return
	}
	if end-start > maxSearchSpan {
		L.RaiseError("range %s..%s is larger than %d GiB", h.formatAddr(start), h.formatAddr(end), maxSearchSpan>>30)
	}
	mem := h.sess.Memory()
	ctx := h.ctx()
	buf := make([]byte, searchChunk+keep)
	for a := start; a < end; {
		if err := ctx.Err(); err != nil {
			L.RaiseError("%v", err)
		}
		n := uint64(len(buf))
		if end-a < n {
			n = end - a
		}
		got, _ := mem.ReadAt(buf[:n], a)
		if got == 0 {
			// Skip to the next page, or to a known region start before it: minidump ranges
			// need not start on a page (a thread's stack is captured from its stack pointer).
			next := (a | 0xfff) + 1
			if hint, ok := h.nextRegionStart(a); ok && hint < next {
				next = hint
			}
			if next <= a {
				return
			}
			a = next
			continue
		}
		if !fn(a, buf[:got]) {
			return
		}
		step := uint64(got)
		if got == int(n) && a+n < end && got > keep {
			step -= uint64(keep)
		}
		a += step
	}
}

// nextRegionStart is the first address above a where the dump is known to start holding memory:
// a captured thread stack, a memory-info region or a module image.
func (h *Host) nextRegionStart(a uint64) (uint64, bool) {
	if h.regionStarts == nil {
		t := h.sess.Target
		starts := []uint64{}
		for _, th := range t.Threads {
			starts = append(starts, th.StackStart)
		}
		for _, r := range t.MemoryInfo {
			starts = append(starts, r.BaseAddress)
		}
		for _, m := range t.Modules {
			starts = append(starts, m.Base)
		}
		sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
		h.regionStarts = starts
	}
	i := sort.Search(len(h.regionStarts), func(i int) bool { return h.regionStarts[i] > a })
	if i == len(h.regionStarts) {
		return 0, false
	}
	return h.regionStarts[i], true
}

// apiSearch is dbg.search(start, end, pattern, [max]): the addresses where pattern occurs in
// [start, end), in order, at most max (default 1000).
func (h *Host) apiSearch(L *lua.LState) int {
	start, end := h.checkAddr(L, 1), h.checkAddr(L, 2)
	pat := searchPattern(L, 3)
	max := L.OptInt(4, 1000)
	if len(pat) == 0 {
		L.ArgError(3, "empty pattern")
	}
	if max <= 0 || max > maxMatches {
		L.ArgError(4, fmt.Sprintf("max must be 1..%d", maxMatches))
	}
	out := L.NewTable()
	seen := map[uint64]bool{}
	count := 0
	h.scan(L, start, end, len(pat)-1, func(at uint64, b []byte) bool {
		for off := 0; ; {
			i := bytes.Index(b[off:], pat)
			if i < 0 {
				return true
			}
			hit := at + uint64(off+i)
			if hit+uint64(len(pat)) <= end && !seen[hit] {
				seen[hit] = true
				count++
				out.RawSetInt(count, h.newAddr(L, hit))
				if count >= max {
					return false
				}
			}
			off += i + 1
		}
	})
	L.Push(out)
	return 1
}

// apiStrings is dbg.strings(start, end, [min]): the printable ASCII and UTF-16LE strings of at
// least min characters (default 4) in [start, end), each {address = addr, kind = "ascii" |
// "utf16", text = ...}, in address order (as `strings -el` and `strings` would find them).
func (h *Host) apiStrings(L *lua.LState) int {
	start, end := h.checkAddr(L, 1), h.checkAddr(L, 2)
	min := L.OptInt(3, 4)
	if min < 1 || min > 4096 {
		L.ArgError(3, "min must be 1..4096")
	}
	if end-start > 64<<20 && end > start {
		L.ArgError(2, "dbg.strings scans at most 64 MiB")
	}
	out := L.NewTable()
	count := 0
	add := func(a uint64, kind, text string) {
		if count >= maxMatches {
			return
		}
		count++
		out.RawSetInt(count, tableOf(L, map[string]lua.LValue{"address": h.newAddr(L, a),
			"kind": lua.LString(kind), "text": lua.LString(text)}))
	}
	var found []foundString
	// Whole readable runs, without overlap, so each string is seen once.
	h.scan(L, start, end, 0, func(at uint64, b []byte) bool {
		found = append(found, findStrings(at, b, min)...)
		return true
	})
	for _, f := range found {
		add(f.addr, f.kind, f.text)
	}
	L.Push(out)
	return 1
}

type foundString struct {
	addr       uint64
	kind, text string
}

func printable(c uint16) bool { return c >= 0x20 && c < 0x7f || c == '\t' }

// findStrings finds ASCII runs and UTF-16LE runs of printable ASCII characters; a UTF-16
// string's bytes are not reported again as one-letter ASCII runs (they never reach min > 1).
func findStrings(at uint64, b []byte, min int) []foundString {
	var out []foundString
	// ASCII.
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && printable(uint16(b[j])) {
			j++
		}
		if j-i >= min {
			out = append(out, foundString{at + uint64(i), "ascii", string(b[i:j])})
		}
		i = j + 1
	}
	// UTF-16LE, at both byte parities.
	for parity := 0; parity < 2; parity++ {
		for i := parity; i+1 < len(b); {
			j := i
			for j+1 < len(b) && b[j+1] == 0 && printable(uint16(b[j])) {
				j += 2
			}
			if (j-i)/2 >= min {
				units := make([]byte, 0, (j-i)/2)
				for k := i; k < j; k += 2 {
					units = append(units, b[k])
				}
				out = append(out, foundString{at + uint64(i), "utf16", string(units)})
			}
			i = j + 2
		}
	}
	sortFound(out)
	return out
}

func sortFound(f []foundString) {
	sort.SliceStable(f, func(i, j int) bool { return f[i].addr < f[j].addr })
}
