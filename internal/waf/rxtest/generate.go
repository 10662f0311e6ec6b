// Package rxtest supports the tests of Seawall's @rx operator and its
// prefilter: it generates strings that a regular expression matches, and
// lists the expressions the Core Rule Set and its regression tests use.
// It is a normal package only so that tests in several packages can share
// it; nothing outside tests imports it.
package rxtest

import (
	"math/rand/v2"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxRepeat bounds the extra repetitions Generate adds to *, + and {n,}.
const maxRepeat = 3

// anyPalette is what Generate picks from for "." : ASCII, multi-byte
// runes, the two non-ASCII runes whose case folds are ASCII letters, and
// an invalid byte (Go's regexp reads it as U+FFFD).
var anyPalette = []string{
	"a", "Z", "0", " ", "/", "'", "<", "\t", "\x00", "\x7f",
	"é", "ß", "€", "\u212a", "\u017f", "\u0130", "\u0131", "\U0001F600", "\ufffd", "\xff",
}

// Generate returns a random string that re, a parsed and preferably
// simplified expression, matches in most cases. It models literals
// (choosing case-fold partners, non-ASCII ones such as KELVIN SIGN for k
// and LONG S for s included, where the expression folds case), character
// classes (non-ASCII ranges included), ".", repetition with small counts,
// alternation and groups. Empty-width assertions emit nothing, so a
// string may violate one: callers check the result with the compiled
// expression and keep only the strings it matches.
func Generate(re *syntax.Regexp, rng *rand.Rand) string {
	var b strings.Builder
	gen(&b, re, rng, 0)
	return b.String()
}

// Wrap surrounds s with a random prefix and suffix (possibly empty) of
// ASCII, non-ASCII, newlines and invalid bytes. A match of an unanchored
// expression in s stays a match in the result.
func Wrap(s string, rng *rand.Rand) string {
	return noise(rng) + s + noise(rng)
}

// Mutate returns s changed at random: ASCII letters flipped in case, a
// non-ASCII rune or invalid byte inserted, or context added around it.
// The result may no longer match; callers check.
func Mutate(s string, rng *rand.Rand) string {
	switch rng.IntN(4) {
	case 0:
		b := []byte(s)
		for i, c := range b {
			if ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') && rng.IntN(2) == 0 {
				b[i] = c ^ 0x20
			}
		}
		return string(b)
	case 1:
		// Insert at a rune boundary so the rest stays valid UTF-8.
		i := 0
		if len(s) > 0 {
			i = rng.IntN(len(s) + 1)
			for i < len(s) && !utf8.RuneStart(s[i]) {
				i++
			}
		}
		return s[:i] + anyPalette[10+rng.IntN(len(anyPalette)-10)] + s[i:]
	case 2:
		return Wrap(s, rng)
	default:
		// Replace ASCII k and s by their non-ASCII fold partners.
		r := strings.NewReplacer("k", "\u212a", "K", "\u212a", "s", "\u017f", "S", "\u017f")
		return r.Replace(s)
	}
}

func noise(rng *rand.Rand) string {
	n := rng.IntN(4)
	var b strings.Builder
	for range n {
		switch rng.IntN(5) {
		case 0:
			b.WriteByte('\n')
		default:
			b.WriteString(anyPalette[rng.IntN(len(anyPalette))])
		}
	}
	return b.String()
}

func gen(b *strings.Builder, re *syntax.Regexp, rng *rand.Rand, depth int) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				r = foldPartner(r, rng)
			}
			writeRune(b, r, rng)
		}
	case syntax.OpCharClass:
		if r, ok := classRune(re.Rune, rng); ok {
			writeRune(b, r, rng)
		}
	case syntax.OpAnyCharNotNL:
		b.WriteString(anyPalette[rng.IntN(len(anyPalette))])
	case syntax.OpAnyChar:
		if rng.IntN(8) == 0 {
			b.WriteByte('\n')
		} else {
			b.WriteString(anyPalette[rng.IntN(len(anyPalette))])
		}
	case syntax.OpCapture:
		gen(b, re.Sub[0], rng, depth+1)
	case syntax.OpStar:
		repeat(b, re.Sub[0], rng, depth, 0, -1)
	case syntax.OpPlus:
		repeat(b, re.Sub[0], rng, depth, 1, -1)
	case syntax.OpQuest:
		repeat(b, re.Sub[0], rng, depth, 0, 1)
	case syntax.OpRepeat:
		repeat(b, re.Sub[0], rng, depth, re.Min, re.Max)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			gen(b, sub, rng, depth+1)
		}
	case syntax.OpAlternate:
		gen(b, re.Sub[rng.IntN(len(re.Sub))], rng, depth+1)
	}
	// OpEmptyMatch, OpNoMatch and the empty-width assertions emit nothing.
}

// repeat emits between lo and hi copies of sub (hi < 0: no upper bound),
// fewer extra copies the deeper the recursion, so that nested repetition
// stays small.
func repeat(b *strings.Builder, sub *syntax.Regexp, rng *rand.Rand, depth, lo, hi int) {
	extra := maxRepeat
	if depth > 8 {
		extra = 1
	}
	if hi >= 0 {
		extra = min(extra, hi-lo)
	}
	n := lo
	if extra > 0 {
		n += rng.IntN(extra + 1)
	}
	for range n {
		gen(b, sub, rng, depth+1)
	}
}

// foldPartner picks a random rune from r's simple case-fold orbit,
// preferring non-ASCII partners now and then so that KELVIN SIGN and LONG
// S show up often enough.
func foldPartner(r rune, rng *rand.Rand) rune {
	orbit := []rune{r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		orbit = append(orbit, f)
	}
	if rng.IntN(4) == 0 {
		var wide []rune
		for _, f := range orbit {
			if f >= utf8.RuneSelf {
				wide = append(wide, f)
			}
		}
		if len(wide) > 0 {
			return wide[rng.IntN(len(wide))]
		}
	}
	return orbit[rng.IntN(len(orbit))]
}

// classRune picks a random rune of a character class: a range uniformly,
// so that small non-ASCII ranges are not drowned by large ASCII ones,
// then a rune in it.
func classRune(ranges []rune, rng *rand.Rand) (rune, bool) {
	if len(ranges) < 2 {
		return 0, false
	}
	i := 2 * rng.IntN(len(ranges)/2)
	lo, hi := ranges[i], ranges[i+1]
	if rng.IntN(3) == 0 {
		// The ends of a range are where off-by-one mistakes live.
		if rng.IntN(2) == 0 {
			return lo, true
		}
		return hi, true
	}
	return lo + rng.Int32N(hi-lo+1), true
}

// writeRune emits r. U+FFFD, which an invalid byte also matches, is
// sometimes emitted as one; a surrogate, which has no UTF-8 form, is
// emitted as an invalid byte too (it reads as U+FFFD and so matches only
// if the expression accepts U+FFFD there).
func writeRune(b *strings.Builder, r rune, rng *rand.Rand) {
	switch {
	case r == utf8.RuneError && rng.IntN(2) == 0:
		b.WriteString([]string{"\xff", "\x80", "\xc3"}[rng.IntN(3)])
	case !utf8.ValidRune(r):
		b.WriteByte(0xff)
	default:
		b.WriteRune(r)
	}
}
