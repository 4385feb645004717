package breakpadsym

import (
	"slices"
	"sort"
	"strings"
)

// FunctionAt is the FUNC whose range holds rva (an address relative to the module's load address),
// or nil. Overlapping FUNC records are not expected (symbol_files.md: code is contiguous); the one
// starting nearest below rva is the candidate.
func (f *File) FunctionAt(rva uint64) *Func {
	i := sort.Search(len(f.Funcs), func(i int) bool { return f.Funcs[i].Addr > rva }) - 1
	if i < 0 {
		return nil
	}
	// Among FUNCs starting at the same address, the first in the file is used (as Breakpad,
	// which keeps the first range stored).
	for i > 0 && f.Funcs[i-1].Addr == f.Funcs[i].Addr {
		i--
	}
	if fn := &f.Funcs[i]; fn.Contains(rva) {
		return fn
	}
	return nil
}

// PublicAt is the PUBLIC record nearest at or below rva, or nil: a public symbol has no size
// ("the code extends to the next address mentioned", symbol_files.md, "PUBLIC records"), so the
// caller bounds the answer by the module's end.
func (f *File) PublicAt(rva uint64) *Public {
	i := sort.Search(len(f.Publics), func(i int) bool { return f.Publics[i].Addr > rva }) - 1
	if i < 0 {
		return nil
	}
	for i > 0 && f.Publics[i-1].Addr == f.Publics[i].Addr {
		i--
	}
	return &f.Publics[i]
}

// Lines returns fn's line records sorted by address, reading them on first use. fn must come from
// f.Funcs.
func (f *File) Lines(fn *Func) []Line {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !fn.parsed {
		fn.lines = f.parseLines(fn)
		fn.parsed = true
	}
	return fn.lines
}

// parseLines reads the line records `address size line filenum` (symbol_files.md, "Line records")
// in fn's span; other records in the span (INLINE) were read by parse and are skipped.
func (f *File) parseLines(fn *Func) []Line {
	if fn.lineEnd <= fn.lineStart || fn.lineEnd > len(f.text) {
		return nil
	}
	span := f.text[fn.lineStart:fn.lineEnd]
	lines := make([]Line, 0, strings.Count(span, "\n")+1)
	lineNo := fn.firstLine
	for span != "" {
		var line string
		if i := strings.IndexByte(span, '\n'); i >= 0 {
			line, span = span[:i], span[i+1:]
		} else {
			line, span = span, ""
		}
		line = strings.TrimSuffix(line, "\r")
		if line != "" && (line[0] >= '0' && line[0] <= '9' || line[0] >= 'a' && line[0] <= 'f') {
			if ln, ok := parseLine(line); ok {
				lines = append(lines, ln)
			} else {
				f.warn(lineNo, "malformed line record")
			}
		}
		lineNo++
	}
	if !slices.IsSortedFunc(lines, func(a, b Line) int { return cmpU64(a.Addr, b.Addr) }) {
		slices.SortStableFunc(lines, func(a, b Line) int { return cmpU64(a.Addr, b.Addr) })
	}
	return lines
}

func parseLine(s string) (Line, bool) {
	var ln Line
	var ok [4]bool
	var field string
	field, s = cut(s)
	ln.Addr, ok[0] = parseHex(field)
	field, s = cut(s)
	ln.Size, ok[1] = parseHex(field)
	field, s = cut(s)
	ln.Number, ok[2] = parseDec(field)
	ln.FileNum, ok[3] = parseDec(s)
	return ln, ok[0] && ok[1] && ok[2] && ok[3]
}

// SourceLine is a line record with its FILE name.
type SourceLine struct {
	Line
	File string
}

// LineAt is the source line of the code at rva: the line record holding rva within the function
// holding rva.
func (f *File) LineAt(rva uint64) (SourceLine, bool) {
	fn := f.FunctionAt(rva)
	if fn == nil {
		return SourceLine{}, false
	}
	lines := f.Lines(fn)
	i := sort.Search(len(lines), func(i int) bool { return lines[i].Addr > rva }) - 1
	if i < 0 {
		return SourceLine{}, false
	}
	ln := lines[i]
	if rva-ln.Addr >= ln.Size {
		return SourceLine{}, false
	}
	return SourceLine{Line: ln, File: f.Files[ln.FileNum]}, true
}

// InlinesAt lists the INLINE records of the function holding rva whose ranges hold rva, outermost
// (depth 0) first. The name of each is f.InlineOrigins[Origin].
func (f *File) InlinesAt(rva uint64) []Inline {
	fn := f.FunctionAt(rva)
	if fn == nil {
		return nil
	}
	var out []Inline
	for _, in := range fn.Inlines {
		for _, r := range in.Ranges {
			if r.Contains(rva) {
				out = append(out, in)
				break
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Inline) int { return int(a.Depth) - int(b.Depth) })
	return out
}

// StackWinAt is the STACK WIN record for rva: a frame-data (type 4) record when one covers rva,
// else an FPO (type 0) record (symbol_files.md, "STACK WIN records": FrameData is preferred). When
// records nest, as MSVC's frame data does for code after each push in a prologue, the innermost
// (the one starting nearest below rva) applies.
func (f *File) StackWinAt(rva uint64) *StackWin {
	if w := f.frameData.find(f.StackWins, rva); w != nil {
		return w
	}
	return f.fpo.find(f.StackWins, rva)
}

// stackWinIndex orders the STACK WIN records of one type by start (and, for equal starts, the
// longer first) with, for each, the nearest earlier record enclosing its start: the lookup walks
// that chain from the last record starting at or below the address.
type stackWinIndex struct {
	order  []int32 // indexes into File.StackWins
	parent []int32 // position in order of the enclosing record, or -1
}

func buildStackWinIndex(all []StackWin, t StackWinType) stackWinIndex {
	var x stackWinIndex
	for i := range all {
		if all[i].Type == t && all[i].CodeSize > 0 {
			x.order = append(x.order, int32(i))
		}
	}
	slices.SortFunc(x.order, func(a, b int32) int {
		wa, wb := &all[a], &all[b]
		if c := cmpU64(wa.RVA, wb.RVA); c != 0 {
			return c
		}
		if c := cmpU64(wb.CodeSize, wa.CodeSize); c != 0 {
			return c
		}
		// Identical ranges: the first in the file sorts last, so that it is the one found.
		return int(b - a)
	})
	x.parent = make([]int32, len(x.order))
	var stack []int32 // positions in order of the records still open at the current start
	for pos, i := range x.order {
		w := &all[i]
		for len(stack) > 0 && !all[x.order[stack[len(stack)-1]]].Contains(w.RVA) {
			stack = stack[:len(stack)-1]
		}
		x.parent[pos] = -1
		if len(stack) > 0 {
			x.parent[pos] = stack[len(stack)-1]
		}
		stack = append(stack, int32(pos))
	}
	return x
}

func (x stackWinIndex) find(all []StackWin, rva uint64) *StackWin {
	pos := sort.Search(len(x.order), func(p int) bool { return all[x.order[p]].RVA > rva }) - 1
	for pos >= 0 {
		if w := &all[x.order[pos]]; w.Contains(rva) {
			return w
		}
		pos = int(x.parent[pos]) // parents come earlier, so this ends
	}
	return nil
}

// CFIRule is one `register: expression` pair of a STACK CFI record.
type CFIRule struct {
	Register string // without its colon: ".cfa", ".ra", "$rbx", "x29", ...
	Expr     string // the postfix expression as written, e.g. "$rsp 8 +" or ".cfa 8 - ^"
	Postfix  Expr   // Expr parsed; nil when it does not parse (then Expr alone is meaningful)
}

// CFIRow is the set of rules in force at an address: the STACK CFI INIT record's rules updated by
// each STACK CFI delta at or below the address, in order.
type CFIRow struct {
	Addr, Size uint64 // the INIT record's range
	Rules      []CFIRule
}

// Rule returns the rule for register reg (".cfa", ".ra", "$rbp", ...).
func (r CFIRow) Rule(reg string) (CFIRule, bool) {
	for _, rule := range r.Rules {
		if rule.Register == reg {
			return rule, true
		}
	}
	return CFIRule{}, false
}

// CFIAt is the CFI row in force at rva (symbol_files.md, "STACK CFI records": each record's rules
// apply from its address up to the next record's).
func (f *File) CFIAt(rva uint64) (CFIRow, bool) {
	i := sort.Search(len(f.CFIs), func(i int) bool { return f.CFIs[i].Addr > rva }) - 1
	if i < 0 || !f.CFIs[i].Contains(rva) {
		return CFIRow{}, false
	}
	c := &f.CFIs[i]
	row := CFIRow{Addr: c.Addr, Size: c.Size, Rules: applyRules(nil, c.Rules)}
	for _, d := range c.Deltas {
		if d.Addr > rva {
			break
		}
		row.Rules = applyRules(row.Rules, d.Rules)
	}
	return row, true
}

// applyRules parses a rule list and sets each of its registers in rules.
func applyRules(rules []CFIRule, text string) []CFIRule {
	for _, r := range ParseRules(text) {
		replaced := false
		for i := range rules {
			if rules[i].Register == r.Register {
				rules[i], replaced = r, true
				break
			}
		}
		if !replaced {
			rules = append(rules, r)
		}
	}
	return rules
}

// ParseRules splits a STACK CFI rule list ("reg1: expr1 reg2: expr2 ...") into rules; a register
// name ends with a colon and no expression token does (symbol_files.md, "STACK CFI records").
func ParseRules(text string) []CFIRule {
	var rules []CFIRule
	var cur *CFIRule
	exprStart, exprEnd := -1, -1
	flush := func() {
		if cur != nil && exprStart >= 0 {
			cur.Expr = text[exprStart:exprEnd]
			cur.Postfix, _ = ParseExpr(cur.Expr)
			rules = append(rules, *cur)
		}
		cur, exprStart, exprEnd = nil, -1, -1
	}
	for pos := 0; pos < len(text); {
		if text[pos] == ' ' || text[pos] == '\t' {
			pos++
			continue
		}
		end := pos
		for end < len(text) && text[end] != ' ' && text[end] != '\t' {
			end++
		}
		tok := text[pos:end]
		if strings.HasSuffix(tok, ":") {
			flush()
			cur = &CFIRule{Register: tok[:len(tok)-1]}
		} else if cur != nil {
			if exprStart < 0 {
				exprStart = pos
			}
			exprEnd = end
		}
		pos = end
	}
	flush()
	return rules
}
