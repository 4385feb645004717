package pooltag

import (
	_ "embed"
	"strings"
	"sync"
)

// builtinText is our own tag list in pooltag.txt grammar: tags and owning binaries are
// facts from public sources (named in the file's header), descriptions are our words.
//
//go:embed builtin.txt
var builtinText string

// BuiltinSource is the Source of every built-in entry.
const BuiltinSource = "builtin"

var builtinOnce = sync.OnceValue(func() []Entry {
	p, _ := Parse(strings.NewReader(builtinText), BuiltinSource) // a strings.Reader cannot fail
	for i := range p.Entries {
		p.Entries[i].Source = BuiltinSource
	}
	return p.Entries
})

// Builtin returns the built-in tag list. The slice is shared: do not modify it.
func Builtin() []Entry { return builtinOnce() }
