package waf

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"regexp"
	"regexp/syntax"
	"slices"
	"sync"
	"testing"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/google/go-cmp/cmp"

	"github.com/seawall-dev/seawall/internal/waf/rxfilter"
	"github.com/seawall-dev/seawall/internal/waf/rxtest"
)

// TestRXCorpus checks that rxtest's SecLang reading yields exactly the
// arguments Coraza hands the @rx operator factory when Seawall builds its
// default rule set: the CRS expressions from rxtest.CRSExpressions plus
// those of Seawall's own directives. The rxfilter soundness tests rely on
// rxtest.CRSExpressions being the real corpus. It swaps the global "rx"
// operator for a recording one, so it must not run in parallel.
func TestRXCorpus(t *testing.T) {
	var (
		mu       sync.Mutex
		recorded []string
	)
	plugins.RegisterOperator("rx", func(opts plugintypes.OperatorOptions) (plugintypes.Operator, error) {
		mu.Lock()
		recorded = append(recorded, opts.Arguments)
		mu.Unlock()
		return newRX(opts)
	})
	t.Cleanup(func() { plugins.RegisterOperator("rx", newRX) })

	cfg := Default()
	cfg.Upstream = "http://127.0.0.1:9"
	cfg.RateLimit.Enabled = false
	cfg.Watch = false
	w, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), WithStdout(io.Discard),
		WithNext(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	// Restore now: nothing below builds an engine, but a failure should
	// not leave the recorder in place any longer than needed.
	plugins.RegisterOperator("rx", newRX)

	crs, err := rxtest.CRSExpressions()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := buildRules(&cfg, newSSRFGuard(cfg.SSRF, nil))
	if err != nil {
		t.Fatal(err)
	}
	ssrfGuards.Delete(rs.token)
	var own []string
	for _, p := range rs.parts {
		if p.file != "" {
			t.Fatalf("default config loads rule file %s; this test only reads inline directives", p.file)
		}
		exprs, err := rxtest.Expressions(p.text)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		own = append(own, exprs...)
	}
	if len(own) == 0 {
		t.Fatal("no @rx in Seawall's own directives; expected the Content-Type, admin path and SSRF rules")
	}

	// Coraza calls the factory once per rule, so compare with
	// multiplicity, in a stable order.
	want := slices.Concat(crs, own)
	slices.Sort(want)
	slices.Sort(recorded)
	if diff := cmp.Diff(want, recorded); diff != "" {
		t.Errorf("@rx arguments read from SecLang differ from those Coraza passed (-read +coraza):\n%s", diff)
	}
	t.Logf("%d @rx rules: %d from the CRS, %d from Seawall's own directives", len(recorded), len(crs), len(own))

	checkBuiltinSound(t, own)
}

// checkBuiltinSound runs, for Seawall's own expressions (which the
// rxfilter tests do not see), the prefilter soundness check those tests
// run for the CRS: every generated string the expression matches must
// pass the filter.
func checkBuiltinSound(t *testing.T, exprs []string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for _, arg := range exprs {
		expr := "(?sm)" + arg
		if matchesArbitraryBytes(expr) {
			continue
		}
		re := regexp.MustCompile(expr)
		f, err := rxfilter.Compile(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		tree, err := syntax.Parse(expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		tree = tree.Simplify()
		for range 200 {
			for _, s := range []string{rxtest.Generate(tree, rng), rxtest.Mutate(rxtest.Generate(tree, rng), rng)} {
				if !re.MatchString(s) {
					continue
				}
				checked++
				if !f.MayMatch(s) {
					t.Errorf("prefilter rejects %q, which %q matches", s, expr)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no generated string matched any built-in expression")
	}
	t.Logf("prefilter agreed with the expression on %d generated matches of %d built-in expressions", checked, len(exprs))
}
