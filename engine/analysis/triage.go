package analysis

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed triage.ini
var defaultRulesText string

// Rules are triage rules in WinDbg's triage.ini syntax (Module[!Function]=Owner).
type Rules struct {
	rules        []rule
	defaultOwner string
}

type rule struct {
	module, function string // lower case; a trailing '*' is a prefix match; function "" = module rule
	owner            string
}

// DefaultRules are wdbg's bundled rules (triage.ini beside this file).
func DefaultRules() *Rules {
	r, err := ParseRules(defaultRulesText)
	if err != nil {
		panic("analysis: bundled triage.ini: " + err.Error())
	}
	return r
}

// ParseRules reads triage.ini text: `;` starts a comment, blank lines are skipped, each rule is
// `Module[!Function]=Owner`, `default=Owner` sets the owner of unmatched frames.
func ParseRules(text string) (*Rules, error) {
	r := &Rules{defaultOwner: "MachineOwner"}
	for n, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		lhs, owner, ok := strings.Cut(line, "=")
		lhs, owner = strings.TrimSpace(lhs), strings.TrimSpace(owner)
		if !ok || lhs == "" || owner == "" {
			return nil, fmt.Errorf("triage rules line %d: want Module[!Function]=Owner, have %q", n+1, line)
		}
		if strings.EqualFold(lhs, "default") {
			r.defaultOwner = owner
			continue
		}
		mod, fn, _ := strings.Cut(lhs, "!")
		if strings.Contains(strings.TrimSuffix(mod, "*"), "*") || strings.Contains(strings.TrimSuffix(fn, "*"), "*") {
			return nil, fmt.Errorf("triage rules line %d: '*' may only end a name: %q", n+1, lhs)
		}
		r.rules = append(r.rules, rule{module: strings.ToLower(mod), function: strings.ToLower(fn), owner: owner})
	}
	return r, nil
}

// Merge puts user rules in front: a user rule wins over a bundled one of equal specificity.
func (r *Rules) Merge(user *Rules) *Rules {
	out := &Rules{defaultOwner: user.defaultOwner, rules: append(append([]rule(nil), user.rules...), r.rules...)}
	return out
}

// Owner is the owner of a frame in module (WinDbg's module name) and function ("" when unknown).
func (r *Rules) Owner(module, function string) string {
	module, function = strings.ToLower(module), strings.ToLower(function)
	best, bestScore := r.defaultOwner, -1
	for _, ru := range r.rules {
		score := ru.match(module, function)
		if score > bestScore {
			best, bestScore = ru.owner, score
		}
	}
	return best
}

// match scores how specifically the rule covers the frame (-1: not at all). Exact names beat
// prefixes, longer prefixes beat shorter, and any function rule beats a module-only rule.
func (ru rule) match(module, function string) int {
	ms := nameScore(ru.module, module)
	if ms < 0 {
		return -1
	}
	if ru.function == "" {
		return ms
	}
	fs := nameScore(ru.function, function)
	if fs < 0 {
		return -1
	}
	return 10000 + fs*100 + ms
}

func nameScore(pattern, name string) int {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		if strings.HasPrefix(name, prefix) {
			return 2 * len(prefix)
		}
		return -1
	}
	if pattern == name {
		return 2*len(pattern) + 1
	}
	return -1
}
