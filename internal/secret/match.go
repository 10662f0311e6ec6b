package secret

import (
	"bytes"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/seawall-dev/seawall/internal/inventory"
	"github.com/seawall-dev/seawall/internal/secret/keyword"
)

// Markers that, on a secret's line, accept it (as gitleaks does).
var allowMarkers = []string{"gitleaks:allow", "seawall:allow"}

// lineContext bounds how much of a line around a match the "line"
// allowlist target and the allow markers look at: minified files have
// lines of megabytes.
const lineContext = 4096

// state is the scratch space of one Scan call.
type state struct {
	s    *Scanner
	path string
	buf  []byte
	hits []keyword.Hit
	// Per rule, for the current window: the starts of its keyword hits.
	ruleHits [][]int
	active   []int
	// Per rule, for the whole file: where its last match ended (in the
	// file), so that overlapping windows do not report a match twice and
	// consecutive matches never overlap, as with one FindAll.
	lastEnd []int64
	// fileOK caches, per rule, whether its path and file allowlists let
	// it run on this file: 0 unknown, 1 yes, 2 no.
	fileOK []uint8
	nl     []int // offsets of the newlines in the window, when needed
	nlDone bool
	cands  []cand
	rc     runeCounter // for confirm, kept here so as not to allocate one per call
}

// cand is a match that passed its rule's checks.
type cand struct {
	rule     int
	off      int64 // file offset of the secret
	end      int64
	line     int // 1-based line of the secret
	col      int // 1-based column of the match (composite rules)
	secret   string
	lineText string // the secret's line around it, unmasked, for snippets
	lineOff  int    // offset of lineText[0] relative to the secret start
}

func (st *state) reset(s *Scanner, path string) {
	st.s, st.path = s, path
	n := len(s.rules)
	if cap(st.ruleHits) < n {
		st.ruleHits = make([][]int, n)
		st.lastEnd = make([]int64, n)
		st.fileOK = make([]uint8, n)
	}
	st.ruleHits = st.ruleHits[:n]
	st.lastEnd = st.lastEnd[:n]
	st.fileOK = st.fileOK[:n]
	for i := range st.lastEnd {
		st.lastEnd[i] = -1
		st.fileOK[i] = 0
	}
	st.cands = st.cands[:0]
	st.rc = runeCounter{}
}

// ruleRuns reports whether rule r applies to the current file.
func (st *state) ruleRuns(r *rule) bool {
	switch st.fileOK[r.index] {
	case 1:
		return true
	case 2:
		return false
	}
	ok := r.path == nil || r.path.MatchString(st.path)
	for _, a := range r.allow {
		if ok && a.allowsFile(st.path) {
			ok = false
		}
	}
	st.fileOK[r.index] = 2
	if ok {
		st.fileOK[r.index] = 1
	}
	return ok
}

// pathFinding reports a path-only rule's finding for the current file.
func (s *Scanner) pathFinding(st *state, r *rule) (inventory.Finding, bool) {
	if !st.ruleRuns(r) || r.SkipReport {
		return inventory.Finding{}, false
	}
	return s.finding(r, 0, ""), true
}

func (s *Scanner) finding(r *rule, line int, snippet string) inventory.Finding {
	return inventory.Finding{
		ID:             r.ID,
		Kind:           inventory.KindSecret,
		Title:          r.Description,
		Severity:       r.Severity,
		SeveritySource: "rule",
		Line:           line,
		Snippet:        snippet,
	}
}

// scanWindow matches one window of a file: text is the window, base its
// offset in the file and lineBase the newlines before it; matches that
// start in text[zoneLo:zoneHi] are this window's to report.
func (s *Scanner) scanWindow(st *state, text []byte, base int64, lineBase, zoneLo, zoneHi int) {
	st.nl, st.nlDone = st.nl[:0], false
	st.active = st.active[:0]
	if s.kw != nil {
		st.hits = s.kw.AppendHits(st.hits[:0], text)
		for _, h := range st.hits {
			for _, ri := range s.kwRules[h.ID] {
				if len(st.ruleHits[ri]) == 0 {
					st.active = append(st.active, int(ri))
				}
				st.ruleHits[ri] = append(st.ruleHits[ri], h.Start)
			}
		}
	}
	st.active = append(st.active, s.always...)
	if len(st.active) == 0 {
		return
	}
	sort.Ints(st.active)
	first := len(st.cands)
	for _, ri := range st.active {
		r := s.rules[ri]
		hits := st.ruleHits[ri]
		st.ruleHits[ri] = hits[:0]
		if !st.ruleRuns(r) {
			continue
		}
		before := len(st.cands)
		s.matchRule(st, r, hits, text, base, lineBase, zoneLo, zoneHi)
		if len(r.required) > 0 && len(st.cands) > before {
			s.requireRules(st, r, before, text, base, lineBase, zoneLo, zoneHi)
		}
	}
	s.dropGeneric(st, first)
}

// matchRule runs one rule over a window by its plan.
func (s *Scanner) matchRule(st *state, r *rule, hits []int, text []byte, base int64, lineBase, zoneLo, zoneHi int) {
	emit := func(loc []int) {
		if loc[0] < zoneLo || loc[0] >= zoneHi || loc[1] == loc[0] {
			return
		}
		if base+int64(loc[0]) < st.lastEnd[r.index] {
			return
		}
		st.lastEnd[r.index] = base + int64(loc[1])
		s.candidate(st, r, text, loc, base, lineBase)
	}
	strat := r.plan.strategy
	if s.forceFull {
		strat = full
	} else if r.plan.core != "" {
		if hits = confirm(st, r, hits, text); len(hits) == 0 {
			return // no match can start here: see plan.core
		}
	}
	switch strat {
	case anchored:
		anch, anchCtx := r.anchoredRegexps()
		if r.plan.maxNL >= 0 {
			st.newlines(text)
		}
		slices.Sort(hits)
		prev := -1
		for _, k := range hits {
			if k == prev || k < zoneLo || k >= zoneHi || base+int64(k) < st.lastEnd[r.index] {
				continue
			}
			prev = k
			end := min(len(text), k+r.plan.maxLen+utf8.UTFMax)
			if m := r.plan.maxNL; m >= 0 {
				// Nor can a match run past its last possible line: cutting
				// there (keeping the newline as context) keeps the input
				// small enough for Go's backtracker.
				if li := sort.SearchInts(st.nl, k); li+m < len(st.nl) {
					end = min(end, st.nl[li+m]+1)
				}
			}
			var loc []int
			if k == 0 {
				if anch.Match(text[:end]) {
					loc = anch.FindSubmatchIndex(text[:end])
				}
			} else {
				// One rune of left context, so that \b and (?m)^ see what
				// precedes the keyword.
				ctx := k - 1
				if !anchCtx.Match(text[ctx:end]) {
					continue // most keyword occurrences are not secrets: no captures needed
				}
				loc = anchCtx.FindSubmatchIndex(text[ctx:end])
				if loc != nil {
					first := loc[0]
					_, w := utf8.DecodeRune(text[ctx:end])
					if w != 1 { // cannot happen at an ASCII keyword; be safe
						continue
					}
					loc[0] = first + w
					for i := range loc {
						if loc[i] >= 0 {
							loc[i] += ctx
						}
					}
				}
			}
			if loc != nil {
				emit(loc)
			}
		}
	case windowed:
		st.newlines(text)
		slices.Sort(hits)
		m := r.plan.maxNL
		ws, we := -1, -1
		flush := func() {
			if ws < 0 {
				return
			}
			for _, loc := range r.re.FindAllSubmatchIndex(text[ws:we], -1) {
				for i := range loc {
					if loc[i] >= 0 {
						loc[i] += ws
					}
				}
				emit(loc)
			}
		}
		for _, k := range hits {
			// Every hit counts, even past the zone: a match that starts in
			// the zone may hold its keyword further on.
			// Lines k's line - m … k's line + m, with the newlines around
			// them as context for ^, $ and \b.
			li := sort.SearchInts(st.nl, k) // newlines before k
			lo := 0
			if li-m-1 >= 0 {
				lo = st.nl[li-m-1]
			}
			hi := len(text)
			if li+m < len(st.nl) {
				hi = st.nl[li+m] + 1
			}
			if lo < we {
				we = max(we, hi)
				continue
			}
			flush()
			ws, we = lo, hi
		}
		flush()
	default:
		for _, loc := range r.re.FindAllSubmatchIndex(text, -1) {
			emit(loc)
		}
	}
}

// confirm keeps the keyword occurrences where the rule's core matches,
// and then its rest (see plan.core), sorted and without duplicates.
func confirm(st *state, r *rule, hits []int, text []byte) []int {
	anch, anchCtx := r.coreRegexps()
	slices.Sort(hits)
	out := hits[:0]
	prev := -1
	// The rest's matches may be long: the bytes it reads are budgeted, so
	// that many keywords on one long line stay linear. Past the budget,
	// occurrences that passed the core are kept unchecked.
	budget := 2*len(text) + 64<<10
	m := r.plan.maxNL
	if r.plan.rest != "" && m >= 0 {
		st.newlines(text)
	}
	for _, k := range hits {
		if k == prev {
			continue
		}
		prev = k
		// Past coreLen bytes, one rune of context for a closing \b or $.
		end := min(len(text), k+r.plan.coreLen+utf8.UTFMax)
		if !matchAt(anch, anchCtx, text, k, end) {
			continue
		}
		if r.plan.rest != "" && budget > 0 {
			end = len(text)
			if m >= 0 {
				// A match spans at most m newlines: cut after the next
				// one, as in matchRule's anchored strategy.
				if li := sort.SearchInts(st.nl, k); li+m < len(st.nl) {
					end = st.nl[li+m] + 1
				}
			}
			st.rc = runeCounter{text: text[max(0, k-1):end]}
			re := r.restCtx
			if k == 0 {
				re = r.restAnch
			}
			ok := re.MatchReader(&st.rc)
			budget -= st.rc.pos
			if !ok {
				continue
			}
		}
		out = append(out, k)
	}
	return out
}

// runeCounter reads text rune by rune for a regexp and counts how far
// the regexp read: an anchored expression stops reading when no match can
// go on.
type runeCounter struct {
	text []byte
	pos  int
}

func (rc *runeCounter) ReadRune() (rune, int, error) {
	if rc.pos >= len(rc.text) {
		return 0, 0, io.EOF
	}
	c := rc.text[rc.pos]
	if c < utf8.RuneSelf {
		rc.pos++
		return rune(c), 1, nil
	}
	r, w := utf8.DecodeRune(rc.text[rc.pos:])
	rc.pos += w
	return r, w, nil
}

// matchAt reports whether an expression matches text[k:end] anchored at
// k: anch is it anchored at the start, anchCtx anchored after one rune of
// left context.
func matchAt(anch, anchCtx *regexp.Regexp, text []byte, k, end int) bool {
	if k == 0 {
		return anch.Match(text[:end])
	}
	return anchCtx.Match(text[k-1 : end])
}

// candidate checks one match (loc, relative to text) against the rule's
// entropy and allowlists and records it.
func (s *Scanner) candidate(st *state, r *rule, text []byte, loc []int, base int64, lineBase int) {
	ms, me := loc[0], loc[1]
	// gitleaks trims newlines off the match.
	for ms < me && text[ms] == '\n' {
		ms++
	}
	for me > ms && text[me-1] == '\n' {
		me--
	}
	ss, se := ms, me
	if len(loc) > 2 {
		if r.SecretGroup > 0 {
			ss, se = loc[2*r.SecretGroup], loc[2*r.SecretGroup+1]
		} else {
			for g := 1; 2*g+1 < len(loc); g++ {
				if loc[2*g] >= 0 && loc[2*g+1] > loc[2*g] {
					ss, se = loc[2*g], loc[2*g+1]
					break
				}
			}
		}
	}
	if ss < 0 || se <= ss {
		return
	}
	// Most matches are rejected: nothing is copied until one is not.
	secret := text[ss:se]
	if r.Entropy > 0 && shannonEntropy(secret) <= r.Entropy {
		return
	}
	match := text[ms:me]
	st.newlines(text)
	ls, le := st.lineBounds(text, ms, me)
	line := text[ls:le]
	for _, m := range allowMarkers {
		if bytes.Contains(line, []byte(m)) {
			return
		}
	}
	for _, a := range s.global {
		if a.allowsFinding(st.path, secret, match, line) {
			return
		}
	}
	for _, a := range r.allow {
		if a.allowsFinding(st.path, secret, match, line) {
			return
		}
	}
	sls, sle := st.lineBounds(text, ss, ss)
	li := sort.SearchInts(st.nl, ss)
	mli := sort.SearchInts(st.nl, ms)
	mcol := ms + 1
	if mli > 0 {
		mcol = ms - st.nl[mli-1]
	}
	st.cands = append(st.cands, cand{
		rule:     r.index,
		off:      base + int64(ss),
		end:      base + int64(se),
		line:     lineBase + li + 1,
		col:      mcol,
		secret:   string(secret),
		lineText: string(text[sls:sle]),
		lineOff:  ss - sls,
	})
}

// newlines indexes the window's newlines once.
func (st *state) newlines(text []byte) {
	if st.nlDone {
		return
	}
	st.nlDone = true
	st.nl = st.nl[:0]
	for i := 0; ; {
		j := bytes.IndexByte(text[i:], '\n')
		if j < 0 {
			break
		}
		st.nl = append(st.nl, i+j)
		i += j + 1
	}
}

// lineBounds returns the lines holding text[from:to], cut to lineContext
// bytes on either side.
func (st *state) lineBounds(text []byte, from, to int) (int, int) {
	li := sort.SearchInts(st.nl, from)
	ls := 0
	if li > 0 {
		ls = st.nl[li-1] + 1
	}
	lj := sort.SearchInts(st.nl, to)
	le := len(text)
	if lj < len(st.nl) {
		le = st.nl[lj]
	}
	if le < to { // to sits on a newline itself
		le = to
	}
	return max(ls, from-lineContext), min(le, to+lineContext)
}

// dropGeneric drops a generic rule's candidates that a specific rule found
// on the same line with a secret that contains them (gitleaks' filter).
func (s *Scanner) dropGeneric(st *state, first int) {
	if s.genericN == 0 {
		return
	}
	c := st.cands[first:]
	keep := c[:0]
	for i := range c {
		f := c[i]
		drop := false
		if s.rules[f.rule].generic {
			for j := range c {
				g := &c[j]
				if j != i && g.line == f.line && g.rule != f.rule && !s.rules[g.rule].generic && strings.Contains(g.secret, f.secret) {
					drop = true
					break
				}
			}
		}
		if !drop {
			keep = append(keep, f)
		}
	}
	st.cands = st.cands[:first+len(keep)]
}

// requireRules keeps the composite rule r's new candidates (from index
// first on) only where every required rule has a finding near them.
func (s *Scanner) requireRules(st *state, r *rule, first int, text []byte, base int64, lineBase, zoneLo, zoneHi int) {
	primary := append([]cand(nil), st.cands[first:]...)
	st.cands = st.cands[:first]
	found := make([][]cand, len(r.required))
	for i, ri := range r.required {
		req := s.rules[ri]
		saved := st.lastEnd[ri]
		st.lastEnd[ri] = -1
		n := len(st.cands)
		// A requirement runs whatever its keywords, as in gitleaks.
		for _, loc := range req.re.FindAllSubmatchIndex(text, -1) {
			if loc[1] > loc[0] {
				s.candidate(st, req, text, loc, base, lineBase)
			}
		}
		found[i] = append([]cand(nil), st.cands[n:]...)
		st.cands = st.cands[:n]
		st.lastEnd[ri] = saved
	}
	for _, p := range primary {
		ok := true
		for i, want := range r.Required {
			near := false
			for _, q := range found[i] {
				if (want.WithinLines == nil || abs(p.line-q.line) <= *want.WithinLines) &&
					(want.WithinColumns == nil || abs(p.col-q.col) <= *want.WithinColumns) {
					near = true
					break
				}
			}
			if !near {
				ok = false
				break
			}
		}
		if ok {
			st.cands = append(st.cands, p)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// findings turns the file's candidates into masked findings.
func (st *state) findings() []inventory.Finding {
	if len(st.cands) == 0 {
		return nil
	}
	s := st.s
	c := st.cands
	sort.SliceStable(c, func(i, j int) bool {
		if c[i].off != c[j].off {
			return c[i].off < c[j].off
		}
		return c[i].rule < c[j].rule
	})
	// Every secret found anywhere in the file is masked in every snippet.
	spans := make([]span, len(c))
	for i := range c {
		spans[i] = span{c[i].off, c[i].end, c[i].secret}
	}
	out := make([]inventory.Finding, 0, len(c))
	seen := map[[3]int64]bool{}
	for i := range c {
		k := [3]int64{int64(c[i].rule), c[i].off, c[i].end}
		if seen[k] {
			continue
		}
		seen[k] = true
		r := s.rules[c[i].rule]
		lineOff := c[i].off - int64(c[i].lineOff)
		out = append(out, s.finding(r, c[i].line, snippet(c[i].lineText, lineOff, spans[i], spans)))
	}
	return out
}

// shannonEntropy is gitleaks' entropy: bits per byte over the runes.
func shannonEntropy(data []byte) float64 {
	if len(data) == 0 {
		return 0
	}
	var ascii [utf8.RuneSelf]int
	var other map[rune]int // allocated only for text that is not ASCII
	for i := 0; i < len(data); {
		if c := data[i]; c < utf8.RuneSelf {
			ascii[c]++
			i++
			continue
		}
		r, w := utf8.DecodeRune(data[i:])
		if other == nil {
			other = map[rune]int{}
		}
		other[r]++
		i += w
	}
	inv := 1 / float64(len(data))
	e := 0.0
	add := func(n int) {
		if n > 0 {
			f := float64(n) * inv
			e -= f * math.Log2(f)
		}
	}
	for _, n := range ascii {
		add(n)
	}
	for _, n := range other {
		add(n)
	}
	return e
}

func countNL(b []byte) int { return bytes.Count(b, []byte{'\n'}) }
