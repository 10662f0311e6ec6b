package secret

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// How a rule's regular expression is run over a chunk of text that holds
// one of its keywords. Every strategy finds exactly what one FindAll over
// the whole chunk finds; the cheaper ones are chosen only when the
// expression's structure proves that.
type strategy int

const (
	// full runs FindAll over the chunk. Always correct; fast when the
	// expression starts with a case-sensitive literal, which Go's
	// regexp finds with a substring search.
	full strategy = iota
	// anchored runs the expression anchored at each keyword occurrence:
	// every match starts with a keyword and is at most maxLen bytes long.
	anchored
	// windowed runs FindAll over the lines around each keyword
	// occurrence: every match contains a keyword and spans at most maxNL
	// newlines.
	windowed
)

func (s strategy) String() string {
	return [...]string{"full", "anchored", "windowed"}[s]
}

// Limits of the analysis.
const (
	maxSetSize        = 64   // strings tracked per set before giving up
	maxClassExpand    = 16   // a character class is expanded up to this many runes
	maxAnchoredLength = 4096 // longest match the anchored strategy accepts
)

type plan struct {
	strategy strategy
	maxLen   int // anchored: longest possible match in bytes
	maxNL    int // most newlines a match can hold; -1 for no limit
	// core, for the full and windowed strategies, is a necessary
	// condition of a match, checked at each keyword occurrence before the
	// expression runs: every match holds, at the start of one of its
	// keywords, a match of core, an expression that starts with a keyword
	// and is at most coreLen bytes long. Keyword occurrences where core
	// does not match anchored are dropped; a chunk with none left is not
	// searched at all. Empty when the expression has no such part.
	core    string
	coreLen int
	// rest is the whole expression from the part where core starts; at a
	// keyword occurrence that passed core, rest is tried anchored too,
	// over at most maxNL lines (or, with maxNL < 0, a bounded budget of
	// bytes per chunk). Empty when rest is core.
	rest string
}

// planFor picks the cheapest exact strategy for expr given the rule's
// keywords (lower-cased).
func planFor(expr string, keywords []string) plan {
	if len(keywords) == 0 {
		return plan{strategy: full}
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return plan{strategy: full}
	}
	re = re.Simplify()
	if prog, err := syntax.Compile(re); err == nil {
		if prefix, _ := prog.Prefix(); len(prefix) >= 3 {
			// Go's regexp skips to the literal with a substring search:
			// nothing beats that.
			return plan{strategy: full}
		}
	}
	if set, _ := prefixes(re); allStartWithKeyword(set, keywords) {
		if n := maxLength(re); n >= 0 && n <= maxAnchoredLength {
			return plan{strategy: anchored, maxLen: n, maxNL: maxNewlines(re)}
		}
	}
	p := plan{strategy: full}
	if containsKeyword(re, keywords) {
		if n := maxNewlines(re); n >= 0 {
			p = plan{strategy: windowed, maxNL: n}
		}
	}
	p.core, p.coreLen, p.rest = keywordCore(re, keywords)
	return p
}

// keywordCore finds, in a concatenation, the first part from which every
// match starts with a keyword, and returns the longest run of parts from
// there whose matches are bounded in length (at most
// maxAnchoredLength bytes), as an expression, with that bound. A match of
// the whole expression holds a match of that run at the start of a
// keyword occurrence, so where the run does not match, neither does the
// expression. It returns "" when there is no such run or when the run is
// the keyword alone (the keyword matcher already checked that much).
// rest is every part from the core's first on, when that is more than the
// core.
func keywordCore(re *syntax.Regexp, keywords []string) (core string, coreLen int, rest string) {
	parts := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		parts = re.Sub
	}
	for i := range parts {
		from := &syntax.Regexp{Op: syntax.OpConcat, Flags: re.Flags, Sub: parts[i:]}
		if set, _ := prefixes(from); !allStartWithKeyword(set, keywords) {
			continue
		}
		n, j := 0, i
		for ; j < len(parts); j++ {
			m := maxLength(parts[j])
			if m < 0 || n+m > maxAnchoredLength {
				break
			}
			n += m
		}
		if j-i < 2 {
			return "", 0, ""
		}
		c := &syntax.Regexp{Op: syntax.OpConcat, Flags: re.Flags, Sub: parts[i:j]}
		if j < len(parts) {
			rest = from.String()
		}
		return c.String(), n, rest
	}
	return "", 0, ""
}

// strset is a set of lower-cased strings that stands for a regular
// expression's matches: with exact set, every match is (up to ASCII case)
// one of them; otherwise every match starts with one of them.
type strset struct {
	strs  []string
	exact bool
}

var unknown = strset{strs: []string{""}}

// prefixes computes a strset for re.
func prefixes(re *syntax.Regexp) (strset, bool) {
	s := prefixSet(re)
	return s, len(s.strs) > 0
}

func prefixSet(re *syntax.Regexp) strset {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return strset{strs: []string{""}, exact: true}
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			for _, r := range re.Rune {
				if r >= utf8.RuneSelf {
					// The keyword matcher folds ASCII only.
					return unknown
				}
			}
		}
		return strset{strs: []string{foldKey(string(re.Rune))}, exact: true}
	case syntax.OpCharClass:
		runes := classRunes(re.Rune)
		if runes == nil {
			return unknown
		}
		return strset{strs: runes, exact: true}
	case syntax.OpCapture:
		return prefixSet(re.Sub[0])
	case syntax.OpConcat:
		acc := strset{strs: []string{""}, exact: true}
		for _, sub := range re.Sub {
			s := prefixSet(sub)
			prod := cross(acc.strs, s.strs)
			if prod == nil {
				acc.exact = false
				break
			}
			acc = strset{strs: prod, exact: s.exact}
			if !acc.exact {
				break
			}
		}
		return acc
	case syntax.OpAlternate:
		out := strset{exact: true}
		for _, sub := range re.Sub {
			s := prefixSet(sub)
			out.strs = append(out.strs, s.strs...)
			out.exact = out.exact && s.exact
		}
		out.strs = dedupe(out.strs)
		if len(out.strs) > maxSetSize {
			return unknown
		}
		return out
	case syntax.OpQuest:
		s := prefixSet(re.Sub[0])
		return strset{strs: dedupe(append(s.strs, "")), exact: s.exact}
	case syntax.OpPlus:
		s := prefixSet(re.Sub[0])
		return strset{strs: s.strs}
	case syntax.OpRepeat:
		if re.Min == 0 {
			return unknown
		}
		s := prefixSet(re.Sub[0])
		return strset{strs: s.strs}
	}
	return unknown
}

// classRunes lists a small character class as lower-cased strings, or nil
// when it is too big to be worth it.
func classRunes(ranges []rune) []string {
	n := 0
	for i := 0; i+1 < len(ranges); i += 2 {
		n += int(ranges[i+1]-ranges[i]) + 1
		if n > maxClassExpand {
			return nil
		}
	}
	var out []string
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := ranges[i]; r <= ranges[i+1]; r++ {
			out = append(out, foldKey(string(r)))
		}
	}
	return dedupe(out)
}

// foldKey lower-cases s as the keyword matcher compares: ASCII letters,
// and the Kelvin sign and the long s, which Go's (?i) folds to k and s.
func foldKey(s string) string {
	s = lowerASCII(s)
	if strings.ContainsAny(s, "\u212a\u017f") {
		s = strings.NewReplacer("\u212a", "k", "\u017f", "s").Replace(s)
	}
	return s
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func cross(a, b []string) []string {
	if len(a)*len(b) > maxSetSize {
		return nil
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return dedupe(out)
}

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func allStartWithKeyword(s strset, keywords []string) bool {
	if len(s.strs) == 0 {
		return false
	}
	for _, p := range s.strs {
		ok := false
		for _, k := range keywords {
			if strings.HasPrefix(p, k) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func allContainKeyword(strs []string, keywords []string) bool {
	if len(strs) == 0 {
		return false
	}
	for _, p := range strs {
		ok := false
		for _, k := range keywords {
			if strings.Contains(p, k) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// containsKeyword reports whether every match of re contains one of the
// keywords (ignoring ASCII case).
func containsKeyword(re *syntax.Regexp, keywords []string) bool {
	if s := prefixSet(re); s.exact && allContainKeyword(s.strs, keywords) {
		return true
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return containsKeyword(re.Sub[0], keywords)
	case syntax.OpRepeat:
		return re.Min > 0 && containsKeyword(re.Sub[0], keywords)
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !containsKeyword(sub, keywords) {
				return false
			}
		}
		return true
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if containsKeyword(sub, keywords) {
				return true
			}
		}
		// A literal can straddle several parts: try each run of parts whose
		// languages are small and exact ("api" "[_-]?" "key").
		for i := range re.Sub {
			acc := []string{""}
			for j := i; j < len(re.Sub); j++ {
				s := prefixSet(re.Sub[j])
				if !s.exact {
					break
				}
				if acc = cross(acc, s.strs); acc == nil {
					break
				}
				if allContainKeyword(acc, keywords) {
					return true
				}
			}
		}
	}
	return false
}

// maxLength is the longest match of re in bytes, or -1 when unbounded.
func maxLength(re *syntax.Regexp) int {
	return matchBound(re, func(re *syntax.Regexp) int {
		switch re.Op {
		case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
			syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
			return 0
		case syntax.OpLiteral:
			n := 0
			for _, r := range re.Rune {
				n += runeMax(r, re.Flags)
			}
			return n
		case syntax.OpCharClass:
			m := 0
			for i := 0; i+1 < len(re.Rune); i += 2 {
				m = max(m, utf8.RuneLen(re.Rune[i+1]))
			}
			if m < 0 { // surrogate range end
				m = utf8.UTFMax
			}
			return m
		case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
			return utf8.UTFMax
		}
		return -1
	})
}

// runeMax is the longest UTF-8 encoding of r, or of any rune it folds to
// under (?i).
func runeMax(r rune, flags syntax.Flags) int {
	n := utf8.RuneLen(r)
	if n < 0 {
		n = utf8.UTFMax
	}
	if flags&syntax.FoldCase != 0 {
		n = utf8.UTFMax // the Kelvin sign for k, the long s for s, and so on
	}
	return n
}

// maxNewlines is the most newlines a match of re can hold, or -1.
func maxNewlines(re *syntax.Regexp) int {
	return matchBound(re, func(re *syntax.Regexp) int {
		switch re.Op {
		case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
			syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpAnyCharNotNL:
			return 0
		case syntax.OpLiteral:
			return strings.Count(string(re.Rune), "\n")
		case syntax.OpCharClass:
			for i := 0; i+1 < len(re.Rune); i += 2 {
				if re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1] {
					return 1
				}
			}
			return 0
		case syntax.OpAnyChar:
			return 1
		}
		return -1
	})
}

// matchBound is the most that any match of re can hold of some measure
// (bytes, newlines), or -1 when unbounded: leaf gives the bound of a
// single-position operator, and matchBound composes it through captures,
// concatenation (sum), alternation (max) and repetition.
func matchBound(re *syntax.Regexp, leaf func(*syntax.Regexp) int) int {
	switch re.Op {
	case syntax.OpCapture, syntax.OpQuest:
		return matchBound(re.Sub[0], leaf)
	case syntax.OpConcat, syntax.OpAlternate:
		n := 0
		for _, sub := range re.Sub {
			m := matchBound(sub, leaf)
			if m < 0 {
				return -1
			}
			if re.Op == syntax.OpConcat {
				n += m
			} else {
				n = max(n, m)
			}
		}
		return n
	case syntax.OpStar, syntax.OpPlus:
		if matchBound(re.Sub[0], leaf) == 0 {
			return 0
		}
		return -1
	case syntax.OpRepeat:
		m := matchBound(re.Sub[0], leaf)
		if m == 0 {
			return 0
		}
		if re.Max < 0 || m < 0 {
			return -1
		}
		return m * re.Max
	}
	return leaf(re)
}
