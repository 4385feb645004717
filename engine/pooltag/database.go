package pooltag

import (
	"fmt"
	"sort"
	"strings"
)

// Database answers "what is this tag" from one or more tag lists merged in precedence order.
// It is read-only once built and safe for concurrent use.
type Database struct {
	exact map[string]Entry
	wild  []Entry // in the order they are tried
	n     int
}

// NewDatabase merges tag lists, the first list taking precedence (WINDBG-SPEC.md §3.8: user
// files first, then ours). A lookup tries exact tags before patterns: an exact line in any
// list beats every pattern. Among exact lines for the same tag the first one wins (lists in
// order, lines in file order; Microsoft's file itself repeats a few tags). Among patterns,
// an earlier list wins; inside one list the pattern with more literal characters wins
// ("CMk?" before "CM??"), then the earlier line.
func NewDatabase(lists ...[]Entry) *Database {
	db := &Database{exact: make(map[string]Entry)}
	for _, list := range lists {
		start := len(db.wild)
		for _, e := range list {
			if IsPattern(e.Tag) {
				db.wild = append(db.wild, e)
				continue
			}
			if _, dup := db.exact[e.Tag]; !dup {
				db.exact[e.Tag] = e
			}
		}
		group := db.wild[start:]
		sort.SliceStable(group, func(i, j int) bool { return literals(group[i].Tag) > literals(group[j].Tag) })
	}
	db.n = len(db.exact) + len(db.wild)
	return db
}

// literals counts the non-wildcard characters of a pattern.
func literals(p string) int { return len(p) - strings.Count(p, "*") - strings.Count(p, "?") }

// Len is the number of distinct exact tags plus the number of patterns.
func (db *Database) Len() int {
	if db == nil {
		return 0
	}
	return db.n
}

// Describe looks a 4-byte tag up. The returned Entry's Tag is the line's tag field, which is
// a pattern when a wildcard line matched.
func (db *Database) Describe(tag string) (Entry, bool) {
	if db == nil {
		return Entry{}, false
	}
	if e, ok := db.exact[tag]; ok {
		return e, true
	}
	for _, e := range db.wild {
		if Match(e.Tag, tag) {
			return e, true
		}
	}
	return Entry{}, false
}

// UnknownPoolusedText is !poolused's text for a tag no list describes (WINDBG-SPEC.md §3.8).
func UnknownPoolusedText(tag string) string {
	return fmt.Sprintf("UNKNOWN pooltag '%s', please update pooltag.txt", Printable(tag))
}

// UnknownPoolText is !pool's line for a tag no list describes (WINDBG-SPEC.md §3.8).
const UnknownPoolText = "Owning component : Unknown (update pooltag.txt)"

// PoolusedText is the description as !poolused ends a row with it (WINDBG-SPEC.md §3.8):
// "<description> , Binary: <binary>", or "<description> " (a trailing space) when the
// binary is unknown.
func (e Entry) PoolusedText() string {
	if e.Binary == "" {
		return e.Description + " "
	}
	return e.Description + " , Binary: " + e.Binary
}

// PoolText is the description line !pool prints under the block of that tag
// (WINDBG-SPEC.md §3.8): "Pooltag <tag> : <description>, Binary : <binary>", without the
// binary part when it is unknown. tag is the looked-up tag, not the entry's pattern.
func (e Entry) PoolText(tag string) string {
	s := "Pooltag " + Printable(tag) + " : " + e.Description
	if e.Binary != "" {
		s += ", Binary : " + e.Binary
	}
	return s
}

// PoolusedText describes tag for a !poolused row, or gives the "UNKNOWN pooltag" sentence.
func (db *Database) PoolusedText(tag string) string {
	if e, ok := db.Describe(tag); ok {
		return e.PoolusedText()
	}
	return UnknownPoolusedText(tag)
}

// PoolText describes tag for !pool, or gives the "Owning component : Unknown" line.
func (db *Database) PoolText(tag string) string {
	if e, ok := db.Describe(tag); ok {
		return e.PoolText(tag)
	}
	return UnknownPoolText
}
