package rxdfa

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/seawall-dev/seawall/internal/waf/rxtest"
)

type crsExpr struct {
	rxtest.Expr
	dfa *DFA
}

// crsCorpus is every distinct CRS @rx expression, compiled as Seawall's
// operator does, with its DFA.
func crsCorpus(t *testing.T) []crsExpr {
	t.Helper()
	exprs, err := rxtest.CRSCorpus()
	if err != nil {
		t.Fatal(err)
	}
	var out []crsExpr
	for _, e := range exprs {
		d, err := Compile(e.Source, nil)
		if err != nil {
			t.Fatalf("%q: %v", e.Source, err)
		}
		out = append(out, crsExpr{Expr: e, dfa: d})
	}
	if len(out) < 250 {
		t.Fatalf("only %d CRS expressions", len(out))
	}
	return out
}

func check(t *testing.T, c crsExpr, s string, budget *int) bool {
	got, err := c.dfa.Match(s)
	if err == ErrBudget {
		*budget++
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	if want := c.Re.MatchString(s); got != want {
		t.Errorf("%.120q on %.200q: DFA says %v, regexp %v", c.Source, s, got, want)
		return false
	}
	return true
}

// TestCRSGenerated checks the DFA against regexp on strings generated from
// each CRS expression (matches), their mutations and random context (mostly
// near misses).
func TestCRSGenerated(t *testing.T) {
	start := time.Now()
	n := 100
	if testing.Short() {
		n = 20
	}
	rng := rand.New(rand.NewPCG(7, 11))
	var checked, budget, states int
	for _, c := range crsCorpus(t) {
		failures := 0
		for range n {
			g := rxtest.Generate(c.Tree, rng)
			for _, s := range []string{g, rxtest.Mutate(g, rng), rxtest.Wrap(g, rng), g[:len(g)/2]} {
				checked++
				if !check(t, c, s, &budget) {
					failures++
				}
			}
			if failures > 2 {
				break
			}
		}
		states += c.dfa.States()
	}
	if budget > checked/100 {
		t.Errorf("%d of %d checks ran out of states", budget, checked)
	}
	t.Logf("%d strings checked, %d over budget, %d states built, in %v", checked, budget, states, time.Since(start).Round(time.Millisecond))
}

// TestCRSPayloads checks the DFA against regexp on the payloads of the CRS
// regression tests.
func TestCRSPayloads(t *testing.T) {
	payloads, err := rxtest.CRSPayloads()
	if err != nil {
		t.Fatal(err)
	}
	step := 3
	if testing.Short() {
		step = 20
	}
	var checked, budget, matched int
	for _, c := range crsCorpus(t) {
		failures := 0
		for i := 0; i < len(payloads) && failures < 3; i += step {
			checked++
			if !check(t, c, payloads[i], &budget) {
				failures++
			}
			if m, err := c.dfa.Match(payloads[i]); err == nil && m {
				matched++
			}
		}
	}
	if matched == 0 {
		t.Error("no payload matched any expression")
	}
	t.Logf("%d expression × payload pairs, %d matches, %d over budget", checked, matched, budget)
}
