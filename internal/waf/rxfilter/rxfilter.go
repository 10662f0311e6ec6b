// Package rxfilter decides cheaply, before a regular expression runs, that
// it cannot match a value.
//
// From the expression's syntax tree it derives two facts that hold for
// every string the expression matches: a minimum length in bytes, and a
// set of literals at least one of which appears in the string. A value
// shorter than the minimum, or containing none of the literals, cannot
// match, so the (much slower) regular expression need not run.
//
// The analysis is conservative by construction: where it cannot prove a
// fact it drops it, and a Filter with no facts lets every value through.
// It never decides that a value cannot match when it can; the tests check
// this against random strings generated from each expression and against
// the Core Rule Set's own expressions.
package rxfilter

import (
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Filter is the set of facts about one expression. The zero Filter lets
// everything through.
type Filter struct {
	minLen int
	// lits holds the literals one of which every match contains. Empty
	// means no literal is required.
	lits []string
	// fold is set when lits are compared without regard to ASCII case:
	// they are stored lowercased and matched against the lowercased value.
	fold bool
	// foldWide is set when a literal compared without regard to case
	// holds a letter whose case fold includes a non-ASCII rune (k folds
	// to KELVIN SIGN, s to LONG S). Lowercasing ASCII cannot see those, so
	// values that are not pure ASCII skip the literal check.
	foldWide bool
}

// Above manyLits literals and longValue bytes, MayMatch answers "maybe"
// without looking: searching for each literal separately would cost more
// than running the expression.
const (
	manyLits  = 4
	longValue = 1024
)

// maxSet bounds the literal sets built while walking the tree: a set that
// would grow past it is dropped, or a shorter one kept instead.
const maxSet = 64

// Compile parses expr with the flags regexp.Compile uses and returns its
// Filter.
func Compile(expr string) (*Filter, error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, err
	}
	return New(re), nil
}

// New returns the Filter for a parsed expression. The expression must have
// been parsed with the flags it is matched with.
func New(re *syntax.Regexp) *Filter {
	in := analyze(re.Simplify())
	f := &Filter{minLen: in.minLen}
	req := in.required()
	if len(req) == 0 {
		return f
	}
	for _, l := range req {
		if l.fold {
			f.fold = true
		}
	}
	for _, l := range req {
		s := l.s
		if f.fold {
			s = lowerASCII(s)
			if l.fold && strings.ContainsAny(s, "ks") {
				f.foldWide = true
			}
		}
		f.lits = append(f.lits, s)
	}
	f.lits = dedupe(f.lits)
	return f
}

// MinLen is the length in bytes of the shortest string the expression
// matches.
func (f *Filter) MinLen() int { return f.minLen }

// Literals returns the literals one of which every match contains, and
// whether they are compared without regard to ASCII case. It is empty when
// no literal is required.
func (f *Filter) Literals() ([]string, bool) { return f.lits, f.fold }

// MayMatch reports whether the expression can match s. False is a proof
// that it cannot; true means the expression has to run.
func (f *Filter) MayMatch(s string) bool {
	if len(s) < f.minLen {
		return false
	}
	if len(f.lits) == 0 {
		return true
	}
	if len(f.lits) > manyLits && len(s) > longValue {
		// One pass per literal over a long value costs more than the
		// expression's DFA, which reads it once.
		return true
	}
	if !f.fold {
		for _, l := range f.lits {
			if strings.Contains(s, l) {
				return true
			}
		}
		return false
	}
	if f.foldWide && !isASCII(s) {
		return true
	}
	for _, l := range f.lits {
		if containsFold(s, l) {
			return true
		}
	}
	return false
}

// lit is one literal: its bytes, and whether it matches without regard to
// case.
type lit struct {
	s    string
	fold bool
}

func (a lit) concat(b lit) lit {
	return lit{s: a.s + b.s, fold: a.fold || b.fold}
}

// info is what is known about the strings a node matches.
type info struct {
	minLen int
	// exact, when not nil, lists every string the node can match (the
	// empty string included, as ""). nil means the set is unknown or too
	// large.
	exact []lit
	// any, when not nil, lists literals one of which every match of the
	// node contains. It is only consulted when exact is nil.
	any []lit
}

// required is the literal set every match contains, or nil.
func (in info) required() []lit {
	if in.exact != nil {
		for _, l := range in.exact {
			if l.s == "" {
				return nil
			}
		}
		return in.exact
	}
	return in.any
}

func analyze(re *syntax.Regexp) info {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return info{exact: []lit{{}}}
	case syntax.OpLiteral:
		return literal(re)
	case syntax.OpCharClass:
		return class(re)
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return info{minLen: 1}
	case syntax.OpCapture:
		return analyze(re.Sub[0])
	case syntax.OpStar:
		return info{}
	case syntax.OpQuest:
		sub := analyze(re.Sub[0])
		if sub.exact == nil || len(sub.exact) >= maxSet {
			return info{}
		}
		return info{exact: append([]lit{{}}, sub.exact...)}
	case syntax.OpPlus:
		sub := analyze(re.Sub[0])
		return info{minLen: sub.minLen, any: sub.required()}
	case syntax.OpRepeat:
		// Simplify rewrites counted repetition; this is for completeness.
		if re.Min == 0 {
			return info{}
		}
		sub := analyze(re.Sub[0])
		return info{minLen: sub.minLen * re.Min, any: sub.required()}
	case syntax.OpConcat:
		return concat(re.Sub)
	case syntax.OpAlternate:
		return alternate(re.Sub)
	}
	// OpNoMatch and anything unknown: assume nothing.
	return info{}
}

func literal(re *syntax.Regexp) info {
	fold := re.Flags&syntax.FoldCase != 0
	n := 0
	known := true
	for _, r := range re.Rune {
		n += runeMinLen(r, fold)
		switch {
		case r == utf8.RuneError || r < 0 || r > unicode.MaxRune:
			// Invalid UTF-8 in the value decodes as U+FFFD, so this rune
			// can match bytes no literal describes.
			known = false
		case fold && (r >= utf8.RuneSelf || foldsNonASCII(r) && !isLetterKS(r)):
			// Case folding outside ASCII is not modelled.
			known = false
		}
	}
	if !known {
		return info{minLen: n}
	}
	return info{minLen: n, exact: []lit{{s: string(re.Rune), fold: fold}}}
}

// runeMinLen is the fewest bytes of the value r can match: U+FFFD matches
// one invalid byte, and a case-insensitive rune may be matched by its
// shortest case-fold partner.
func runeMinLen(r rune, fold bool) int {
	m := utf8.RuneLen(r)
	if r == utf8.RuneError || m < 0 {
		return 1
	}
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if l := utf8.RuneLen(f); l > 0 && l < m {
				m = l
			}
		}
	}
	return m
}

// class lists the runes of a small character class as one-rune literals.
func class(re *syntax.Regexp) info {
	in := info{minLen: 1}
	count := 0
	for i := 0; i+1 < len(re.Rune); i += 2 {
		count += int(re.Rune[i+1]-re.Rune[i]) + 1
		if count > 8 {
			return in
		}
	}
	if count == 0 {
		return in
	}
	for i := 0; i+1 < len(re.Rune); i += 2 {
		for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
			if r == utf8.RuneError {
				// Invalid UTF-8 in the value decodes as U+FFFD: the class
				// can match bytes no literal describes. Runes listed
				// before it must not be returned as the whole class.
				return info{minLen: 1}
			}
			in.exact = append(in.exact, lit{s: string(r)})
		}
	}
	return in
}

func concat(subs []*syntax.Regexp) info {
	var (
		out        info
		candidates [][]lit
		run        = []lit{{}}
		whole      = true // every sub has an exact set and run never overflowed
	)
	flush := func() {
		if len(run) > 0 && !(len(run) == 1 && run[0].s == "") {
			candidates = append(candidates, run)
		}
		run = []lit{{}}
	}
	for _, sub := range subs {
		in := analyze(sub)
		out.minLen += in.minLen
		if in.exact == nil {
			whole = false
			flush()
			if req := in.required(); req != nil {
				candidates = append(candidates, req)
			}
			continue
		}
		if len(run)*len(in.exact) > maxSet {
			whole = false
			flush()
			if len(in.exact) > maxSet {
				continue
			}
		}
		next := make([]lit, 0, len(run)*len(in.exact))
		for _, a := range run {
			for _, b := range in.exact {
				next = append(next, a.concat(b))
			}
		}
		run = next
	}
	if whole {
		out.exact = run
		return out
	}
	flush()
	out.any = best(candidates)
	return out
}

func alternate(subs []*syntax.Regexp) info {
	out := info{minLen: -1}
	var exact, anyLits []lit
	exactOK, anyOK := true, true
	for _, sub := range subs {
		in := analyze(sub)
		if out.minLen < 0 || in.minLen < out.minLen {
			out.minLen = in.minLen
		}
		if in.exact != nil && exactOK {
			exact = append(exact, in.exact...)
			if len(exact) > maxSet {
				exactOK = false
			}
		} else {
			exactOK = false
		}
		if anyOK {
			req := in.required()
			if req == nil {
				anyOK = false
			} else {
				anyLits = append(anyLits, req...)
				if len(anyLits) > maxSet {
					anyOK = false
				}
			}
		}
	}
	if out.minLen < 0 {
		out.minLen = 0
	}
	if exactOK {
		out.exact = exact
	} else if anyOK {
		out.any = anyLits
	}
	return out
}

// best picks, from literal sets each of which is required, the one that
// rejects most values: its shortest literal as long as possible, then as
// few literals as possible.
func best(sets [][]lit) []lit {
	var (
		pick      []lit
		pickScore int
	)
	for _, set := range sets {
		if len(set) == 0 {
			continue
		}
		score := 1 << 20
		for _, l := range set {
			if l.s == "" {
				score = -1
				break
			}
			score = min(score, weight(l))
		}
		if score < 0 {
			continue
		}
		if pick == nil || score > pickScore || score == pickScore && len(set) < len(pick) {
			pick, pickScore = set, score
		}
	}
	return pick
}

// weight is how selective a literal is: its length, with a single
// punctuation byte (rare in ordinary text) counted as three letters.
func weight(l lit) int {
	if len(l.s) == 1 {
		c := l.s[0]
		if c < utf8.RuneSelf && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == ' ') {
			return 3
		}
	}
	return len(l.s)
}

// foldsNonASCII reports whether r's case-fold orbit leaves ASCII.
func foldsNonASCII(r rune) bool {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// isLetterKS reports whether r is one of the ASCII letters whose case fold
// includes a non-ASCII rune; the Filter handles those by letting non-ASCII
// values through.
func isLetterKS(r rune) bool {
	switch r {
	case 'k', 'K', 's', 'S':
		return true
	}
	return false
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// containsFold reports whether s contains l, which is lowercase, ignoring
// ASCII case in s. It takes time linear in len(s): the next occurrence of
// each case of l's first byte is searched for only once it has been passed.
func containsFold(s, l string) bool {
	if len(l) == 0 {
		return true
	}
	if len(l) > len(s) {
		return false
	}
	last := len(s) - len(l) // the last position l can start at
	lo := l[0]
	up := lo
	if 'a' <= lo && lo <= 'z' {
		up = lo - 'a' + 'A'
	}
	nextLo, nextUp := next(s, lo, 0, last), -1
	if up != lo {
		nextUp = next(s, up, 0, last)
	}
	for {
		i := nextLo
		if i < 0 || nextUp >= 0 && nextUp < i {
			i = nextUp
		}
		if i < 0 {
			return false
		}
		if equalFoldLower(s[i:i+len(l)], l) {
			return true
		}
		if i == nextLo {
			nextLo = next(s, lo, i+1, last)
		} else {
			nextUp = next(s, up, i+1, last)
		}
	}
}

// next is the first position of c in s at or after from and at or before
// last, or -1.
func next(s string, c byte, from, last int) int {
	if from > last {
		return -1
	}
	j := strings.IndexByte(s[from:last+1], c)
	if j < 0 {
		return -1
	}
	return from + j
}

func equalFoldLower(s, l string) bool {
	for i := 0; i < len(l); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != l[i] {
			return false
		}
	}
	return true
}

func dedupe(ls []string) []string {
	seen := make(map[string]bool, len(ls))
	out := ls[:0]
	for _, l := range ls {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}
