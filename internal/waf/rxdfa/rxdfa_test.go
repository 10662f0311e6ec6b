package rxdfa

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// exprs exercise every instruction and assertion the DFA models.
var exprs = []string{
	`a`, `abc`, `a|b`, `a*`, `a+b`, `(?i)abc`, `(?i)k`, `(?i)s+`, `[a-c]x`, `[^a]`, `.`, `(?s).`,
	`^a`, `a$`, `^$`, `(?m)^a`, `(?m)a$`, `(?m)^$`, `\Aa`, `a\z`, `\ba\b`, `\Ba`, `a\B`, `\b`, `\B`,
	`(?i)\bselect\b.*\bfrom\b`, `(?sm)^\s*(?:<|>)`, `x{2,4}y`, `(a|ab)(c|bcd)(d*)`, `\x{FFFD}`,
	`[\x{80}-\x{10FFFF}]`, `é+`, `(?i)é`, `(?i)ǅ`, `(?:^|=)\s*b\W*u\W*s\W*y`, `(?m)$\n^`, `\n$`,
	`(?U)a+?b`, `^(?:a|b)*c$`, `(?m)^(?:a|b)*c$`, `a.b`, `(?s)a.b`, `[[:alpha:]]+\d`, `\pL\PL`,
	`(?i)[k]`, `(?i)ſ`, ``, `$^`, `(?m)$^`,
}

var alphabet = []string{"a", "b", "c", "x", "y", "s", "S", "k", "K", "\u212a", "\u017f", "é", "É", "ǅ", "ǆ",
	"\n", " ", "=", "<", ">", "_", "0", "\xff", "\xc3", "\ufffd", "select", "from", "SELECT", "busy"}

func randString(rng *rand.Rand) string {
	var b strings.Builder
	for n := rng.IntN(9); n > 0; n-- {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

func TestMatchesRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, expr := range exprs {
		re := regexp.MustCompile(expr)
		d, err := Compile(expr, nil)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		for range 3000 {
			s := randString(rng)
			got, err := d.Match(s)
			if err != nil {
				t.Fatalf("%q on %q: %v", expr, s, err)
			}
			if want := re.MatchString(s); got != want {
				t.Errorf("%q on %q: DFA says %v, regexp %v", expr, s, got, want)
			}
		}
	}
}

func TestBudget(t *testing.T) {
	// (a|b)*a(a|b){12} needs 2^13 states to decide.
	expr := `(a|b)*a(a|b){12}c`
	re := regexp.MustCompile(expr)
	d, err := Compile(expr, NewBudget(16<<10))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	budget := 0
	for range 500 {
		var b strings.Builder
		for range 40 {
			b.WriteByte("ab"[rng.IntN(2)])
		}
		b.WriteByte('c')
		s := b.String()
		got, err := d.Match(s)
		if err == ErrBudget {
			budget++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := re.MatchString(s); got != want {
			t.Fatalf("%q: DFA %v, regexp %v", s, got, want)
		}
	}
	if budget == 0 {
		t.Fatal("a budget of 16 KiB never ran out on an expression that needs 8192 states")
	}
	if d.bytes > 16<<10 {
		t.Fatalf("states take %d bytes, budget %d", d.bytes, 16<<10)
	}
}

func TestConcurrent(t *testing.T) {
	expr := `(?i)(?:^|=)\s*(?:union\W+select|b\W*u\W*s\W*y\W*b\W*o\W*x)`
	re := regexp.MustCompile(expr)
	d, err := Compile(expr, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for range 2000 {
				s := randString(rng) + "=" + randString(rng) + " union /**/ select" + randString(rng)
				if rng.IntN(2) == 0 {
					s = randString(rng)
				}
				got, err := d.Match(s)
				if err != nil {
					t.Error(err)
					return
				}
				if want := re.MatchString(s); got != want {
					t.Errorf("%q: DFA %v, regexp %v", s, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func FuzzMatch(f *testing.F) {
	for _, e := range exprs {
		f.Add(e, "xa\nb select")
	}
	f.Fuzz(func(t *testing.T, expr, s string) {
		if len(expr) > 200 || len(s) > 1000 || strings.Contains(expr, "{") && len(expr) > 40 {
			// Counted repetitions compile to huge programs whose cost is
			// regexp's as much as the DFA's; size is not what this explores.
			return
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		d, err := Compile(expr, nil)
		if err != nil {
			t.Fatalf("regexp compiles %q, rxdfa does not: %v", expr, err)
		}
		got, err := d.Match(s)
		if err == ErrBudget {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := re.MatchString(s); got != want {
			t.Fatalf("%q on %q: DFA %v, regexp %v", expr, s, got, want)
		}
	})
}
