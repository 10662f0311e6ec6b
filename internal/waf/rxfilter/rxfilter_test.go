package rxfilter

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"slices"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/waf/rxtest"
)

// facts is what a Filter knows, in comparable form.
type facts struct {
	MinLen   int
	Lits     []string
	Fold     bool
	FoldWide bool
}

func factsOf(f *Filter) facts {
	lits, fold := f.Literals()
	lits = slices.Clone(lits)
	slices.Sort(lits)
	return facts{MinLen: f.MinLen(), Lits: lits, Fold: fold, FoldWide: f.foldWide}
}

func TestFilterFacts(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want facts
	}{
		{"literal", `abc`, facts{MinLen: 3, Lits: []string{"abc"}}},
		{"fold literal", `(?i)aBc`, facts{MinLen: 3, Lits: []string{"abc"}, Fold: true}},
		{"fold literal with k and s", `(?i)KiSs`, facts{MinLen: 4, Lits: []string{"kiss"}, Fold: true, FoldWide: true}},
		{"fold k alone", `(?i)k`, facts{MinLen: 1, Lits: []string{"k"}, Fold: true, FoldWide: true}},
		{"fold s alone", `(?i)S`, facts{MinLen: 1, Lits: []string{"s"}, Fold: true, FoldWide: true}},
		{"alternation", `a|bc`, facts{MinLen: 1, Lits: []string{"a", "bc"}}},
		{"alternation with empty branch", `a|`, facts{}},
		{"alternation with unbounded branch", `abc|.*`, facts{}},
		{"alternation of required literals", `abc|x+yz`, facts{MinLen: 3, Lits: []string{"abc", "yz"}}},
		{"cross product", `(?:a|b)(?:c|d)`, facts{MinLen: 2, Lits: []string{"ac", "ad", "bc", "bd"}}},
		{"optional part", `ab?c`, facts{MinLen: 2, Lits: []string{"abc", "ac"}}},
		{"optional alone", `(?:abc)?`, facts{}},
		{"plus", `ab+c`, facts{MinLen: 3, Lits: []string{"a"}}},
		{"plus of literal", `(?:ab)+`, facts{MinLen: 2, Lits: []string{"ab"}}},
		{"counted at least", `(?:ab){2,}`, facts{MinLen: 4, Lits: []string{"ab"}}},
		{"counted exact", `x{3}`, facts{MinLen: 3, Lits: []string{"xxx"}}},
		{"counted range", `x{2,3}y`, facts{MinLen: 3, Lits: []string{"xxxy", "xxy"}}},
		{"star", `ab*c`, facts{MinLen: 2, Lits: []string{"a"}}},
		{"longest literal wins", `select.*from`, facts{MinLen: 10, Lits: []string{"select"}}},
		{"punctuation beats a letter", `a+<b+`, facts{MinLen: 3, Lits: []string{"<"}}},
		{"small class", `[abc]x`, facts{MinLen: 2, Lits: []string{"ax", "bx", "cx"}}},
		{"large class", `[a-z]+`, facts{MinLen: 1}},
		{"digits", `\d\d`, facts{MinLen: 2}},
		{"negated class", `[^a]`, facts{MinLen: 1}},
		{"anchors", `^abc$`, facts{MinLen: 3, Lits: []string{"abc"}}},
		{"multi-line anchors", `(?m)^abc$`, facts{MinLen: 3, Lits: []string{"abc"}}},
		{"word boundaries", `\babc\b`, facts{MinLen: 3, Lits: []string{"abc"}}},
		{"any char", `a.b`, facts{MinLen: 3, Lits: []string{"a"}}},
		{"any char dot-all", `(?s)a.b`, facts{MinLen: 3, Lits: []string{"a"}}},
		// U+FFFD also matches one invalid byte, which no literal
		// describes; the literal is dropped and it counts as one byte.
		{"replacement char", `\x{FFFD}`, facts{MinLen: 1}},
		{"replacement char in literal", `a\x{FFFD}b`, facts{MinLen: 3}},
		{"replacement char in class", `[a\x{FFFD}]x`, facts{MinLen: 2, Lits: []string{"x"}}},
		{"non-ASCII literal", `é`, facts{MinLen: 2, Lits: []string{"é"}}},
		{"non-ASCII fold literal", `(?i)é`, facts{MinLen: 2}},
		{"fold with non-ASCII rune", `(?i)aé`, facts{MinLen: 3}},
		// The parser stores a folded rune as the least of its orbit, so
		// (?i)KELVIN SIGN is (?i)K, and the non-ASCII partners are left
		// to FoldWide.
		{"kelvin sign folded", `(?i)\x{212A}`, facts{MinLen: 1, Lits: []string{"k"}, Fold: true, FoldWide: true}},
		{"long s folded", `(?i)\x{17F}x`, facts{MinLen: 2, Lits: []string{"sx"}, Fold: true, FoldWide: true}},
		{"kelvin sign exact", `\x{212A}`, facts{MinLen: 3, Lits: []string{"\u212a"}}},
		// A folded class is spelled out rune by rune, KELVIN SIGN included.
		{"kelvin sign class", `(?i)[k]`, facts{MinLen: 1, Lits: []string{"K", "k", "\u212a"}}},
		{"kelvin sign class range", `(?i)[j-k]x`, facts{MinLen: 2, Lits: []string{"jx", "kx", "\u212ax"}, Fold: true, FoldWide: true}},
		{"mixed fold", `(?i:a)B`, facts{MinLen: 2, Lits: []string{"ab"}, Fold: true}},
		{"mixed fold with s", `(?i:s)Q`, facts{MinLen: 2, Lits: []string{"sq"}, Fold: true, FoldWide: true}},
		{"fold alternation", `(?i)union|select`, facts{MinLen: 5, Lits: []string{"select", "union"}, Fold: true, FoldWide: true}},
		{"CRS-like", `(?i)\b(?:s(?:elect|leep)|union)\b`, facts{MinLen: 5, Lits: []string{"select", "sleep", "union"}, Fold: true, FoldWide: true}},
		{"empty", ``, facts{}},
		// A class with no runes matches nothing, so any MinLen is sound.
		{"empty class", `[^\x00-\x{10FFFF}]`, facts{MinLen: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Compile(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, factsOf(f)); diff != "" {
				t.Errorf("Compile(%q) facts (-want +got):\n%s", tt.expr, diff)
			}
		})
	}
}

// TestFilterOverflow checks that a cross product past maxSet keeps the
// best bounded set instead of growing.
func TestFilterOverflow(t *testing.T) {
	f, err := Compile(`[a-h][a-h][a-h]`)
	if err != nil {
		t.Fatal(err)
	}
	lits, _ := f.Literals()
	if f.MinLen() != 3 || len(lits) != 64 || len(lits[0]) != 2 {
		t.Errorf("[a-h]{3}: MinLen %d, %d literals (%q…); want 3 and the 64 two-letter prefixes", f.MinLen(), len(lits), lits[:min(3, len(lits))])
	}
}

func TestMayMatch(t *testing.T) {
	tests := []struct {
		name  string
		expr  string
		value string
		want  bool
	}{
		{"too short", `abcd`, "abc", false},
		{"literal absent", `select`, "hello world", false},
		{"literal present", `select`, "a select b", true},
		{"case differs", `select`, "SELECT", false},
		{"fold case differs", `(?i)select`, "SeLeCt", true},
		{"fold absent", `(?i)select`, "hello world", false},
		{"fold long s", `(?i)select`, "\u017felect", true},
		{"fold kelvin", `(?i)kill`, "\u212aill", true},
		{"fold without k or s ignores non-ASCII", `(?i)union`, "é union", true},
		{"fold without k or s rejects", `(?i)union`, "éééééé", false},
		{"invalid byte for U+FFFD", `a\x{FFFD}b`, "a\xffb", true},
		// A class holding U+FFFD once yielded its other runes as the
		// whole class, so "[a\x{FFFD}]x" required "ax".
		{"invalid byte for U+FFFD in class", `[a\x{FFFD}]x`, "\x80x", true},
		{"U+FFFD in class", `[a\x{FFFD}]x`, "\ufffdx", true},
		{"empty filter", `.*`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Compile(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.MayMatch(tt.value); got != tt.want {
				t.Errorf("Compile(%q).MayMatch(%q) = %v, want %v", tt.expr, tt.value, got, tt.want)
			}
			if !tt.want && regexp.MustCompile(tt.expr).MatchString(tt.value) {
				t.Errorf("bad test case: %q matches %q", tt.expr, tt.value)
			}
		})
	}
}

// TestFoldsNonASCII pins the fact the Filter's case folding rests on:
// among ASCII runes only k and s (either case) have a non-ASCII case-fold
// partner (KELVIN SIGN, LONG S), so lowercasing ASCII is a complete fold
// for every other ASCII literal.
func TestFoldsNonASCII(t *testing.T) {
	var got []rune
	for r := rune(0); r < utf8.RuneSelf; r++ {
		if foldsNonASCII(r) {
			got = append(got, r)
		}
		if foldsNonASCII(r) != isLetterKS(r) {
			t.Errorf("foldsNonASCII(%q) = %v, isLetterKS = %v", r, foldsNonASCII(r), isLetterKS(r))
		}
	}
	if diff := cmp.Diff([]rune{'K', 'S', 'k', 's'}, got); diff != "" {
		t.Errorf("ASCII runes folding outside ASCII (-want +got):\n%s", diff)
	}
	// And no non-ASCII rune folds into ASCII except those two partners.
	var into []rune
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < utf8.RuneSelf {
				into = append(into, r)
				break
			}
		}
	}
	if diff := cmp.Diff([]rune{'\u017f', '\u212a'}, into); diff != "" {
		t.Errorf("non-ASCII runes folding into ASCII (-want +got):\n%s", diff)
	}
}

// corpusEntry is one CRS expression ready for checking.
type corpusEntry struct {
	rxtest.Expr
	f *Filter
}

// crsCorpus is every distinct CRS @rx expression, compiled as Seawall's
// operator does, with its Filter.
func crsCorpus(t *testing.T) []corpusEntry {
	t.Helper()
	exprs, err := rxtest.CRSCorpus()
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusEntry
	for _, e := range exprs {
		f, err := Compile(e.Source)
		if err != nil {
			t.Fatalf("Compile(%q): %v", e.Source, err)
		}
		out = append(out, corpusEntry{Expr: e, f: f})
	}
	if len(out) < 200 {
		t.Fatalf("only %d CRS expressions; the corpus did not load", len(out))
	}
	return out
}

// TestSoundCRSGenerated generates strings each CRS expression matches,
// plus mutations of them (case flips, context, non-ASCII, k/s swapped
// for KELVIN SIGN/LONG S), and requires the filter to pass every one the
// expression matches.
func TestSoundCRSGenerated(t *testing.T) {
	start := time.Now()
	corpus := crsCorpus(t)
	n := 200
	if testing.Short() {
		n = 40
	}
	rng := rand.New(rand.NewPCG(20261129, 1))
	var filtered, checked, generated int
	for _, c := range corpus {
		if lits, _ := c.f.Literals(); len(lits) > 0 {
			filtered++
		}
		failures := 0
		for range n {
			g := rxtest.Generate(c.Tree, rng)
			for _, s := range []string{g, rxtest.Mutate(g, rng), rxtest.Mutate(g, rng), rxtest.Wrap(g, rng)} {
				generated++
				if !c.Re.MatchString(s) {
					continue
				}
				checked++
				if !c.f.MayMatch(s) && failures < 3 {
					failures++
					lits, fold := c.f.Literals()
					t.Errorf("unsound: %q matches %q but MayMatch is false (MinLen %d, literals %q, fold %v)",
						c.Source, s, c.f.MinLen(), lits, fold)
				}
			}
		}
	}
	if checked < len(corpus)*n/2 {
		t.Errorf("only %d of %d generated strings matched; Generate is not doing its job", checked, generated)
	}
	t.Logf("%d CRS expressions, %d (%.0f%%) with required literals; %d of %d generated strings matched and passed the filter, in %v",
		len(corpus), filtered, 100*float64(filtered)/float64(len(corpus)), checked, generated, time.Since(start).Round(time.Millisecond))
}

// TestSoundCRSPayloads runs every CRS expression over the payloads of the
// CRS regression tests: wherever the filter says "cannot match", the
// expression must not match.
func TestSoundCRSPayloads(t *testing.T) {
	start := time.Now()
	corpus := crsCorpus(t)
	payloads, err := rxtest.CRSPayloads()
	if err != nil {
		t.Fatal(err)
	}
	if len(payloads) < 1000 {
		t.Fatalf("only %d CRS test payloads; the tests did not load", len(payloads))
	}
	// A deterministic sample bounds the time: every step-th payload.
	limit := 3000
	if testing.Short() {
		limit = 500
	}
	step := max(1, len(payloads)/limit)
	var sample []string
	for i := 0; i < len(payloads); i += step {
		sample = append(sample, payloads[i])
	}
	var rejected, matched int
	for _, c := range corpus {
		for _, v := range sample {
			if c.f.MayMatch(v) {
				continue
			}
			rejected++
			if c.Re.MatchString(v) {
				matched++
				t.Errorf("unsound: %q matches CRS payload %q but MayMatch is false", c.Source, v)
			}
		}
	}
	pairs := len(corpus) * len(sample)
	t.Logf("%d expressions × %d of %d payloads: the filter rejected %d of %d pairs (%.0f%%), each confirmed by the expression, in %v",
		len(corpus), len(sample), len(payloads), rejected, pairs, 100*float64(rejected)/float64(pairs), time.Since(start).Round(time.Millisecond))
}

// fuzzSeeds are expressions and values at the edges of the analysis.
var fuzzSeeds = []struct{ expr, value string }{
	{`(?i)select`, "\u017fELECT"},
	{`(?i)kill`, "\u212aILL"},
	{`(?i)\x{212A}`, "k"},
	{`(?i)\x{17F}`, "S"},
	{`a\x{FFFD}b`, "a\xffb"},
	{`[\x{FFFD}a]x`, "\x80x"},
	{`(?s).`, "\xff"},
	{`(?i:a)B`, "AB"},
	{`(?i:s)Q`, "\u017fQ"},
	{`(?sm)^(?:a|b)c?d+$`, "x\nbdd\ny"},
	{`x{2,}y`, "xxxy"},
	{`\bunion\b.*\bselect\b`, "union all select"},
	{`[^\n]+`, "\xc3"},
	{`(?i)ǅ`, "ǆ"},
	{`(?i)ß`, "ẞ"},
	{`(?i)[k-l]{2}`, "\u212aL"},
	{`é|e\x{301}`, "e\u0301"},
	{`(?:)`, ""},
	{`\x{D800}|a`, "a"},
	{`[\x{80}-\x{10FFFF}]`, "\xff"},
}

// FuzzMayMatch checks the soundness property directly: whenever Go's
// regexp matches, the filter must not say it cannot.
func FuzzMayMatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.expr, s.value)
	}
	f.Fuzz(func(t *testing.T, expr, value string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		flt, err := Compile(expr)
		if err != nil {
			t.Fatalf("regexp compiles %q but Compile fails: %v", expr, err)
		}
		if re.MatchString(value) && !flt.MayMatch(value) {
			lits, fold := flt.Literals()
			t.Fatalf("unsound: %q matches %q but MayMatch is false (MinLen %d, literals %q, fold %v)",
				expr, value, flt.MinLen(), lits, fold)
		}
	})
}

// FuzzGenerated lets the fuzzer choose expressions and the random seed
// for rxtest.Generate, so that the values are ones the expression
// matches rather than ones the fuzzer must stumble on.
func FuzzGenerated(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s.expr, uint64(i))
	}
	f.Fuzz(func(t *testing.T, expr string, seed uint64) {
		if len(expr) > 300 {
			return // keep each input fast; size is not what this explores
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		tree, err := syntax.Parse(expr, syntax.Perl)
		if err != nil {
			t.Fatalf("regexp compiles %q but syntax.Parse fails: %v", expr, err)
		}
		flt, err := Compile(expr)
		if err != nil {
			t.Fatalf("regexp compiles %q but Compile fails: %v", expr, err)
		}
		rng := rand.New(rand.NewPCG(seed, seed>>7^0x5eaa))
		tree = tree.Simplify()
		for range 16 {
			g := rxtest.Generate(tree, rng)
			for _, s := range []string{g, rxtest.Mutate(g, rng)} {
				if re.MatchString(s) && !flt.MayMatch(s) {
					lits, fold := flt.Literals()
					t.Fatalf("unsound: %q matches %q but MayMatch is false (MinLen %d, literals %q, fold %v)",
						expr, s, flt.MinLen(), lits, fold)
				}
			}
		}
	})
}

func ExampleFilter_MayMatch() {
	f, _ := Compile(`(?i)\bunion\b.*\bselect\b`)
	fmt.Println(f.MayMatch("id=1 UNION ALL SELECT"), f.MayMatch("id=1"))
	// Output: true false
}

// atoms are the pieces TestSoundRandomExpressions builds expressions
// from: the constructs the analysis treats specially.
var atoms = []string{
	`a`, `b`, `k`, `s`, `K`, `S`, `é`, `\x{212A}`, `\x{17F}`, `\x{FFFD}`, `ab`, `sk`,
	`.`, `[ab]`, `[a\x{FFFD}]`, `[kK]`, `[^a]`, `[a-z]`, `\d`, `\w`,
	`^`, `$`, `\b`, `\B`, `\A`, `\z`, `()`, `(?:)`,
}

// randomExpr builds a small random expression over atoms, with flags,
// groups, alternation and repetition.
func randomExpr(rng *rand.Rand, depth int) string {
	if depth > 3 || rng.IntN(3) == 0 {
		return atoms[rng.IntN(len(atoms))]
	}
	switch rng.IntN(7) {
	case 0:
		return randomExpr(rng, depth+1) + randomExpr(rng, depth+1)
	case 1:
		return randomExpr(rng, depth+1) + randomExpr(rng, depth+1) + randomExpr(rng, depth+1)
	case 2:
		return "(?:" + randomExpr(rng, depth+1) + "|" + randomExpr(rng, depth+1) + ")"
	case 3:
		return "(?:" + randomExpr(rng, depth+1) + ")" + []string{"*", "+", "?", "{2}", "{1,3}", "{2,}", "{0,2}"}[rng.IntN(7)]
	case 4:
		return "(?i:" + randomExpr(rng, depth+1) + ")"
	case 5:
		return "(?-i:" + randomExpr(rng, depth+1) + ")"
	default:
		return "(" + randomExpr(rng, depth+1) + ")"
	}
}

// alphabet is what random values are made of: it reaches the atoms'
// case-fold partners, U+FFFD in both spellings, and newlines.
var alphabet = []string{"a", "A", "b", "k", "K", "s", "S", "é", "É", "\u212a", "\u017f", "\ufffd", "\xff", "\n", " ", "1", "z"}

// TestSoundRandomExpressions checks the filter on random expressions made
// of the constructs it treats specially, against strings generated from
// each and random strings over an alphabet of their case-fold partners.
func TestSoundRandomExpressions(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 43))
	exprs, values := 3000, 60
	if testing.Short() {
		exprs = 600
	}
	checked := 0
	for range exprs {
		expr := randomExpr(rng, 0)
		if rng.IntN(3) == 0 {
			expr = "(?i)" + expr
		}
		if rng.IntN(2) == 0 {
			expr = "(?sm)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			t.Fatalf("random expression %q does not compile: %v", expr, err)
		}
		f, err := Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		tree, _ := syntax.Parse(expr, syntax.Perl)
		tree = tree.Simplify()
		for i := range values {
			var v string
			if i%2 == 0 {
				v = rxtest.Generate(tree, rng)
				if i%4 == 0 {
					v = rxtest.Mutate(v, rng)
				}
			} else {
				var b []byte
				for range rng.IntN(8) {
					b = append(b, alphabet[rng.IntN(len(alphabet))]...)
				}
				v = string(b)
			}
			if !re.MatchString(v) {
				continue
			}
			checked++
			if !f.MayMatch(v) {
				lits, fold := f.Literals()
				t.Errorf("unsound: %q matches %q but MayMatch is false (MinLen %d, literals %q, fold %v)",
					expr, v, f.MinLen(), lits, fold)
			}
		}
	}
	t.Logf("%d random expressions, %d matching values checked", exprs, checked)
}
