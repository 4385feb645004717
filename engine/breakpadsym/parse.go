package breakpadsym

import (
	"slices"
	"strings"
)

// parse makes one pass over the records (symbol_files.md, "Overview": one record a line, fields
// separated by single spaces, the last field of some records may contain spaces).
func parse(text string) (*File, error) {
	f := &File{text: text, Files: map[uint32]string{}, InlineOrigins: map[uint32]string{}}
	var (
		lineNo  int
		sawMod  bool
		curFunc = -1 // index in f.Funcs of the FUNC that line and INLINE records attach to
		curCFI  = -1 // index in f.CFIs of the STACK CFI INIT that deltas attach to
	)
	for pos := 0; pos < len(text); {
		end := strings.IndexByte(text[pos:], '\n')
		var line string
		start := pos
		if end < 0 {
			line, pos = text[pos:], len(text)
		} else {
			line, pos = text[pos:pos+end], pos+end+1
		}
		lineNo++
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if !sawMod {
			mod, ok := parseModule(line)
			if !ok {
				return nil, ErrNotSymbolFile
			}
			f.Module, sawMod = mod, true
			continue
		}
		// Line records, the most common, come first: they start with a lower-case hex digit
		// (symbol_files.md, "Line records"); only their extent is noted now.
		if c := line[0]; c >= '0' && c <= '9' || c >= 'a' && c <= 'f' {
			if curFunc < 0 {
				f.warn(lineNo, "line record before any FUNC")
				continue
			}
			fn := &f.Funcs[curFunc]
			if fn.lineEnd == 0 {
				fn.lineStart, fn.firstLine = start, lineNo
			}
			// Records in between (INLINE) are skipped when the span is read.
			fn.lineEnd = pos
			continue
		}
		keyword, rest := cut(line)
		switch keyword {
		case "FUNC":
			fn, ok := parseFunc(rest)
			if !ok {
				f.warn(lineNo, "malformed FUNC record")
				curFunc = -1
				continue
			}
			f.Funcs = append(f.Funcs, fn)
			curFunc = len(f.Funcs) - 1
		case "INLINE":
			in, ok := parseInline(rest)
			if !ok || curFunc < 0 {
				f.warn(lineNo, "malformed INLINE record or INLINE outside a FUNC")
				continue
			}
			f.Funcs[curFunc].Inlines = append(f.Funcs[curFunc].Inlines, in)
		case "FILE":
			numText, name := cut(rest)
			num, ok := parseDec(numText)
			if !ok {
				f.warn(lineNo, "malformed FILE record")
				continue
			}
			f.Files[num] = name
		case "INLINE_ORIGIN":
			num, name, ok := parseInlineOrigin(rest)
			if !ok {
				f.warn(lineNo, "malformed INLINE_ORIGIN record")
				continue
			}
			f.InlineOrigins[num] = name
		case "PUBLIC":
			p, ok := parsePublic(rest)
			if !ok {
				f.warn(lineNo, "malformed PUBLIC record")
				continue
			}
			f.Publics = append(f.Publics, p)
		case "STACK":
			kind, body := cut(rest)
			switch kind {
			case "WIN":
				w, ok := parseStackWin(body)
				if !ok {
					f.warn(lineNo, "malformed STACK WIN record")
					continue
				}
				f.StackWins = append(f.StackWins, w)
			case "CFI":
				if strings.HasPrefix(body, "INIT ") {
					c, ok := parseCFIInit(body[len("INIT "):])
					if !ok {
						f.warn(lineNo, "malformed STACK CFI INIT record")
						curCFI = -1
						continue
					}
					f.CFIs = append(f.CFIs, c)
					curCFI = len(f.CFIs) - 1
					continue
				}
				d, ok := parseCFIDelta(body)
				if !ok {
					f.warn(lineNo, "malformed STACK CFI record")
					continue
				}
				// symbol_files.md, "STACK CFI records": a delta follows its INIT, at a greater
				// address inside the INIT's range.
				if curCFI < 0 || !f.CFIs[curCFI].Contains(d.Addr) {
					f.warn(lineNo, "STACK CFI record outside the range of the preceding STACK CFI INIT")
					continue
				}
				c := &f.CFIs[curCFI]
				if n := len(c.Deltas); n > 0 && d.Addr < c.Deltas[n-1].Addr {
					f.warn(lineNo, "STACK CFI record out of address order")
					continue
				}
				c.Deltas = append(c.Deltas, d)
			default:
				f.warn(lineNo, "unknown STACK record %q", kind)
			}
		case "INFO":
			key, value := cut(rest)
			f.Infos = append(f.Infos, Info{Key: key, Value: value})
			if key == "CODE_ID" {
				f.CodeID, f.CodeFile = cut(value)
			}
		case "MODULE":
			f.warn(lineNo, "second MODULE record ignored")
		default:
			f.warn(lineNo, "unknown record %q", keyword)
		}
	}
	if !sawMod {
		return nil, ErrNotSymbolFile
	}
	f.sortTables()
	return f, nil
}

func (f *File) sortTables() {
	if !slices.IsSortedFunc(f.Funcs, func(a, b Func) int { return cmpU64(a.Addr, b.Addr) }) {
		slices.SortStableFunc(f.Funcs, func(a, b Func) int { return cmpU64(a.Addr, b.Addr) })
	}
	if !slices.IsSortedFunc(f.Publics, func(a, b Public) int { return cmpU64(a.Addr, b.Addr) }) {
		slices.SortStableFunc(f.Publics, func(a, b Public) int { return cmpU64(a.Addr, b.Addr) })
	}
	if !slices.IsSortedFunc(f.CFIs, func(a, b CFI) int { return cmpU64(a.Addr, b.Addr) }) {
		slices.SortStableFunc(f.CFIs, func(a, b CFI) int { return cmpU64(a.Addr, b.Addr) })
	}
	f.frameData = buildStackWinIndex(f.StackWins, StackWinFrameData)
	f.fpo = buildStackWinIndex(f.StackWins, StackWinFPO)
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cut splits s at its first space: the field and the rest.
func cut(s string) (field, rest string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

func parseModule(line string) (Module, bool) {
	kw, rest := cut(line)
	if kw != "MODULE" {
		return Module{}, false
	}
	var m Module
	m.OS, rest = cut(rest)
	m.Arch, rest = cut(rest)
	m.ID, m.Name = cut(rest)
	return m, m.OS != "" && m.Arch != "" && m.ID != ""
}

// parseFunc reads `[m] address size param_size name` (symbol_files.md, "FUNC records").
func parseFunc(s string) (Func, bool) {
	var fn Func
	if strings.HasPrefix(s, "m ") {
		fn.Multiple, s = true, s[2:]
	}
	var ok1, ok2, ok3 bool
	var field string
	field, s = cut(s)
	fn.Addr, ok1 = parseHex(field)
	field, s = cut(s)
	fn.Size, ok2 = parseHex(field)
	field, s = cut(s)
	ps, ok3 := parseHex(field)
	if !ok1 || !ok2 || !ok3 || ps > 0xffffffff {
		return Func{}, false
	}
	fn.ParamSize, fn.Name = uint32(ps), s
	return fn, true
}

// parsePublic reads `[m] address param_size name` (symbol_files.md, "PUBLIC records").
func parsePublic(s string) (Public, bool) {
	var p Public
	if strings.HasPrefix(s, "m ") {
		p.Multiple, s = true, s[2:]
	}
	var field string
	var ok1, ok2 bool
	field, s = cut(s)
	p.Addr, ok1 = parseHex(field)
	field, s = cut(s)
	ps, ok2 := parseHex(field)
	if !ok1 || !ok2 || ps > 0xffffffff {
		return Public{}, false
	}
	p.ParamSize, p.Name = uint32(ps), s
	return p, true
}

// parseInlineOrigin reads `id name`, or the older `id file_id name`.
func parseInlineOrigin(s string) (uint32, string, bool) {
	idText, rest := cut(s)
	id, ok := parseDec(idText)
	if !ok || rest == "" {
		return 0, "", false
	}
	// A C++ name never starts with a number: a decimal field followed by more text is the old
	// form's file number.
	if fileText, name := cut(rest); name != "" {
		if _, isNum := parseDec(fileText); isNum {
			return id, name, true
		}
	}
	return id, rest, true
}

// parseInline reads `depth call_line call_file origin [address size]+`, or the older form without
// call_file: the count of numbers tells them apart (even for the new form, odd for the old).
func parseInline(s string) (Inline, bool) {
	var nums []uint64
	fields := strings.Fields(s)
	if len(fields) < 5 || len(fields) > 4+2*maxInlineRanges {
		return Inline{}, false
	}
	head := 4
	if len(fields)%2 == 1 {
		head = 3
	}
	for i, fld := range fields {
		var v uint64
		var ok bool
		if i < head {
			var d uint32
			d, ok = parseDec(fld)
			v = uint64(d)
		} else {
			v, ok = parseHex(fld)
		}
		if !ok {
			return Inline{}, false
		}
		nums = append(nums, v)
	}
	in := Inline{Depth: uint32(nums[0]), CallLine: uint32(nums[1])}
	if head == 4 {
		in.CallFile, in.HasCallFile, in.Origin = uint32(nums[2]), true, uint32(nums[3])
	} else {
		in.Origin = uint32(nums[2])
	}
	for i := head; i+1 < len(nums); i += 2 {
		in.Ranges = append(in.Ranges, Range{Addr: nums[i], Size: nums[i+1]})
	}
	return in, true
}

// maxInlineRanges bounds one INLINE record's ranges (real ones have a handful).
const maxInlineRanges = 4096

// parseStackWin reads the fields after "STACK WIN" (symbol_files.md, "STACK WIN records"): nine
// hex numbers, has_program_string, then the program string or the allocates_base_pointer flag.
func parseStackWin(s string) (StackWin, bool) {
	var v [10]uint64
	for i := range v {
		var field string
		field, s = cut(s)
		n, ok := parseHex(field)
		if !ok {
			return StackWin{}, false
		}
		v[i] = n
	}
	if v[0] > 0xff || v[3] > 0xffffffff || v[4] > 0xffffffff || v[5] > 0xffffffff ||
		v[6] > 0xffffffff || v[7] > 0xffffffff || v[8] > 0xffffffff {
		return StackWin{}, false
	}
	w := StackWin{
		Type: StackWinType(v[0]), RVA: v[1], CodeSize: v[2],
		PrologSize: uint32(v[3]), EpilogSize: uint32(v[4]), ParamSize: uint32(v[5]),
		SavedRegSize: uint32(v[6]), LocalSize: uint32(v[7]), MaxStackSize: uint32(v[8]),
		HasProgram: v[9] != 0,
	}
	if w.HasProgram {
		if s == "" {
			return StackWin{}, false
		}
		w.Program = s
		return w, true
	}
	flag, ok := parseHex(s)
	if !ok {
		return StackWin{}, false
	}
	w.AllocatesBasePointer = flag != 0
	return w, true
}

func parseCFIInit(s string) (CFI, bool) {
	var c CFI
	var ok1, ok2 bool
	var field string
	field, s = cut(s)
	c.Addr, ok1 = parseHex(field)
	field, s = cut(s)
	c.Size, ok2 = parseHex(field)
	if !ok1 || !ok2 || !validRules(s) {
		return CFI{}, false
	}
	c.Rules = s
	return c, true
}

func parseCFIDelta(s string) (CFIDelta, bool) {
	field, rest := cut(s)
	addr, ok := parseHex(field)
	if !ok || !validRules(rest) {
		return CFIDelta{}, false
	}
	return CFIDelta{Addr: addr, Rules: rest}, true
}

// validRules checks the shape of a rule list without allocating: it starts with a register name
// ending in a colon, and every register is followed by at least one expression token.
func validRules(s string) bool {
	tokens, wantExpr := 0, false
	for s != "" {
		var tok string
		tok, s = cut(s)
		if tok == "" {
			continue
		}
		if strings.HasSuffix(tok, ":") {
			if wantExpr || len(tok) == 1 {
				return false
			}
			wantExpr = true
		} else {
			if tokens == 0 {
				return false
			}
			wantExpr = false
		}
		tokens++
	}
	return tokens > 0 && !wantExpr
}

// parseHex reads a hexadecimal number without prefix (symbol_files.md, "Overview": lower case;
// upper case is accepted).
func parseHex(s string) (uint64, bool) {
	if s == "" || len(s) > 16 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}

// parseDec reads a decimal number that fits 32 bits.
func parseDec(s string) (uint32, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if v > 0xffffffff {
		return 0, false
	}
	return uint32(v), true
}
